; EV010: constructing pathlib paths, and calling path methods straight on the new path.
(call
  function: (attribute
    attribute: (identifier) @name) @function
  (#any-of? @name "Path" "PurePath" "PosixPath" "WindowsPath" "PurePosixPath" "PureWindowsPath")) @evidence

(call
  function: (identifier) @function @name
  (#any-of? @name "Path" "PurePath" "PosixPath" "WindowsPath" "PurePosixPath" "PureWindowsPath")) @evidence

(call
  function: (attribute
    object: (call
      function: [
        (identifier)
        (attribute)
      ] @function)
    attribute: (identifier) @method)
  (#match? @function "(^|[.])(Path|PurePath|PosixPath|WindowsPath|PurePosixPath|PureWindowsPath)$")
  (#any-of? @method
    "read_text" "write_text" "read_bytes" "write_bytes" "open" "exists" "is_file" "is_dir"
    "iterdir" "glob" "rglob" "mkdir" "touch" "unlink" "rmdir" "rename" "replace" "resolve"
    "absolute" "expanduser" "stat" "with_name" "with_suffix" "with_stem" "joinpath"
    "relative_to" "is_relative_to" "match" "samefile" "as_posix" "as_uri")) @evidence
