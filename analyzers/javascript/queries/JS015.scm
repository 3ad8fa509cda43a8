; new Promise(async (resolve, reject) => ...): the predicate checks the `async` keyword and that
; `Promise` is the global one.
(new_expression
  constructor: (identifier) @ctor
  arguments: (arguments . [(arrow_function) (function_expression)] @executor)
  (#eq? @ctor "Promise")) @finding
