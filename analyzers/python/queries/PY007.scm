; PY007: `sorted(x)[0]` / `sorted(x)[-1]`: a full sort to read one end.
(subscript
  value: (call
    function: (identifier) @_sorted
    arguments: (argument_list) @arguments)
  subscript: [(integer) (unary_operator)] @index
  (#eq? @_sorted "sorted")) @finding
