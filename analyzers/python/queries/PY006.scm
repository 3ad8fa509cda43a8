; PY006: a module-level `re` function called with a literal pattern. Whether the name really is
; the `re` module (or `from re import ...`) and whether the call sits in a loop is the
; predicate's job; the name filter here keeps `str.split(",")` and friends to a dict lookup.
(call
  function: (attribute
    object: (identifier)
    attribute: (identifier) @function) @callee
  arguments: (argument_list . [(string) (concatenated_string)] @pattern)
  (#any-of? @function "match" "search" "fullmatch" "findall" "finditer" "sub" "subn" "split")) @finding

(call
  function: (identifier) @callee
  arguments: (argument_list . [(string) (concatenated_string)] @pattern)
  (#any-of? @callee "match" "search" "fullmatch" "findall" "finditer" "sub" "subn" "split")) @finding
