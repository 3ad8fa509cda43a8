; EVG07: `defer f.Close()` (or `defer resp.Body.Close()`, `defer cancel()`); the predicate wants
; it right after the successful open (or the `context.With…` call) that made it.
(defer_statement
  (call_expression
    function: (selector_expression
      operand: [(identifier) (selector_expression)] @resource
      field: (field_identifier) @method)
    arguments: (argument_list) @args)
  (#eq? @method "Close")) @evidence

(defer_statement
  (call_expression
    function: (identifier) @cancel
    arguments: (argument_list) @args)) @evidence
