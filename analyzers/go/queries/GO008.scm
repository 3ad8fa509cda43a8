; GO008: `v := v` (or `i, v := i, v`) among the first statements of a loop body. The predicate
; checks that every name is one of the loop's own variables and that the copies come first.
(for_statement
  body: (block
    (statement_list
      (short_var_declaration
        left: (expression_list . (identifier) @left)
        right: (expression_list . (identifier) @right)) @finding))
  (#eq? @left @right))
