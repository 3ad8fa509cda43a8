; EVG02: `x := make([]T, 0, n)` or `x := make(map[K]V, n)` (also `x = make(…)`); the predicate
; wants a loop after it, in the same block, that fills `x`.
([
  (short_var_declaration
    left: (expression_list . (identifier) @name .)
    right: (expression_list
      .
      (call_expression
        function: (identifier) @make
        arguments: (argument_list . [(slice_type) (map_type)] @type)) @evidence
      .))
  (assignment_statement
    left: (expression_list . (identifier) @name .)
    right: (expression_list
      .
      (call_expression
        function: (identifier) @make
        arguments: (argument_list . [(slice_type) (map_type)] @type)) @evidence
      .))
]
  (#eq? @make "make"))
