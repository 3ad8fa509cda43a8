; PY005: `xs.pop(0)` / `xs.insert(0, x)`: the front of a list, which shifts every element.
(call
  function: (attribute
    object: (identifier) @receiver
    attribute: (identifier) @method)
  arguments: (argument_list . (integer) @index .)
  (#eq? @method "pop")
  (#eq? @index "0")) @finding

(call
  function: (attribute
    object: (identifier) @receiver
    attribute: (identifier) @method)
  arguments: (argument_list . (integer) @index . (_) .)
  (#eq? @method "insert")
  (#eq? @index "0")) @finding
