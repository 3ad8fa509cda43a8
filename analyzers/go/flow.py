"""How control leaves a Go loop: ``break``, ``continue``, ``goto`` and ``return``, by target.

A ``break`` inside a ``switch``, ``select`` or an inner ``for`` leaves that statement, not the
loop around it; a labelled one leaves the statement its label names. ``func`` literals run when
called, so the jumps inside them are never the loop's.
"""

from __future__ import annotations

from collections.abc import Iterator

from lessonlens.analyzers.match import Match
from lessonlens.analyzers.parsing import Node

BREAKABLE = frozenset(
    {"for_statement", "expression_switch_statement", "type_switch_statement", "select_statement"}
)
FUNCTIONS = frozenset({"function_declaration", "method_declaration", "func_literal"})
JUMPS = frozenset({"break_statement", "continue_statement", "goto_statement", "return_statement"})


def label(m: Match, loop: Node) -> str | None:
    """The label of a labelled loop (``outer: for …``)."""
    parent = loop.parent
    if parent is None or parent.type != "labeled_statement":
        return None
    name = parent.child_by_field_name("label")
    return m.text(name) if name is not None else None


def _jump_label(m: Match, jump: Node) -> str | None:
    name = next((c for c in jump.named_children if c.type == "label_name"), None)
    return m.text(name) if name is not None else None


def _targets(m: Match, jump: Node, loop: Node, kinds: frozenset[str]) -> bool:
    named = _jump_label(m, jump)
    if named is not None:
        return named == label(m, loop)
    node = jump.parent
    while node is not None and node != loop:
        if node.type in kinds:
            return False
        node = node.parent
    return node == loop


def leaves(m: Match, jump: Node, loop: Node) -> bool:
    """Whether ``jump`` ends ``loop``: a ``return``, a ``goto``, or a ``break`` of the loop."""
    if jump.type in ("return_statement", "goto_statement"):
        return True
    return jump.type == "break_statement" and _targets(m, jump, loop, BREAKABLE)


def skips(m: Match, jump: Node, loop: Node) -> bool:
    """Whether ``jump`` ends the loop or skips the rest of one of its iterations."""
    if leaves(m, jump, loop):
        return True
    if jump.type == "continue_statement":
        return _targets(m, jump, loop, frozenset({"for_statement"}))
    return False


def jumps(body: Node) -> Iterator[Node]:
    """Every ``break``/``continue``/``goto``/``return`` in ``body``, outside ``func`` literals."""
    stack = [body]
    while stack:
        node = stack.pop()
        if node.type in JUMPS:
            yield node
        elif node.type not in FUNCTIONS:
            stack.extend(node.named_children)


def at_most_once(m: Match, node: Node, loop: Node) -> bool:
    """Whether ``loop`` ends soon after ``node`` runs, so it runs at most once per loop.

    True when a block around ``node`` (up to the loop's body) goes on, unconditionally, to a
    ``return``, a ``goto`` or a ``break`` of the loop.
    """
    child, parent = node, node.parent
    while parent is not None and parent != loop:
        if parent.type == "statement_list":
            for sibling in parent.named_children:
                if sibling.start_byte >= child.end_byte and leaves(m, sibling, loop):
                    return True
        if parent.type in FUNCTIONS:
            return False
        child, parent = parent, parent.parent
    return False
