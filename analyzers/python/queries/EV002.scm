; EV002: generator expressions, and functions that yield (reported once, on the function's name).
(generator_expression) @evidence

(yield) @evidence
