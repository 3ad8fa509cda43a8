; PY004: `out = []` directly followed by a loop whose body only appends to it (optionally under
; one `if`). The predicate checks that the body holds nothing else and that `out` is not read.
; Comments may sit between the two statements (the fix then is not offered: it would drop them).
((expression_statement
   (assignment
     left: (identifier) @target
     right: (list) @empty)) @init
 .
 (comment)* @between
 .
 (for_statement
   left: (_) @loop_target
   right: (_) @iterable
   body: (block
     .
     (expression_statement
       (call
         function: (attribute
           object: (identifier) @receiver
           attribute: (identifier) @_append)
         arguments: (argument_list . (_) @value .))) @append) @body) @finding
 (#eq? @_append "append")
 (#eq? @target @receiver))

((expression_statement
   (assignment
     left: (identifier) @target
     right: (list) @empty)) @init
 .
 (comment)* @between
 .
 (for_statement
   left: (_) @loop_target
   right: (_) @iterable
   body: (block
     .
     (if_statement
       condition: (_) @condition
       consequence: (block
         .
         (expression_statement
           (call
             function: (attribute
               object: (identifier) @receiver
               attribute: (identifier) @_append)
             arguments: (argument_list . (_) @value .))) @append) @guarded
       !alternative) @guard) @body) @finding
 (#eq? @_append "append")
 (#eq? @target @receiver))
