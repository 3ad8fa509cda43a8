; EVG03: errors.Is / errors.As (the predicate checks `errors` is the standard package).
(call_expression
  function: (selector_expression
    operand: (identifier) @pkg
    field: (field_identifier) @fn)
  (#eq? @pkg "errors")
  (#any-of? @fn "Is" "As")) @evidence
