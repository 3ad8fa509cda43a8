; PY015: a mutable default value for a parameter, in def, async def or lambda.
(default_parameter
  value: [
    (list)
    (dictionary)
    (set)
    (list_comprehension)
    (dictionary_comprehension)
    (set_comprehension)
  ] @finding)

(typed_default_parameter
  value: [
    (list)
    (dictionary)
    (set)
    (list_comprehension)
    (dictionary_comprehension)
    (set_comprehension)
  ] @finding)

; A call to a constructor of a mutable container; the predicate resolves the name. Text
; predicates test the last identifier only: the binding raises on text that is not UTF-8.
(default_parameter
  value: (call
    function: [(identifier) @name (attribute attribute: (identifier) @name)] @function
    (#any-of? @name "list" "dict" "set" "bytearray" "defaultdict" "OrderedDict" "Counter" "deque")) @finding)

(typed_default_parameter
  value: (call
    function: [(identifier) @name (attribute attribute: (identifier) @name)] @function
    (#any-of? @name "list" "dict" "set" "bytearray" "defaultdict" "OrderedDict" "Counter" "deque")) @finding)
