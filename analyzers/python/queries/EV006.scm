; EV006: classes decorated with dataclasses.dataclass, bare or called.
(decorated_definition
  (decorator
    [
      (identifier) @decorator
      (attribute) @decorator
      (call
        function: [
          (identifier)
          (attribute)
        ] @decorator)
    ])
  definition: (class_definition
    name: (identifier) @evidence)
  (#match? @decorator "(^|[.])dataclass$"))
