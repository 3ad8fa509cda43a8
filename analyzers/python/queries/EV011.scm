; EV011: structured concurrency with asyncio: gather, as_completed, and `async with TaskGroup()`.
(call
  function: (attribute
    attribute: (identifier) @name) @function
  (#any-of? @name "gather" "as_completed")) @evidence

(call
  function: (identifier) @function @name
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
