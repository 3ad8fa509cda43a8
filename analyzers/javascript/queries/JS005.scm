; x = [...x, item], x = {...x, k: v}, x = x.concat(item): the whole collection copied to add
; to it. The predicate checks the loop, the declaration and the other uses of x.
(assignment_expression
  left: (identifier) @target
  right: (array . (spread_element (identifier) @source))
  (#eq? @target @source)) @finding

(assignment_expression
  left: (identifier) @target
  right: (object . (spread_element (identifier) @source))
  (#eq? @target @source)) @finding

(assignment_expression
  left: (identifier) @target
  right: (call_expression
    function: (member_expression
      object: (identifier) @source
      property: (property_identifier) @method))
  (#eq? @method "concat")
  (#eq? @target @source)) @finding
