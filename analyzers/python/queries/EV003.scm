; EV003: `with` / `async with` statements, and @contextlib.contextmanager functions.
(with_statement
  (with_clause) @clause) @evidence

(decorated_definition
  (decorator
    [
      (identifier)
      (attribute)
    ] @decorator)
  definition: (function_definition
    name: (identifier) @evidence)
  (#match? @decorator "(^|[.])(contextmanager|asynccontextmanager)$"))
