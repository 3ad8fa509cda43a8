"""Rules about building collections: a comprehension instead of an append loop."""

from __future__ import annotations

from lessonlens.analyzers.match import Match, span_of
from lessonlens.analyzers.model import Fix, Hit, Rule, Severity, TextEdit
from lessonlens.analyzers.parsing import Node
from lessonlens.analyzers.python import facts

# Nodes a `for` target may be built from for the comprehension to bind the same names. An
# attribute or subscript target (`for self.x in ...`) assigns state the comprehension would not.
_PLAIN_TARGET_TYPES = frozenset(
    {
        "identifier",
        "pattern_list",
        "tuple_pattern",
        "list_pattern",
        "list_splat_pattern",
        "parenthesized_expression",
        "tuple",
        "list",
    }
)
# What behaves differently inside the comprehension's own function scope (before 3.12):
# `yield` and `await` are refused by the compiler or change meaning, a lambda would close over
# the comprehension's variable, zero-argument `super()` loses its class cell, and `locals()`,
# `vars()`, `dir()`, `eval()` and `exec()` see the comprehension's namespace.
_SCOPE_SENSITIVE_NODES = frozenset({"await", "yield", "lambda", "named_expression"})
_SCOPE_SENSITIVE_NAMES = frozenset({"super", "locals", "vars", "dir", "eval", "exec"})
# Iterables that may stand after `in` in a comprehension without parentheses.
_BARE_ITERABLES = frozenset(
    {
        "identifier",
        "attribute",
        "call",
        "subscript",
        "list",
        "tuple",
        "set",
        "dictionary",
        "parenthesized_expression",
        "list_comprehension",
        "set_comprehension",
        "dictionary_comprehension",
        "generator_expression",
        "string",
        "concatenated_string",
        "binary_operator",
    }
)
# Conditions that need parentheses after a comprehension's `if`.
_WRAPPED_CONDITIONS = frozenset({"conditional_expression", "lambda", "named_expression"})
_NESTED_SCOPES = frozenset({"function_definition", "lambda", "class_definition"})


def _statements(block: Node) -> list[Node]:
    return [child for child in block.named_children if child.type != "comment"]


def _contains(node: Node, types: frozenset[str]) -> bool:
    stack = [node]
    while stack:
        current = stack.pop()
        if current.type in types:
            return True
        stack.extend(current.named_children)
    return False


def _plain_target(node: Node) -> bool:
    if node.type not in _PLAIN_TARGET_TYPES:
        return False
    return all(_plain_target(child) for child in node.named_children)


def _inside_try(node: Node, scope: Node) -> bool:
    """Whether an exception escaping ``node`` could be caught in ``scope``.

    Then the handler could see the half-built list, which the comprehension never binds.
    """
    current = node.parent
    while current is not None and current.id != scope.id:
        if current.type == "try_statement":
            return True
        current = current.parent
    return False


def _is_member_name(node: Node) -> bool:
    """``y`` in ``obj.y`` or in ``f(y=...)``: a name that is not a variable."""
    parent = node.parent
    if parent is None or parent.type not in ("attribute", "keyword_argument"):
        return False
    field = "attribute" if parent.type == "attribute" else "name"
    named = parent.child_by_field_name(field)
    return named is not None and named.id == node.id


def _names_seen_elsewhere(
    scope: Node, loop: Node, loop_names: set[str], built: str, source: bytes
) -> bool:
    """Whether dropping the loop's bindings, or delaying ``built``'s, could be observed.

    The comprehension keeps its loop variables to itself: they must not be read after the loop,
    on the next turn of an enclosing loop, from a nested function, or be declared global.
    ``built`` is bound only once the comprehension finishes: no nested function may read it.
    One walk over the function, whose size bounds the cost.
    """
    enclosing_loops: list[Node] = []
    ancestor = loop.parent
    while ancestor is not None and ancestor.id != scope.id:
        if ancestor.type in facts.LOOP_TYPES:
            enclosing_loops.append(ancestor)
        ancestor = ancestor.parent
    body = scope.child_by_field_name("body")
    stack: list[tuple[Node, bool]] = [(body, False)] if body is not None else []
    while stack:
        node, nested = stack.pop()
        if node.id == loop.id:
            continue
        if node.type == "identifier" and not _is_member_name(node):
            name = source[node.start_byte : node.end_byte].decode("utf-8", "replace")
            parent = node.parent
            declared = parent is not None and parent.type in (
                "global_statement",
                "nonlocal_statement",
            )
            if name == built and (nested or declared):
                return True
            if name in loop_names and (
                nested
                or declared
                or node.start_byte >= loop.end_byte
                or any(
                    outer.start_byte <= node.start_byte < outer.end_byte
                    for outer in enclosing_loops
                )
            ):
                return True
            continue
        inner = nested or node.type in _NESTED_SCOPES
        stack.extend((child, inner) for child in node.named_children)
    return False


