; new RegExp("literal"[, "flags"]) and RegExp("literal"): the predicate checks that every argument
; is a constant string and that `RegExp` is the global one.
(new_expression
  constructor: (identifier) @ctor
  arguments: (arguments . [(string) (template_string)] @pattern)
  (#eq? @ctor "RegExp")) @finding

(call_expression
  function: (identifier) @ctor
  arguments: (arguments . [(string) (template_string)] @pattern)
  (#eq? @ctor "RegExp")) @finding
