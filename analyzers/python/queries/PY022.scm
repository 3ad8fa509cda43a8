; PY022: comparing to None with == or != instead of `is` / `is not`.
(comparison_operator
  (_) @subject
  operators: ["==" "!="] @operator
  .
  (none)) @finding

(comparison_operator
  .
  (none)
  operators: ["==" "!="] @operator
  (_) @subject) @finding
