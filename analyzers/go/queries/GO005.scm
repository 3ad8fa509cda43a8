; fmt.Sprintf("%d", n), fmt.Sprintf("%s", s), fmt.Sprintf("%t", b) and fmt.Sprintf("literal"):
; the predicate checks the package, the format (one bare verb, or no verb at all) and that the
; argument's type is certain.
(call_expression
  function: (selector_expression
    operand: (identifier) @package
    field: (field_identifier) @function)
  arguments: (argument_list . [(interpreted_string_literal) (raw_string_literal)] @format)
  (#eq? @function "Sprintf")) @finding
