; xs.reduce((acc, x) => ..., init) with an inline callback: the predicate looks for the callback
; returning a copy of its accumulator ([...acc, x], {...acc, [k]: v}, acc.concat(x)).
(call_expression
  function: (member_expression
    property: (property_identifier) @method)
  arguments: (arguments . [(arrow_function) (function_expression)] @callback)
  (#any-of? @method "reduce" "reduceRight")) @finding
