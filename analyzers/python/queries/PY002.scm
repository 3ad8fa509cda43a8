; PY002: growing a string in a loop in one of the ways CPython cannot extend in place. The
; predicate decides which: `s += x` on an attribute, a global or bytes; `s = s + a + b` chains;
; `s = x + s`; `s = f"{s}..."`. A local `s += x` is extended in place and left alone.
(augmented_assignment
  left: [(identifier) (attribute)] @target
  operator: "+="
  right: (_) @piece) @finding

(assignment
  left: [(identifier) (attribute)] @target
  right: (binary_operator
    operator: "+") @sum) @finding

(assignment
  left: [(identifier) (attribute)] @target
  right: (string
    (interpolation)) @fstring) @finding
