; GO006: `if _, ok := m[k]; ok { … m[k] … }` looks the key up twice, and
; `if _, ok := m[k]; ok { m[k] += v } else { m[k] = v }` guards what the zero value does alone.
; (An index expression on the right of a two-value `:=` is always a map lookup.)
(if_statement
  initializer: (short_var_declaration
    left: (expression_list . (identifier) @blank . (identifier) @ok .)
    right: (expression_list . (index_expression operand: (_) @map index: (_) @key) @lookup .))
  condition: [
    (identifier) @cond
    (unary_expression operator: "!" operand: (identifier) @cond) @negated
  ]
  consequence: (block) @then
  (#eq? @blank "_")
  (#eq? @ok @cond)) @finding
