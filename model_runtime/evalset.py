"""The labelled code units (tests/data/related_units.yaml) as the model sees them.

Shared by the retrieval benchmark and the projection-head trainer, so both read each unit through
the product's own renderer. Build and evaluation tooling: nothing at run time imports it.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass
from pathlib import Path

import yaml

from lessonlens.analyzers import parsing
from lessonlens.analyzers.languages import language_for_id
from lessonlens.analyzers.model import CodeUnit

DEFAULT_PATH = Path(__file__).resolve().parent.parent / "tests" / "data" / "related_units.yaml"


@dataclass(frozen=True)
class Item:
    id: str
    split: str  # "dev" or "test"
    lessons: tuple[str, ...]  # most relevant first; () = should get nothing
    skills: tuple[str, ...]
    unit: CodeUnit
    source: str  # "CPython 3.11.7 Lib/difflib.py, SequenceMatcher.quick_ratio", or "written ..."

    @property
    def source_file(self) -> str | None:
        """The quoted file, relative to the standard library or site-packages; None if written."""
        if self.source.startswith("written"):
            return None
        path = self.source.split(",")[0].split()[-1]
        return path.removeprefix("Lib/")


def load_items(path: Path = DEFAULT_PATH) -> list[Item]:
    spec = language_for_id("python")
    assert spec is not None and spec.code_units is not None
    parser = parsing.new_parser(parsing.language(spec.grammar))
    items = []
    for entry in yaml.safe_load(path.read_text("utf-8")):
        source = textwrap.dedent(entry["code"]).encode()
        units = spec.code_units(parsing.parse(parser, source).root_node, source)
        if not units:
            raise ValueError(f"{entry['id']}: no code unit in its code")
        # The excerpt's own unit: the outermost one (a class, not its methods).
        unit = max(units, key=lambda u: u.span.end_byte - u.span.start_byte)
        items.append(
            Item(
                entry["id"],
                entry["split"],
                tuple(entry["lessons"]),
                tuple(entry["skills"]),
                unit,
                entry["source"],
            )
        )
    return items
