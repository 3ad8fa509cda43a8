; EVG01: a strings.Builder declared in a function (`var b strings.Builder`, `b := strings.Builder{}`,
; `&strings.Builder{}`, `new(strings.Builder)`); the predicate wants it written to with WriteString.
(var_spec
  name: (identifier) @name
  type: (qualified_type package: (package_identifier) @pkg name: (type_identifier) @type)
  (#eq? @pkg "strings")
  (#eq? @type "Builder")) @evidence

(short_var_declaration
  left: (expression_list . (identifier) @name .)
  right: (expression_list
    .
    [
      (composite_literal
        type: (qualified_type package: (package_identifier) @pkg name: (type_identifier) @type))
      (unary_expression
        operand: (composite_literal
          type: (qualified_type package: (package_identifier) @pkg name: (type_identifier) @type)))
      (call_expression
        function: (identifier) @new
        arguments: (argument_list
          (qualified_type package: (package_identifier) @pkg name: (type_identifier) @type)))
    ]
    .)
  (#eq? @pkg "strings")
  (#eq? @type "Builder")) @evidence
