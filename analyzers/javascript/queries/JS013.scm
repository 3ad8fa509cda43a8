; xs.filter(p).length (compared with 0/1 or tested), xs.filter(p)[0], .shift(), .at(0): the
; predicate checks the context and the receiver.
(member_expression
  object: (call_expression
    function: (member_expression property: (property_identifier) @filter)
    arguments: (arguments . [(arrow_function) (function_expression) (identifier)] @predicate)) @call
  property: (property_identifier) @length
  (#eq? @filter "filter")
  (#eq? @length "length")) @finding

(subscript_expression
  object: (call_expression
    function: (member_expression property: (property_identifier) @filter)
    arguments: (arguments . [(arrow_function) (function_expression) (identifier)] @predicate)) @call
  index: (number) @zero
  (#eq? @filter "filter")
  (#eq? @zero "0")) @finding

(call_expression
  function: (member_expression
    object: (call_expression
      function: (member_expression property: (property_identifier) @filter)
      arguments: (arguments . [(arrow_function) (function_expression) (identifier)] @predicate)) @call
    property: (property_identifier) @first)
  (#eq? @filter "filter")
  (#any-of? @first "shift" "at")) @finding
