; A module-level regex used inside a function: RE.test(s), RE.exec(s), s.replace(RE, ...),
; s.match(RE)... The predicate checks the binding.
(call_expression
  function: (member_expression
    object: (identifier) @regex
    property: (property_identifier) @method)
  (#any-of? @method "test" "exec")) @evidence

(call_expression
  function: (member_expression property: (property_identifier) @method)
  arguments: (arguments . (identifier) @regex)
  (#any-of? @method "replace" "replaceAll" "match" "matchAll" "split" "search")) @evidence
