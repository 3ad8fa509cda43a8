"""The labelled code units (tests/data/related_units*.yaml) as the model sees them.

Shared by the retrieval benchmark and the projection-head trainer, so both read each unit through
the product's own renderer. Build and evaluation tooling: nothing at run time imports it.

An entry's `language` (python when left out; javascript, typescript, tsx, go) names the grammar
its `code` is parsed in and the spec that analyses it; each language's units are judged by the
gates compiled for that language, as `check --related` and the editor judge them.
"""

from __future__ import annotations

import textwrap
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from lessonlens.analyzers.engine import AnalysisOptions
from lessonlens.analyzers.facade import Selection, analyse
from lessonlens.analyzers.languages import LanguageSpec, language_for_id
from lessonlens.analyzers.model import CodeUnit
from lessonlens.lessons.catalog import load_catalog
from lessonlens.model_runtime.applicability import Applicability, Verdict
from lessonlens.model_runtime.related import document_units

DATA = Path(__file__).resolve().parents[2] / "tests" / "data"
# Python's units: the head's training data (train_head.py --labelled reads this file only).
DEFAULT_PATH = DATA / "related_units.yaml"
# JavaScript, TypeScript and Go units, from real projects.
JS_GO_PATH = DATA / "related_units_js_go.yaml"
ALL_PATHS = (DEFAULT_PATH, JS_GO_PATH)


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
    # The language the code is in (a language id: python, javascript, typescript, tsx, go).
    language: str = "python"

    @property
    def followed(self) -> frozenset[str]:
        """Lessons whose `satisfied-if` gates show the unit already follows them."""
        return frozenset(k for k, v in self.verdicts.items() if v.followed is not None)

    @property
    def lesson_language(self) -> str:
        """The lesson language whose lessons serve the unit (`javascript` for TypeScript too)."""
        spec = language_for_id(self.language)
        return spec.lessons if spec is not None else self.language

    @property
    def source_file(self) -> str | None:
        """The quoted file, relative to the standard library or site-packages; None if written."""
        if self.source.startswith("written"):
            return None
        path = self.source.split(",")[0].split()[-1]
        return path.removeprefix("Lib/")


def _spec(language: str, entry_id: str) -> LanguageSpec:
    spec = language_for_id(language)
    if spec is None or spec.code_units is None:
        raise ValueError(f"{entry_id}: no language {language!r} with code units")
    return spec


def _own_unit(units: Sequence[CodeUnit], name: str | None, entry_id: str) -> int:
    """The excerpt's own unit: the one ``name`` names, or the outermost (a class, not its methods).

    A JavaScript or TypeScript method is quoted inside its class's header (a method is no
    statement on its own), so its entry names it: `unit: Class.method`.
    """
    if name is not None:
        named = [i for i, u in enumerate(units) if u.name == name]
        if len(named) != 1:
            found = ", ".join(u.name for u in units)
            raise ValueError(f"{entry_id}: no single unit named {name!r} (units: {found})")
        return named[0]
    return max(range(len(units)), key=lambda i: units[i].span.end_byte - units[i].span.start_byte)


def load_items(paths: Path | Sequence[Path] = ALL_PATHS) -> list[Item]:
    """The labelled units, each read as `check --related` and the editor read it."""
    lessons = list(load_catalog([]).lessons.values())
    gates: dict[str, Applicability] = {}  # one per language, as the product compiles them
    options = AnalysisOptions()
    items: list[Item] = []
    seen: set[str] = set()
    for path in [paths] if isinstance(paths, Path) else paths:
        for entry in yaml.safe_load(path.read_text("utf-8")):
            if entry["id"] in seen:
                raise ValueError(f"{entry['id']}: the id is used twice")
            seen.add(entry["id"])
            language = entry.get("language", "python")
            spec = _spec(language, entry["id"])
            if spec.id not in gates:
                gates[spec.id] = Applicability(lessons, spec)
            source = textwrap.dedent(entry["code"]).encode()
            # The default rules, as a project with no selection of its own sees them.
            analysed = analyse(source, spec, options).narrowed(Selection())
            analysis = analysed.analysis
            units, verdicts = document_units(gates[spec.id], analysed)
            if not units:
                raise ValueError(f"{entry['id']}: no code unit in its code")
            row = _own_unit(units, entry.get("unit"), entry["id"])
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
                    spec.id,
                )
            )
    return items
