; GO010: a range loop whose only statement appends one element to a slice:
;   for _, x := range src { dst = append(dst, x) }
;   for i := range src { dst = append(dst, src[i]) }
; The predicate checks the element is the loop's own (no transformation) and both types.
(for_statement
  (range_clause
    left: (expression_list) @vars
    right: [(identifier) (slice_expression operand: (identifier))] @src)
  body: (block
    (statement_list
      .
      (assignment_statement
        left: (expression_list . (identifier) @dst .)
        right: (expression_list
          .
          (call_expression
            function: (identifier) @append
            arguments: (argument_list . (identifier) @into . (_) @element .))
          .))
      .))
  (#eq? @append "append")
  (#eq? @dst @into)) @finding
