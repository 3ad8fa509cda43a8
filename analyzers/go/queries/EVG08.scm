; EVG08: a strconv conversion (the predicate checks `strconv` is the standard package).
(call_expression
  function: (selector_expression
    operand: (identifier) @pkg
    field: (field_identifier))
  (#eq? @pkg "strconv")) @evidence
