"""Code read as pairs of lines: where the model matches idioms, in any language."""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable
from typing import TYPE_CHECKING

from lessonlens.analyzers.match import span_of
from lessonlens.analyzers.model import CodeUnit, Span

if TYPE_CHECKING:
    from lessonlens.analyzers.parsing import Node

# Windows per unit, at most: a 300-line function is read in its first 200 line pairs.
MAX_WINDOWS = 200


def line_pairs(code: str, comments: tuple[str, ...] = ()) -> tuple[str, ...]:
    """Each pair of consecutive non-blank lines, stripped, whole-line comments left out.

    A whole function's embedding is about what the function does; the idioms lessons teach
    (`range(len(x))`, `x == None`, `.pop(0)` in a loop) live in a line or two, and are found by
    comparing such short windows with the lessons' own example lines. ``comments`` are the
    language's whole-line comment prefixes (``LanguageSpec.line_comments``).
    """
    lines = [line.strip() for line in code.splitlines()]
    lines = [line for line in lines if line and not (comments and line.startswith(comments))]
    if len(lines) < 2:
        return tuple(lines)
    pairs = [f"{a}\n{b}" for a, b in itertools.pairwise(lines)]
    return tuple(pairs[:MAX_WINDOWS])


# What the sentence encoder reads of a unit, at most: it reads 256 word pieces, about 900
# characters of code; more would only be truncated mid-statement.
MAX_CHARS = 1000
_IDENTIFIER = re.compile(rb"[A-Za-z_$][A-Za-z0-9_$]*")


def cut(text: str, limit: int = MAX_CHARS) -> str:
    """``text`` cut at whole lines near ``limit`` characters (a first line longer is cut)."""
    if len(text) <= limit:
        return text
    kept: list[str] = []
    size = 0
    for line in text.splitlines():
        if size + len(line) + 1 > limit and kept:
            break
        kept.append(line[:limit])
        size += len(line) + 1
    return "\n".join(kept)


def used_imports(
    unit_bytes: bytes, imports: Iterable[tuple[str, set[str]]], limit: int = 6
) -> list[str]:
    """The import lines (text, names bound) whose names the unit's code uses, at most ``limit``."""
    used = {m.group().decode() for m in _IDENTIFIER.finditer(unit_bytes)}
    lines = [line for line, names in imports if names & used]
    return lines[:limit]


def node_unit(
    kind: str,
    node: Node,
    name: str,
    source: bytes,
    imports: Iterable[tuple[str, set[str]]],
    comments: tuple[str, ...],
    name_node: Node | None = None,
    outline: str | None = None,
) -> CodeUnit:
    """The function, method or class ``node`` as a unit, its text led by the imports it uses.

    A class is read as its ``outline`` (its methods are units of their own), so it has no
    line windows.
    """
    unit_bytes = source[node.start_byte : node.end_byte]
    code = outline if outline is not None else unit_bytes.decode("utf-8", "replace")
    header = "\n".join(used_imports(unit_bytes, imports))
    return CodeUnit(
        kind=kind,
        name=name,
        span=span_of(node),
        name_span=span_of(name_node) if name_node is not None else None,
        text=cut((header + "\n" + code) if header else code),
        windows=line_pairs(code, comments) if outline is None else (),
    )


# A top-level block shorter than this says too little to match a lesson on.
MIN_BLOCK_CHARS = 40


def block_unit(
    first: Node,
    last: Node,
    source: bytes,
    imports: Iterable[tuple[str, set[str]]],
    comments: tuple[str, ...],
) -> CodeUnit | None:
    """The module-level block from ``first`` to ``last`` as a unit, or None when too short.

    Its text starts with the import lines it uses, as every unit's does.
    """
    code = source[first.start_byte : last.end_byte].decode("utf-8", "replace")
    if len(code.strip()) < MIN_BLOCK_CHARS:
        return None
    start, end = span_of(first), span_of(last)
    span = Span(
        start.start_row, start.start_col, end.end_row, end.end_col, start.start_byte, end.end_byte
    )
    header = "\n".join(used_imports(source[first.start_byte : last.end_byte], imports))
    text = cut((header + "\n" + code) if header else code)
    return CodeUnit("module", "<module>", span, None, text, line_pairs(code, comments))


def add_block(
    units: list[CodeUnit],
    block: list[Node],
    source: bytes,
    imports: Iterable[tuple[str, set[str]]],
    comments: tuple[str, ...],
) -> None:
    """Close the module-level ``block`` being gathered: its unit, if long enough, to ``units``."""
    if block:
        unit = block_unit(block[0], block[-1], source, imports, comments)
        if unit is not None:
            units.append(unit)
    block.clear()
