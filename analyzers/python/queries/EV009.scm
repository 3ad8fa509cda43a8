; EV009: functions memoised with functools.cache, lru_cache or cached_property.
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
  definition: (function_definition
    name: (identifier) @evidence)
  (#match? @decorator "(^|[.])(cache|lru_cache|cached_property)$"))
