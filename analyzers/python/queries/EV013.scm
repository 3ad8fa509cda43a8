; EV013: hashed lookups: `in` against a constant set display or a set variable inside a loop, and
; `mapping.get(key, default)`. A set comprehension right of `in` is rebuilt on every test, which
; is the opposite of the skill, so it is not matched.
(comparison_operator
  (_)
  operators: ["in" "not in"]
  .
  [
    (set)
    (identifier)
  ] @haystack) @evidence

(call
  function: (attribute
    object: [
      (identifier)
      (attribute)
    ] @mapping
    attribute: (identifier) @method)
  arguments: (argument_list
    .
    (_)
    .
    (_) @default
    .)
  (#eq? @method "get")) @evidence
