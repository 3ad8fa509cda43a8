; PY014: open() whose file object is not managed by a `with` statement.
; Text predicates test the last identifier only: the binding raises on text that is not UTF-8
; (a latin-1 string literal inside an attribute chain would do). The predicate resolves the
; name: only the builtin and io.open count.

; Assigned to a plain name (the predicate looks for a later close in `finally`, or a `with`).
(assignment
  left: (identifier) @name
  right: (call
    function: [(identifier) @open_name (attribute attribute: (identifier) @open_name)] @function
    (#eq? @open_name "open")) @finding)

; A method called straight on the new file: open(p).read().
(call
  function: (attribute
    object: (call
      function: [(identifier) @open_name (attribute attribute: (identifier) @open_name)] @function
      (#eq? @open_name "open")) @finding
    attribute: (identifier) @method
    (#not-eq? @method "close")))

; Passed straight into another call: json.load(open(p)), print(..., file=open(p, "w")).
(call
  function: (_) @outer
  arguments: (argument_list
    [
      (call
        function: [(identifier) @open_name (attribute attribute: (identifier) @open_name)] @function
        (#eq? @open_name "open")) @finding
      (keyword_argument
        value: (call
          function: [(identifier) @open_name (attribute attribute: (identifier) @open_name)] @function
          (#eq? @open_name "open")) @finding)
    ])) @call

; Iterated directly: for line in open(p).
(for_statement
  right: (call
    function: [(identifier) @open_name (attribute attribute: (identifier) @open_name)] @function
    (#eq? @open_name "open")) @finding)

(for_in_clause
  right: (call
    function: [(identifier) @open_name (attribute attribute: (identifier) @open_name)] @function
    (#eq? @open_name "open")) @finding)
