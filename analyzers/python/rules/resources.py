"""Rules about releasing resources: files opened without a ``with`` statement."""

from __future__ import annotations

from dataclasses import dataclass

from lessonlens.analyzers.match import Match, span_of
from lessonlens.analyzers.model import Hit, Rule, Severity
from lessonlens.analyzers.parsing import Node
from lessonlens.analyzers.python import facts

# Calls that take ownership of a file (and close it, or hand it to something that will).
_OWNING_CALLS = frozenset(
    {
        "closing",
        "enter_context",
        "enterContext",
        "push",
        "callback",
        "addCleanup",
        "register",
        "append",
        "add",
        "insert",
        "put",
    }
)
# Calls that read a file and return plain data: the file is never closed explicitly, even when
# the result is returned or stored, unlike a wrapper such as ``io.TextIOWrapper(open(p))``.
_CONSUMERS = frozenset(
    {
        "json.load",
        "pickle.load",
        "marshal.load",
        "tomllib.load",
        "plistlib.load",
        "yaml.load",
        "yaml.safe_load",
        "yaml.full_load",
        "yaml.unsafe_load",
    }
)
# A file's writer or closer handed to someone else (``setwriter(f.write)``) keeps the file in
# use beyond this scope. Readers are left out: ``detect_encoding(f.readline)`` reads at once.
_FILE_METHODS = frozenset({b"write", b"writelines", b"flush", b"close"})
_CONSUMING_BUILTINS = frozenset({"list", "tuple", "set", "frozenset", "sorted"})
_NESTED_SCOPES = frozenset(
    {"function_definition", "class_definition", "lambda", "decorated_definition"}
)
# The scan after an assignment stops here and assumes the file is released: silence is the
# safe answer, and it keeps one predicate from walking a long module-level script.
_SCAN_BUDGET = 4000


def _is_open(m: Match, function: Node) -> bool:
    if facts.resolves_to(m, function, "io.open"):
        return True
    # ``from os import open`` returns a descriptor, ``gzip.open`` a different class: only the
    # builtin and its alias io.open are meant here.
    return function.type == "identifier" and facts.refers_to_builtin(m, function)


def _last_name(function: Node, m: Match) -> str:
    return m.text(function).rpartition(".")[2]


def _takes_ownership(last: str) -> bool:
    """A call that keeps the file: a known owner, or a class (``_Reader(f)``, ``Storage(f)``).

    A class may well close the file later, so a file handed to a constructor is left alone;
    that misses ``csv.DictReader(f)`` leaks, a price paid to avoid false alarms.
    """
    if last in _OWNING_CALLS or last.lstrip("_")[:1].isupper():
        return True
    # A setter attaches the file to an object: ``source.setByteStream(f)``.
    return last.startswith("set_") or (last.startswith("set") and last[3:4].isupper())


def _owned_by(m: Match, call: Node) -> bool:
    """Whether the file passed into ``call`` is owned by something that releases it."""
    current = call
    while True:
        function = current.child_by_field_name("function")
        if function is not None and _takes_ownership(_last_name(function, m)):
            return True
        parent = current.parent
        if parent is not None and parent.type == "keyword_argument":
            parent = parent.parent
        if parent is None or parent.type != "argument_list" or parent.parent is None:
            break
        current = parent.parent
    if _consumes(m, call):
        return False
    return _escapes_directly(current)


def _escapes_directly(node: Node) -> bool:
    """A wrapper object that is a `with` item, returned, yielded or stored on an object."""
    parent = node.parent
    while parent is not None and parent.type == "parenthesized_expression":
        node, parent = parent, parent.parent
    if parent is None:
        return False
    if parent.type in ("with_item", "as_pattern", "return_statement", "yield", "lambda"):
        return True
    if parent.type == "assignment":
        left = parent.child_by_field_name("left")
        return left is not None and left.type in ("attribute", "subscript")
    return False


def _names(node: Node | None, name: bytes, source: bytes) -> bool:
    if node is None:
        return False
    while node.type == "parenthesized_expression" and node.named_children:
        node = node.named_children[0]
    return node.type == "identifier" and source[node.start_byte : node.end_byte] == name


