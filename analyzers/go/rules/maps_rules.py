"""Rules about maps: looking a key up twice, and guarding what the zero value already does."""

from __future__ import annotations

from lessonlens.analyzers.go import facts
from lessonlens.analyzers.match import Match, span_of
from lessonlens.analyzers.model import Applicability, Fix, Hit, Rule, TextEdit
from lessonlens.analyzers.parsing import Node

# Expressions that read the same value twice in a row: names, fields, literals, operators.
_STABLE = frozenset(
    {
        "identifier",
        "field_identifier",
        "selector_expression",
        "index_expression",
        "parenthesized_expression",
        "binary_expression",
        "interpreted_string_literal",
        "interpreted_string_literal_content",
        "raw_string_literal",
        "raw_string_literal_content",
        "escape_sequence",
        "int_literal",
        "float_literal",
        "rune_literal",
        "true",
        "false",
        "nil",
    }
)
_WRITES = frozenset({"assignment_statement", "inc_statement", "dec_statement"})
_NAMES = frozenset({"identifier", "type_identifier", "package_identifier"})
_VALUE_NAMES = ("v", "val", "value", "got", "entry")
# `m[k] op= x` whose zero-value start gives `m[k] = x`: 0 + x, "" + x, 0 | x, 0 ^ x.
_ZERO_NEUTRAL = frozenset({"+=", "|=", "^="})


def _stable(node: Node) -> bool:
    return node.type in _STABLE and all(_stable(c) for c in node.named_children)


def _compact(m: Match, node: Node) -> str:
    return "".join(m.text(node).split())


def _root(node: Node) -> Node:
    """``s`` for ``s.cache[k].x``: the name an lvalue starts from."""
    while node.type in ("selector_expression", "index_expression", "parenthesized_expression"):
        inner = node.child_by_field_name("operand")
        if inner is None:
            inner = node.named_children[0] if node.named_children else None
        if inner is None:
            break
        node = inner
    return node


def _names(m: Match, *nodes: Node) -> set[str]:
    found = {m.text(n) for node in nodes for n in [node, *facts.descendants(node)]}
    return {name for name in found if name.isidentifier()} - {"_"}


def _is_lookup(m: Match, node: Node, lookup: str) -> bool:
    return node.type == "index_expression" and _compact(m, node) == lookup


def _disturbed(m: Match, body: Node, names: set[str], owners: set[str]) -> bool:
    """Whether ``body`` may change the map, the key or the entry between two reads.

    Conservative: any write to a name the lookup mentions, any call that receives one or is a
    method of one, ``delete``/``clear``, an address taken, a new variable of the same name.
    """
    for node in facts.descendants(body):
        if node.type in _WRITES:
            left = node.child_by_field_name("left") if node.type == "assignment_statement" else None
            targets = left.named_children if left is not None else node.named_children[:1]
            if any(m.text(_root(t)) in names for t in targets):
                return True
        elif node.type == "short_var_declaration":
            left = node.child_by_field_name("left")
            if left is not None and any(m.text(n) in names for n in left.named_children):
                return True
        elif node.type == "unary_expression" and m.text(node).startswith("&"):
            operand = node.child_by_field_name("operand")
            if operand is not None and m.text(_root(operand)) in names:
                return True
        elif node.type == "call_expression" and _call_disturbs(m, node, owners):
            return True
    return False


def _call_disturbs(m: Match, call: Node, owners: set[str]) -> bool:
    function = call.child_by_field_name("function")
    arguments = call.child_by_field_name("arguments")
    if function is None:
        return True
    if function.type == "selector_expression" and m.text(_root(function)) in owners:
        return True  # a method of the map's owner (`s.reload()`, `c.mu.Lock()`)
    if function.type == "identifier" and m.text(function) in ("delete", "clear"):
        return True
    for argument in arguments.named_children if arguments is not None else []:
        # The map, its owner or the key itself handed over (`reload(s)`, `fill(s.cache)`).
        if argument.type in ("identifier", "selector_expression") and (
            _compact(m, argument) in owners
        ):
            return True
    return False


def _fresh_name(m: Match, at: Node) -> str | None:
    function = facts.outermost_function(at) or at
    used = {m.text(n) for n in facts.descendants(function) if n.type in _NAMES}
    return next((name for name in _VALUE_NAMES if name not in used), None)


def _double_lookup(m: Match, lookup: str, names: set[str], owners: set[str]) -> Hit | None:
    then = m.node("then")
    reads = [n for n in facts.descendants(then) if _is_lookup(m, n, lookup)]
    if not reads:
        return None
    if any(facts.inside(read, {"func_literal"}, then) for read in reads):
        return None  # a closure reads the map when it runs, perhaps long after the lookup
    if _disturbed(m, then, names, owners):
        return None
    finding = m.node("finding")
    text = m.text(m.node("lookup"))
    message = (
        f"`{text}` is looked up again in the `ok` branch; take the value from the lookup: "
        f"`if v, ok := {text}; ok`."
    )
    name = _fresh_name(m, finding)
    fix = None
    if name is not None:
        edits = [TextEdit(span_of(m.node("blank")), name)]
        edits.extend(TextEdit(span_of(read), name) for read in reads)
        fix = Fix(
            title="Use the value from the comma-ok lookup",
            edits=tuple(edits),
            applicability=Applicability.UNSAFE,
            reason="the value is read once, at the lookup: if something else (another "
            "goroutine, a function holding the map) changes the entry in between, the branch "
            "now sees the old value",
        )
    return Hit(span_of(finding, m.node("cond").parent), message=message, fix=fix)


