; s = s .. x (the predicate checks the operator, the names and the enclosing loop)
(assignment_statement
  (variable_list name: (identifier) @target)
  (expression_list value: (binary_expression left: (identifier) @left) @finding)) @statement
