; xs.some(p) / xs.find(p) with an inline callback, xs.includes(x) on a known array: asking for
; one element with a method that stops at the first match.
(call_expression
  function: (member_expression
    object: (_) @receiver
    property: (property_identifier) @method)
  arguments: (arguments . [(arrow_function) (function_expression)])
  (#any-of? @method "some" "find" "findIndex")) @evidence

(call_expression
  function: (member_expression
    object: (_) @receiver
    property: (property_identifier) @method)
  arguments: (arguments . (_) .)
  (#eq? @method "includes")) @evidence
