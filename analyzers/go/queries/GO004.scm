; for … range src { …; out = append(out, e); … }: one append of one element at the top level of
; the body. The predicate finds out's declaration (nil or empty, right before the loop), checks
; that src is certainly a slice, array or map and that no jump skips the append.
(for_statement
  (range_clause right: (_) @src)
  body: (block
    (statement_list
      (assignment_statement
        left: (expression_list . (identifier) @out .)
        operator: "="
        right: (expression_list .
          (call_expression
            function: (identifier) @append
            arguments: (argument_list . (identifier) @again . (_) @element .)) .)) @finding))
  (#eq? @append "append")
  (#eq? @out @again)) @loop
