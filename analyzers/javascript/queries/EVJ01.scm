; Promise.all(xs.map(async (x) => ...)) / Promise.allSettled(...): independent work started
; together. The predicate checks the callback and that `Promise` is the global one.
(call_expression
  function: (member_expression
    object: (identifier) @promise
    property: (property_identifier) @method)
  arguments: (arguments
    .
    (call_expression
      function: (member_expression property: (property_identifier) @map)
      arguments: (arguments . [(arrow_function) (function_expression)] @callback))
    .)
  (#eq? @promise "Promise")
  (#any-of? @method "all" "allSettled")
  (#any-of? @map "map" "flatMap")) @evidence