def _comprehension_fix(m: Match, loop: Node) -> Fix | None:
    """``[value for target in iterable if condition]``, where that is exactly the same program."""
    scope = facts.enclosing_scope(loop)
    # At module or class level the loop variable is a global or a class attribute that other
    # code may read, and a class body's names are invisible inside a comprehension.
    if scope.type != "function_definition":
        return None
    if loop.child_by_field_name("alternative") is not None:
        return None
    first = loop.child(0)
    if first is not None and first.type == "async":
        return None
    target = m.node("loop_target")
    iterable = m.node("iterable")
    value = m.node("value")
    condition = m.get("condition")
    if not _plain_target(target):
        return None
    expressions = [value, iterable] if condition is None else [value, iterable, condition]
    if any(_contains(e, _SCOPE_SENSITIVE_NODES) for e in expressions):
        return None
    source = m.file.source
    used = set().union(*(facts.names_in(e, source) for e in expressions))
    if used & _SCOPE_SENSITIVE_NAMES:
        return None
    # A comment anywhere in the loop, or before it, would be deleted with it.
    if m.nodes("between") or _contains(loop, frozenset({"comment"})):
        return None
    if _inside_try(loop, scope):
        return None
    loop_names = facts.names_in(target, source)
    built = m.text(m.node("target"))
    if _names_seen_elsewhere(scope, loop, loop_names, built, source):
        return None

    iterable_text = m.text(iterable)
    if iterable.type not in _BARE_ITERABLES:
        iterable_text = f"({iterable_text})"
    text = f"[{m.text(value)} for {m.text(target)} in {iterable_text}"
    if condition is not None:
        condition_text = m.text(condition)
        if condition.type in _WRAPPED_CONDITIONS:
            condition_text = f"({condition_text})"
        text += f" if {condition_text}"
    text += "]"
    edit = TextEdit(span_of(m.node("empty"), loop), text)
    return Fix("Use a list comprehension", (edit,))


_MUTATING = frozenset(
    {
        "pop",
        "popleft",
        "popitem",
        "append",
        "appendleft",
        "extend",
        "insert",
        "remove",
        "clear",
        "update",
        "add",
        "discard",
        "setdefault",
        "send",
        "write",
    }
)


def _changes_something(m: Match, node: Node) -> bool:
    stack = [node]
    while stack:
        current = stack.pop()
        if current.type == "call":
            function = current.child_by_field_name("function")
            if function is not None:
                name = m.text(function).rpartition(".")[2]
                if (function.type == "attribute" and name in _MUTATING) or name == "next":
                    return True
        if current.type not in ("lambda",):
            stack.extend(current.named_children)
    return False


def _append_loop(m: Match) -> Hit | None:
    loop = m.node("finding")
    if m.node("empty").named_child_count != 0:
        return None
    if len(_statements(m.node("body"))) != 1:
        return None
    guarded = m.get("guarded")
    if guarded is not None and len(_statements(guarded)) != 1:
        return None
    value = m.node("value")
    if value.type in ("list_splat", "dictionary_splat", "keyword_argument"):
        return None
    built = m.text(m.node("target"))
    condition = m.get("condition")
    # `if x not in out: out.append(x)` reads the list while it grows: no comprehension can.
    parts = [m.node("loop_target"), m.node("iterable"), value]
    if condition is not None:
        parts.append(condition)
    source = m.file.source
    if any(built in facts.names_in(part, source) for part in parts):
        return None
    # `out.append(stack.pop())`: a comprehension whose items change another container reads
    # worse than the loop; reviewers keep side effects out of comprehensions.
    if _changes_something(m, value) or (condition is not None and _changes_something(m, condition)):
        return None
    # From `out = []` to the loop header: the two statements the comprehension replaces.
    span = span_of(m.node("init"), m.node("iterable"))
    return Hit(span, fix=_comprehension_fix(m, loop))


RULES = [
    Rule(
        id="PY004",
        name="append-in-loop",
        language="python",
        query="PY004.scm",
        message="Build this list with a list comprehension instead of appending in a loop.",
        skill_id="python.comprehensions",
        lesson_id="list-comprehension",
        quiet_in_tests=True,
        noqa_codes=("PERF401",),
        severity=Severity.INFORMATION,
        fix_title="Use a list comprehension",
        check=_append_loop,
        doc="""
## What it does
Flags an empty list assignment directly followed by a `for` loop whose whole body appends one
value to that list, optionally under a single `if` with no `else`.

It stays silent when the body does anything else (a second statement, `break`, `continue`),
when the loop reads the list it is building (`if x not in out: out.append(x)`), when each item
changes another container (`out.append(stack.pop())`: a comprehension with side effects reads
worse than the loop), and in tests.

The quick fix is offered only inside a function, and only where the rewrite is the same
program: no `else` on the loop, no `async for`, no `await`, `yield`, `lambda`, `:=`,
`super()` or `locals()` in the loop, no comment that would be lost, no enclosing `try` that
could see a half-built list, and loop variables that are not read after the loop (the
comprehension keeps them to itself).

## Why is this bad?
A comprehension says "a list of these" in one expression, and runs faster: it appends with a
dedicated bytecode instead of looking up and calling `out.append` on every iteration.

## Example
```python
squares = []
for n in numbers:
    if n % 2:
        squares.append(n * n)
```

## Use instead
```python
squares = [n * n for n in numbers if n % 2]
```
When the loop only copies the items, `list(numbers)` says it more simply still.

## References
- https://docs.python.org/3/tutorial/datastructures.html#list-comprehensions
- https://docs.python.org/3/reference/expressions.html#displays-for-lists-sets-and-dictionaries
""",
    ),
]
