; EV014: built-ins that already do the loop: any/all/sum/min/max over a generator expression,
; and min/max with key=.
(call
  function: (identifier) @function
  arguments: [
    (generator_expression)
    (argument_list
      .
      (generator_expression))
  ]
  (#any-of? @function "any" "all" "sum" "min" "max")) @evidence

(call
  function: (identifier) @function
  arguments: (argument_list
    (keyword_argument
      name: (identifier) @keyword))
  (#any-of? @function "min" "max")
  (#eq? @keyword "key")) @evidence
