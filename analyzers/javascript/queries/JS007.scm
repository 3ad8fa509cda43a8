; items.find((item) => item.key === value) and its siblings, with one inline callback: the
; predicate checks the loop around it and that the callback is one equality on a key.
(call_expression
  function: (member_expression
    object: [(identifier) (member_expression)] @array
    property: (property_identifier) @method)
  arguments: (arguments . [(arrow_function) (function_expression)] @callback .)
  (#any-of? @method "find" "findIndex" "filter" "some")) @finding
