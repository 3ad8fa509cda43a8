; PY016: a blocking call inside a coroutine. The predicate resolves the name through imports
; and checks that the nearest enclosing function is an `async def`. Text predicates test the
; last identifier only: the binding raises on text that is not UTF-8.
(call
  function: [(identifier) @name (attribute attribute: (identifier) @name)] @function
  (#any-of? @name
    "sleep" "get" "post" "put" "patch" "delete" "head" "request" "urlopen" "run" "call"
    "check_call" "check_output" "create_connection" "open")) @finding
