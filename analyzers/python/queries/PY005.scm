; PY005: `xs.pop(0)` / `xs.insert(0, x)`: the front of a list, which shifts every element. The
; receiver may be a name, an attribute (`self.queue`) or an item (`self.buckets[k]`).
(call
  function: (attribute
    object: [(identifier) (attribute) (subscript)] @receiver
    attribute: (identifier) @method)
  arguments: (argument_list . (integer) @index .)
  (#eq? @method "pop")
  (#eq? @index "0")) @finding

(call
  function: (attribute
    object: [(identifier) (attribute) (subscript)] @receiver
    attribute: (identifier) @method)
  arguments: (argument_list . (integer) @index . (_) .)
  (#eq? @method "insert")
  (#eq? @index "0")) @finding
