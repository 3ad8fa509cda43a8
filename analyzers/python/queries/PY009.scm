; PY009: counting by hand in a dict.

; if k in d: d[k] += 1 / else: d[k] = 1
(if_statement
  condition: (comparison_operator (_) @key operators: "in" (_) @mapping)
  consequence: (block
    .
    (expression_statement
      (augmented_assignment
        left: (subscript value: (_) @mapping_1 subscript: (_) @key_1)
        operator: "+="
        right: (integer) @step)))
  alternative: (else_clause
    body: (block
      .
      (expression_statement
        (assignment
          left: (subscript value: (_) @mapping_2 subscript: (_) @key_2)
          right: (integer) @start))))) @finding

; if k not in d: d[k] = 1 / else: d[k] += 1
(if_statement
  condition: (comparison_operator (_) @key operators: "not in" (_) @mapping)
  consequence: (block
    .
    (expression_statement
      (assignment
        left: (subscript value: (_) @mapping_2 subscript: (_) @key_2)
        right: (integer) @start)))
  alternative: (else_clause
    body: (block
      .
      (expression_statement
        (augmented_assignment
          left: (subscript value: (_) @mapping_1 subscript: (_) @key_1)
          operator: "+="
          right: (integer) @step))))) @finding

; if k not in d: d[k] = 0, then d[k] += 1
((if_statement
   condition: (comparison_operator (_) @key operators: "not in" (_) @mapping)
   consequence: (block
     .
     (expression_statement
       (assignment
         left: (subscript value: (_) @mapping_2 subscript: (_) @key_2)
         right: (integer) @start)))
   !alternative) @finding
 .
 (expression_statement
   (augmented_assignment
     left: (subscript value: (_) @mapping_1 subscript: (_) @key_1)
     operator: "+="
     right: (integer) @step)) @increment)

; d[k] = d.get(k, 0) + 1
(assignment
  left: (subscript value: (_) @mapping_1 subscript: (_) @key_1)
  right: (binary_operator
    left: (call
      function: (attribute
        object: (_) @mapping
        attribute: (identifier) @_get)
      arguments: (argument_list . (_) @key . (integer) @start .))
    operator: "+"
    right: (integer) @step)
  (#eq? @_get "get")) @finding
