"""Facts about JavaScript/TypeScript code that rules share: loops, scopes, bindings, coldness.

Everything here answers conservatively: "unknown" is the common answer, and rules stay silent
on it. A predicate reads only its own unit and the file's top level (see the spec's
fingerprint), so that the editor's unit cache stays exact.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Iterator

# The module, not its names: `tree` reads `facts` too, and either may be imported first.
from lessonlens.analyzers.javascript import tree as syntax
from lessonlens.analyzers.javascript.spec import (
    FUNCTION_NODES,
    FUNCTION_VALUES,
    LOOPS,
    SCOPES,
    _pieces_of,
    callback_of_iteration,
    imported_modules,
    loop_part,
)
from lessonlens.analyzers.match import Match
from lessonlens.analyzers.parsing import Node

# Loops over a literal this short, or to a constant bound this low, are not hot.
SMALL_LITERAL = 16
SMALL_BOUND = 1000
# Files that time themselves compare a slow form with a fast one on purpose.
_BENCHMARK_MODULES = frozenset(
    {"perf_hooks", "node:perf_hooks", "tinybench", "mitata", "benchmark", "benny", "vitest/bench"}
)
_SLOW_NAME = re.compile(r"^(slow|naive|bad|unoptimi[sz]ed)", re.IGNORECASE)
_FUNCTION_NODES = FUNCTION_NODES
_DECLARATIONS = frozenset({"lexical_declaration", "variable_declaration"})


def text(m: Match, node: Node | None) -> str:
    return "" if node is None else m.text(node)


def enclosing_function(node: Node) -> Node | None:
    parent = node.parent
    while parent is not None:
        if parent.type in _FUNCTION_NODES:
            return parent
        parent = parent.parent
    return None


def function_name(m: Match, function: Node) -> str:
    """A function's own name, or the name it is bound to (``const f = () => ...``)."""
    name = function.child_by_field_name("name")
    if name is not None:
        return m.text(name)
    parent = function.parent
    if parent is not None and parent.type in (
        "variable_declarator",
        "pair",
        "assignment_expression",
    ):
        target = (
            parent.child_by_field_name("name")
            or parent.child_by_field_name("key")
            or parent.child_by_field_name("left")
        )
        return text(m, target)
    return ""


def enclosing_loop(node: Node) -> Node | None:
    """The innermost loop whose repeated part holds ``node``.

    A loop statement, or the call ``xs.map(cb)`` whose callback holds it. Stops at any other
    function.
    """
    child, parent = node, node.parent
    while parent is not None:
        if parent.type in LOOPS and loop_part(parent, child):
            return parent
        if parent.type in SCOPES:
            if parent.type in FUNCTION_VALUES and callback_of_iteration(parent):
                call = parent.parent.parent if parent.parent is not None else None
                return call
            return None
        child, parent = parent, parent.parent
    return None


def iterated(loop: Node) -> Node | None:
    """What a loop walks over: ``for (x of xs)``'s ``xs``, ``xs.map(...)``'s ``xs``."""
    if loop.type == "for_in_statement":
        return loop.child_by_field_name("right")
    if loop.type == "call_expression":
        callee = loop.child_by_field_name("function")
        return callee.child_by_field_name("object") if callee is not None else None
    return None


def _small_literal(node: Node | None) -> bool:
    if node is None:
        return False
    if node.type == "array":
        return len(node.named_children) <= SMALL_LITERAL
    if node.type == "parenthesized_expression" and node.named_children:
        return _small_literal(node.named_children[0])
    return False


def trivial_loop(m: Match, loop: Node) -> bool:
    """A loop over a short literal array, or counting to a small constant: not hot."""
    if _small_literal(iterated(loop)):
        return True
    if loop.type == "for_statement":
        condition = loop.child_by_field_name("condition")
        bound = condition.child_by_field_name("right") if condition is not None else None
        if bound is None and condition is not None and condition.named_children:
            inner = condition.named_children[0]
            bound = inner.child_by_field_name("right")
        if bound is not None and bound.type == "number":
            try:
                return float(m.text(bound).replace("_", "")) <= SMALL_BOUND
            except ValueError:
                return False
    return False


def imports(m: Match) -> set[str]:
    found: set[str] | None = m.file.facts.get("js.imports")
    if found is None:
        found = m.file.facts["js.imports"] = imported_modules(m.file.root, m.file.source)
    return found


