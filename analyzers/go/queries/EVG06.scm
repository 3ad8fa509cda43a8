; EVG06: `v, ok := m[k]`: one lookup gives the value and whether the key is there (an index
; expression on the right of a two-name assignment is always a map lookup).
([
  (short_var_declaration
    left: (expression_list . (identifier) @value . (identifier) .)
    right: (expression_list . (index_expression) .))
  (assignment_statement
    left: (expression_list . (identifier) @value . (identifier) .)
    right: (expression_list . (index_expression) .))
] @evidence
  (#not-eq? @value "_"))
