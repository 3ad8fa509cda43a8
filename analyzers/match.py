"""What a rule's predicate sees: one query match, plus lazily computed facts about the file."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from lessonlens.analyzers.model import Span
from lessonlens.analyzers.parsing import Node


def span_of(node: Node, end: Node | None = None) -> Span:
    last = end if end is not None else node
    return Span(
        start_row=node.start_point[0],
        start_col=node.start_point[1],
        end_row=last.end_point[0],
        end_col=last.end_point[1],
        start_byte=node.start_byte,
        end_byte=last.end_byte,
    )


@dataclass
class FileContext:
    """Per-analysis state shared by every match in one file."""

    source: bytes
    root: Node
    # The language's options for this file (``target-python``): see ``LanguageSpec.options``.
    options: Mapping[str, Any] = field(default_factory=dict)
    test_code: bool = False
    # Facts computed on first use by language helpers (imports, aliases, ...).
    facts: dict[str, Any] = field(default_factory=dict)


@dataclass
class Match:
    captures: dict[str, list[Node]]
    file: FileContext

    def node(self, name: str) -> Node:
        return self.captures[name][0]

    def nodes(self, name: str) -> list[Node]:
        return self.captures.get(name, [])

    def get(self, name: str) -> Node | None:
        found = self.captures.get(name)
        return found[0] if found else None

    def text(self, node: Node) -> str:
        return self.file.source[node.start_byte : node.end_byte].decode("utf-8", "replace")

    @property
    def options(self) -> Mapping[str, Any]:
        return self.file.options
