"""Go's ``LanguageSpec``: everything the core needs to know about Go, in one place.

Units are top-level functions and methods; everything else at top level (the package clause,
imports, types, variables, constants) is glue and the file's fingerprint. ``target-go`` is the
Go version the module builds for: the configuration's, else the ``go`` line of ``go.mod``.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Hashable, Mapping
from typing import TYPE_CHECKING, Any

from lessonlens.analyzers.languages import LanguageOption, LanguageSpec, OptionError, Piece

if TYPE_CHECKING:
    from lessonlens.analyzers.model import CodeUnit
    from lessonlens.analyzers.parsing import Node

TARGET = "target-go"
Version = tuple[int, int]
_VERSION = re.compile(r"^\s*(?:go)?1\.(\d+)(?:\.\d+)?\s*$")


def _grammar() -> Any:
    import tree_sitter_go

    return tree_sitter_go.language()


FUNCTIONS = frozenset({"function_declaration", "method_declaration"})
SCOPES = frozenset({"function_declaration", "method_declaration", "func_literal"})


def pieces(root: Node) -> tuple[list[Piece], list[Piece]]:
    """Top-level functions and methods are units; every other top-level declaration is glue."""
    unit_pieces: list[Piece] = []
    glue: list[Piece] = []
    for child in root.named_children:
        if child.type == "comment":
            continue
        piece = (child.start_byte, child.end_byte, *child.start_point)
        (unit_pieces if child.type in FUNCTIONS else glue).append(piece)
    return unit_pieces, glue


# A `//go:build` line naming an older language version sets that version for the file.
_BUILD_LINE = re.compile(rb"^//go:build (?P<expr>.*)$", re.MULTILINE)
_GO_VERSION = re.compile(rb"\bgo1\.(\d+)\b")


def build_before_loopvar(source: bytes) -> bool:
    """Whether the file's build constraint names a Go version before 1.22.

    Per-iteration loop variables came with 1.22. The constraint is a comment above ``package``,
    in no piece: the fingerprint carries the answer.
    """
    head = source[:4096]
    package = re.search(rb"^package\s", head, re.MULTILINE)
    for line in _BUILD_LINE.finditer(head[: package.start() if package else len(head)]):
        if any(int(v) < 22 for v in _GO_VERSION.findall(line["expr"])):
            return True
    return False


def wrapped_names(root: Node, source: bytes) -> frozenset[str]:
    """The names this file passes to a ``%w`` verb (``fmt.Errorf("load: %w", errX)``).

    Any function of the file may wrap a sentinel that another compares (GO009), so the
    fingerprint carries them. Found from the occurrences of ``fmt.Errorf(``, not by a walk.
    """
    names: set[str] = set()
    needle = b"fmt.Errorf("
    position = source.find(needle)
    while position != -1:
        node: Node | None = root.descendant_for_byte_range(position, position + len(needle))
        while node is not None and node.start_byte == position:
            if node.type == "call_expression":
                arguments = node.child_by_field_name("arguments")
                items = arguments.named_children if arguments is not None else []
                if items and b"%w" in source[items[0].start_byte : items[0].end_byte]:
                    names.update(
                        source[i.start_byte : i.end_byte].decode("utf-8", "replace")
                        for i in items[1:]
                        if i.type == "identifier"
                    )
            node = node.parent
        position = source.find(needle, position + 1)
    return frozenset(names)


def fingerprint(root: Node, source: bytes) -> Hashable:
    """Everything at top level outside functions: package, imports, types, variables.

    All a rule may read outside its own function (a package-level ``regexp``, a type's fields),
    whether a build constraint sets an older Go version, and the names the file wraps.
    """
    digest = hashlib.blake2b(digest_size=16)
    for child in root.named_children:
        if child.type in FUNCTIONS:
            name = child.child_by_field_name("name")
            if name is not None:
                digest.update(source[name.start_byte : name.end_byte])
        elif child.type != "comment":
            digest.update(source[child.start_byte : child.end_byte])
        digest.update(b"\0")
    return digest.digest(), build_before_loopvar(source), wrapped_names(root, source)


def _loop_part(loop: Node, child: Node) -> bool:
    if child == loop.child_by_field_name("body"):
        return True
    return child.type == "for_clause" or (
        child.type not in ("range_clause", "block") and child.is_named
    )


def within(node: Node, where: str, unit_start: int) -> bool:
    """Whether ``node`` lies in a loop's body, condition or post statement.

    Never the ranged expression; the search stops at the nearest function. Go has no async
    functions.
    """
    if where != "loop":
        return False
    child, parent = node, node.parent
    while parent is not None and parent.start_byte >= unit_start:
        if parent.type == "for_clause" and child == parent.child_by_field_name("initializer"):
            return False
        if parent.type == "for_statement" and _loop_part(parent, child):
            return True
        if parent.type in SCOPES:
            return False
        child, parent = parent, parent.parent
    return False


# `//lessonlens:ignore`, `//lessonlens:ignore GO003`, golangci-lint's `//nolint`,
# `//nolint:prealloc,gocritic // why` (this line or the line above), and staticcheck's
# `//lint:ignore SA6000 why` (the line above).
_LESSONLENS = re.compile(rb"//\s*lessonlens:ignore(?P<codes>[^\n]*)")
_NOLINT = re.compile(rb"//\s*nolint(?::(?P<codes>[\w,.\-]+))?")
_LINT_IGNORE = re.compile(rb"//\s*lint:(?:file-)?ignore\s+(?P<codes>[\w,]+)")


def _listed(codes: bytes | None) -> set[bytes] | None:
    if codes is None:
        return None
    text = codes.split(b"//", 1)[0].strip()
    if not text:
        return None
    return {c.lower() for c in re.split(rb"[\s,]+", text) if c}


def suppressed(line: bytes, previous: bytes, names: tuple[str, ...]) -> bool:
    wanted = {n.encode().lower() for n in names}
    own_line = previous.lstrip().startswith(b"//")
    for text, alone in ((line, False), (previous, True)):
        if b"//" not in text or (alone and not own_line):
            continue
        for pattern in (_LESSONLENS, _NOLINT):
            for found in pattern.finditer(text):
                listed = _listed(found["codes"])
                if listed is None or listed & wanted:
                    return True
        if alone:
            for found in _LINT_IGNORE.finditer(text):
                listed = _listed(found["codes"])
                if listed is not None and listed & wanted:
                    return True
    return False


_TEST_IMPORT = re.compile(
    rb'"testing(?:/[\w/]+)?"|"github\.com/(?:stretchr/testify|frankban/quicktest|onsi/gomega|'
    rb'onsi/ginkgo)[\w/]*"|"(?:github\.com/golang|go\.uber\.org)/mock/gomock"'
)


def test_source(root: Node, source: bytes) -> bool:
    """``package x_test``, or an import of ``testing`` (or testify): test code."""
    for child in root.named_children:
        if child.type == "package_clause":
            if source[child.start_byte : child.end_byte].rstrip().endswith(b"_test"):
                return True
        elif child.type == "import_declaration":
            if _TEST_IMPORT.search(source[child.start_byte : child.end_byte]):
                return True
        elif child.type != "comment":
            break
    return False


_GENERATED_NAMES = re.compile(r"(\.pb\.go|\.pb\.gw\.go|_gen\.go|^zz_generated.*\.go)$")
_GENERATED_LINE = re.compile(rb"^// Code generated .* DO NOT EDIT\.$", re.MULTILINE)


def generated(name: str, raw: bytes) -> bool:
    """Whether a file is generated, by Go's own convention or a generator's file name.

    The convention: a ``// Code generated ... DO NOT EDIT.`` line before the package clause.
    """
    if _GENERATED_NAMES.search(name):
        return True
    head = raw[:8192]
    package = re.search(rb"^package\s", head, re.MULTILINE)
    return _GENERATED_LINE.search(head[: package.start() if package else len(head)]) is not None


def parse_version(value: Any) -> Version:
    found = _VERSION.match(str(value)) if isinstance(value, str) else None
    if found is None:
        raise OptionError(f'expected a Go version such as "1.22", got {value!r}')
    return 1, int(found[1])


_GO_DIRECTIVE = re.compile(r"^go\s+(1\.\d+(?:\.\d+)?)\s*$", re.MULTILINE)


def _module_target(manifest: Mapping[str, Any]) -> Version | None:
    text = manifest.get("text")
    if not isinstance(text, str):
        return None
    found = _GO_DIRECTIVE.search(text)
    return parse_version(found[1]) if found else None


def target_go(options: Mapping[str, Any]) -> Version | None:
    value = options.get(TARGET)
    return value if isinstance(value, tuple) else None


def go_at_least(minimum: Version) -> Callable[[Mapping[str, Any]], bool]:
    """A rule's ``when``: the advice holds from Go ``minimum`` on; silent when unknown."""

    def holds(options: Mapping[str, Any]) -> bool:
        target = target_go(options)
        return target is not None and target >= minimum

    return holds


def _code_units(root: Any, source: bytes) -> list[CodeUnit]:
    from lessonlens.analyzers.go.units import code_units

    return code_units(root, source)


GO = LanguageSpec(
    id="go",
    extensions=(".go",),
    language_ids=("go",),
    grammar=_grammar,
    package="lessonlens.analyzers.go",
    pieces=pieces,
    fingerprint=fingerprint,
    lens_nodes=("function_declaration", "method_declaration", "func_literal"),
    within=within,
    code_units=_code_units,
    line_comments=("//",),
    options=(LanguageOption(TARGET, parse_version, _module_target, manifest="go.mod"),),
    suppressed=suppressed,
    test_source=test_source,
    generated=generated,
)
