"""Plain facts about JavaScript/TypeScript syntax trees that several rules share.

Walking a function's body without entering nested functions, the names a binding pattern
declares, the identifiers an expression reads, a call's callee and receiver, whether a loop's
body leaves it early. Nothing here knows a rule.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from lessonlens.analyzers.javascript import facts
from lessonlens.analyzers.javascript.spec import SCOPES
from lessonlens.analyzers.match import Match
from lessonlens.analyzers.parsing import Node

# Walks stop at every node that starts a scope of its own (functions and classes).
FUNCTIONS = SCOPES
LOOPS = frozenset({"for_statement", "for_in_statement", "while_statement", "do_statement"})


def walk(node: Node, *, stop: frozenset[str] = FUNCTIONS) -> Iterator[Node]:
    """Named descendants of ``node`` in document order, not entering the node types in ``stop``."""
    stack = list(reversed(node.named_children))
    while stack:
        current = stack.pop()
        yield current
        if current.type not in stop:
            stack.extend(reversed(current.named_children))


def occurrences(
    scope: Node,
    source: bytes,
    text: bytes,
    near: Callable[[int, int], bool] | None = None,
) -> Iterator[Node]:
    """The nodes inside ``scope`` whose bytes are exactly ``text``, found by searching the bytes.

    Every node a full walk of ``scope`` would find with that text, at the cost of one byte
    search and a lookup per occurrence: a large function has thousands of nodes and an
    expression a handful of occurrences. At one place, the innermost node comes first, then
    each enclosing node of the same extent. With ``near``, only the occurrences (start, end)
    it accepts are looked up: a cheap look at the bytes around a short, common name.
    """
    if not text:
        return
    position = source.find(text, scope.start_byte, scope.end_byte)
    while position != -1:
        end = position + len(text)
        if near is not None and not near(position, end):
            position = source.find(text, position + 1, scope.end_byte)
            continue
        node: Node | None = scope.descendant_for_byte_range(position, end)
        while (
            node is not None
            and node.start_byte == position
            and node.end_byte == end
            and node != scope
        ):
            yield node
            node = node.parent
        position = source.find(text, position + 1, scope.end_byte)


def pattern_names(node: Node | None) -> set[str]:
    """The identifiers a binding pattern declares (``x``, ``[k, v]``, ``{ id, name: n }``)."""
    if node is None:
        return set()
    kind = node.type
    if kind in ("identifier", "shorthand_property_identifier_pattern"):
        return {node.text.decode()} if node.text else set()
    if kind == "pair_pattern":
        return pattern_names(node.child_by_field_name("value"))
    if kind in ("assignment_pattern", "object_assignment_pattern"):
        return pattern_names(node.child_by_field_name("left"))
    if kind in ("required_parameter", "optional_parameter"):
        return pattern_names(node.child_by_field_name("pattern"))
    if kind in ("array_pattern", "object_pattern", "rest_pattern", "formal_parameters"):
        names: set[str] = set()
        for child in node.named_children:
            names |= pattern_names(child)
        return names
    return set()


def identifiers(node: Node) -> set[str]:
    """Every plain identifier read anywhere under ``node`` (property names excluded)."""
    found = {node.text.decode()} if node.type == "identifier" and node.text else set()
    for child in walk(node, stop=frozenset()):
        if child.type in ("identifier", "shorthand_property_identifier") and child.text:
            found.add(child.text.decode())
    return found


def callee_name(call: Node) -> str:
    callee = call.child_by_field_name("function")
    if callee is None:
        return ""
    if callee.type == "member_expression":
        prop = callee.child_by_field_name("property")
        return prop.text.decode() if prop is not None and prop.text else ""
    return callee.text.decode() if callee.type == "identifier" and callee.text else ""


def root_object(call: Node) -> str:
    """The first name of a call's receiver chain: ``db`` in ``db.users.insert(x)``."""
    node = call.child_by_field_name("function")
    while node is not None and node.type in ("member_expression", "call_expression"):
        node = node.child_by_field_name("object") or node.child_by_field_name("function")
    if node is None:
        return ""
    if node.type == "this":
        return "this"
    return node.text.decode() if node.type == "identifier" and node.text else ""


def unparenthesized(node: Node | None) -> Node | None:
    while node is not None and node.type == "parenthesized_expression" and node.named_children:
        node = node.named_children[0]
    return node


