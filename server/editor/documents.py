"""Open documents: text as UTF-8 bytes, a line index, and the tree kept up to date by edits.

Offsets here are bytes and rows are zero-based, as tree-sitter counts them; the protocol
adapter converts the editor's positions (UTF-16 by default) before it calls in.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import accumulate

from lessonlens.analyzers import parsing
from lessonlens.analyzers.languages import LanguageSpec


def line_starts(data: bytes) -> list[int]:
    """Byte offset of the start of each line (split in C, summed in C: cheap on big files)."""
    return [0, *accumulate(len(line) + 1 for line in data.split(b"\n")[:-1])]


@dataclass
class Document:
    uri: str
    language: LanguageSpec
    version: int
    data: bytes
    # Bumped on every edit: versions come from the client and need not step by one.
    revision: int = 0
    tree: parsing.Tree | None = None
    _lines: list[int] | None = field(default=None, repr=False)

    @property
    def lines(self) -> list[int]:
        if self._lines is None:
            self._lines = line_starts(self.data)
        return self._lines

    def line_bytes(self, row: int) -> bytes:
        """The bytes of line ``row`` without its line break; empty past the end."""
        lines = self.lines
        if row < 0 or row >= len(lines):
            return b""
        end = lines[row + 1] - 1 if row + 1 < len(lines) else len(self.data)
        return self.data[lines[row] : end]

    def point(self, offset: int) -> tuple[int, int]:
        """(row, byte column) of a byte offset."""
        lines = self.lines
        low, high = 0, len(lines) - 1
        while low < high:
            middle = (low + high + 1) // 2
            if lines[middle] <= offset:
                low = middle
            else:
                high = middle - 1
        return low, offset - lines[low]

    def replace(self, start: int, end: int, text: str) -> None:
        """Replace bytes ``start:end`` by ``text``; the tree hears of it, so re-parsing is cheap."""
        start = max(0, min(start, len(self.data)))
        end = max(start, min(end, len(self.data)))
        new = text.encode("utf-8", "surrogatepass")
        start_point, old_end_point = self.point(start), self.point(end)
        self.data = self.data[:start] + new + self.data[end:]
        self._lines = None
        if self.tree is not None:
            parsing.edit(
                self.tree,
                start,
                end,
                start + len(new),
                start_point,
                old_end_point,
                self.point(start + len(new)),
            )
        self.revision += 1

    def set_text(self, text: str) -> None:
        self.data = text.encode("utf-8", "surrogatepass")
        self._lines = None
        self.tree = None
        self.revision += 1
