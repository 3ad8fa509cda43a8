; [...s].includes(x): the predicate checks that `s` is certainly a Set (or `m.keys()` of a Map).
(call_expression
  function: (member_expression
    object: (array . (spread_element (_) @source) .) @copy
    property: (property_identifier) @includes)
  arguments: (arguments . (_) @needle .)
  (#eq? @includes "includes")) @finding

; Array.from(s).includes(x)
(call_expression
  function: (member_expression
    object: (call_expression
      function: (member_expression
        object: (identifier) @array
        property: (property_identifier) @from)
      arguments: (arguments . (_) @source .)) @copy
    property: (property_identifier) @includes)
  arguments: (arguments . (_) @needle .)
  (#eq? @array "Array")
  (#eq? @from "from")
  (#eq? @includes "includes")) @finding
