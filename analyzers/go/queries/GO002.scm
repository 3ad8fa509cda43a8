; defer v.Close() / v.Rollback() / v.Stop() / v.Release() (v may be a field chain such as
; resp.Body) and defer cancel(): the predicate checks that a loop repeats it and that the
; resource was bound in the same iteration.
(defer_statement
  (call_expression
    function: (selector_expression field: (field_identifier) @method) @callee)
  (#any-of? @method "Close" "Rollback" "Stop" "Release")) @finding

(defer_statement
  (call_expression function: (identifier) @callee)
  (#match? @callee "^cancel")) @finding