@dataclass
class _Uses:
    """What the code after ``f = open(...)`` does with ``f``, as far as one scope tells."""

    m: Match
    name: bytes
    budget: int = _SCAN_BUDGET
    # ``data = wrap_file(env, f)``: the kept result may own the file now...
    passed_on: bool = False
    # ...unless a later statement of the function closes it unconditionally: then the function
    # owns it (a close under an ``if``, as in an early-exit path, does not say so).
    closed_plainly: bool = False

    def names(self, node: Node | None) -> bool:
        return _names(node, self.name, self.m.file.source)

    def holds(self, node: Node) -> bool:
        return _holds(node, self.name, self.m.file.source)


def _hands_over(node: Node, uses: _Uses, in_finally: bool) -> bool:
    """Whether ``node`` surely closes, manages or hands over the file (and notes weaker uses)."""
    kind = node.type
    if kind == "with_item":
        value = node.child_by_field_name("value")
        if value is not None and value.type == "as_pattern" and value.named_children:
            value = value.named_children[0]
        if uses.names(value):
            return True
        arguments = value.child_by_field_name("arguments") if value is not None else None
        return arguments is not None and any(uses.names(a) for a in arguments.named_children)
    if kind in ("return_statement", "yield"):
        # ``return f`` or ``return Wrapper(f)``: the caller owns it (``return f.read()`` does
        # not count: the file itself stays behind).
        return uses.holds(node)
    if kind == "assignment":
        left = node.child_by_field_name("left")
        right = node.child_by_field_name("right")
        if left is None or right is None or uses.names(left):
            return False
        if left.type in ("attribute", "subscript"):
            return uses.holds(right)  # ``self.f = f``, ``self.r = Reader(f)``
        if right.type == "call" and not _consumes(uses.m, right):
            arguments = right.child_by_field_name("arguments")
            if arguments is not None and any(uses.names(a) for a in arguments.named_children):
                uses.passed_on = True
        return uses.names(right)  # ``g = f``: an alias now holds it
    if kind == "call":
        return _call_hands_over(node, uses, in_finally)
    return False


def _call_hands_over(call: Node, uses: _Uses, in_finally: bool) -> bool:
    source = uses.m.file.source
    function = call.child_by_field_name("function")
    if function is None:
        return False
    arguments = call.child_by_field_name("arguments")
    if function.type == "attribute":
        method = function.child_by_field_name("attribute")
        if method is not None and uses.names(function.child_by_field_name("object")):
            return in_finally and source[method.start_byte : method.end_byte] == b"close"
    # ``finally: _sync_close(f)``: whatever a finally clause hands the file to closes it.
    if (
        in_finally
        and arguments is not None
        and any(uses.names(a) for a in arguments.named_children)
    ):
        return True
    for argument in arguments.named_children if arguments is not None else ():
        method = argument.child_by_field_name("attribute") if argument.type == "attribute" else None
        if (
            method is not None
            and uses.names(argument.child_by_field_name("object"))
            and source[method.start_byte : method.end_byte] in _FILE_METHODS
        ):
            # ``setwriter(f.write)``, ``addCleanup(f.close)``: someone else uses or closes it.
            return True
    last = source[function.start_byte : function.end_byte].rpartition(b".")[2]
    if not _takes_ownership(last.decode("utf-8", "replace")):
        return False
    for argument in arguments.named_children if arguments is not None else ():
        if uses.names(argument):
            return True
        if argument.type == "attribute" and uses.names(argument.child_by_field_name("object")):
            return True  # ``stack.callback(f.close)``
    return False


def _consumes(m: Match, call: Node) -> bool:
    """A call that reads a file and returns plain data (``json.load(f)``, ``list(f)``)."""
    function = call.child_by_field_name("function")
    if function is None:
        return False
    if any(facts.resolves_to(m, function, name) for name in _CONSUMERS):
        return True
    return (
        function.type == "identifier"
        and m.text(function) in _CONSUMING_BUILTINS
        and facts.refers_to_builtin(m, function)
    )


