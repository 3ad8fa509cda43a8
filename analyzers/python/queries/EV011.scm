; EV011: structured concurrency with asyncio: gather, as_completed, and `async with TaskGroup()`.
; Only the attribute spelling (`asyncio.gather`, or an alias of asyncio): a pattern over every
; bare-name call costs about 2% of a parse, for the rare `from asyncio import gather`.
(call
  function: (attribute
    object: (identifier)
    attribute: (identifier) @name) @function
  (#any-of? @name "gather" "as_completed")) @evidence

(with_statement
  "async"
  (with_clause
    (with_item
      value: [
        (call
          function: [
            (identifier)
            (attribute)
          ] @function) @evidence
        (as_pattern
          (call
            function: [
              (identifier)
              (attribute)
            ] @function) @evidence)
      ]))
  (#match? @function "(^|[.])TaskGroup$"))
