"""JavaScript and TypeScript: three ``LanguageSpec``s over one package of rules and queries.

``javascript`` (``.js .mjs .cjs .jsx``, JSX included), ``typescript`` (``.ts .mts .cts``) and
``tsx`` (``.tsx``) each parse with their own grammar, and share the rules in ``rules/`` and the
queries in ``queries/``: every query names only node types the three grammars have in common
(tests/test_javascript.py compiles them against all three). Their lessons are written once, in
the ``javascript`` lesson language.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Hashable
from typing import TYPE_CHECKING, Any

from lessonlens.analyzers.languages import LanguageSpec, Piece
from lessonlens.analyzers.lastresult import LastResult

if TYPE_CHECKING:
    from lessonlens.analyzers.model import CodeUnit
    from lessonlens.analyzers.parsing import Node

LESSONS = "javascript"


def _javascript() -> Any:
    import tree_sitter_javascript

    return tree_sitter_javascript.language()


def _typescript() -> Any:
    import tree_sitter_typescript

    return tree_sitter_typescript.language_typescript()


def _tsx() -> Any:
    import tree_sitter_typescript

    return tree_sitter_typescript.language_tsx()


# Top-level declarations whose body is a unit of the editor's cache and of the model.
FUNCTIONS = frozenset({"function_declaration", "generator_function_declaration"})
CLASSES = frozenset({"class_declaration", "abstract_class_declaration"})
FUNCTION_VALUES = frozenset({"arrow_function", "function_expression", "function"})
# Every node that is a function (its body runs when called), and every one that starts a scope.
FUNCTION_NODES = frozenset(
    {
        "function_declaration",
        "generator_function_declaration",
        "function_expression",
        "function",
        "generator_function",
        "arrow_function",
        "method_definition",
    }
)
SCOPES = FUNCTION_NODES | {"class_declaration", "class", "abstract_class_declaration"}
LOOPS = frozenset({"for_statement", "for_in_statement", "while_statement", "do_statement"})
# Array methods whose callback runs once per element: its body is "in a loop".
ITERATION_METHODS = frozenset(
    {
        "map",
        "forEach",
        "filter",
        "reduce",
        "reduceRight",
        "some",
        "every",
        "find",
        "findIndex",
        "findLast",
        "findLastIndex",
        "flatMap",
        "sort",
    }
)


# The globals whose rebinding rules check (``kinds.shadowed``). A name bound only by an import
# reads to every rule as a name bound nowhere, except these: the fingerprint keeps no entry
# for such an import, so renaming it re-walks nothing.
CHECKED_GLOBALS = frozenset(
    {"Array", "ReadonlyArray", "Set", "ReadonlySet", "Map", "ReadonlyMap", "String"}
    | {"Object", "JSON", "RegExp", "Number", "Date", "Promise"}
)


def declaration(node: Node) -> Node:
    """The declaration an ``export`` statement wraps, or the node itself."""
    if node.type == "export_statement":
        inner = node.child_by_field_name("declaration")
        if inner is not None:
            return inner
    return node


def ambient_declaration(node: Node) -> Node:
    """``declaration(node)``, and inside a ``declare`` the declaration it wraps."""
    inner = declaration(node)
    if inner.type == "ambient_declaration" and inner.named_child_count == 1:
        return inner.named_children[0]
    return inner


def function_value(node: Node) -> Node | None:
    """The function a ``const f = () => ...`` declaration binds, when it binds exactly one."""
    if node.type not in ("lexical_declaration", "variable_declaration"):
        return None
    declarators = [c for c in node.named_children if c.type == "variable_declarator"]
    if len(declarators) != 1:
        return None
    value = declarators[0].child_by_field_name("value")
    return value if value is not None and value.type in FUNCTION_VALUES else None


_FIELDS = frozenset({"field_definition", "public_field_definition"})


def method_field(member: Node) -> bool:
    """A class field holding a function (``handle = () => {...}``): a method in all but name."""
    if member.type not in _FIELDS:
        return False
    value = member.child_by_field_name("value")
    return value is not None and value.type in FUNCTION_VALUES


def class_body(node: Node) -> Node | None:
    return node.child_by_field_name("body") if node.type in CLASSES else None


_DECLARATIONS = frozenset({"lexical_declaration", "variable_declaration"})


# TypeScript declarations that are units of their own: types (no rule reads a type's body from
# elsewhere; the fingerprint counts them by name) and signatures without a body (overloads,
# `declare function`, a class's method signatures), which count as the function or method they
# declare does.
TYPE_UNITS = frozenset({"interface_declaration", "type_alias_declaration", "enum_declaration"})
SIGNATURES = frozenset({"function_signature"})
MEMBER_SIGNATURES = frozenset({"method_signature", "abstract_method_signature"})


def pieces(root: Node) -> tuple[list[Piece], list[Piece]]:
    """Split a file into units and glue, leaving out comments.

    Units are top-level functions, functions bound to a top-level name and methods of top-level
    classes (fields holding a function too, as React components write their handlers), and in
    TypeScript the top-level types (interfaces, type aliases, enums) and signatures (function
    overloads, a class's method signatures); an ``export`` or ``declare`` around one does not
    change what it is. Glue is every other top-level statement, and each class's header and
    other fields.
    """
    unit_pieces: list[Piece] = []
    glue: list[Piece] = []
    # Each member's type is read once: on a large file this runs on every keystroke.
    for child in root.named_children:
        if child.type == "comment":
            continue
        inner = ambient_declaration(child)
        inner_kind = inner.type
        piece = (child.start_byte, child.end_byte, *child.start_point)
        body = inner.child_by_field_name("body") if inner_kind in CLASSES else None
        if body is not None:
            glue.append((piece[0], body.start_byte + 1, piece[2], piece[3]))
            for member in body.named_children:
                member_kind = member.type
                if member_kind == "comment":
                    continue
                member_piece = (member.start_byte, member.end_byte, *member.start_point)
                if (
                    member_kind == "method_definition"
                    or member_kind in MEMBER_SIGNATURES
                    or method_field(member)
                ):
                    unit_pieces.append(member_piece)
                else:
                    glue.append(member_piece)
        elif (
            inner_kind in FUNCTIONS
            or inner_kind in TYPE_UNITS
            or inner_kind in SIGNATURES
            or (inner_kind in _DECLARATIONS and function_value(inner) is not None)
        ):
            unit_pieces.append(piece)
        else:
            glue.append(piece)
    return unit_pieces, glue


# A file-wide fact rules read from any unit: a `reduce` the file defines itself (JS004).
_REDUCE_PREFIX = re.compile(
    rb"\s*(?:(?:public|private|protected|static|async|override)\s+)*(?:function\s+)?"
)
# What ``_REDUCE_PREFIX`` can end with: nothing, or white space.
_SPACE = frozenset(b" \t\n\r\f\v")
_REDUCE_SUFFIX = re.compile(rb"(?:Right)?\s*(?:<[^>]*>)?\s*\(")


def defines_reduce(source: bytes) -> bool:
    """Whether a line starts by defining a ``reduce`` (or ``reduceRight``) method or function.

    Each occurrence of the word is looked at in its line only: a whole-file regex anchored at
    every line start cost milliseconds per keystroke in a large file.
    """
    position = source.find(b"reduce")
    while position != -1:
        if position and source[position - 1] not in _SPACE:
            # `.reduce(`, `_reduce`: a call or a longer name (most occurrences), never one.
            position = source.find(b"reduce", position + 6)
            continue
        line_start = source.rfind(b"\n", 0, position) + 1
        prefix = source[line_start:position]
        if _REDUCE_PREFIX.fullmatch(prefix) and _REDUCE_SUFFIX.match(source, position + 6):
            return True
        position = source.find(b"reduce", position + 6)
    return False


_PIECES: LastResult[Node, tuple[list[Piece], list[Piece]]] = LastResult(operator.eq)


def _pieces_of(root: Node) -> tuple[list[Piece], list[Piece]]:
    """``pieces(root)``, computed once per tree (the fingerprint and the unit cache ask)."""
    return _PIECES.get(root, lambda: pieces(root))


def _fingerprint(root: Node, source: bytes) -> Hashable:
    from lessonlens.analyzers.javascript.fingerprint import fingerprint

    return fingerprint(root, source)


def callback_of_iteration(node: Node) -> bool:
    """Whether a function node is the callback of ``xs.map(...)``, ``xs.forEach(...)``, ..."""
    arguments = node.parent
    if arguments is None or arguments.type != "arguments":
        return False
    call = arguments.parent
    if call is None or call.type != "call_expression":
        return False
    callee = call.child_by_field_name("function")
    if callee is None or callee.type != "member_expression":
        return False
    method = callee.child_by_field_name("property")
    return (
        method is not None
        and method.text is not None
        and method.text.decode() in (ITERATION_METHODS)
    )


def loop_part(loop: Node, child: Node) -> bool:
    """Whether ``child`` of ``loop`` runs on every iteration (not the iterated expression)."""
    if loop.type == "for_in_statement":
        return child == loop.child_by_field_name("body")
    if loop.type == "for_statement":
        return child in (
            loop.child_by_field_name("body"),
            loop.child_by_field_name("condition"),
            loop.child_by_field_name("increment"),
        )
    return child in (loop.child_by_field_name("body"), loop.child_by_field_name("condition"))


def is_async(function: Node) -> bool:
    return any(c.type == "async" for c in function.children)


def within(node: Node, where: str, unit_start: int) -> bool:
    """Whether ``node`` lies in a loop's body (or an iteration callback's), or an async one's.

    The search goes up to the unit's first byte and stops at the nearest function.
    """
    child, parent = node, node.parent
    while parent is not None and parent.start_byte >= unit_start:
        if where == "loop":
            if parent.type in LOOPS and loop_part(parent, child):
                return True
            if parent.type in SCOPES:
                return callback_of_iteration(parent)
        elif parent.type in SCOPES:
            return parent.type != "class_declaration" and is_async(parent)
        child, parent = parent, parent.parent
    return False


# `// lessonlens-ignore`, `// lessonlens-ignore: JS001, JS004` (this line); the linters' own
# comments, which name their rules: `// eslint-disable-line no-await-in-loop`,
# `// oxlint-disable-line`; on the line above: `// eslint-disable-next-line ...`,
# `// biome-ignore lint/performance/noAccumulatingSpread: why`, `// lessonlens-ignore-next-line`.
_SAME_LINE = re.compile(
    rb"//\s*(?:lessonlens-ignore(?!-next-line)|eslint-disable-line|oxlint-disable-line)"
    rb"(?P<codes>[^\n]*)"
)
_NEXT_LINE = re.compile(
    rb"//\s*(?:lessonlens-ignore-next-line|eslint-disable-next-line|oxlint-disable-next-line)"
    rb"(?P<codes>[^\n]*)"
)
_BIOME = re.compile(rb"//\s*biome-ignore\s+(?P<codes>[^:\n]*)")


def _names(codes: bytes) -> set[bytes] | None:
    """The rule names a comment lists (their last ``/`` part, lower case); None for all."""
    text = codes.split(b"--", 1)[0].strip().lstrip(b":").strip()
    if not text:
        return None
    return {c.rsplit(b"/", 1)[-1].lower() for c in re.split(rb"[\s,]+", text) if c}


def suppressed(line: bytes, previous: bytes, names: tuple[str, ...]) -> bool:
    wanted = {n.encode().lower() for n in names}
    comments = [(m, line) for m in _SAME_LINE.finditer(line)] if b"//" in line else []
    if b"//" in previous and previous.lstrip().startswith(b"//"):
        comments.extend((m, previous) for m in _NEXT_LINE.finditer(previous))
        for found in _BIOME.finditer(previous):
            listed = _names(found["codes"])
            if listed is not None and listed & wanted:
                return True
    for found, _ in comments:
        listed = _names(found["codes"])
        if listed is None or listed & wanted:
            return True
    return False


# Test frameworks and test support: a file importing one is a test.
_TEST_MODULES = frozenset(
    {
        "vitest",
        "jest",
        "@jest/globals",
        "mocha",
        "chai",
        "node:test",
        "@playwright/test",
        "cypress",
        "supertest",
        "sinon",
        "ava",
        "tap",
        "uvu",
        "nock",
    }
)
_MODULE = re.compile(rb"""(?:from\s*|require\(\s*|import\s*)['"](?P<name>[^'"\n]+)['"]""")


_IMPORTED: LastResult[bytes, set[str]] = LastResult(operator.is_)


def imported_modules(root: Node, source: bytes) -> set[str]:
    """Modules the file imports at top level (``import``, ``export ... from``, ``require``).

    Asked by the fingerprint, the test-code check and the rules: computed once per analysis
    (callers must not change it).
    """
    return _IMPORTED.get(source, lambda: _imported_modules(root, source))


# The modules a statement's first bytes name, by those bytes (typing re-reads only what changed).
_MODULES_OF: dict[bytes, tuple[str, ...]] = {}
_MODULES_MAX = 16384


def _imported_modules(root: Node, source: bytes) -> set[str]:
    found: set[str] = set()
    for child in root.named_children:
        if child.type in ("import_statement", "export_statement", "lexical_declaration") or (
            child.type in ("expression_statement", "variable_declaration")
        ):
            text = source[child.start_byte : min(child.end_byte, child.start_byte + 400)]
            names = _MODULES_OF.get(text)
            if names is None:
                names = tuple(m["name"].decode("utf-8", "replace") for m in _MODULE.finditer(text))
                if len(_MODULES_OF) >= _MODULES_MAX:
                    _MODULES_OF.clear()
                _MODULES_OF[text] = names
            found.update(names)
    return found


def test_source(root: Node, source: bytes) -> bool:
    return any(
        name in _TEST_MODULES or name.startswith("@testing-library/")
        for name in imported_modules(root, source)
    )


_GENERATED_NAMES = re.compile(
    r"(\.min\.(js|mjs|cjs)|[.-]bundle\.js|\.chunk\.js|\.d\.(ts|mts|cts)|_pb\.(js|ts)|"
    r"\.generated\.(js|ts|tsx))$",
    re.IGNORECASE,
)
# Minified code: a line this long in the first 4 KiB is no one's hand-written source.
MINIFIED_LINE = 1000
_LONG_LINE = re.compile(rb"[^\n]{%d}[^\n]*\n" % (MINIFIED_LINE + 1))


def generated(name: str, raw: bytes) -> bool:
    if _GENERATED_NAMES.search(name):
        return True
    head = raw[:4096]
    if b"@generated" in head[:1024] or b"DO NOT EDIT" in head[:512]:
        return True
    return _LONG_LINE.search(head) is not None or (len(head) == 4096 and b"\n" not in head)


def _code_units(root: Any, source: bytes) -> list[CodeUnit]:
    from lessonlens.analyzers.javascript.units import code_units

    return code_units(root, source)


_COMMON: dict[str, Any] = {
    "package": "lessonlens.analyzers.javascript",
    "pieces": _pieces_of,
    "fingerprint": _fingerprint,
    "lens_nodes": (
        "function_declaration",
        "generator_function_declaration",
        "method_definition",
        "class_declaration",
        "abstract_class_declaration",
        "arrow_function",
        "function_expression",
    ),
    "within": within,
    "code_units": _code_units,
    "line_comments": ("//", "/*", "*"),
    "suppressed": suppressed,
    "test_source": test_source,
    "generated": generated,
    "lesson_language": LESSONS,
}

JAVASCRIPT = LanguageSpec(
    id="javascript",
    extensions=(".js", ".mjs", ".cjs", ".jsx"),
    language_ids=("javascript", "javascriptreact"),
    grammar=_javascript,
    **_COMMON,
)
TYPESCRIPT = LanguageSpec(
    id="typescript",
    extensions=(".ts", ".mts", ".cts"),
    language_ids=("typescript",),
    grammar=_typescript,
    **_COMMON,
)
TSX = LanguageSpec(
    id="tsx",
    extensions=(".tsx",),
    language_ids=("typescriptreact",),
    grammar=_tsx,
    **_COMMON,
)
