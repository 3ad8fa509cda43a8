; EVG05: a regexp compiled once, in a package-level `var` (the predicate checks the level).
(var_spec
  value: (expression_list
    (call_expression
      function: (selector_expression
        operand: (identifier) @pkg
        field: (field_identifier) @fn)) @evidence)
  (#eq? @pkg "regexp")
  (#any-of? @fn "MustCompile" "MustCompilePOSIX"))
