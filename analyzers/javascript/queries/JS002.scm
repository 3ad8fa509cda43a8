; xs.forEach(async (x) => ...) as a whole statement: nothing awaits the callbacks' promises.
; An awaited or returned call is another node (await_expression, return_statement).
(expression_statement
  (call_expression
    function: (member_expression
      object: (_) @receiver
      property: (property_identifier) @method)
    arguments: (arguments . [(arrow_function "async") (function_expression "async")] @callback))
  (#eq? @method "forEach")) @finding
