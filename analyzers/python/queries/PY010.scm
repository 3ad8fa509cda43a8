; PY010: `.keys()` as the iterable of a for loop or a comprehension.
(for_statement
  right: (call
    function: (attribute
      object: (_) @mapping
      attribute: (identifier) @_keys)
    arguments: (argument_list) @arguments) @finding
  body: (block) @body
  (#eq? @_keys "keys"))

(for_in_clause
  right: (call
    function: (attribute
      object: (_) @mapping
      attribute: (identifier) @_keys)
    arguments: (argument_list) @arguments) @finding
  (#eq? @_keys "keys"))
