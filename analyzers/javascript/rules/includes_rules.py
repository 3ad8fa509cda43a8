"""JS012: ``indexOf(x) !== -1`` asks where, to learn whether; ``includes(x)`` says it directly.

The fix is exact where the receiver is certainly an array or string and the needle a literal,
and unsafe, with the reason, elsewhere.
"""

from __future__ import annotations

from lessonlens.analyzers.javascript import facts, kinds
from lessonlens.analyzers.match import Match, span_of
from lessonlens.analyzers.model import Applicability, Fix, Hit, Rule, TextEdit
from lessonlens.analyzers.parsing import Node


def _edit(node: Node, text: str) -> TextEdit:
    return TextEdit(span_of(node), text)


# ---- JS012 prefer-includes ----------------------------------------------------------------------

# (operator, bound) with the call on the left -> True for "found", False for "not found".
_INDEX_TESTS = {
    ("!==", "-1"): True,
    ("!=", "-1"): True,
    (">", "-1"): True,
    (">=", "0"): True,
    ("===", "-1"): False,
    ("==", "-1"): False,
    ("<", "0"): False,
    ("<=", "-1"): False,
}
_FLIPPED = {"<": ">", ">": "<", "<=": ">=", ">=": "<=", "===": "===", "==": "=="}
_FLIPPED.update({"!==": "!==", "!=": "!="})
_LITERAL_NEEDLES = frozenset({"string", "number"})


def _local_index_of_class(m: Match) -> bool:
    """Whether a top-level class of this file has an ``indexOf`` method and no ``includes``."""
    found = m.file.facts.get("js.indexOf-class")
    if found is None:
        found = False
        for child in m.file.root.named_children:
            inner = (
                child.child_by_field_name("declaration")
                if child.type == "export_statement"
                else child
            )
            body = inner.child_by_field_name("body") if inner is not None else None
            if inner is None or body is None or "class" not in inner.type:
                continue
            names = {
                m.text(name)
                for member in body.named_children
                if member.type == "method_definition"
                and (name := member.child_by_field_name("name")) is not None
            }
            if "indexOf" in names and "includes" not in names:
                found = True
        m.file.facts["js.indexOf-class"] = found
    return bool(found)


_OPERATIONS = frozenset(
    {
        "binary_expression",
        "ternary_expression",
        "assignment_expression",
        "augmented_assignment_expression",
        "sequence_expression",
    }
)


def _misparsed_receiver(receiver: Node) -> bool:
    """Whether the receiver is an unparenthesised operation (a misparse).

    TypeScript's grammar reads ``a && xs!.indexOf(v)`` as ``(a && xs)!.indexOf(v)``; a rewrite
    from it would be wrong.
    """
    node = receiver
    while node.type == "non_null_expression" and node.named_children:
        node = node.named_children[0]
    return node.type in _OPERATIONS


def _position_used(m: Match, call: Node) -> bool:
    """Whether the same ``indexOf`` call appears again in the function.

    Then the code wants the position too (``if (s.indexOf("(") !== -1) s = s.slice(0,
    s.indexOf("("))``), and the better edit keeps the index in a variable, not ``includes``.
    """
    scope = facts.enclosing_function(call) or m.file.root
    text = m.file.source[call.start_byte : call.end_byte]
    return any(
        node.type == "call_expression" and node != call
        for node in facts.occurrences_in(m, scope, text)
    )


