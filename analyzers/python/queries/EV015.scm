; EV015: str.join called on a string literal separator (bytes separators excluded).
(call
  function: (attribute
    object: (string
      (string_start) @prefix)
    attribute: (identifier) @method)
  (#eq? @method "join")
  (#not-match? @prefix "[bB]")) @evidence
