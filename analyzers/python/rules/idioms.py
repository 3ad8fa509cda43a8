"""Rules about idiomatic Python: spelling things the way experienced readers expect."""

from __future__ import annotations

from lessonlens.analyzers.match import Match, span_of
from lessonlens.analyzers.model import Applicability, Fix, Hit, Rule, Severity, TextEdit
from lessonlens.analyzers.parsing import Node
from lessonlens.analyzers.python import bindings, facts

_SHOWN_LENGTH = 40
# Libraries where `column == None` builds a query expression on purpose: `is None` would be a
# plain False and silently change the query.
_EXPRESSION_LIBRARIES = frozenset(
    {"sqlalchemy", "sqlmodel", "peewee", "pony", "pyspark", "ibis", "sympy", "z3", "django"}
)
# Calls that take such expressions: `.filter(User.email == None)`, `or_(a == None, ...)`,
# even in a file that imports the ORM indirectly (models defined elsewhere).
_QUERY_CALLS = frozenset(
    {
        "filter",
        "filter_by",
        "where",
        "having",
        "exclude",
        "join",
        "outerjoin",
        "when",
        "case",
        "or_",
        "and_",
        "not_",
        "select",
        "update",
        "delete",
        "values",
        "on_conflict_do_update",
        "assertTrue",
        "assertFalse",
    }
)


def _value_may_be_an_expression(comparison: Node, m: Match) -> bool:
    """Where the comparison's result is a value, whether a class may have built it on purpose.

    In a file that uses an expression library (or an array library, whose `==` is element-wise),
    in a package's own modules (a library such as SQLAlchemy imports itself relatively), and in
    the arguments of a query-builder call or of assertTrue/assertFalse (a test of `__eq__`).
    """
    if facts.imports_array_library(m):
        return True
    roots = facts.imported_roots(m)
    if "" in roots or not roots.isdisjoint(_EXPRESSION_LIBRARIES):
        return True
    current = comparison.parent
    # Up through the enclosing expression only: it ends at its statement or at a lambda.
    while current is not None and current.type not in ("block", "module"):
        if current.type == "lambda":
            return True  # `lambda c: c.deleted == None`: a filter built from a callback
        if current.type == "call":
            function = current.child_by_field_name("function")
            if function is not None and m.text(function).rpartition(".")[2] in _QUERY_CALLS:
                return True
        current = current.parent
    return False


_CONVERTERS = frozenset({"int", "float", "str", "bool"})


def _never_none(m: Match, subject: Node) -> bool:
    source = m.file.source
    if subject.type == "identifier":
        if facts.known_kind(m, m.text(subject), subject) is not None:
            return True
        # `a, b = map(int, parts)`: each is an int (int(None) would have raised first)
        reach = bindings.reaching(m, m.text(subject), subject) or []
        return bool(reach) and all(_converted(m, b.node) for b in reach)
    if subject.type == "subscript":
        value = subject.child_by_field_name("value")
        if value is not None and value.type == "identifier":
            # an item of a list made by str.split() is a string
            for binding in bindings.reaching(m, m.text(value), subject) or ():
                right = binding.node.child_by_field_name("right")
                if right is not None and bindings.value_kind(right, source) == "list":
                    text = m.text(right)
                    if ".split(" in text or ".splitlines(" in text:
                        return True
        return False
    return facts.value_kind(subject, source) is not None


def _converted(m: Match, node: Node) -> bool:
    if node.type != "assignment":
        return False
    right = node.child_by_field_name("right")
    if right is None or right.type != "call":
        return False
    function = right.child_by_field_name("function")
    name = m.text(function) if function is not None else ""
    if name in _CONVERTERS:
        return True
    arguments = right.child_by_field_name("arguments")
    first = arguments.named_children[0] if arguments and arguments.named_children else None
    return name == "map" and first is not None and m.text(first) in _CONVERTERS


def _is_dotted_name(node: Node) -> bool:
    while node.type == "attribute":
        child = node.child_by_field_name("object")
        if child is None:
            return False
        node = child
    return node.type == "identifier"


_CONDITION_PARTS = frozenset({"parenthesized_expression", "not_operator", "boolean_operator"})
_UNSAFE_REASON = "a class's `__eq__` may treat None specially (an ORM column builds IS NULL)"


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
    # Where only the truth is used, an expression object would raise, so the advice holds
    # whatever the file imports; where the result is a value it may be a query expression.
    if not _truth_tested(comparison) and _value_may_be_an_expression(comparison, m):
        return None
    # `parts[0] == None` where `parts = text.split(",")`: a string is never None, so the test is
    # always False; `is None` would keep that bug, not fix it.
    if _never_none(m, subject):
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
        quiet_in_tests=True,
        severity=Severity.HINT,
        fix_title="Use `is None`",
        check=_compare_to_none,
        fix_safety="Unsafe: " + _UNSAFE_REASON + ".",
        doc="""
## What it does
Flags `x == None`, `x != None` and `None == x`.

Where the comparison's result is a value (returned, assigned, passed on) rather than a
condition, a class's `__eq__` may build something other than a bool on purpose: a SQLAlchemy
column builds `IS NULL`, a NumPy array compares element-wise, and `is None` would silently
drop the clause. So the rule stays silent there in files that use an expression or array
library (SQLAlchemy, Django, peewee, PySpark, SymPy, NumPy, pandas, ...), in a package's own
modules (a library such as SQLAlchemy imports itself relatively), inside lambdas and inside
calls such as `.filter(...)`, `.where(...)`, `or_(...)`, `and_(...)`, `case(...)` and
`assertTrue(...)` / `assertFalse(...)` (a test of `__eq__` itself). Where only the truth is
used (`if`, `while`, `assert`, a conditional expression, a comprehension's `if`), such an
object would raise, so code that works there compares plain values and the rule speaks
whatever the file imports. A `# noqa` (or `# noqa: E711`) on the line silences it.

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