def _prefer_includes(m: Match) -> Hit | None:
    finding, call, bound = m.node("finding"), m.node("call"), m.node("bound")
    operator = finding.child_by_field_name("operator")
    if operator is None:
        return None
    op = m.text(operator)
    bound_text = m.text(bound).replace(" ", "")
    if finding.child_by_field_name("left") == call:
        found = _INDEX_TESTS.get((op, bound_text))
    else:
        found = _INDEX_TESTS.get((_FLIPPED.get(op, ""), bound_text))
    if found is None:
        return None
    callee = call.child_by_field_name("function")
    arguments = call.child_by_field_name("arguments")
    if callee is None or arguments is None:
        return None
    values = [c for c in arguments.named_children if c.type != "comment"]
    if not 1 <= len(values) <= 2 or any(v.type == "spread_element" for v in values):
        return None
    receiver, method = callee.child_by_field_name("object"), callee.child_by_field_name("property")
    if (
        receiver is None
        or method is None
        or kinds.jquery(m, receiver)
        or kinds.es5_only(m, finding)
    ):
        return None
    if _position_used(m, call) or _misparsed_receiver(receiver):
        return None
    receiver_kind = kinds.kind(m, receiver)
    certain = receiver_kind in (kinds.ARRAY, kinds.STRING)
    if not certain and _local_index_of_class(m):
        return None
    head = m.file.source[call.start_byte : method.start_byte].decode("utf-8", "replace")
    tail = m.file.source[method.end_byte : call.end_byte].decode("utf-8", "replace")
    optional = "?." in head
    text = f"{head}includes{tail}"
    literal = kinds.unwrap(values[0]).type in _LITERAL_NEEDLES
    if optional:
        # A missing receiver gives `undefined`: `undefined !== -1` was true and `=== -1` false.
        # Comparing with `false` keeps exactly that (`undefined !== false` is true).
        suggested = f"{text} !== false" if found else f"{text} === false"
    else:
        suggested = text if found else f"!{text}"
    if certain and literal:
        applicability, reason = Applicability.SAFE, ""
    else:
        applicability, reason = (
            Applicability.UNSAFE,
            "`includes` finds `NaN` and treats holes as `undefined` where `indexOf` does not; "
            "a string's `includes` throws on a RegExp; the receiver's type is not known here.",
        )
    fix = Fix(
        title="Use `includes(...)`",
        edits=(_edit(finding, suggested),),
        applicability=applicability,
        reason=reason,
    )
    message = (
        f"`{_short(m.text(finding))}` asks where, to learn whether; `includes(...)` says it "
        "directly."
    )
    return Hit(span_of(finding), message=message, fix=fix)


def _short(code: str, limit: int = 60) -> str:
    """Code quoted in a message: one line, at most ``limit`` characters."""
    code = " ".join(code.split())
    return code if len(code) <= limit else code[: limit - 1] + "…"


RULES = (
    Rule(
        id="JS012",
        name="prefer-includes",
        language="javascript",
        query="JS012.scm",
        message="`indexOf(...) !== -1` asks where, to learn whether; `includes(...)` says it "
        "directly.",
        skill_id="js.idioms",
        lesson_id="js-includes",
        check=_prefer_includes,
        quiet_in_tests=True,
        fix_title="Use `includes(...)`",
        noqa_codes=("prefer-includes",),
        doc="""
## What it does
Flags `x.indexOf(v)` compared with `-1` (`!==`, `!=`, `===`, `==`, `>`) or with `0` (`>=`,
`<`), on either side. Silent on jQuery collections (`$(...)`), on unknown receivers in a
file that defines a class with an `indexOf` method but no `includes`, and in files written
in ES5 syntax only (no `let`, `const`, arrows, classes or template literals), which often
target engines without `includes`.

## Why is this bad?
The comparison with `-1` is a detail to decode: a reader must check the operator and the
bound to see whether the branch is "found" or "missing". `includes` returns the boolean the
code wants. For arrays it also finds `NaN`, which `indexOf` never does.

## Example
```javascript
if (allowed.indexOf(role) === -1) throw new Error("forbidden");
```

## Use instead
```javascript
if (!allowed.includes(role)) throw new Error("forbidden");
```

## References
- https://developer.mozilla.org/en-US/docs/Web/JavaScript/Reference/Global_Objects/Array/includes
- https://developer.mozilla.org/en-US/docs/Web/JavaScript/Reference/Global_Objects/String/includes
- https://typescript-eslint.io/rules/prefer-includes/
""",
        fix_safety="Safe when the receiver is certainly an array or a string and the argument "
        "a string or number literal: the two then agree in every case. Otherwise unsafe: "
        "`includes` finds `NaN` and sees holes as `undefined`, a string's `includes` throws on "
        "a RegExp, and an unknown receiver may not have `includes`.",
    ),
)
