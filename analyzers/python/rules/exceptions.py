"""Rules about where exception handling sits: a try that could wrap its loop."""

from __future__ import annotations

from lessonlens.analyzers.match import Match, span_of
from lessonlens.analyzers.model import Hit, Rule, Severity
from lessonlens.analyzers.parsing import Node
from lessonlens.analyzers.python import facts
from lessonlens.analyzers.python.spec import versions

# Statements after which a handler has certainly left the loop.
_LEAVES_LOOP = frozenset({"break_statement", "return_statement", "raise_statement"})
_SIMPLE_STATEMENTS = frozenset(
    {
        "expression_statement",
        "pass_statement",
        "assert_statement",
        "delete_statement",
        "print_statement",
    }
)


def _statements(block: Node) -> list[Node]:
    return [child for child in block.named_children if child.type != "comment"]


def _contains_continue(node: Node) -> bool:
    stack = [node]
    while stack:
        current = stack.pop()
        if current.type == "continue_statement":
            return True
        stack.extend(current.named_children)
    return False


def _handler_leaves_loop(handler: Node) -> bool:
    """Whether every way through ``handler`` ends the loop, so none of them resumes it.

    Only the last statement is trusted: ``if c: break`` alone falls through when ``c`` is
    false, and a ``continue`` anywhere resumes the loop, which a try around it could not do.
    """
    blocks = [child for child in handler.named_children if child.type == "block"]
    if not blocks:
        return False
    statements = _statements(blocks[-1])
    return (
        bool(statements)
        and statements[-1].type in _LEAVES_LOOP
        and not _contains_continue(blocks[-1])
    )


def _try_in_loop(m: Match) -> Hit | None:
    attempt = m.node("finding")
    loop = m.node("loop")
    # A try around the loop would also cover its `else` clause and every other statement of
    # the body: the handlers would start catching what those raise. So the try must be the
    # body, beside at most one simple statement that calls nothing (nor yields or awaits).
    if loop.child_by_field_name("alternative") is not None:
        return None
    others = [s for s in _statements(m.node("body")) if s.id != attempt.id]
    if len(others) > 1 or any(
        s.type not in _SIMPLE_STATEMENTS or facts.contains_call(s) for s in others
    ):
        return None
    handlers = []
    for clause in attempt.named_children:
        if clause.type in ("else_clause", "finally_clause"):
            # Per-iteration clean-up or follow-up: moving the try would run it once.
            return None
        if clause.type == "except_clause":
            handlers.append(clause)
    if not handlers or not all(_handler_leaves_loop(h) for h in handlers):
        return None
    keyword = attempt.child(0)
    return Hit(span_of(keyword if keyword is not None else attempt))


RULES = [
    Rule(
        id="PY012",
        name="try-in-loop",
        language="python",
        query="PY012.scm",
        message="Every handler here leaves the loop, so this try could wrap the loop instead.",
        skill_id="python.exceptions",
        lesson_id="try-outside-loop",
        quiet_in_tests=True,
        noqa_codes=("PERF203",),
        severity=Severity.INFORMATION,
        check=_try_in_loop,
        when=versions(below=(3, 11)),
        doc="""
## What it does
For code that targets Python older than 3.11, flags a `try` statement that makes up the body of
a `for` or `while` loop (alone, or beside one simple statement that calls nothing) when every
`except` handler ends with `break`, `return` or `raise`, so that the `try` could wrap the loop
instead.

It stays silent when a handler continues the loop (`continue`, or falling through to the next
iteration), when the `try` has an `else` or `finally` clause, which run once per iteration,
and when the loop has an `else` clause or other statements that call something, which a moved
`try` would start guarding: in those cases moving the `try` would change what the code does.

## Why is this bad?
Honestly: not by much. Before Python 3.11, entering a `try` block executes a `SETUP_FINALLY`
instruction and leaving it pops a block, on every iteration; that is a few nanoseconds per
turn, noticeable only in tight loops. Python 3.11 made exceptions "zero-cost": a `try` that
raises nothing costs nothing at all, and this rule is off for 3.11 and later.

A `try` around the loop also states more plainly that the first error ends the whole loop.
The moved `try` also guards the loop header: check that iterating (or the `while` condition)
cannot raise the exceptions it catches.

## Example
```python
for line in lines:
    try:
        values.append(int(line))
    except ValueError:
        break
```

## Use instead
```python
try:
    for line in lines:
        values.append(int(line))
except ValueError:
    pass
```

## References
- https://docs.python.org/3/whatsnew/3.11.html#whatsnew311-faster-cpython
- https://docs.python.org/3/reference/compound_stmts.html#the-try-statement
""",
    ),
]
