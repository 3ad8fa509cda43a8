; regexp.MustCompile(pattern), regexp.MatchString(pattern, s) and their kin; the predicate
; checks the package is "regexp", the pattern constant, and that the call sits in a function
; that runs more than once.
(call_expression
  function: (selector_expression
    operand: (identifier) @package
    field: (field_identifier) @function)
  arguments: (argument_list . (_) @pattern)
  (#any-of? @function "MustCompile" "Compile" "MustCompilePOSIX" "CompilePOSIX" "MatchString" "Match" "MatchReader")) @finding
