; strings.ToLower(a) == strings.ToLower(b) (and ToUpper, and package bytes via bytes.Equal is
; not covered); the predicate checks that both sides use the same function of the same package.
(binary_expression
  left: (call_expression
    function: (selector_expression operand: (identifier) @lpkg field: (field_identifier) @lfn)
    arguments: (argument_list . (_) @a .))
  operator: ["==" "!="] @op
  right: (call_expression
    function: (selector_expression operand: (identifier) @rpkg field: (field_identifier) @rfn)
    arguments: (argument_list . (_) @b .))
  (#eq? @lpkg "strings")
  (#eq? @rpkg "strings")
  (#any-of? @lfn "ToLower" "ToUpper")
  (#any-of? @rfn "ToLower" "ToUpper")) @finding
