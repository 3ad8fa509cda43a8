; PY008: `len(x) == 0` and friends, either way round. Whether it is a condition, and which
; operators mean "empty" or "non-empty", is decided by the predicate.
(comparison_operator
  (call
    function: (identifier) @_len
    arguments: (argument_list . (_) @subject .))
  (integer) @number
  (#eq? @_len "len")
  (#any-of? @number "0" "1")) @finding

(comparison_operator
  (integer) @number
  (call
    function: (identifier) @_len
    arguments: (argument_list . (_) @subject .))
  (#eq? @_len "len")
  (#any-of? @number "0" "1")) @finding
