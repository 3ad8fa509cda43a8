; EV004: f-strings with at least one interpolation. A child pattern matches once per string, not
; once per interpolation, so `f"{a}{b}"` costs one match.
(string
  (string_start) @start
  (interpolation)
  (#match? @start "[fF]")) @evidence
