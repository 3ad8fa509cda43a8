; [...new Set(xs)] / Array.from(new Set(xs)): deduplicating in one pass.
((array
  .
  (spread_element
    (new_expression
      constructor: (identifier) @set
      arguments: (arguments . (_) .)))
  .) @evidence
  (#eq? @set "Set"))

(call_expression
  function: (member_expression
    object: (identifier) @array
    property: (property_identifier) @from)
  arguments: (arguments
    .
    (new_expression
      constructor: (identifier) @set
      arguments: (arguments . (_) .))
    .)
  (#eq? @array "Array")
  (#eq? @from "from")
  (#eq? @set "Set")) @evidence
