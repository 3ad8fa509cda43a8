"""Rules about picking the right container: sets for membership, str.join for building text."""

from __future__ import annotations

from lessonlens.analyzers.match import Match, span_of
from lessonlens.analyzers.model import Fix, Hit, Rule, Severity, TextEdit
from lessonlens.analyzers.python import facts

# Below this many elements a list scan is as fast as hashing: not worth a hint.
_MIN_LITERAL_ELEMENTS = 4


def _membership_in_loop(m: Match) -> Hit | None:
    haystack = m.node("haystack")
    finding = m.node("finding")
    if facts.enclosing_loop(finding, include_comprehensions=True) is None:
        return None
    if haystack.type == "identifier":
        if facts.known_kind(m, m.text(haystack), finding) != "list":
            return None
        return Hit(
            span_of(finding),
            message=f"`{m.text(haystack)}` is a list: each `in` test scans it. "
            "Build a set once before the loop.",
        )
    elements = haystack.named_children
    if len(elements) < _MIN_LITERAL_ELEMENTS or not all(facts.is_literal(e) for e in elements):
        return None
    # A set literal keeps the semantics for hashable needles; the literals are all hashable, and
    # CPython folds a constant set into a frozenset once, so the rewrite is a pure speed-up.
    fix = Fix(
        "Use a set literal",
        (
            TextEdit(
                span_of(haystack),
                "{" + ", ".join(m.text(e) for e in elements) + "}",
            ),
        ),
    )
    return Hit(span_of(finding), fix=fix)


def _string_concat_in_loop(m: Match) -> Hit | None:
    finding = m.node("finding")
    target = m.text(m.node("target"))
    again = m.get("again")
    if again is not None and m.text(again) != target:
        return None
    if facts.enclosing_loop(finding) is None:
        return None
    if facts.known_kind(m, target, facts.enclosing_loop(finding) or finding) != "str":
        return None
    return Hit(span_of(finding), message=f"`{target}` is rebuilt on every iteration.")


RULES = [
    Rule(
        id="PY001",
        name="membership-in-list",
        language="python",
        query="PY001.scm",
        message="Membership test against a list inside a loop scans it every time; use a set.",
        skill_id="python.data-structures",
        lesson_id="set-membership",
        fix_title="Use a set literal",
        check=_membership_in_loop,
        doc="""
## What it does
Flags `x in [...]` / `x in (...)` against four or more constants, or against a variable known to
hold a list, inside a loop or comprehension.

## Why is this bad?
A list or tuple answers `in` by comparing against every element; a set hashes once. In a loop
the scan repeats on every iteration.

## Example
```python
for word in words:
    if word in ["a", "an", "the", "of"]:
        continue
```

## Use instead
```python
for word in words:
    if word in {"a", "an", "the", "of"}:
        continue
```
The quick fix is offered for constant elements only; the value tested must be hashable.

## References
- https://docs.python.org/3/library/stdtypes.html#set-types-set-frozenset
""",
    ),
    Rule(
        id="PY002",
        name="string-concat-in-loop",
        language="python",
        query="PY002.scm",
        message="Building a string with += in a loop; collect the parts and use str.join.",
        skill_id="python.strings",
        lesson_id="str-join",
        severity=Severity.INFORMATION,
        check=_string_concat_in_loop,
        doc="""
## What it does
Flags `s += piece` or `s = s + piece` inside a loop when `s` was assigned a string.

## Why is this bad?
Strings are immutable: each concatenation may copy everything built so far, which is quadratic.
CPython sometimes resizes in place, but only while no other reference to the string exists, and
other Python implementations never do.

## Example
```python
text = ""
for row in rows:
    text += str(row) + "\n"
```

## Use instead
```python
text = "".join(str(row) + "\n" for row in rows)
```

## References
- https://docs.python.org/3/library/stdtypes.html#str.join
- https://docs.python.org/3/faq/programming.html#what-is-the-most-efficient-way-to-concatenate-many-strings-together
""",
    ),
]
