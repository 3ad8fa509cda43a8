"""Python's ``LanguageSpec``: everything the core needs to know about Python, in one place.

PEP 263 decoding, the statements the editor's unit cache splits a module into, the nodes a
lens attaches to, and the ``target-python`` option (with its fallback, the lower bound of
``project.requires-python``) that version-dependent rules read.
"""

from __future__ import annotations

import io
import re
import tokenize
from collections.abc import Callable, Hashable, Mapping
from typing import TYPE_CHECKING, Any

from lessonlens.analyzers.languages import LanguageOption, LanguageSpec, OptionError, Piece

if TYPE_CHECKING:
    from lessonlens.analyzers.model import CodeUnit
    from lessonlens.analyzers.parsing import Node

# The configuration key, and the key in ``AnalysisOptions.language_options``.
TARGET = "target-python"
Version = tuple[int, int]

_VERSION = re.compile(r"^\s*(\d+)\.(\d+)")
_REQUIRES_LOWER = re.compile(r">=?\s*(\d+)\.(\d+)|~=\s*(\d+)\.(\d+)|==\s*(\d+)\.(\d+)")


def _grammar() -> Any:
    import tree_sitter_python

    return tree_sitter_python.language()


def _fingerprint(root: Any, source: bytes) -> Hashable:
    from lessonlens.analyzers.python.facts import file_fingerprint

    return file_fingerprint(root, source)


def _suppressed(line: bytes, previous: bytes, names: tuple[str, ...]) -> bool:
    from lessonlens.analyzers.python.facts import noqa_silences

    return noqa_silences(line, names)


def _test_source(root: Any, source: bytes) -> bool:
    from lessonlens.analyzers.python.facts import imports_test_support

    return imports_test_support(root, source)


def _code_units(root: Any, source: bytes) -> list[CodeUnit]:
    from lessonlens.analyzers.python.units import code_units

    return code_units(root, source)


def decode(raw: bytes) -> tuple[str, str | None]:
    """Decode Python source honouring a PEP 263 coding cookie and a BOM.

    Undecodable bytes become U+FFFD and the notice says where the first one was, so that one
    bad byte costs a hint or two on that line rather than the whole file.
    """
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(raw).readline)
    except SyntaxError:
        encoding = "utf-8"
    try:
        return raw.decode(encoding), None
    except (UnicodeDecodeError, LookupError) as exc:
        position = exc.start if isinstance(exc, UnicodeDecodeError) else 0
        line = raw.count(b"\n", 0, position) + 1
        text = raw.decode(encoding if not isinstance(exc, LookupError) else "utf-8", "replace")
        return text, f"invalid {encoding} at line {line}; decoded with replacement characters"


_UNITS = ("function_definition", "class_definition", "decorated_definition")


def pieces(root: Node) -> tuple[list[Piece], list[Piece]]:
    """Split a module into units and glue, leaving out comments.

    Units are top-level functions and the methods of top-level classes; glue is every other
    statement, and each class's header.
    """
    unit_pieces: list[Piece] = []
    glue: list[Piece] = []

    def piece(node: Node, end: int | None = None) -> Piece:
        return (node.start_byte, node.end_byte if end is None else end, *node.start_point)

    for child in root.named_children:
        if child.type == "comment":
            continue
        definition = child
        if child.type == "decorated_definition":
            definition = child.child_by_field_name("definition") or child
        body = definition.child_by_field_name("body")
        if definition.type == "class_definition" and body is not None:
            glue.append(piece(child, body.start_byte))
            for member in body.named_children:
                if member.type == "comment":
                    continue
                if member.type in _UNITS and member.type != "class_definition":
                    unit_pieces.append(piece(member))
                else:
                    glue.append(piece(member))
        elif child.type in _UNITS:
            unit_pieces.append(piece(child))
        else:
            glue.append(piece(child))
    return unit_pieces, glue


_LOOPS = frozenset({"for_statement", "while_statement"})
_COMPREHENSIONS = frozenset(
    {"list_comprehension", "set_comprehension", "dictionary_comprehension", "generator_expression"}
)
_SCOPES = frozenset({"function_definition", "lambda", "class_definition"})


def within(node: Node, where: str, unit_start: int) -> bool:
    """Whether ``node`` lies in a loop's body (``loop``) or an async def's (``async-function``).

    Only what runs repeatedly counts as in a loop: a for statement's iterable is evaluated
    once, a comprehension's first iterable too. The search stops at the unit's edge, and for
    ``async-function`` at the nearest function (a plain def inside an async one runs sync).
    """
    child, parent = node, node.parent
    while parent is not None and parent.start_byte >= unit_start:
        if where == "loop":
            if parent.type in _LOOPS and child == parent.child_by_field_name("body"):
                return True
            if parent.type in _COMPREHENSIONS and child.type != "for_in_clause":
                return True
            if parent.type in _SCOPES:
                return False
        elif parent.type in _SCOPES:
            return parent.type == "function_definition" and any(
                c.type == "async" for c in parent.children
            )
        child, parent = parent, parent.parent
    return False


def parse_version(value: Any) -> Version:
    found = _VERSION.match(str(value))
    if not isinstance(value, str) or found is None:
        raise OptionError(f'expected a version such as "3.11", got {value!r}')
    return int(found[1]), int(found[2])


def requires_python_floor(spec: str) -> Version | None:
    found = _REQUIRES_LOWER.search(spec)
    if found is None:
        return None
    groups = [g for g in found.groups() if g is not None]
    return int(groups[0]), int(groups[1])


def _project_target(pyproject: Mapping[str, Any]) -> Version | None:
    project = pyproject.get("project")
    requires = project.get("requires-python") if isinstance(project, dict) else None
    if requires is not None and not isinstance(requires, str):
        raise OptionError("expected a string", key="project.requires-python")
    return requires_python_floor(requires) if requires is not None else None


def target_python(options: Mapping[str, Any]) -> Version | None:
    """The target Python version among a file's language options; ``None`` when unknown."""
    value = options.get(TARGET)
    return value if isinstance(value, tuple) else None


def versions(
    minimum: Version | None = None, below: Version | None = None
) -> Callable[[Mapping[str, Any]], bool]:
    """A rule's ``when``: the advice holds for target versions in ``[minimum, below)``.

    Version-dependent advice stays silent when the target is unknown.
    """

    def holds(options: Mapping[str, Any]) -> bool:
        target = target_python(options)
        if target is None:
            return False
        if minimum is not None and target < minimum:
            return False
        return not (below is not None and target >= below)

    return holds


PYTHON = LanguageSpec(
    id="python",
    extensions=(".py", ".pyi", ".pyw"),
    language_ids=("python",),
    grammar=_grammar,
    package="lessonlens.analyzers.python",
    decode=decode,
    pieces=pieces,
    fingerprint=_fingerprint,
    lens_nodes=("function_definition", "class_definition"),
    within=within,
    code_units=_code_units,
    line_comments=("#",),
    options=(LanguageOption(TARGET, parse_version, _project_target),),
    suppressed=_suppressed,
    test_source=_test_source,
)
