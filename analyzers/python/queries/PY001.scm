; PY001: membership test against a list or tuple literal (or a list variable) inside a loop.
(comparison_operator
  (_) @needle
  operators: ["in" "not in"]
  .
  [(list) (tuple)] @haystack) @finding

(comparison_operator
  (_) @needle
  operators: ["in" "not in"]
  .
  (identifier) @haystack) @finding
