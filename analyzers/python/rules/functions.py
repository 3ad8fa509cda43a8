"""Rules about function signatures that hide traps."""

from __future__ import annotations

from lessonlens.analyzers.match import Match, span_of
from lessonlens.analyzers.model import Hit, Rule, Severity
from lessonlens.analyzers.parsing import Node
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


# Methods that change a list, dict, set, deque or bytearray in place.
_MUTATING_METHODS = frozenset(
    {
        "append",
        "extend",
        "insert",
        "pop",
        "remove",
        "clear",
        "update",
        "setdefault",
        "add",
        "discard",
        "popitem",
        "sort",
        "reverse",
        "appendleft",
        "extendleft",
        "popleft",
        "rotate",
        "subtract",
        "difference_update",
        "intersection_update",
        "symmetric_difference_update",
    }
)


def _is(node: Node | None, other: Node) -> bool:
    return node is not None and node.id == other.id


def _use_of(name: Node, m: Match) -> str | None:
    """What one occurrence of the parameter does with the shared default, if it matters.

    ``"changes"`` (a mutating method, an item assignment, ``+=``), ``"returns"`` (returned or
    yielded: the caller may change it) or ``"keeps"`` (stored in an attribute or a container,
    or bound to another name: someone may change it later). Reads, iteration, ``len``, copies
    and calls that take it as an argument are ``None``.
    """
    parent = name.parent
    if parent is None:
        return None
    if parent.type == "attribute" and _is(parent.child_by_field_name("object"), name):
        call = parent.parent
        method = parent.child_by_field_name("attribute")
        if call is not None and call.type == "call" and method is not None:
            return "changes" if m.text(method) in _MUTATING_METHODS else None
        return None
    if parent.type == "subscript" and _is(parent.child_by_field_name("value"), name):
        holder = parent.parent
        if holder is not None and holder.type in ("assignment", "augmented_assignment"):
            left = holder.child_by_field_name("left")
            return "changes" if left is not None and left.id == parent.id else None
        return "changes" if holder is not None and holder.type == "delete_statement" else None
    if parent.type == "augmented_assignment" and _is(parent.child_by_field_name("left"), name):
        return "changes"
    if parent.type in ("return_statement", "yield"):
        return "returns"
    grandparent = parent.parent
    if parent.type == "expression_list" and grandparent is not None:
        return "returns" if grandparent.type in ("return_statement", "yield") else None
    if parent.type == "assignment" and _is(parent.child_by_field_name("right"), name):
        return "keeps"
    if parent.type in ("list", "tuple", "set", "pair") and parent.parent is not None:
        return "keeps" if parent.parent.type in ("assignment", "return_statement") else None
    return None


def _rebinds(name: Node, m: Match) -> bool:
    parent = name.parent
    if parent is None:
        return False
    if parent.type in ("assignment", "for_statement") and _is(
        parent.child_by_field_name("left"), name
    ):
        return True
    return parent.type == "named_expression"


def _what_happens(m: Match, value: Node) -> str | None:
    """The worst thing the function does with the parameter whose default is ``value``."""
    parameter = value.parent
    if parameter is None or parameter.type not in ("default_parameter", "typed_default_parameter"):
        return None
    name_node = parameter.child_by_field_name("name")
    parameters = parameter.parent
    function = parameters.parent if parameters is not None else None
    if name_node is None or function is None:
        return None
    body = function.child_by_field_name("body")
    if body is None:
        return None
    name = m.text(name_node)
    found: set[str] = set()
    stack = [body]
    while stack:
        node = stack.pop()
        if node.type == "identifier" and m.text(node) == name:
            if _rebinds(node, m):
                return None  # `tags = list(tags)` and the like: too subtle to judge
            use = _use_of(node, m)
            if use is not None:
                found.add(use)
            continue
        stack.extend(node.named_children)
    for use in ("changes", "returns", "keeps"):
        if use in found:
            return use
    return None


_CONSEQUENCE = {
    "changes": "and this function changes it, so each call sees what the previous calls left",
    "returns": "and this function returns it, so a caller that changes the result changes the "
    "default of every later call",
    "keeps": "and this function stores it, so whoever changes the stored value changes the "
    "default of every later call",
}


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
    # A default that is only read is shared harmlessly: no hint.
    what = _what_happens(m, value)
    if what is None:
        return None
    shown = m.text(value)
    subject = (
        f"The default `{shown}`"
        if len(shown) <= _SHOWN_LENGTH and "\n" not in shown
        else ("This default")
    )
    return Hit(
        span_of(value),
        message=f"{subject} is created once and shared by every call, {_CONSEQUENCE[what]}; "
        "default to None and create it inside.",
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
        noqa_codes=("B006",),
        severity=Severity.INFORMATION,
        check=_mutable_default,
        doc="""
## What it does
Flags a parameter default that is a mutable container: a list, dict or set display or
comprehension, or a call to `list()`, `dict()`, `set()`, `bytearray()` or to
`collections.defaultdict`, `OrderedDict`, `Counter` or `deque`. It looks at `def`,
`async def` and `lambda`.

Tuples, `frozenset()`, strings, numbers and `None` are immutable and are never flagged. It
speaks only where the function changes the default (a mutating method such as `append` or
`update`, an item assignment, `+=`), returns or yields it, or stores it (in an attribute, a
container or another name): a default that is only read is shared harmlessly. A function that
rebinds the parameter (`tags = list(tags)`) is left alone.

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
