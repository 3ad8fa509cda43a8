; EV005: annotated functions. A return annotation is enough; otherwise every parameter but
; self/cls must be annotated. Most functions in untyped code have neither, so the query demands
; an annotated first parameter (after self/cls) and the predicate checks only the rest.
(function_definition
  name: (identifier) @evidence
  return_type: (_))

(function_definition
  name: (identifier) @evidence
  parameters: (parameters
    .
    [
      (typed_parameter)
      (typed_default_parameter)
      (keyword_separator)
    ]) @parameters
  !return_type)

(function_definition
  name: (identifier) @evidence
  parameters: (parameters
    .
    (identifier) @implicit
    .
    [
      (typed_parameter)
      (typed_default_parameter)
      (keyword_separator)
    ]) @parameters
  !return_type
  (#any-of? @implicit "self" "cls"))
