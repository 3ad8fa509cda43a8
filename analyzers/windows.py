"""Code read as pairs of lines: where the model matches idioms, in any language."""

from __future__ import annotations

import itertools

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