def _holds(node: Node, name: bytes, source: bytes) -> bool:
    """Whether ``name`` itself (not one of its attributes) is used within a small ``node``."""
    stack = [node]
    while stack:
        current = stack.pop()
        if current.type == "identifier":
            if source[current.start_byte : current.end_byte] == name:
                return True
        elif current.type == "attribute":
            continue  # ``f.read()``: uses the file, does not hand it over
        elif current.type not in _NESTED_SCOPES:
            stack.extend(current.named_children)
    return False


def _scan(root: Node, uses: _Uses, in_finally: bool) -> bool:
    stack = [(root, in_finally)]
    while stack:
        node, finally_here = stack.pop()
        uses.budget -= 1
        if uses.budget < 0:
            return True
        if node.type in _NESTED_SCOPES:
            # A nested function or lambda that uses the file captures it: its lifetime is
            # then beyond what one scope can tell.
            if _mentions(node, uses):
                return True
            continue
        if _hands_over(node, uses, finally_here):
            return True
        finally_here = finally_here or node.type == "finally_clause"
        stack.extend((child, finally_here) for child in node.named_children)
    return False


def _mentions(root: Node, uses: _Uses) -> bool:
    source = uses.m.file.source
    stack = [root]
    while stack:
        node = stack.pop()
        uses.budget -= 1
        if uses.budget < 0:
            return True
        if node.type == "identifier" and source[node.start_byte : node.end_byte] == uses.name:
            return True
        stack.extend(node.named_children)
    return False


def _closed_next(statement: Node, name: bytes, source: bytes) -> bool:
    """Whether the very next statement to run closes the file: nothing in between can raise.

    Covers ``try: f = open(p) / except OSError: ... / else: f.close()``, an existence check.
    """
    following = statement.next_named_sibling
    while following is not None and following.type == "comment":
        following = following.next_named_sibling
    block = statement.parent
    if following is None and block is not None and block.parent is not None:
        try_statement = block.parent
        if try_statement.type == "try_statement":
            for clause in try_statement.named_children:
                if clause.type == "else_clause":
                    body = clause.child_by_field_name("body") or clause.named_children[-1]
                    statements = [c for c in body.named_children if c.type != "comment"]
                    following = statements[0] if statements else None
    return following is not None and _is_close(following, name, source)


def _is_close(statement: Node, name: bytes, source: bytes) -> bool:
    """Whether ``statement`` is exactly ``name.close()``."""
    if statement.type != "expression_statement":
        return False
    call = statement.named_children[0] if statement.named_children else None
    function = call.child_by_field_name("function") if call is not None else None
    if call is None or call.type != "call" or function is None or function.type != "attribute":
        return False
    method = function.child_by_field_name("attribute")
    return (
        method is not None
        and source[method.start_byte : method.end_byte] == b"close"
        and _names(function.child_by_field_name("object"), name, source)
    )


def _released(m: Match, assignment: Node, name: bytes) -> bool:
    """Whether later code in the scope closes the file in `finally`, or hands it over.

    Walks up from the assignment to its scope; at each level it scans the statements that
    follow, and the `else` and `finally` clauses of each enclosing `try`.
    """
    source = m.file.source
    uses = _Uses(m, name)
    node = facts.statement_of(assignment)
    if _closed_next(node, name, source):
        return True
    while node.parent is not None and node.type not in facts.SCOPE_TYPES:
        parent = node.parent
        if parent.type == "try_statement":
            # ``try: f = open(p) / except OSError: ... / else: with f: ...``: the else clause
            # runs after the body, the finally clause after everything.
            for clause in parent.named_children:
                if clause.id == node.id or clause.type not in ("else_clause", "finally_clause"):
                    continue
                if _scan(clause, uses, clause.type == "finally_clause"):
                    return True
        elif parent.type in ("block", "module"):
            sibling = node.next_named_sibling
            while sibling is not None:
                if _is_close(sibling, name, source):
                    uses.closed_plainly = True
                elif _scan(sibling, uses, in_finally=False):
                    return True
                sibling = sibling.next_named_sibling
        node = parent
    if node.type == "function_definition":
        body = node.child_by_field_name("body")
        for statement in body.named_children if body is not None else ():
            # ``global f`` / ``nonlocal f``: the file outlives the function on purpose.
            if statement.type in ("global_statement", "nonlocal_statement") and any(
                _names(n, name, source) for n in statement.named_children
            ):
                return True
    return uses.passed_on and not uses.closed_plainly


