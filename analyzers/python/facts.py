"""Small, cheap facts about Python code that rule predicates share.

Everything here walks *up* from a node or across the statements of one scope; nothing walks a
whole tree, because predicates run once per match and analysis must stay near parse cost.
"""

from __future__ import annotations

import builtins
import operator
import re

from lessonlens.analyzers.languages import ScopedFingerprint
from lessonlens.analyzers.lastresult import LastResult
from lessonlens.analyzers.match import Match
from lessonlens.analyzers.parsing import Node
from lessonlens.analyzers.python import bindings

SCOPE_TYPES = frozenset({"function_definition", "class_definition", "lambda", "module"})
LOOP_TYPES = frozenset({"for_statement", "while_statement"})
COMPREHENSION_TYPES = frozenset(
    {"list_comprehension", "set_comprehension", "dictionary_comprehension", "generator_expression"}
)


enclosing_scope = bindings.enclosing_scope


def enclosing_loop(node: Node, *, include_comprehensions: bool = False) -> Node | None:
    """The nearest ``for``/``while`` around ``node`` in the same scope, if any.

    A node in a loop's ``else`` clause or in the iterable of a ``for`` runs once, so it does
    not count as inside that loop.
    """
    grandchild: Node | None = None
    child = node
    current = node.parent
    while current is not None and current.type not in SCOPE_TYPES:
        if current.type in LOOP_TYPES:
            body = current.child_by_field_name("body")
            if body is not None and child.id == body.id:
                return current
        elif include_comprehensions and current.type in COMPREHENSION_TYPES:
            # The first ``for`` clause's iterable is evaluated once, before the loop starts.
            first = next((c for c in current.named_children if c.type == "for_in_clause"), None)
            iterable = first.child_by_field_name("right") if first is not None else None
            if not (
                first is not None
                and child.id == first.id
                and iterable is not None
                and grandchild is not None
                and grandchild.id == iterable.id
            ):
                return current
        grandchild = child
        child = current
        current = current.parent
    return None


def in_async_function(node: Node) -> bool:
    scope = enclosing_scope(node)
    if scope.type != "function_definition":
        return False
    first = scope.child(0)
    return first is not None and first.type == "async"


def is_module_level(node: Node) -> bool:
    return enclosing_scope(node).type == "module"


def _record_import(statement: Node, source: bytes, out: dict[str, str]) -> None:
    if statement.type == "import_statement":
        for name in statement.children_by_field_name("name"):
            if name.type == "aliased_import":
                dotted = name.child_by_field_name("name")
                alias = name.child_by_field_name("alias")
                if dotted is not None and alias is not None:
                    out[_text(alias, source)] = _text(dotted, source)
            else:
                full = _text(name, source)
                out.setdefault(full.split(".")[0], full.split(".")[0])
                out[full] = full
    elif statement.type == "import_from_statement":
        module = statement.child_by_field_name("module_name")
        if module is None:
            return
        base = _text(module, source)
        for name in statement.children_by_field_name("name"):
            if name.type == "aliased_import":
                dotted = name.child_by_field_name("name")
                alias = name.child_by_field_name("alias")
                if dotted is not None and alias is not None:
                    out[_text(alias, source)] = f"{base}.{_text(dotted, source)}"
            else:
                out[_text(name, source)] = f"{base}.{_text(name, source)}"


def _collect_imports(root: Node, source: bytes, out: dict[str, str]) -> None:
    """Find import statements by searching the bytes for the keyword, not by walking the tree.

    A file has a few dozen ``import`` keywords and tens of thousands of nodes: looking up the
    node at each occurrence costs a fraction of a walk. Occurrences inside strings, comments or
    names such as ``importlib`` are not the ``import`` keyword token and are passed over.
    """
    position = source.find(b"import")
    while position != -1:
        token = root.descendant_for_byte_range(position, position + 6)
        if token is not None and token.type == "import" and token.parent is not None:
            _record_import(token.parent, source, out)
        position = source.find(b"import", position + 6)


_IMPORTS: LastResult[bytes, dict[str, str]] = LastResult(operator.is_)


