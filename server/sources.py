"""Reading files to analyse: encodings, binary files, size limits. Never raises on bad input."""

from __future__ import annotations

import io
import stat
import tokenize
from dataclasses import dataclass
from pathlib import Path


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


def decode_python(raw: bytes) -> tuple[str, str | None]:
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


def read_source(path: Path, max_size: int) -> Source | Skipped:
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
    text, notice = decode_python(raw)
    if text.startswith("\ufeff"):
        text = text[1:]
    data = text.encode("utf-8", "surrogatepass")
    return Source(data, notice, transformed=data != raw)
