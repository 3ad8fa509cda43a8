"""Rules about idiomatic Python: spelling things the way experienced readers expect."""

from __future__ import annotations

from lessonlens.analyzers.match import Match, span_of
from lessonlens.analyzers.model import Fix, Hit, Rule, Severity, TextEdit
from lessonlens.analyzers.parsing import Node
from lessonlens.analyzers.python import facts

# Libraries where `column == None` builds a query expression on purpose: `is None` would be a
# plain False and silently change the query.
_EXPRESSION_LIBRARIES = frozenset(
    {"sqlalchemy", "sqlmodel", "peewee", "pony", "pyspark", "ibis", "sympy", "z3"}
)
# Methods that take such expressions; `.filter(User.email == None)` is the idiom, even in a
# file that imports the ORM indirectly (models defined elsewhere).
_QUERY_METHODS = frozenset(
    {"filter", "filter_by", "where", "having", "exclude", "join", "outerjoin", "when", "case"}
)
_OPERATOR_ASSERTIONS = frozenset({"assertTrue", "assertFalse"})
_SHOWN_LENGTH = 40


def _builds_expressions(m: Match) -> bool:
    return any(full.split(".")[0] in _EXPRESSION_LIBRARIES for full in facts.imports(m).values())


def _in_query_call(node: Node, m: Match) -> bool:
    """Whether ``node`` is inside the arguments of a query-builder call (``.filter(...)``)."""
    current = node.parent
    # Up through the enclosing expression only: it ends at its statement or at a lambda.
    while current is not None and current.type not in ("block", "module", "lambda"):
        if current.type == "call":
            function = current.child_by_field_name("function")
            if function is not None and m.text(function).rpartition(".")[2] in _QUERY_METHODS:
                return True
        current = current.parent
    return False


def _tests_the_operator(comparison: Node, m: Match) -> bool:
    """``assertFalse(tz == None)``: a test of ``__eq__`` itself, where `is` would test nothing."""
    parent = comparison.parent
    call = parent.parent if parent is not None and parent.type == "argument_list" else None
    function = call.child_by_field_name("function") if call is not None else None
    return function is not None and m.text(function).rpartition(".")[2] in _OPERATOR_ASSERTIONS


def _is_dotted_name(node: Node) -> bool:
    while node.type == "attribute":
        child = node.child_by_field_name("object")
        if child is None:
            return False
        node = child
    return node.type == "identifier"


def _compare_to_none(m: Match) -> Hit | None:
    comparison = m.node("finding")
    subject = m.node("subject")
    if len(comparison.named_children) != 2 or subject.type == "none":
        return None
    # numpy/pandas `==` is element-wise (`arr == None` is an array); ORMs build SQL from it.
    if facts.imports_array_library(m) or _builds_expressions(m) or _in_query_call(comparison, m):
        return None
    if _tests_the_operator(comparison, m):
        return None
    negated = m.text(m.node("operator")) == "!="
    shown = m.text(subject)
    replacement = f"{shown} is not None" if negated else f"{shown} is None"
    fix = None
    if _is_dotted_name(subject):
        fix = Fix(f"Use `{replacement}`", (TextEdit(span_of(comparison), replacement),))
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
        severity=Severity.HINT,
        fix_title="Use `is None`",
        check=_compare_to_none,
        doc="""
## What it does
Flags `x == None`, `x != None` and `None == x`. It stays silent in files that import an array
library (NumPy, pandas, ...) or a library that builds expressions from `==` (SQLAlchemy,
peewee, PySpark, SymPy, ...), inside calls such as `.filter(...)` and `.where(...)`, where
`column == None` is the query-builder idiom for `IS NULL`, and inside `assertTrue(...)` /
`assertFalse(...)`, where a test is usually exercising `__eq__` itself.

## Why is this bad?
`None` is a singleton, so the question is one of identity, which `is` asks directly and
cannot be overridden. `==` calls the left operand's `__eq__`, which a class may define to do
anything: an array compares element-wise and returns an array, an ORM column returns a SQL
expression. PEP 8 asks for `is` / `is not` when comparing to singletons.

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
The quick fix is offered when the compared operand is a plain name or attribute (`x`,
`self.x`). It is a trade-off: in the rare class whose `__eq__` treats `None` specially,
`x == None` and `x is None` differ. Outside array and query-builder libraries (which the rule
already skips) that is vanishingly rare, and usually a bug in its own right.

## References
- https://peps.python.org/pep-0008/#programming-recommendations
- https://docs.python.org/3/reference/expressions.html#is-not
- https://docs.python.org/3/library/constants.html#None
""",
    ),
]
