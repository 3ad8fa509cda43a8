; xs.map(async (x) => ...) as a whole statement: the array of promises is dropped. A `void`
; prefix (explicit fire-and-forget) makes the statement a unary_expression, not matched here.
(expression_statement
  (call_expression
    function: (member_expression
      property: (property_identifier) @method)
    arguments: (arguments . [(arrow_function "async") (function_expression "async")] @callback))
  (#any-of? @method "map" "flatMap")) @finding
