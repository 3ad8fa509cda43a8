"""Facts about a Go file that rules share, computed once per file: imports and their names."""

from __future__ import annotations

from lessonlens.analyzers.match import Match
from lessonlens.analyzers.parsing import Node


def imports(m: Match) -> dict[str, str]:
    """Each name an import binds -> the import path (``re "regexp"`` binds ``re``)."""
    found: dict[str, str] | None = m.file.facts.get("go.imports")
    if found is not None:
        return found
    found = {}
    for child in m.file.root.named_children:
        if child.type == "package_clause" or child.type == "comment":
            continue
        if child.type != "import_declaration":
            break
        stack: list[Node] = [child]
        while stack:
            node = stack.pop()
            if node.type != "import_spec":
                stack.extend(node.named_children)
                continue
            path_node = node.child_by_field_name("path")
            if path_node is None:
                continue
            path = m.text(path_node).strip('"`')
            alias = node.child_by_field_name("name")
            name = m.text(alias) if alias is not None else path.rsplit("/", 1)[-1]
            found[name] = path
    m.file.facts["go.imports"] = found
    return found


def imports_package(m: Match, name: str, path: str) -> bool:
    """Whether ``name`` in this file is the standard package ``path`` (not a local shadow)."""
    return imports(m).get(name) == path


_FUNCTIONS = frozenset({"function_declaration", "method_declaration", "func_literal"})
SMALL_LITERAL = 16
SMALL_BOUND = 1000


def enclosing_function(node: Node) -> Node | None:
    parent = node.parent
    while parent is not None:
        if parent.type in _FUNCTIONS:
            return parent
        parent = parent.parent
    return None


def enclosing_loop(node: Node) -> Node | None:
    """The innermost ``for`` whose body, condition or post statement holds ``node``.

    The search stops at a function: a ``func`` literal's body runs when called, not per
    iteration.
    """
    child, parent = node, node.parent
    while parent is not None:
        if parent.type == "for_clause" and child == parent.child_by_field_name("initializer"):
            child, parent = parent, parent.parent
            continue
        if parent.type == "for_statement" and child.type != "range_clause":
            return parent
        if parent.type in _FUNCTIONS:
            return None
        child, parent = parent, parent.parent
    return None


def range_clause(loop: Node) -> Node | None:
    return next((c for c in loop.named_children if c.type == "range_clause"), None)


def trivial_loop(m: Match, loop: Node) -> bool:
    """A range over a short composite literal, or counting to a small constant: not hot."""
    clause = range_clause(loop)
    if clause is not None:
        right = clause.child_by_field_name("right")
        if right is not None and right.type == "composite_literal":
            body = right.child_by_field_name("body")
            return body is not None and len(body.named_children) <= SMALL_LITERAL
        if right is not None and right.type == "int_literal":
            return _small_number(m, right)
        return False
    clause = next((c for c in loop.named_children if c.type == "for_clause"), None)
    condition = clause.child_by_field_name("condition") if clause is not None else None
    bound = condition.child_by_field_name("right") if condition is not None else None
    return bound is not None and bound.type == "int_literal" and _small_number(m, bound)


def _small_number(m: Match, node: Node) -> bool:
    try:
        return int(m.text(node).replace("_", ""), 0) <= SMALL_BOUND
    except ValueError:
        return False


def function_name(m: Match, function: Node) -> str:
    name = function.child_by_field_name("name")
    return m.text(name) if name is not None else ""


def cold(m: Match, node: Node) -> bool:
    """Test code, benchmarks and examples, ``init``: performance advice is noise there."""
    if m.file.test_code:
        return True
    function = enclosing_function(node)
    while function is not None and function.type == "func_literal":
        function = enclosing_function(function)
    if function is None:
        return False
    name = function_name(m, function)
    return name == "init" or name.startswith(("Benchmark", "Example", "Test", "Fuzz"))


def hot_loop(m: Match, node: Node) -> Node | None:
    """The loop that repeats ``node``, when it is plausibly hot; None otherwise."""
    loop = enclosing_loop(node)
    if loop is None or trivial_loop(m, loop) or cold(m, node):
        return None
    return loop
