; a.filter((x, i) => a.indexOf(x) === i), also `(x, i, self) => self.indexOf(x) === i`, a
; `function` callback returning the comparison, and `lastIndexOf`: the predicate checks the names.
(call_expression
  function: (member_expression
    object: (_) @receiver
    property: (property_identifier) @filter)
  arguments: (arguments
    .
    [
      (arrow_function
        parameters: (formal_parameters . (_) . (_))
        body: (binary_expression
          (call_expression
            function: (member_expression
              property: (property_identifier) @index))) @test)
      (arrow_function
        parameters: (formal_parameters . (_) . (_))
        body: (statement_block
          .
          (return_statement
            (binary_expression
              (call_expression
                function: (member_expression
                  property: (property_identifier) @index))) @test)
          .))
      (function_expression
        parameters: (formal_parameters . (_) . (_))
        body: (statement_block
          .
          (return_statement
            (binary_expression
              (call_expression
                function: (member_expression
                  property: (property_identifier) @index))) @test)
          .))
    ] @callback
    .)
  (#eq? @filter "filter")
  (#any-of? @index "indexOf" "lastIndexOf")) @finding
