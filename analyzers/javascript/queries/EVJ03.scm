; seen.has(x) in a loop: the predicate checks that `seen` is certainly a Set built outside it.
(call_expression
  function: (member_expression
    object: (identifier) @collection
    property: (property_identifier) @method)
  arguments: (arguments . (_) .)
  (#eq? @method "has")) @evidence
