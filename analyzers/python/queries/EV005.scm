; EV005: annotated functions. A return annotation is enough; otherwise every parameter but
; self/cls must be annotated, which the predicate checks.
(function_definition
  name: (identifier) @evidence
  return_type: (_))

(function_definition
  name: (identifier) @evidence
  parameters: (parameters) @parameters
  !return_type)
