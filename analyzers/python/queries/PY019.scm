; PY019: a nested-loop join: for a in A: for b in B: if <expr of a> == <expr of b>: ...
; The outer body starts with the inner loop, whose whole body is one `if`.
(for_statement
  left: (_) @outer_target
  body: (block
    .
    (for_statement
      left: (_) @inner_target
      right: (_) @inner_iterable
      body: (block
        .
        (if_statement
          condition: [(comparison_operator) (boolean_operator) (parenthesized_expression)] @condition) @test
        .)) @finding)) @outer_loop
