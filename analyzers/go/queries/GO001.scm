; s += e, and s = s + e (s = s + a + b nests to the left): the predicate checks that the loop
; around it repeats it, that s is certainly a string declared outside that loop, and that the
; loop never resets it.
(assignment_statement
  left: (expression_list . (identifier) @target .)
  operator: "+="
  right: (expression_list . (_) .)) @finding

(assignment_statement
  left: (expression_list . (identifier) @target .)
  operator: "="
  right: (expression_list . (binary_expression operator: "+") @sum .)) @finding
