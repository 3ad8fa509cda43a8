; user?.profile?.name ?? "anonymous": an optional chain with a nullish default; and `x ??= y`.
(binary_expression
  left: [(member_expression) (call_expression) (subscript_expression)] @chain
  operator: "??") @evidence

(augmented_assignment_expression
  operator: "??=") @evidence
