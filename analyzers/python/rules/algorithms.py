"""Rules about algorithmic complexity: quadratic work that an index makes linear."""

from __future__ import annotations

from lessonlens.analyzers.match import Match, span_of
from lessonlens.analyzers.model import Hit, Rule, Severity
from lessonlens.analyzers.parsing import Node
from lessonlens.analyzers.python import bindings, facts, hotness

# Longer iterables are not quoted in the message.
_SHOWN_LENGTH = 30


def _conjuncts(condition: Node) -> list[Node] | None:
    """The parts of an ``and`` chain; ``None`` when an ``or`` makes the match conditional."""
    while condition.type == "parenthesized_expression" and condition.named_children:
        condition = condition.named_children[0]
    if condition.type != "boolean_operator":
        return [condition]
    operator = condition.child_by_field_name("operator")
    if operator is None or operator.type != "and":
        return None
    parts: list[Node] = []
    for side in ("left", "right"):
        child = condition.child_by_field_name(side)
        found = _conjuncts(child) if child is not None else None
        if found is None:
            return None
        parts.extend(found)
    return parts


def _join_key(
    comparison: Node, outer: set[str], inner: set[str], source: bytes
) -> tuple[Node, Node] | None:
    """``(outer side, inner side)`` of an ``==`` that pairs one loop variable with the other."""
    if comparison.type != "comparison_operator":
        return None
    operands = comparison.named_children
    operators = comparison.children_by_field_name("operators")
    if len(operands) != 2 or len(operators) != 1 or operators[0].type != "==":
        return None
    left, right = (facts.names_read(o, source) for o in operands)
    if left & outer and not left & inner and right & inner and not right & outer:
        return operands[0], operands[1]
    if right & outer and not right & inner and left & inner and not left & outer:
        return operands[1], operands[0]
    return None


def _changes_during_loop(m: Match, outer_loop: Node, inner_loop: Node, iterable: Node) -> bool:
    """Whether the outer loop adds to the inner collection (``seen[key] = value``).

    Then an index built once before the loops would miss the new items.
    """
    if iterable.type not in ("identifier", "attribute"):
        return False
    source = m.file.source
    target = source[iterable.start_byte : iterable.end_byte]
    body = outer_loop.child_by_field_name("body")
    stack = list(body.named_children) if body is not None else []
    while stack:
        node = stack.pop()
        if node.id == inner_loop.id:
            continue
        if node.type in ("assignment", "augmented_assignment"):
            left = node.child_by_field_name("left")
            while left is not None and left.type in ("subscript", "attribute"):
                if source[left.start_byte : left.end_byte] == target:
                    return True
                left = left.child_by_field_name("value" if left.type == "subscript" else "object")
            if left is not None and source[left.start_byte : left.end_byte] == target:
                return True
        elif node.type == "call":
            function = node.child_by_field_name("function")
            receiver = function.child_by_field_name("object") if function is not None else None
            if (
                function is not None
                and function.type == "attribute"
                and receiver is not None
                and source[receiver.start_byte : receiver.end_byte] == target
            ):
                return True  # seen.append(x), seen.update(...): conservatively, any method
        stack.extend(node.named_children)
    return False


def _iterates_positions(m: Match, iterable: Node) -> bool:
    if iterable.type != "call":
        return False
    function = iterable.child_by_field_name("function")
    return function is not None and m.text(function) in ("range", "enumerate")


def _scanned_mapping(m: Match, iterable: Node, target: Node, inner_key: Node) -> str | None:
    """``for k, v in d.items(): if k == x`` (or ``for k in d``): a dict searched by its key."""
    called = bindings.method_call(iterable, m.file.source)
    if called is None or called[1] not in ("items", "keys"):
        return None
    owner, method = called
    if method == "items":
        names = [c for c in target.named_children if c.type != "comment"]
        if target.type not in ("pattern_list", "tuple_pattern") or len(names) != 2:
            return None
        key = names[0]
    else:
        key = target
    if key.type != "identifier" or m.text(inner_key) != m.text(key):
        return None
    return owner if len(owner) <= _SHOWN_LENGTH and "\n" not in owner else None


