; A `for…of` loop, or an index loop over `xs.length`, in which something is awaited: the
; predicate checks that the function is async and that the awaited call takes the item.
(for_in_statement
  operator: "of") @finding

(for_statement
  condition: (binary_expression
    right: (member_expression
      property: (property_identifier) @length))
  (#eq? @length "length")) @finding
