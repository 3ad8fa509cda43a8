"""Rules about idiomatic Python: spelling things the way experienced readers expect."""

from __future__ import annotations

from lessonlens.analyzers.match import Match, span_of
from lessonlens.analyzers.model import Applicability, Fix, Hit, Rule, Severity, TextEdit
from lessonlens.analyzers.parsing import Node

_SHOWN_LENGTH = 40


def _is_dotted_name(node: Node) -> bool:
    while node.type == "attribute":
        child = node.child_by_field_name("object")
        if child is None:
            return False
        node = child
    return node.type == "identifier"


_CONDITION_PARTS = frozenset({"parenthesized_expression", "not_operator", "boolean_operator"})
_UNSAFE_REASON = (
    "`is None` skips the left operand's `__eq__`, which a class may define to treat None "
    "specially (an ORM column builds `IS NULL` from `== None`)"
)


def _truth_tested(node: Node) -> bool:
    """Whether only the truth of ``node`` is used: an ``if``/``while``/``assert`` condition.

    Elsewhere (``return x == None``, ``f(x == None)``, ``or_(col == None, ...)``) the result is
    a value, and for a query builder's column that value is a SQL expression, not a bool.
    """
    child = node
    current = node.parent
    while current is not None and current.type in _CONDITION_PARTS:
        child = current
        current = current.parent
    if current is None:
        return False
    if current.type in ("if_statement", "elif_clause", "while_statement", "conditional_expression"):
        condition = current.child_by_field_name("condition")
        if current.type == "conditional_expression":
            # `a if cond else b`: the middle operand is the condition.
            named = [c for c in current.named_children if c.type != "comment"]
            condition = named[1] if len(named) == 3 else None
        return condition is not None and condition.id == child.id
    if current.type == "assert_statement":
        first = next((c for c in current.named_children if c.type != "comment"), None)
        return first is not None and first.id == child.id
    return current.type == "if_clause"


def _compare_to_none(m: Match) -> Hit | None:
    comparison = m.node("finding")
    subject = m.node("subject")
    if len(comparison.named_children) != 2 or subject.type == "none":
        return None
    if not _truth_tested(comparison):
        return None
    negated = m.text(m.node("operator")) == "!="
    shown = m.text(subject)
    replacement = f"{shown} is not None" if negated else f"{shown} is None"
    fix = None
    if _is_dotted_name(subject):
        fix = Fix(
            f"Use `{replacement}`",
            (TextEdit(span_of(comparison), replacement),),
            Applicability.UNSAFE,
            _UNSAFE_REASON,
        )
    if len(shown) > _SHOWN_LENGTH or "\n" in shown:
        return Hit(span_of(comparison), fix=fix)
    return Hit(
        span_of(comparison),
        message=f"Use `{replacement}`: None is a singleton, compared by identity.",
        fix=fix,
    )


RULES = [
    Rule(
        id="PY022",
        name="compare-to-none",
        language="python",
        query="PY022.scm",
        message="Compare to None with `is` / `is not`, not `==` / `!=`.",
        skill_id="python.idioms",
        lesson_id="is-none",
        noqa_codes=("E711",),
        severity=Severity.HINT,
        fix_title="Use `is None`",
        check=_compare_to_none,
        fix_safety="Unsafe: " + _UNSAFE_REASON + ".",
        doc="""
## What it does
Flags `x == None`, `x != None` and `None == x` where only their truth is used: the condition
of an `if`, `elif`, `while`, `assert`, a conditional expression or a comprehension's `if`.

It stays silent where the comparison's result is a value: returned, assigned, or passed to a
call such as `.filter(...)`, `or_(...)` or `assertTrue(...)`. There a class's `__eq__` may
build something other than a bool (a SQLAlchemy column builds `IS NULL`, a NumPy array
compares element-wise), and `is None` would silently drop the clause. In a condition such an
object would raise, so code that works there compares plain values.

## Why is this bad?
`None` is a singleton, so the question is one of identity, which `is` asks directly and
cannot be overridden. `==` calls the left operand's `__eq__`, which a class may define to do
anything. PEP 8 asks for `is` / `is not` when comparing to singletons.

## Example
```python
if result == None:
    return default
```

## Use instead
```python
if result is None:
    return default
```

## References
- https://peps.python.org/pep-0008/#programming-recommendations
- https://docs.python.org/3/reference/expressions.html#is-not
- https://docs.python.org/3/library/constants.html#None
""",
    ),
]