def _nested_loop_join(m: Match) -> Hit | None:
    source = m.file.source
    inner_loop = m.node("finding")
    test = m.node("test")
    if test.child_by_field_name("alternative") is not None:
        return None  # an else branch runs for every non-matching pair
    if inner_loop.child_by_field_name("alternative") is not None:
        return None
    outer = facts.names_read(m.node("outer_target"), source)
    inner = facts.names_read(m.node("inner_target"), source)
    iterable = m.node("inner_iterable")
    if facts.names_read(iterable, source) & outer:
        return None  # for b in a.children: the inner collection depends on the outer item
    if _changes_during_loop(m, m.node("outer_loop"), inner_loop, iterable):
        return None
    # `for i in range(n): for j in range(m): if a[i] == b[j]` is dynamic programming over
    # positions, and `enumerate` keeps the position too: not a join an index replaces.
    if _iterates_positions(m, iterable):
        return None
    outer_loop = m.node("outer_loop")
    if hotness.cold_code(m, inner_loop) or not (
        hotness.plausibly_hot(m, [outer_loop]) and hotness.plausibly_hot(m, [inner_loop])
    ):
        return None
    parts = _conjuncts(m.node("condition"))
    if parts is None:
        return None
    for part in parts:
        key = _join_key(part, outer, inner, source)
        if key is None:
            continue
        mapping = _scanned_mapping(m, iterable, m.node("inner_target"), key[1])
        if mapping is not None:
            return Hit(
                span_of(inner_loop, iterable),
                message=f"This loop scans `{mapping}` for the key `{m.text(key[0])}`; it is "
                f"already a dict: look it up directly (`{mapping}.get({m.text(key[0])})`).",
            )
        shown = m.text(iterable)
        if len(shown) > _SHOWN_LENGTH or "\n" in shown:
            shown = "the inner collection"
        else:
            shown = f"`{shown}`"
        return Hit(
            span_of(inner_loop, iterable),
            message=f"This nested loop tries every pair; index {shown} in a dict keyed by "
            f"`{m.text(key[1])}` once, then look up `{m.text(key[0])}`.",
        )
    return None


RULES = [
    Rule(
        id="PY019",
        name="nested-loop-join",
        language="python",
        query="PY019.scm",
        message="This nested loop tries every pair; index the inner collection in a dict first.",
        skill_id="python.algorithms",
        lesson_id="dict-index-join",
        severity=Severity.INFORMATION,
        check=_nested_loop_join,
        doc="""
## What it does
Flags a loop nested directly in another loop whose only statement is an `if` that matches an
expression of the outer item to an expression of the inner item with `==`:
`a.id == b.user_id`, `a["k"] == b["k"]`, `a == b`. Further conditions joined by `and` are
allowed. It stays silent when the condition uses `or`, compares with anything but `==`, has an
`else` branch, when a side of the comparison does not use its own loop variable, when the
inner collection depends on the outer item (`for b in a.children`), or when the outer loop
adds to the inner collection (`seen[key] = value`), where an index built once would go stale.
It also stays silent for loops over positions (`range`, `enumerate`: dynamic programming keeps
both indexes), over a handful of items, and in cold code. When the inner loop scans a dict
for its own key (`for k, v in d.items(): if k == x`), it says to look the key up directly.

## Why is this bad?
The `if` runs once for every pair: `len(A) * len(B)` comparisons. With 10,000 items on each
side that is 100 million comparisons, where building a dict of `B` by its key once and looking
each `a` up costs about 20,000 operations.

## Example
```python
for user in users:
    for order in orders:
        if user.id == order.user_id:
            user.orders.append(order)
```

## Use instead
```python
orders_by_user = defaultdict(list)
for order in orders:
    orders_by_user[order.user_id].append(order)
for user in users:
    user.orders.extend(orders_by_user.get(user.id, []))
```
The keys must be hashable. When the loop stops at the first match (`break`), index with
`setdefault` (or iterate in reverse and assign) so that the first item for each key wins. For
small collections, or when the loops run once, the nested loop may be perfectly fine.

## References
- https://docs.python.org/3/tutorial/datastructures.html#dictionaries
- https://docs.python.org/3/library/collections.html#collections.defaultdict
- https://wiki.python.org/moin/TimeComplexity
""",
    ),
]