def _single(block: Node | None) -> Node | None:
    if block is None or block.type != "block":
        return None
    statements = block.named_children[0] if block.named_children else None
    if statements is None or statements.type != "statement_list":
        return None
    return statements.named_children[0] if len(statements.named_children) == 1 else None


def _assignment(m: Match, statement: Node, lookup: str) -> tuple[str, Node] | None:
    """``("+=", x)`` for ``m[k] += x``, ``("++", m[k])`` for ``m[k]++``; None otherwise."""
    if statement.type == "inc_statement":
        target = statement.named_children[0] if statement.named_children else None
        return ("++", target) if target is not None and _is_lookup(m, target, lookup) else None
    if statement.type != "assignment_statement":
        return None
    left = statement.child_by_field_name("left")
    right = statement.child_by_field_name("right")
    operator = statement.child_by_field_name("operator")
    if left is None or right is None or operator is None:
        return None
    if len(left.named_children) != 1 or len(right.named_children) != 1:
        return None
    if not _is_lookup(m, left.named_children[0], lookup):
        return None
    return m.text(operator), right.named_children[0]


def _appended(m: Match, value: Node, lookup: str) -> list[str] | None:
    """The texts of ``a, b`` in ``append(m[k], a, b)``; None for anything else."""
    function = value.child_by_field_name("function")
    arguments = value.child_by_field_name("arguments")
    if value.type != "call_expression" or function is None or arguments is None:
        return None
    items = arguments.named_children
    if m.text(function) != "append" or len(items) < 2 or not _is_lookup(m, items[0], lookup):
        return None
    if any(c.type == "variadic_argument" for c in items):
        return None  # `append(m[k], xs...)` vs `m[k] = xs`: the latter shares xs's array
    return [_compact(m, i) for i in items[1:]]


def _zero_value_guard(m: Match, present: Node, missing: Node, lookup: str) -> bool:
    """Whether the branches do what ``present`` alone does when the key is missing."""
    update = _assignment(m, present, lookup)
    start = _assignment(m, missing, lookup)
    if update is None or start is None or start[0] != "=":
        return False
    operator, value = update
    if operator == "++":
        return m.text(start[1]) == "1"
    if operator in _ZERO_NEUTRAL:
        return _compact(m, value) == _compact(m, start[1])
    if operator != "=":
        return False
    items = _appended(m, value, lookup)
    literal = start[1]
    if items is None or literal.type != "composite_literal":
        return False
    literal_type = literal.child_by_field_name("type")
    body = literal.child_by_field_name("body")
    if literal_type is None or literal_type.type != "slice_type" or body is None:
        return False
    elements = [_compact(m, e) for e in body.named_children]
    return elements == items


def _guard(m: Match, lookup: str) -> Hit | None:
    finding = m.node("finding")
    alternative = finding.child_by_field_name("alternative")
    then, other = _single(m.node("then")), _single(alternative)
    if then is None or other is None:
        return None
    present, missing = (other, then) if m.get("negated") is not None else (then, other)
    if not _zero_value_guard(m, present, missing, lookup):
        return None
    message = (
        "A missing key reads as the zero value, so "
        f"`{m.text(present)}` alone does what this guard does."
    )
    return Hit(span_of(finding, m.node("cond").parent), message=message)


def _map_lookup(m: Match) -> Hit | None:
    map_node, key = m.node("map"), m.node("key")
    if not (_stable(map_node) and _stable(key)):
        return None  # `m[next()]`: a call may give another key the second time
    lookup = _compact(m, m.node("lookup"))
    guard = _guard(m, lookup)
    if guard is not None or m.get("negated") is not None:
        return guard
    names = _names(m, map_node, key)
    # What a call could change the entry through: the map, its owner, the key's owner; not a
    # plain key variable (`log(name)` cannot change `name`).
    owners = _names(m, map_node) | {_compact(m, map_node)}
    if key.type != "identifier":
        owners |= {m.text(_root(key))}
    return _double_lookup(m, lookup, names, owners)


RULES = (
    Rule(
        id="GO006",
        name="map-double-lookup",
        language="go",
        query="GO006.scm",
        message="The key is looked up twice: the comma-ok form already gives the value.",
        skill_id="go.maps",
        lesson_id="go-map-comma-ok",
        check=_map_lookup,
        quiet_in_tests=True,
        noqa_codes=("S1036", "gosimple", "staticcheck"),
        fix_title="Use the value from the comma-ok lookup",
        doc="""
## What it does
Flags `if _, ok := m[k]; ok { … m[k] … }`, where the branch reads the entry the lookup just
found, and a guard such as `if _, ok := m[k]; ok { m[k] += n } else { m[k] = n }` whose two
branches do what `m[k] += n` does alone.

## Why is this bad?
`v, ok := m[k]` gives the value and whether the key is there in one lookup; reading `m[k]`
again hashes the key again and makes the reader check that it is the same entry. A missing key
reads as the zero value, so counting (`m[k]++`), summing and appending
(`m[k] = append(m[k], x)`) need no existence check at all.

## Example
```go
if _, ok := cache[key]; ok {
	return cache[key], nil
}
```

## Use instead
```go
if v, ok := cache[key]; ok {
	return v, nil
}
```

## References
- https://go.dev/ref/spec#Index_expressions
- https://go.dev/blog/maps
- https://staticcheck.dev/docs/checks/#S1036
""",
        fix_safety="Unsafe: the fix reads the entry once, at the lookup, where the code read it "
        "again later; if something else changes the map in between (another goroutine, a "
        "function holding it), the branch sees the old value. No fix is offered for a guard.",
    ),
)
