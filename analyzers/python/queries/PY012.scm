; PY012: a `try` directly in a loop body; the predicate checks that it is (nearly) all of the
; body and that every handler leaves the loop.
(for_statement
  body: (block (try_statement) @finding) @body) @loop

(while_statement
  body: (block (try_statement) @finding) @body) @loop
