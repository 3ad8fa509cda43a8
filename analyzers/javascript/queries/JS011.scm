; for (const k in xs): the predicate checks that `xs` is certainly an array.
(for_in_statement
  operator: "in"
  right: (_) @iterable) @finding
