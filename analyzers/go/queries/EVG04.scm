; EVG04: fmt.Errorf with a %w verb in a constant format: the error is wrapped, not flattened.
(call_expression
  function: (selector_expression
    operand: (identifier) @pkg
    field: (field_identifier) @fn)
  arguments: (argument_list . [(interpreted_string_literal) (raw_string_literal)] @format)
  (#eq? @pkg "fmt")
  (#eq? @fn "Errorf")
  (#match? @format "%w")) @evidence