def _file_imports(root: Node, source: bytes) -> dict[str, str]:
    """``_collect_imports`` of a file, computed once per analysis.

    The fingerprint, the test-code check and the rules all ask for it; callers must not change
    the mapping.
    """

    def collect() -> dict[str, str]:
        found: dict[str, str] = {}
        _collect_imports(root, source, found)
        return found

    return _IMPORTS.get(source, collect)


def imports(match: Match) -> dict[str, str]:
    """Local name -> fully qualified name, for every import in the file (any depth of statement).

    ``import numpy as np`` gives ``{"np": "numpy"}``; ``from re import match`` gives
    ``{"match": "re.match"}``; ``import os.path`` gives ``{"os": "os", "os.path": "os.path"}``.
    """
    facts = match.file.facts
    found: dict[str, str] | None = facts.get("python.imports")
    if found is None:
        found = facts["python.imports"] = _file_imports(match.file.root, match.file.source)
    return found


def _roots(found: dict[str, str]) -> frozenset[str]:
    return frozenset(full.split(".")[0] for full in found.values())


def imported_roots(match: Match) -> frozenset[str]:
    """The top-level modules the file imports; ``""`` when it imports relatively (``from .``).

    A rule that asks what the file imports as a whole asks this (or ``imports_own_truthiness``),
    not the values of ``imports``: the unit cache's fingerprint holds these answers and what
    each imported name means, not the whole list (``file_fingerprint``).
    """
    facts = match.file.facts
    found: frozenset[str] | None = facts.get("python.roots")
    if found is None:
        found = facts["python.roots"] = _roots(imports(match))
    return found


ARRAY_LIBRARIES = ("numpy", "pandas", "torch", "tensorflow", "polars", "jax", "cupy", "dask")


def imports_array_library(match: Match) -> bool:
    """Whether the file uses a library whose containers redefine ``len``/``==``/truthiness."""
    return not imported_roots(match).isdisjoint(ARRAY_LIBRARIES)


# Libraries whose objects define truthiness differently from len() (NumPy arrays and pandas
# frames, through imports_array_library, raise): ElementTree and lxml elements warn that their
# truth value will change, docutils nodes and BeautifulSoup tags are always true, an h5py
# dataset is true while it is open, and an xarray DataArray raises like NumPy.
OWN_TRUTHINESS = ("xml.etree", "xml.dom", "lxml", "docutils", "bs4", "h5py", "xarray")


def _own_truthiness(found: dict[str, str]) -> bool:
    return any(full.startswith(OWN_TRUTHINESS) for full in found.values())


def imports_own_truthiness(match: Match) -> bool:
    """Whether the file imports a library whose objects define their own truthiness."""
    return _own_truthiness(imports(match))


def resolves_to(match: Match, node: Node, qualified: str) -> bool:
    """Whether a name or attribute chain refers to ``qualified`` (e.g. ``"re.match"``).

    Follows import aliases: ``import re as regex; regex.match`` and ``from re import match``
    both resolve to ``re.match``. An unimported module name never resolves.
    """
    text = _text(node, match.file.source)
    head, _, rest = text.partition(".")
    target = imports(match).get(head)
    if target is None:
        return False
    return (f"{target}.{rest}" if rest else target) == qualified


def _text(node: Node, source: bytes) -> str:
    return source[node.start_byte : node.end_byte].decode("utf-8", "replace")


def statement_of(node: Node) -> Node:
    """The statement that contains ``node`` (its ancestor whose parent is a block or module)."""
    current = node
    while current.parent is not None and current.parent.type not in ("block", "module"):
        current = current.parent
    return current


def value_kind(value: Node, source: bytes) -> str | None:
    """The builtin type an expression certainly has, or ``None`` when it cannot be known."""
    return bindings.value_kind(value, source)


def known_kind(match: Match, name: str, at: Node) -> str | None:
    """The builtin type that ``name`` certainly holds at ``at`` (see ``bindings.known_kind``)."""
    return bindings.known_kind(match, name, at)