def declared_inside(body: Node) -> set[str]:
    """The names ``body``'s declarations and ``for … in/of`` heads bind, nested functions aside.

    Only statements are entered: an expression declares nothing outside the functions and
    classes in it, which are scopes of their own (a loop body's big calls and literals are
    skipped).
    """
    names: set[str] = set()
    stack = list(body.named_children)
    while stack:
        node = stack.pop()
        kind = node.type
        if kind == "variable_declarator":
            names |= pattern_names(node.child_by_field_name("name"))
        elif kind == "for_in_statement":
            names |= pattern_names(node.child_by_field_name("left"))
        if facts.may_hold_declarations(node):
            stack.extend(node.named_children)
    return names


def exits_loop(body: Node) -> bool:
    """Whether the body leaves the loop early: ``return``, ``throw``, ``yield`` or its ``break``."""

    def visit(node: Node, nested: bool) -> bool:
        for child in node.named_children:
            kind = child.type
            if kind in FUNCTIONS:
                continue
            if kind in ("return_statement", "throw_statement", "yield_expression"):
                return True
            if kind == "break_statement" and (not nested or child.named_children):
                return True
            inner = nested or kind in LOOPS or kind == "switch_statement"
            if visit(child, inner):
                return True
        return False

    return visit(body, False)


TS_WRAPPERS = ("as_expression", "satisfies_expression", "non_null_expression")
STATEMENT_LOOPS = frozenset(
    {"for_statement", "for_in_statement", "while_statement", "do_statement"}
)


def unwrapped(node: Node | None) -> Node | None:
    """``node`` without parentheses and TypeScript's ``as T`` / ``satisfies T`` / ``!``."""
    node = unparenthesized(node)
    while node is not None and node.type in TS_WRAPPERS and node.named_children:
        node = unparenthesized(node.named_children[0])
    return node


def parameters(function: Node) -> list[Node]:
    """A function's parameters: identifiers, patterns, or TypeScript's wrapped ones."""
    single = function.child_by_field_name("parameter")
    if single is not None:
        return [single]
    parameters = function.child_by_field_name("parameters")
    if parameters is None:
        return []
    return [p for p in parameters.named_children if p.type != "comment"]


def plain_name(m: Match, parameter: Node) -> str | None:
    """The name of a parameter that is one plain identifier (no default, pattern or rest)."""
    if parameter.type in ("required_parameter", "optional_parameter"):
        if parameter.child_by_field_name("value") is not None:
            return None
        parameter = parameter.child_by_field_name("pattern") or parameter
    return m.text(parameter) if parameter.type == "identifier" else None


def results(function: Node) -> list[Node]:
    """What a callback can return: its expression body, or its ``return`` values.

    Conditional expressions are looked through: ``c ? [...acc, x] : acc`` gives both branches.
    """
    body = function.child_by_field_name("body")
    if body is None:
        return []
    if body.type == "statement_block":
        values = [
            n.named_children[0]
            for n in walk(body)
            if n.type == "return_statement" and n.named_children
        ]
    else:
        values = [body]
    found: list[Node] = []
    while values:
        value = unwrapped(values.pop())
        if value is None:
            continue
        if value.type == "ternary_expression":
            values.extend(
                v
                for v in (
                    value.child_by_field_name("consequence"),
                    value.child_by_field_name("alternative"),
                )
                if v is not None
            )
        else:
            found.append(value)
    return found


def small_receiver(m: Match, receiver: Node | None) -> bool:
    receiver = unwrapped(receiver)
    if receiver is None:
        return False
    if receiver.type == "identifier":
        receiver = unwrapped(facts.declared_value(m, m.text(receiver), receiver))
    return (
        receiver is not None
        and receiver.type == "array"
        and len(receiver.named_children) <= facts.SMALL_LITERAL
    )


def repeated_part(loop: Node) -> Node | None:
    if loop.type in STATEMENT_LOOPS:
        return loop.child_by_field_name("body")
    arguments = loop.child_by_field_name("arguments")
    if arguments is None:
        return None
    for child in arguments.named_children:
        if child.type in ("arrow_function", "function_expression"):
            return child.child_by_field_name("body")
    return None


def is_for_await(loop: Node) -> bool:
    return any(c.type == "await" for c in loop.children)
