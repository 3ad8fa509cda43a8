; PY013: a list comprehension passed as the first argument of any/all/sum/min/max.
(call
  function: (identifier) @function
  arguments: (argument_list
    .
    (list_comprehension) @comprehension)
  (#any-of? @function "any" "all" "sum" "min" "max")) @finding
