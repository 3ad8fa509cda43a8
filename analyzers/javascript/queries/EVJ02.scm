; for await (const chunk of stream): async iteration.
(for_in_statement
  "await"
  right: (_) @iterable) @evidence
