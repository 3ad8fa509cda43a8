; x.indexOf(v) !== -1, x.indexOf(v) >= 0, -1 === x.indexOf(v)...: the predicate checks the
; operator and the bound.
(binary_expression
  left: (call_expression
    function: (member_expression property: (property_identifier) @method)) @call
  right: [(unary_expression) (number)] @bound
  (#eq? @method "indexOf")) @finding

(binary_expression
  left: [(unary_expression) (number)] @bound
  right: (call_expression
    function: (member_expression property: (property_identifier) @method)) @call
  (#eq? @method "indexOf")) @finding
