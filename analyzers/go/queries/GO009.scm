; GO009: errors compared directly instead of through errors.Is. (Switches on an error and type
; assertions were judged on real code at about half right: left out.)
; `err` is any identifier named like an error (`err`, `readErr`); the predicate decides whether
; the other side is a sentinel error and whether the comparison is unwrapped by contract.
(binary_expression
  left: (identifier) @err
  operator: ["==" "!="] @op
  right: [
    (identifier) @name
    (selector_expression operand: (identifier) @pkg field: (field_identifier) @name)
  ] @sentinel
  (#match? @err "[eE]rr$")
  (#match? @name "^([Ee]rr[A-Z0-9]|Canceled$|DeadlineExceeded$)")) @finding

(binary_expression
  left: [
    (identifier) @name
    (selector_expression operand: (identifier) @pkg field: (field_identifier) @name)
  ] @sentinel
  operator: ["==" "!="] @op
  right: (identifier) @err
  (#match? @err "[eE]rr$")
  (#match? @name "^([Ee]rr[A-Z0-9]|Canceled$|DeadlineExceeded$)")) @finding
