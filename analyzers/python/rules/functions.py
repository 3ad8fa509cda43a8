"""Rules about function signatures that hide traps."""

from __future__ import annotations

from lessonlens.analyzers.match import Match, span_of
from lessonlens.analyzers.model import Hit, Rule, Severity
from lessonlens.analyzers.python import facts

# Longer defaults are not quoted in the message; the finding's range shows them.
_SHOWN_LENGTH = 30
_MUTABLE_BUILTINS = frozenset({"list", "dict", "set", "bytearray"})
_MUTABLE_COLLECTIONS = frozenset(
    {
        "collections.defaultdict",
        "collections.OrderedDict",
        "collections.Counter",
        "collections.deque",
    }
)


def _mutable_default(m: Match) -> Hit | None:
    value = m.node("finding")
    function = m.get("function")
    if function is not None:
        name = m.text(function)
        builtin = (
            function.type == "identifier"
            and name in _MUTABLE_BUILTINS
            and facts.refers_to_builtin(m, function)
        )
        if not builtin and not any(facts.resolves_to(m, function, q) for q in _MUTABLE_COLLECTIONS):
            return None
    shown = m.text(value)
    if len(shown) > _SHOWN_LENGTH or "\n" in shown:
        return Hit(span_of(value))
    return Hit(
        span_of(value),
        message=f"The default `{shown}` is created once and shared by every call; default to None.",
    )


RULES = [
    Rule(
        id="PY015",
        name="mutable-default",
        language="python",
        query="PY015.scm",
        message="This mutable default is created once and shared by every call; default to None.",
        skill_id="python.functions",
        lesson_id="mutable-defaults",
        severity=Severity.INFORMATION,
        check=_mutable_default,
        doc="""
## What it does
Flags a parameter default that is a mutable container: a list, dict or set display or
comprehension, or a call to `list()`, `dict()`, `set()`, `bytearray()` or to
`collections.defaultdict`, `OrderedDict`, `Counter` or `deque`. It looks at `def`,
`async def` and `lambda`.

Tuples, `frozenset()`, strings, numbers and `None` are immutable and are never flagged. The
rule warns even when the function does not seem to mutate the default today: the trap is the
shared state, and it springs as soon as someone appends to it or returns it to a caller.

## Why is this bad?
A default value is evaluated once, when the `def` statement runs, not on each call. Every call
that relies on the default gets the *same* object, so an item appended in one call is still
there in the next.

## Example
```python
def add_tag(tag, tags=[]):
    tags.append(tag)
    return tags

add_tag("a")  # ['a']
add_tag("b")  # ['a', 'b'] - the same list again
```

## Use instead
```python
def add_tag(tag, tags=None):
    if tags is None:
        tags = []
    tags.append(tag)
    return tags
```
If a caller may legitimately pass `None`, use a private sentinel object instead.

## References
- https://docs.python.org/3/reference/compound_stmts.html#function-definitions
- https://docs.python.org/3/faq/programming.html#why-are-default-values-shared-between-objects
""",
    ),
]
