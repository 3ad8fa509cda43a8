"""Reading files to analyse: encodings, binary files, size limits. Never raises on bad input."""

from __future__ import annotations

import stat
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from lessonlens.analyzers.languages import decode_utf8


@dataclass(frozen=True)
class Source:
    """Text ready for analysis: UTF-8 bytes, whatever the file's own encoding was."""

    data: bytes
    # A notice for the user when decoding needed replacement characters.
    notice: str | None = None
    # Whether ``data`` differs from the bytes on disk (BOM dropped, re-encoded, replaced): then
    # byte offsets into ``data`` do not address the file, and fixes must not be offered.
    transformed: bool = False


@dataclass(frozen=True)
class Skipped:
    reason: str


def read_source(
    path: Path, max_size: int, decode: Callable[[bytes], tuple[str, str | None]] = decode_utf8
) -> Source | Skipped:
    """The file's text as UTF-8 bytes, decoded by its language (``LanguageSpec.decode``)."""
    try:
        info = path.stat()
        # A FIFO or device named like source would block the read forever or never end.
        if not stat.S_ISREG(info.st_mode):
            return Skipped("skipped: not a regular file")
        size = info.st_size
        if size > max_size:
            return Skipped(f"skipped: {size:,} bytes is over the {max_size:,}-byte limit")
        raw = path.read_bytes()
    except OSError as exc:
        return Skipped(f"cannot read: {exc.strerror or exc}")
    if b"\x00" in raw[:8192]:
        return Skipped("skipped: binary file")
    text, notice = decode(raw)
    if text.startswith("\ufeff"):
        text = text[1:]
    data = text.encode("utf-8", "surrogatepass")
    return Source(data, notice, transformed=data != raw)
