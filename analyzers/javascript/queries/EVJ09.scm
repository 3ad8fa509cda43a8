; fetch(url, { signal }), stream.pipeline(a, b, { signal: controller.signal }): an AbortSignal
; passed on. The predicate checks the value.
(call_expression
  arguments: (arguments
    (object (pair key: (property_identifier) @key value: (_) @value) @evidence))
  (#eq? @key "signal"))

(new_expression
  arguments: (arguments
    (object (pair key: (property_identifier) @key value: (_) @value) @evidence))
  (#eq? @key "signal"))

(call_expression
  arguments: (arguments (object (shorthand_property_identifier) @evidence))
  (#eq? @evidence "signal"))

(new_expression
  arguments: (arguments (object (shorthand_property_identifier) @evidence))
  (#eq? @evidence "signal"))
