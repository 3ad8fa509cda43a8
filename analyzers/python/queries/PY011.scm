; PY011: `k in d.keys()` / `k not in d.keys()`.
(comparison_operator
  (_) @needle
  operators: ["in" "not in"]
  .
  (call
    function: (attribute
      object: (_) @mapping
      attribute: (identifier) @_keys)
    arguments: (argument_list) @arguments) @keys
  (#eq? @_keys "keys")) @finding
