; EV008: constructing one of the collections module's containers.
(call
  function: (attribute
    attribute: (identifier) @name) @function
  (#any-of? @name "Counter" "defaultdict" "deque" "namedtuple" "OrderedDict" "ChainMap")) @evidence

(call
  function: (identifier) @function @name
  (#any-of? @name "Counter" "defaultdict" "deque" "namedtuple" "OrderedDict" "ChainMap")) @evidence