def names_in(node: Node, source: bytes) -> set[str]:
    """Every identifier inside ``node``; for small subtrees only (a loop header, a condition)."""
    found: set[str] = set()
    stack = [node]
    while stack:
        current = stack.pop()
        if current.type == "identifier":
            found.add(_text(current, source))
        else:
            stack.extend(current.named_children)
    return found


def names_read(node: Node, source: bytes) -> set[str]:
    """Names an expression reads, for small subtrees only.

    Unlike ``names_in``, attribute names (``a`` in ``b.a``) and keyword-argument names (``key``
    in ``f(key=v)``) are left out: they are not variables.
    """
    found: set[str] = set()
    stack = [node]
    while stack:
        current = stack.pop()
        if current.type == "identifier":
            found.add(_text(current, source))
        elif current.type == "attribute":
            target = current.child_by_field_name("object")
            if target is not None:
                stack.append(target)
        elif current.type == "keyword_argument":
            value = current.child_by_field_name("value")
            if value is not None:
                stack.append(value)
        else:
            stack.extend(current.named_children)
    return found


def contains_call(node: Node) -> bool:
    stack = [node]
    while stack:
        current = stack.pop()
        if current.type in ("call", "await", "yield", "named_expression"):
            return True
        stack.extend(current.named_children)
    return False


def is_literal(node: Node) -> bool:
    """A hashable constant: a plain string, number, ``True``/``False``/``None``."""
    if node.type == "string":
        return not any(child.type == "interpolation" for child in node.named_children)
    if node.type == "unary_operator":
        operand = node.child_by_field_name("argument")
        return operand is not None and operand.type in ("integer", "float")
    return node.type in ("integer", "float", "true", "false", "none", "concatenated_string")


_BINDING_BLOCKS = frozenset(
    {
        "block",
        "if_statement",
        "elif_clause",
        "else_clause",
        "try_statement",
        "except_clause",
        "finally_clause",
        "with_statement",
        "decorated_definition",
    }
)


def _collect_module_bindings(node: Node, source: bytes, out: set[str]) -> None:
    # Conditional definitions count (``try: from x import any`` / ``except: def any``), so this
    # descends into if/try/with blocks, but never into function or class bodies. A stack, not
    # recursion: a file may nest blocks deeper than Python's recursion limit.
    stack = [node]
    while stack:
        for child in stack.pop().named_children:
            _collect_statement_bindings(child, source, out, stack)


def _collect_statement_bindings(
    child: Node, source: bytes, out: set[str], blocks: list[Node]
) -> None:
    """Names one module-level statement binds; blocks to descend into go on ``blocks``."""
    kind = child.type
    if kind in ("function_definition", "class_definition"):
        name = child.child_by_field_name("name")
        if name is not None:
            out.add(_text(name, source))
    elif kind == "expression_statement":
        for assignment in child.named_children:
            target = assignment.child_by_field_name("left")
            if assignment.type != "assignment" or target is None:
                continue
            if target.type == "identifier":
                out.add(_text(target, source))
            elif target.type in ("pattern_list", "tuple_pattern"):
                out.update(
                    _text(n, source) for n in target.named_children if n.type == "identifier"
                )
    elif kind == "import_from_statement" and any(
        c.type == "wildcard_import" for c in child.named_children
    ):
        # ``from os import *`` brings in ``os.open``: any builtin may be shadowed.
        out.add("*")
    elif kind in _BINDING_BLOCKS:
        blocks.append(child)


def _parameter_names(scope: Node, source: bytes) -> set[str]:
    parameters = scope.child_by_field_name("parameters")
    found: set[str] = set()
    for parameter in parameters.named_children if parameters is not None else ():
        if parameter.type == "identifier":
            found.add(_text(parameter, source))
            continue
        name = parameter.child_by_field_name("name")
        if name is None and parameter.named_children:
            # ``x: int`` has no name field; ``*args: int`` nests the name in a splat pattern.
            name = parameter.named_children[0]
            if name.type in ("list_splat_pattern", "dictionary_splat_pattern"):
                name = name.named_children[0] if name.named_children else None
        if name is not None and name.type == "identifier":
            found.add(_text(name, source))
    return found


# The names of the builtins: the only names the builtin checks answer for, so that the
# fingerprint holds only the module-level bindings of these.
BUILTIN_NAMES = frozenset(dir(builtins))


