"""Rules about producing values lazily instead of building lists nobody keeps."""

from __future__ import annotations

from lessonlens.analyzers.match import Match, span_of
from lessonlens.analyzers.model import Fix, Hit, Rule, Severity, TextEdit
from lessonlens.analyzers.parsing import Node
from lessonlens.analyzers.python import bindings, facts, hotness

_SHORT_CIRCUITING = frozenset({"any", "all"})
# How many positional arguments each builtin takes when its first one is an iterable: ``sum``
# takes a start value; ``min``/``max`` with two positionals compare the two lists themselves.
_MAX_POSITIONAL = {"any": 1, "all": 1, "sum": 2, "min": 1, "max": 1}


def _arguments(arguments: Node) -> list[Node]:
    return [a for a in arguments.named_children if a.type != "comment"]


def _is_async_comprehension(comprehension: Node) -> bool:
    # ``[x async for x in it]`` and ``[await f(x) for x in xs]`` are async comprehensions: as a
    # generator they become async generators, which any()/sum() cannot iterate.
    for clause in comprehension.named_children:
        if clause.type == "for_in_clause" and any(c.type == "async" for c in clause.children):
            return True
    stack = [comprehension]
    while stack:
        node = stack.pop()
        if node.type == "await":
            return True
        if node.type != "lambda":
            stack.extend(node.named_children)
    return False


def _many_items(m: Match, clause: Node) -> bool:
    iterable = clause.child_by_field_name("right")
    if iterable is None or hotness.loop_is_small(m, clause):
        return False
    if hotness.iterable_is_a_stream(m, iterable, clause):
        return True
    if iterable.type == "call":
        function = iterable.child_by_field_name("function")
        return function is not None and m.text(function) == "range"
    if iterable.type != "identifier":
        return False
    # A parameter of the enclosing function: data handed in, of any size.
    reach = bindings.reaching(m, m.text(iterable), clause) or []
    return any(b.node.parent is not None and b.node.parent.type == "parameters" for b in reach)


def _listcomp_in_call(m: Match) -> Hit | None:
    call = m.node("finding")
    function = m.node("function")
    comprehension = m.node("comprehension")
    name = m.text(function)
    arguments = call.child_by_field_name("arguments")
    if arguments is None:
        return None
    given = _arguments(arguments)
    positional = [a for a in given if a.type not in ("keyword_argument", "dictionary_splat")]
    if len(positional) > _MAX_POSITIONAL[name] or any(a.type == "list_splat" for a in given):
        return None
    if not facts.refers_to_builtin(m, function) or _is_async_comprehension(comprehension):
        return None
    # A test may build the list on purpose, to make every item load before it asserts.
    if hotness.cold_code(m, call) == "test code":
        return None
    if name in _SHORT_CIRCUITING:
        message = f"`{name}()` can stop at the first decisive item; pass a generator, not a list."
    else:
        message = f"`{name}()` needs no intermediate list; pass a generator to save memory."
    # any()/all() stop at the decisive item, so a later item that would have raised, or an
    # iterator read again afterwards, behaves differently: no fix for them, only the hint.
    # Stopping early, or not building the list, pays only over many items: a function's input,
    # a file or a stream, a computed range; not a handful of attributes or a literal.
    clauses = [c for c in comprehension.named_children if c.type == "for_in_clause"]
    if not clauses or not _many_items(m, clauses[0]):
        return None
    if name in _SHORT_CIRCUITING:
        return Hit(span_of(comprehension), message=message)
    # sum([[...] for ...], []) flattens lists (quadratic whatever the brackets); and where the
    # items are made by calls the saving is a list of references beside real work: no hint.
    if len(positional) > 1 and positional[1].type in ("list", "list_comprehension"):
        return None
    if not hotness.only_cheap_calls(m, comprehension):
        return None
    return Hit(span_of(comprehension), message=message, fix=_drop_brackets(comprehension, given))


def _drop_brackets(comprehension: Node, arguments: list[Node]) -> Fix | None:
    # sum()/min()/max() consume every item either way; calls, await, yield or walrus are still
    # left alone, since the generator interleaves their effects with the reduction.
    if facts.contains_call(comprehension):
        return None
    opening, closing = comprehension.child(0), comprehension.child(comprehension.child_count - 1)
    if opening is None or closing is None or opening.type != "[" or closing.type != "]":
        return None
    parent = comprehension.parent
    trailing_comma = parent is not None and any(c.type == "," for c in parent.children)
    if len(arguments) == 1 and not trailing_comma:
        # ``sum(x for x in y)``: a sole generator argument needs no parentheses of its own.
        edits = (TextEdit(span_of(opening), ""), TextEdit(span_of(closing), ""))
    else:
        # ``sum(x for x in y, 0)`` is a SyntaxError; the generator must be parenthesised.
        edits = (TextEdit(span_of(opening), "("), TextEdit(span_of(closing), ")"))
    return Fix("Pass a generator expression", edits)


RULES = [
    Rule(
        id="PY013",
        name="listcomp-in-call",
        language="python",
        query="PY013.scm",
        message="Pass a generator expression instead of building a list first.",
        skill_id="python.generators",
        lesson_id="generator-arguments",
        quiet_in_tests=True,
        noqa_codes=("C419",),
        severity=Severity.INFORMATION,
        fix_title="Pass a generator expression",
        check=_listcomp_in_call,
        doc="""
## What it does
Flags a list comprehension passed straight to `any()`, `all()`, `sum()`, `min()` or `max()`
where it walks many items: a parameter of the function, a file or a stream, or a computed
`range`. Over a handful of attributes, `**kwargs` or a literal, stopping early or not building
the list gains nothing. For `sum()`, `min()` and `max()` each item must be cheap to make (no
call beyond `len`, `abs` and the like), and `sum([[...] for ...], [])`, list flattening whose
cost is the summing itself, is left alone. It is quiet in tests.
`"".join([...])` is left alone: `str.join` turns a generator into a list anyway, so the list
comprehension is the faster spelling there. So are `max([...], [...])` (two lists compared
with each other), async comprehensions (a generator of those is an async generator, which
`any()` cannot iterate) and calls where the builtin is shadowed (`from numpy import sum`).

## Why is this bad?
The list is built in full and then thrown away. `any()` and `all()` given a generator stop at
the first item that decides the answer, so they may skip most of the work; given a list, every
item has already been computed. `sum()`, `min()` and `max()` read every item either way, so
the gain is memory (no list of N items), not time: for small inputs a list comprehension can
even be slightly faster.

## Example
```python
if any([line.startswith("#") for line in lines]):
    ...
total = sum([price * qty for price, qty in rows])
```

## Use instead
```python
if any(line.startswith("#") for line in lines):
    ...
total = sum(price * qty for price, qty in rows)
```
With a second argument the generator needs its own parentheses: `sum((x for x in xs), 0)`.

The quick fix is offered for `sum()`, `min()` and `max()` only, when the comprehension makes no
calls and has no `await`, `yield` or `:=`: they consume every item either way. For `any()` and
`all()` there is no quick fix, because a generator skips the items after the decisive one: their
side effects, an item that would have raised (`1 / x` with `x == 0`), and how far an iterator
used again afterwards has been consumed all change. Make that change knowingly.

## References
- https://docs.python.org/3/library/functions.html#any
- https://docs.python.org/3/library/functions.html#sum
- https://docs.python.org/3/reference/expressions.html#generator-expressions
""",
    ),
]
