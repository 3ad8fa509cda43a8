; EVG09: `wg.Wait()` / `g.Wait()` on a sync.WaitGroup or errgroup.Group declared in the function;
; the predicate wants goroutines started for it in a loop (a fan-out).
(call_expression
  function: (selector_expression
    operand: (identifier) @group
    field: (field_identifier) @wait)
  arguments: (argument_list) @args
  (#eq? @wait "Wait")) @evidence