def _closed_later(m: Match, assignment: Node, name: bytes) -> bool:
    """Whether ``name.close()`` appears after the assignment in its own function (or module)."""
    scope = facts.enclosing_scope(assignment)
    source = m.file.source
    stack = [scope]
    while stack:
        node = stack.pop()
        if node.end_byte <= assignment.end_byte:
            continue
        if node.type in ("function_definition", "class_definition", "lambda") and (
            node.id != scope.id
        ):
            continue
        if node.type == "call" and node.start_byte >= assignment.end_byte:
            function = node.child_by_field_name("function")
            if function is not None and source[function.start_byte : function.end_byte] == (
                name + b".close"
            ):
                return True
        stack.extend(node.named_children)
    return False


def _open_without_with(m: Match) -> Hit | None:
    call = m.node("finding")
    if not _is_open(m, m.node("function")):
        return None
    name = m.get("name")
    if name is not None:
        assignment = call.parent
        held = m.file.source[name.start_byte : name.end_byte]
        if assignment is None or assignment.parent is None:
            return None
        if assignment.parent.type == "assignment":
            return None  # ``opened = f = open(p)``: tracking both names is not worth it
        if _released(m, assignment, held):
            return None
        if not _closed_later(m, assignment, held):
            return Hit(
                span_of(call),
                message=f"`{m.text(name)}` is never closed; open it in a `with` block.",
            )
        # A script's top level that closes its file: an exception there ends the process,
        # which closes it anyway. (Inside a loop, each turn would leak another one.)
        if facts.is_module_level(call) and facts.enclosing_loop(call) is None:
            return None
        return Hit(
            span_of(call),
            message=f"`{m.text(name)}` is not closed if an exception is raised; "
            "open it in a `with` block.",
        )
    outer = m.get("call")
    if outer is not None and _owned_by(m, outer):
        return None
    return Hit(span_of(call))


RULES = [
    Rule(
        id="PY014",
        name="open-without-with",
        language="python",
        query="PY014.scm",
        message="This file is never closed explicitly; open it in a `with` block.",
        skill_id="python.context-managers",
        lesson_id="with-open",
        noqa_codes=("SIM115",),
        severity=Severity.INFORMATION,
        check=_open_without_with,
        doc="""
## What it does
Flags `open()` (the builtin, or `io.open`) whose file is not managed by a `with` statement:
`f = open(...)` assigned to a name, a method called straight on the result
(`open(p).read()`), a file passed straight into another call (`json.load(open(p))`), or a file
iterated directly (`for line in open(p)`).

It stays silent when the file is returned (a factory), stored on an object (`self.f = ...`),
handed to a class that keeps it (`Reader(f)`), to `contextlib.closing()`,
`ExitStack.enter_context()` or `addCleanup(f.close)`, captured by a nested function, managed
by a later `with f:`, closed in the `finally` clause of a `try` in the same function, or
closed by the very next statement; and at a script's top level, outside loops, when the
script closes the file later (an exception there ends the process, which closes it). The
message says whether the file is never closed or only not closed when an exception is raised,
from the function that opens it.

## Why is this bad?
A file holds an operating-system handle, and buffered writes reach the disk only when it is
flushed or closed. Without `with`, the file is closed when the object is garbage-collected:
immediately in CPython in the simple cases, but later (or never, at exit) on PyPy, in reference
cycles, or when an exception keeps a traceback alive. A `f.close()` at the end is skipped when
anything before it raises. Python warns about this with `ResourceWarning` in development mode.

## Example
```python
f = open(path)
data = f.read()
f.close()

config = json.load(open("config.json"))
```

## Use instead
```python
with open(path) as f:
    data = f.read()

with open("config.json") as f:
    config = json.load(f)
```
For reading or writing a whole file, `pathlib.Path(path).read_text()` and `write_text()` open
and close the file for you.

## References
- https://docs.python.org/3/tutorial/inputoutput.html#reading-and-writing-files
- https://docs.python.org/3/reference/compound_stmts.html#the-with-statement
- https://docs.python.org/3/library/contextlib.html#contextlib.ExitStack
""",
    ),
]
