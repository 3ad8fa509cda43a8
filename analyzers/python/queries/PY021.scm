; PY021: growing a list inside a loop by concatenation.
; `lst += [x]`: a one-item list built only to be appended.
(augmented_assignment
  left: (identifier) @target
  operator: "+="
  right: (list
    .
    (_) @item
    .)) @finding

; `lst = lst + other`: copies the whole list on every iteration.
(assignment
  left: (identifier) @target
  right: (binary_operator
    left: (identifier) @again
    operator: "+"
    right: (_) @other)
  (#eq? @target @again)) @finding