def cold(m: Match, node: Node) -> bool:
    """Whether ``node`` is in cold code, where performance advice is noise.

    Test code, a benchmark file, a ``catch`` block, a function named ``slow*``/``naive*``.
    """
    if m.file.test_code or imports(m) & _BENCHMARK_MODULES:
        return True
    parent = node.parent
    while parent is not None:
        if parent.type == "catch_clause":
            return True
        if parent.type in _FUNCTION_NODES and _SLOW_NAME.match(function_name(m, parent)):
            return True
        parent = parent.parent
    return False


def occurrences_in(m: Match, scope: Node, text: bytes) -> Iterator[Node]:
    """``tree.occurrences`` of ``text`` in ``scope``; for the program, outside its units only.

    A predicate reads its own unit and the file's top level, never another unit: the editor's
    cache keeps the top level's findings while only units change. Code at top level that asks
    about the whole program (a loop there: is the array it searches changed?) reads the top
    level, as a function's code reads its function.
    """
    found = syntax.occurrences(scope, m.file.source, text)
    if scope.type != "program":
        yield from found
        return
    glue = _pieces_of(m.file.root)[1]
    starts = [piece[0] for piece in glue]
    for node in found:
        index = bisect_right(starts, node.start_byte) - 1
        if index >= 0 and node.end_byte <= glue[index][1]:
            yield node


def hot_loop(m: Match, node: Node) -> Node | None:
    """The loop that repeats ``node``, when it is plausibly hot; None otherwise."""
    loop = enclosing_loop(node)
    if loop is None or trivial_loop(m, loop) or cold(m, node):
        return None
    return loop


def _scope_nodes(node: Node) -> list[Node]:
    """The scopes that can see ``node``'s names, innermost first, ending at the program."""
    scopes: list[Node] = []
    parent = node.parent
    while parent is not None:
        if parent.type in _FUNCTION_NODES or parent.type in ("program", "statement_block"):
            scopes.append(parent)
        parent = parent.parent
    return scopes


def _declarators(m: Match, scope: Node, name: str) -> list[Node]:
    """The declarations of ``name`` directly in ``scope`` (not in nested functions).

    ``variable_declarator``s, parameters, functions, classes and imports, in the order one
    walk of the scope meets them.
    """
    return declarations_of(m, scope).get(name, [])


def declarations_of(
    m: Match, scope: Node, *, loop_variables: bool = False
) -> dict[str, list[Node]]:
    """Every name declared directly in ``scope``, with its declaring nodes (``_declarators``).

    One walk per scope and file walk, for all names: a rule asking about the receivers of a
    39 KB method's lookups walked its scopes again for each name. With ``loop_variables``,
    ``for (const x of …)`` and ``catch (e)`` variables count too (``kinds.binding``).
    """
    cache: dict[tuple[int, int, str, bool], dict[str, list[Node]]] = m.file.facts.setdefault(
        "js.declarators", {}
    )
    key = (scope.start_byte, scope.end_byte, scope.type, loop_variables)
    found = cache.get(key)
    if found is not None:
        return found
    found = cache[key] = {}
    source = m.file.source
    stack = list(scope.named_children)
    if scope.type in _FUNCTION_NODES:
        parameters = scope.child_by_field_name("parameters") or scope.child_by_field_name(
            "parameter"
        )
        if parameters is not None:
            # Each parameter once: `_identifiers` of the list already reaches into its items.
            for leaf in _identifiers(parameters):
                found.setdefault(_text(source, leaf), []).append(leaf)
        body = scope.child_by_field_name("body")
        stack = list(body.named_children) if body is not None else []
    for name, node in declared(
        stack, source, nested_blocks=scope.type == "program", loop_variables=loop_variables
    ):
        nodes = found.setdefault(name, [])
        if not nodes or nodes[-1] != node:  # a pattern naming it twice is one declaration
            nodes.append(node)
    return found


