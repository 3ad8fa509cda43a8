; PY003: `for i in range(len(xs)):`, the index loop that enumerate or zip replaces. One argument
; to range only: a start or a step is bookkeeping that enumerate does not express.
(for_statement
  left: (identifier) @index
  right: (call
    function: (identifier) @_range
    arguments: (argument_list
      .
      (call
        function: (identifier) @_len
        arguments: (argument_list . [(identifier) (attribute)] @sequence .))
      .)) @range
  body: (block) @body
  (#eq? @_range "range")
  (#eq? @_len "len")) @finding
