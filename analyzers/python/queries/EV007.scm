; EV007: iterating with enumerate()/zip(), or over mapping.items() with unpacking, in `for`
; statements and in comprehension clauses. `.items()` takes no arguments; the anchored brackets
; say so structurally, without a text predicate over the whole argument list.
(for_statement
  right: (call
    function: (identifier) @function) @evidence
  (#any-of? @function "enumerate" "zip"))

(for_in_clause
  right: (call
    function: (identifier) @function) @evidence
  (#any-of? @function "enumerate" "zip"))

(for_statement
  left: [
    (pattern_list)
    (tuple_pattern)
  ]
  right: (call
    function: (attribute
      attribute: (identifier) @method)
    arguments: (argument_list
      "("
      .
      ")")) @evidence
  (#eq? @method "items"))

(for_in_clause
  left: [
    (pattern_list)
    (tuple_pattern)
  ]
  right: (call
    function: (attribute
      attribute: (identifier) @method)
    arguments: (argument_list
      "("
      .
      ")")) @evidence
  (#eq? @method "items"))
