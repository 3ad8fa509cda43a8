; byId.get(k) / byId.set(k, v) in a loop: the predicate checks that `byId` is certainly a Map
; built outside it.
(call_expression
  function: (member_expression
    object: (identifier) @collection
    property: (property_identifier) @method)
  arguments: (arguments . (_))
  (#any-of? @method "get" "set")) @evidence
