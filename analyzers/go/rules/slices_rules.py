"""Rules about slices: copying one slice into another element by element."""

from __future__ import annotations

from lessonlens.analyzers.go import facts
from lessonlens.analyzers.match import Match, span_of
from lessonlens.analyzers.model import Applicability, Fix, Hit, Rule, TextEdit
from lessonlens.analyzers.parsing import Node

_FRESH_VALUES = frozenset({"composite_literal", "nil"})
_BINDINGS = frozenset({"var_spec", "short_var_declaration", "assignment_statement"})


def _element_type(slice_type: str | None) -> str | None:
    """``T`` for ``[]T`` or ``[N]T``; None for anything else (maps, strings, unknown)."""
    if slice_type is None or not slice_type.startswith("["):
        return None
    closing = slice_type.find("]")
    return slice_type[closing + 1 :] or None


def _loop_variables(m: Match, clause: Node) -> tuple[str | None, str | None] | None:
    """The range loop's index and value names (``_`` as None); None unless declared by ``:=``."""
    if not any(child.type == ":=" for child in clause.children):
        return None
    names = [None if m.text(n) == "_" else m.text(n) for n in m.node("vars").named_children]
    if len(names) == 1:
        return names[0], None
    return (names[0], names[1]) if len(names) == 2 else None


def _is_loop_element(m: Match, element: Node, index: str | None, value: str | None) -> bool:
    if element.type == "identifier":
        return value is not None and m.text(element) == value
    if element.type != "index_expression" or index is None:
        return False
    operand = element.child_by_field_name("operand")
    position = element.child_by_field_name("index")
    src = m.node("src")
    return (
        operand is not None
        and position is not None
        and src.type == "identifier"
        and m.text(operand) == m.text(src)
        and m.text(position) == index
    )


def _fresh(m: Match, name: str, at: Node) -> bool:
    """Whether ``name`` is a slice of its own: made, a literal or nil, and only ever appended to.

    Then nothing else can share its array, and ``append(dst, src...)`` cannot copy over an
    element that a later step of the loop would have read.
    """
    function = facts.outermost_function(at)
    if function is None:
        return False
    for node in facts.descendants(function):
        if node.type in ("parameter_declaration", "variadic_parameter_declaration"):
            if any(m.text(n) == name for n in node.children_by_field_name("name")):
                return False
        elif node.type in _BINDINGS and not _assigns_fresh(m, node, name):
            return False
    return True


def _assigns_fresh(m: Match, node: Node, name: str) -> bool:
    """Whether ``node`` leaves ``name`` untouched, or gives it a new array or its own append."""
    if node.type == "var_spec":
        names = node.children_by_field_name("name")
        values = node.child_by_field_name("value")
    else:
        left = node.child_by_field_name("left")
        names = left.named_children if left is not None else []
        values = node.child_by_field_name("right")
    positions = [i for i, n in enumerate(names) if m.text(n) == name]
    if not positions:
        return True
    if values is None:
        return node.type == "var_spec"
    if len(values.named_children) != len(names):
        return False
    value = values.named_children[positions[0]]
    if value.type in _FRESH_VALUES:
        return True
    if value.type != "call_expression":
        return False
    function = value.child_by_field_name("function")
    arguments = value.child_by_field_name("arguments")
    if function is None or arguments is None or not arguments.named_children:
        return False
    called = m.text(function)
    first = arguments.named_children[0]
    return called == "make" or (called == "append" and m.text(first) == name)


def _append_loop(m: Match) -> Hit | None:
    loop = m.node("finding")
    if loop.parent is not None and loop.parent.type == "labeled_statement":
        return None  # the label would be left without its loop
    clause = next(c for c in loop.named_children if c.type == "range_clause")
    variables = _loop_variables(m, clause)
    if variables is None or not _is_loop_element(m, m.node("element"), *variables):
        return None
    src = m.node("src")
    base = src if src.type == "identifier" else src.child_by_field_name("operand")
    dst = m.text(m.node("dst"))
    if base is None or m.text(base) == dst:
        return None
    source_type = facts.declared_type(m, m.text(base), loop)
    element = _element_type(source_type)
    if source_type is None or element is None:
        return None  # a string (runes, not bytes), a map, a channel, or unknown
    if element != _element_type(facts.declared_type(m, dst, loop)):
        return None  # `append([]any, src...)` does not compile for a `[]string` source
    spread = m.text(src)
    if src.type == "identifier" and not source_type.startswith("[]"):
        spread += "[:]"  # an array: slice it to spread it
    text = f"{dst} = append({dst}, {spread}...)"
    if _fresh(m, dst, loop):
        fix = Fix(title="Append the whole slice at once", edits=(TextEdit(span_of(loop), text),))
    else:
        fix = Fix(
            title="Append the whole slice at once",
            edits=(TextEdit(span_of(loop), text),),
            applicability=Applicability.UNSAFE,
            reason=f"`{dst}` may share its array with `{m.text(base)}`: copying in bulk and "
            "element by element differ when the two overlap",
        )
    return Hit(span_of(loop, clause), fix=fix)


RULES = (
    Rule(
        id="GO010",
        name="append-loop-to-spread",
        language="go",
        query="GO010.scm",
        message="Append the whole slice at once: `append(dst, src...)` grows `dst` once and "
        "copies in bulk.",
        skill_id="go.slices",
        lesson_id="go-append-spread",
        check=_append_loop,
        quiet_in_tests=True,
        noqa_codes=("S1011", "gosimple", "staticcheck"),
        fix_title="Append the whole slice at once",
        doc="""
## What it does
Flags a `range` loop whose only statement appends the loop's element, unchanged, to another
slice of the same element type.

## Why is this bad?
The loop says in four lines what `dst = append(dst, src...)` says in one. Element by element,
`append` may also reallocate `dst` several times as it grows; given the whole slice it grows
once and copies the elements in bulk.

## Example
```go
for _, name := range extra {
	names = append(names, name)
}
```

## Use instead
```go
names = append(names, extra...)
```

## References
- https://go.dev/ref/spec#Appending_and_copying_slices
- https://staticcheck.dev/docs/checks/#S1011
""",
        fix_safety="Safe when the destination is a slice of its own (made, a literal or nil, "
        "and only ever appended to); otherwise unsafe: if it shares an array with the source, a "
        "bulk copy and an element-by-element one can differ.",
    ),
)
