; EV001: list, set and dict comprehensions (generator expressions belong to EV002).
[
  (list_comprehension)
  (set_comprehension)
  (dictionary_comprehension)
] @evidence