def refers_to_builtin(match: Match, name: Node) -> bool:
    """Whether the identifier ``name`` still means the builtin of that name (``open``, ``sum``).

    False when the file imports the name (``from os import open`` is a different function),
    has a wildcard import (which may bring the name in), binds it at module level
    (``def any(...)``), or an enclosing function or lambda takes it as a parameter.
    Assignments inside function bodies are not looked at: shadowing a builtin that way is rare,
    and finding it would mean scanning every statement of the scope.
    """
    source = match.file.source
    text = _text(name, source)
    if text not in BUILTIN_NAMES or text in imports(match):
        return False
    facts = match.file.facts
    bindings: set[str] | None = facts.get("python.module_bindings")
    if bindings is None:
        bindings = set()
        _collect_module_bindings(match.file.root, source, bindings)
        facts["python.module_bindings"] = bindings
    if text in bindings or "*" in bindings:
        return False
    scope = enclosing_scope(name)
    while scope.type in ("function_definition", "lambda"):
        if text in _parameter_names(scope, source):
            return False
        outer = enclosing_scope(scope)
        if outer.id == scope.id:
            break
        scope = outer
    return True


_NOQA = re.compile(rb"#\s*noqa(?::\s*(?P<codes>[\w\-]+(?:[\s,]+[\w\-]+)*))?", re.IGNORECASE)


def noqa_silences(line: bytes, names: tuple[str, ...]) -> bool:
    """Whether ``line`` carries a ``# noqa`` for one of ``names`` (or a bare ``# noqa``).

    Codebases mark deliberate exceptions this way for Ruff and flake8 (``assert x != None  #
    noqa`` in a test of ``__ne__`` itself); a hint there contradicts what the author wrote.
    """
    if b"noqa" not in line.lower():
        return False
    for found in _NOQA.finditer(line):
        codes = found["codes"]
        if codes is None:
            return True
        listed = {c.upper() for c in re.split(rb"[\s,]+", codes) if c}
        if listed & {n.encode().upper() for n in names}:
            return True
    return False


_TEST_MODULES = frozenset({"pytest", "unittest", "hypothesis", "nose", "mock"})
# A module path with one of these parts is test support (``django.test``, ``numpy.testing``,
# ``sqlalchemy.testing``): a file that imports it is a test.
_TEST_PARTS = frozenset({"test", "tests", "testing"})


def imports_test_support(root: Node, source: bytes) -> bool:
    """Whether the file imports a test framework or a package's test support: it is a test."""
    found = _file_imports(root, source)
    return any(
        full.split(".")[0] in _TEST_MODULES
        or any(part.strip("_") in _TEST_PARTS for part in full.split(".")[:-1])
        for full in found.values()
    )


def file_fingerprint(root: Node, source: bytes) -> ScopedFingerprint:
    """Everything outside a top-level definition that its findings may depend on.

    Predicates inside a ``def`` or ``class`` read their own scope, plus file-wide facts about
    the imports and the builtins rebound at module level. The whole file's part: which
    top-level modules it imports, whether it imports test support or a library with its own
    truthiness, and the builtin names bound at module level (``def any``, ``from x import *``).
    The names' part: what each imported name means, read only by a unit that writes the name
    (``imports(m).get(head)`` for a head in the unit). While the whole part is unchanged, a
    definition whose bytes are unchanged and contain no name whose meaning changed has
    unchanged findings.
    """
    found = _file_imports(root, source)
    bindings: set[str] = set()
    _collect_module_bindings(root, source, bindings)
    for child in root.named_children:
        if child.type == "expression_statement":
            for assignment in child.named_children:
                target = assignment.child_by_field_name("left")
                if assignment.type == "augmented_assignment" and target is not None:
                    bindings.add(_text(target, source))
    rebound = tuple(sorted(b for b in bindings if b == "*" or b in BUILTIN_NAMES))
    whole = (
        _roots(found),
        imports_test_support(root, source),
        _own_truthiness(found),
        rebound,
    )
    return ScopedFingerprint(whole, tuple(sorted(found.items())))
