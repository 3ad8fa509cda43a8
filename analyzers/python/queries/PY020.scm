; PY020: a tight loop (one simple statement) calling `module.function(...)`.
; The predicate finds the module-attribute call inside the statement.
(for_statement
  body: (block
    .
    (expression_statement) @statement
    .)) @finding
