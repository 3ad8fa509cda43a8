; PY017: row-by-row pandas: iterating df.iterrows(), or df.apply(..., axis=1).
(for_statement
  right: (call
    function: (attribute
      attribute: (identifier) @method
      (#eq? @method "iterrows"))) @finding)

(for_in_clause
  right: (call
    function: (attribute
      attribute: (identifier) @method
      (#eq? @method "iterrows"))) @finding)

(call
  function: (attribute
    attribute: (identifier) @method
    (#eq? @method "apply"))
  arguments: (argument_list
    (keyword_argument
      name: (identifier) @keyword
      value: [(integer) (string)] @axis
      (#eq? @keyword "axis")))) @finding
