; PY002: building a string with += (or s = s + ...) inside a loop.
(augmented_assignment
  left: (identifier) @target
  operator: "+="
  right: (_) @piece) @finding

(assignment
  left: (identifier) @target
  right: (binary_operator
    left: (identifier) @again
    operator: "+"
    right: (_) @piece)) @finding
