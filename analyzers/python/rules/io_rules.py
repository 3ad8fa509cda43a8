"""Rules about reading and parsing files with the standard library."""

from __future__ import annotations

from lessonlens.analyzers.match import Match, span_of
from lessonlens.analyzers.model import Fix, Hit, Rule, Severity, TextEdit
from lessonlens.analyzers.parsing import Node
from lessonlens.analyzers.python import bindings, facts

_OPENERS = frozenset({"open", "io.open", "gzip.open", "bz2.open", "lzma.open", "codecs.open"})


def _opens_a_file(m: Match, node: Node) -> bool:
    if node.type != "call":
        return False
    function = node.child_by_field_name("function")
    text = m.text(function) if function is not None else ""
    return text in _OPENERS or text.endswith(".open")


def _not_a_file(m: Match, source: Node) -> bool:
    """Whether the source read is certainly not a file: an HTTP response, a call's result.

    There the lesson about file objects does not apply (``json.load(urlopen(url))`` gains
    nothing a reviewer would ask for).
    """
    if source.type == "call":
        return not _opens_a_file(m, source)
    if source.type == "identifier":
        for binding in bindings.reaching(m, m.text(source), source) or ():
            node = binding.node
            value = node.child_by_field_name("right") if node.type == "assignment" else None
            if node.type == "as_pattern" and node.named_children:
                value = node.named_children[0]
            if value is not None and value.type == "call" and not _opens_a_file(m, value):
                return True
    return False


def _json_loads_read(m: Match) -> Hit | None:
    function = m.node("function")
    if not facts.resolves_to(m, function, "json.loads"):
        return None
    if any(a.type != "comment" for a in m.node("read_arguments").named_children):
        return None  # f.read(n) reads part of the file: json.load(f) would read all of it
    if _not_a_file(m, m.node("file")):
        return None
    call = m.node("finding")
    arguments = call.child_by_field_name("arguments")
    given = [a for a in arguments.named_children if a.type != "comment"] if arguments else []
    if any(a.type != "keyword_argument" for a in given[1:]):
        return None  # extra positional or **kwargs: leave unusual calls alone
    # json.load(fp, **kw) is literally loads(fp.read(), **kw) in CPython, so keyword arguments
    # carry over unchanged. The fix renames the function in place, keeping the alias used
    # (``import json as j`` gives ``j.load``); a bare ``loads`` from ``from json import loads``
    # is fixed only when ``load`` is imported from json too.
    if any(facts.contains_call(a) for a in given[1:]):
        # They would run before f.read() instead of after it.
        rename = None
    elif function.type == "attribute":
        rename = function.child_by_field_name("attribute")
    # (``load`` is part of the ``loads`` the unit writes: the unit cache sees the name.)
    elif facts.imports(m).get("load") == "json.load":
        rename = function
    else:
        rename = None
    fix = None
    if rename is not None:
        fix = Fix(
            "Use json.load(f)",
            (
                TextEdit(span_of(rename), "load"),
                TextEdit(span_of(m.node("inner")), m.text(m.node("file"))),
            ),
        )
    return Hit(span_of(call), fix=fix)


RULES = [
    Rule(
        id="PY018",
        name="json-loads-read",
        language="python",
        query="PY018.scm",
        message="`json.load(f)` reads and parses the file in one call.",
        skill_id="python.io",
        lesson_id="json-load",
        quiet_in_tests=True,
        severity=Severity.HINT,
        fix_title="Use json.load(f)",
        check=_json_loads_read,
        doc="""
## What it does
Flags `json.loads(f.read())` on a file, where `loads` is resolved through the file's imports
(also `import json as j` and `from json import loads`). It stays silent where the object read
is certainly not a file (`urlopen(url)` or a name bound to another call's result: an HTTP
response gains nothing from `json.load`) and in tests.

## Why is this bad?
`json.load(f)` says the same thing in one call: it is defined as `loads(f.read(), ...)` with
the same keyword arguments, so it is not faster, just clearer. It works with any object that
has a `read()` method: files opened in text or binary mode, `io.StringIO`, HTTP responses.

## Example
```python
with open("config.json") as f:
    config = json.loads(f.read())
```

## Use instead
```python
with open("config.json") as f:
    config = json.load(f)
```
The quick fix keeps keyword arguments such as `object_hook=`. It is not offered when a
keyword argument makes a call (it would then run before `f.read()` instead of after it), nor
for a bare `loads` imported with `from json import loads` unless `load` is imported from json
as well. `f.read(n)`, a partial read, is not flagged at all.

## References
- https://docs.python.org/3/library/json.html#json.load
- https://docs.python.org/3/library/json.html#json.loads
""",
    ),
]
