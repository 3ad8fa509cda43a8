; names.includes(x) / names.indexOf(x) with one argument, on a plain name: the predicate checks
; that it runs in a loop and that `names` is certainly a long array (or a growing "seen" list).
(call_expression
  function: (member_expression
    object: (identifier) @array
    property: (property_identifier) @method)
  arguments: (arguments . (_) .)
  (#any-of? @method "includes" "indexOf")) @finding
