; new Date().getTime(), (new Date).valueOf(), +new Date(), Number(new Date()): the predicate
; checks that `new Date` has no arguments and that `Date` (and `Number`) are the globals.
(call_expression
  function: (member_expression
    object: [
      (new_expression constructor: (identifier) @date) @now
      (parenthesized_expression (new_expression constructor: (identifier) @date) @now)
    ]
    property: (property_identifier) @method)
  (#eq? @date "Date")
  (#any-of? @method "getTime" "valueOf")) @finding

(unary_expression
  operator: "+"
  argument: (new_expression constructor: (identifier) @date) @now
  (#eq? @date "Date")) @finding

(call_expression
  function: (identifier) @number
  arguments: (arguments . (new_expression constructor: (identifier) @date) @now .)
  (#eq? @number "Number")
  (#eq? @date "Date")) @finding
