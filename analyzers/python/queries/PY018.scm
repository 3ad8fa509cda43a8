; PY018: json.loads(f.read()) -> json.load(f). The predicate resolves `loads` through imports.
(call
  function: [(identifier) @name (attribute attribute: (identifier) @name)] @function
  arguments: (argument_list
    .
    (call
      function: (attribute
        object: (_) @file
        attribute: (identifier) @read
        (#eq? @read "read"))
      arguments: (argument_list) @read_arguments) @inner)
  (#eq? @name "loads")) @finding