def declared(
    stack: list[Node], source: bytes, *, nested_blocks: bool, loop_variables: bool = True
) -> Iterator[tuple[str, Node]]:
    """Each name the statements in ``stack`` declare, with its declaring node.

    With ``nested_blocks``, the ``let``/``const`` of blocks nested in the statements count too
    (as they do at the program's top level); with ``loop_variables``, ``for … of`` heads and
    ``catch`` parameters (declared by their identifier).
    """
    while stack:
        node = stack.pop()
        kind = node.type
        if kind in _FUNCTION_NODES or kind in ("class_declaration", "class"):
            own = node.child_by_field_name("name")
            if own is not None:
                yield _text(source, own), node
            continue
        if kind == "variable_declarator":
            target = node.child_by_field_name("name")
            for leaf in _identifiers(target) if target is not None else []:
                yield _text(source, leaf), node
        elif loop_variables and kind in ("for_in_statement", "catch_clause"):
            target = node.child_by_field_name("left" if kind == "for_in_statement" else "parameter")
            for leaf in _identifiers(target) if target is not None else []:
                yield _text(source, leaf), leaf
        elif kind == "import_statement":
            for leaf in _identifiers(node):
                yield _text(source, leaf), node
            continue
        if kind == "statement_block" and not nested_blocks:
            continue  # a nested block's `let`/`const` is not visible here
        if not may_hold_declarations(node):
            continue  # an expression declares nothing (its functions are scopes of their own)
        stack.extend(node.named_children)


def _text(source: bytes, node: Node) -> str:
    return source[node.start_byte : node.end_byte].decode("utf-8", "replace")


def _identifiers(node: Node) -> list[Node]:
    if node.type in ("identifier", "shorthand_property_identifier_pattern"):
        return [node]
    found: list[Node] = []
    for child in node.named_children:
        if child.type in ("type_annotation", "number", "string"):
            continue
        if node.type in ("assignment_pattern", "object_assignment_pattern") and child == (
            node.child_by_field_name("right")
        ):
            continue
        found.extend(_identifiers(child))
    return found


# Nodes a declaration can sit in: statements and their parts. An expression declares nothing
# (the functions and classes in it are scopes of their own, named where they stand), so a
# search for declarations never needs to enter one: a module's big object literals are skipped.
_DECLARATION_HOLDERS = frozenset(
    {
        "program",
        "statement_block",
        "export_statement",
        "lexical_declaration",
        "variable_declaration",
        "if_statement",
        "else_clause",
        "for_statement",
        "for_in_statement",
        "while_statement",
        "do_statement",
        "try_statement",
        "catch_clause",
        "finally_clause",
        "switch_statement",
        "switch_body",
        "switch_case",
        "switch_default",
        "labeled_statement",
        "with_statement",
        # TypeScript
        "module",
        "internal_module",
        "ambient_declaration",
    }
)


def may_hold_declarations(node: Node) -> bool:
    return node.type in _DECLARATION_HOLDERS


def binding(m: Match, name: str, at: Node) -> Node | None:
    """The one declaration of ``name`` that ``at`` sees.

    A ``variable_declarator``, a parameter identifier, a function, a class or an import; None
    when there are none or several.
    """
    for scope in _scope_nodes(at):
        found = _declarators(m, scope, name)
        if len(found) == 1:
            return found[0]
        if found:
            return None
    return None


def assigned_in(m: Match, scope: Node, name: str) -> bool:
    """Whether ``name`` is assigned (``=``, ``+=``, ``++``) anywhere in ``scope``."""
    wanted = name.encode()
    stack = [scope]
    while stack:
        node = stack.pop()
        if node.type in ("assignment_expression", "augmented_assignment_expression"):
            left = node.child_by_field_name("left")
            if left is not None and left.type == "identifier" and left.text == wanted:
                return True
        if node.type == "update_expression":
            argument = node.child_by_field_name("argument")
            if argument is not None and argument.type == "identifier" and argument.text == wanted:
                return True
        stack.extend(node.named_children)
    return False


def declared_value(m: Match, name: str, at: Node) -> Node | None:
    """The value a ``const`` (or never-reassigned ``let``) declaration binds ``name`` to."""
    declarator = binding(m, name, at)
    if declarator is None or declarator.type != "variable_declarator":
        return None
    statement = declarator.parent
    if statement is None or statement.type not in _DECLARATIONS:
        return None
    kind = statement.child(0)
    if kind is None or kind.type != "const":
        scope = enclosing_function(declarator) or m.file.root
        if assigned_in(m, scope, name):
            return None
    return declarator.child_by_field_name("value")


def shadowed(m: Match, name: str, at: Node) -> bool:
    """Whether a global (``Promise``, ``Date``, ``RegExp``) is rebound where ``at`` sees it."""
    return any(_declarators(m, scope, name) for scope in _scope_nodes(at))
