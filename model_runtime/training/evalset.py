"""The labelled code units (tests/data/related_units.yaml) as the model sees them.

Shared by the retrieval benchmark and the projection-head trainer, so both read each unit through
the product's own renderer. Build and evaluation tooling: nothing at run time imports it.
"""

from __future__ import annotations

import textwrap
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from lessonlens.analyzers.engine import AnalysisOptions
from lessonlens.analyzers.facade import Selection, analyse
from lessonlens.analyzers.languages import language_for_id
from lessonlens.analyzers.model import CodeUnit
from lessonlens.lessons.catalog import load_catalog
from lessonlens.model_runtime.applicability import Applicability, Verdict
from lessonlens.model_runtime.related import document_units

DEFAULT_PATH = Path(__file__).resolve().parents[2] / "tests" / "data" / "related_units.yaml"


@dataclass(frozen=True)
class Item:
    id: str
    split: str  # "dev" or "test"
    lessons: tuple[str, ...]  # most relevant first; () = should get nothing
    skills: tuple[str, ...]
    unit: CodeUnit
    source: str  # "CPython 3.11.7 Lib/difflib.py, SequenceMatcher.quick_ratio", or "written ..."
    # Lessons the unit resembles but that would be wrong for it (it already follows them, or
    # the situation only looks like theirs); with `lessons: []`, a near miss.
    near_miss: tuple[str, ...] = ()
    # As the product decides: each lesson's applicability to the unit (its gates), and the
    # rules that fire in it (where one does, the product shows no lens).
    verdicts: Mapping[str, Verdict] = field(default_factory=dict)
    rules: tuple[str, ...] = ()

    @property
    def followed(self) -> frozenset[str]:
        """Lessons whose `satisfied-if` gates show the unit already follows them."""
        return frozenset(k for k, v in self.verdicts.items() if v.followed is not None)

    @property
    def source_file(self) -> str | None:
        """The quoted file, relative to the standard library or site-packages; None if written."""
        if self.source.startswith("written"):
            return None
        path = self.source.split(",")[0].split()[-1]
        return path.removeprefix("Lib/")


def load_items(path: Path = DEFAULT_PATH) -> list[Item]:
    """The labelled units, each read as `check --related` and the editor read it."""
    spec = language_for_id("python")
    assert spec is not None and spec.code_units is not None
    gates = Applicability(load_catalog([]).lessons.values(), spec)
    options = AnalysisOptions()
    items = []
    for entry in yaml.safe_load(path.read_text("utf-8")):
        source = textwrap.dedent(entry["code"]).encode()
        # The default rules, as a project with no selection of its own sees them.
        analysed = analyse(source, spec, options).narrowed(Selection())
        analysis = analysed.analysis
        units, verdicts = document_units(gates, analysed)
        if not units:
            raise ValueError(f"{entry['id']}: no code unit in its code")
        # The excerpt's own unit: the outermost one (a class, not its methods).
        row = max(
            range(len(units)), key=lambda i: units[i].span.end_byte - units[i].span.start_byte
        )
        unit = units[row]
        rules = sorted(
            {
                f.rule_id
                for f in analysis.findings
                if unit.span.overlaps(f.span.start_byte, f.span.end_byte)
            }
        )
        items.append(
            Item(
                entry["id"],
                entry["split"],
                tuple(entry["lessons"]),
                tuple(entry["skills"]),
                unit,
                entry["source"],
                tuple(entry.get("near_miss", ())),
                verdicts[row],
                tuple(rules),
            )
        )
    return items
