"""Every skill-evidence detector against its annotated fixtures.

``# evidence: ID`` marks that evidence from ``ID`` starts on the next line; ``# none`` marks a
line where the fixture's detector must stay silent. A detector's fixtures are ``<ID>.py`` plus
any ``<ID>-<case>.py``: import facts are file-wide, so a shadowing import needs its own file.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from lessonlens.analyzers import AnalysisOptions, analyze, language_for_id
from lessonlens.analyzers.engine import rule_set

FIXTURES = Path(__file__).parent / "fixtures" / "evidence" / "python"
PYTHON = language_for_id("python")
assert PYTHON is not None
DETECTORS = rule_set(PYTHON).detectors
EVIDENCE = re.compile(r"#\s*evidence:\s*(?P<ids>[A-Z0-9, ]+)")
NONE = re.compile(r"#\s*none\b")


def markers(text: str) -> tuple[set[tuple[int, str]], set[int]]:
    """Rows (zero-based) of marked evidence, and of marked negatives."""
    expected: set[tuple[int, str]] = set()
    negatives: set[int] = set()
    for row, line in enumerate(text.splitlines()):
        if found := EVIDENCE.search(line):
            for detector_id in found["ids"].replace(",", " ").split():
                expected.add((row + 1, detector_id))
        elif NONE.search(line):
            negatives.add(row + 1)
    return expected, negatives


def evidence_rows(source: str, detector_id: str) -> set[int]:
    """Rows (zero-based) where ``detector_id`` reports evidence on ``source``."""
    result = analyze(
        source.encode(),
        PYTHON,
        AnalysisOptions(language_options={"target-python": (3, 11)}, strict=True),
    )
    assert not result.problems
    return {e.span.start_row for e in result.evidence if e.detector_id == detector_id}


def fixtures_for(detector_id: str) -> list[Path]:
    return [FIXTURES / f"{detector_id}.py", *sorted(FIXTURES.glob(f"{detector_id}-*.py"))]


@pytest.mark.parametrize("detector", DETECTORS, ids=lambda d: d.id)
def test_detector_fixture(detector):
    paths = fixtures_for(detector.id)
    assert paths[0].exists(), f"{detector.id} has no fixture at {paths[0]}"
    positives = negatives = 0
    for path in paths:
        text = path.read_text()
        expected, silent = markers(text)
        rows = {row for row, did in expected if did == detector.id}
        found = evidence_rows(text, detector.id)
        assert found == rows, f"{path.name}: evidence rows (zero-based) differ"
        assert not found & silent, f"{path.name}: evidence on a `# none` row"
        positives += len(rows)
        negatives += len(silent)
    assert positives >= 2, "at least two positive cases"
    assert negatives >= 2, "at least two negative cases"


def test_detector_ids_and_skills_are_known():
    skills = (Path(__file__).parents[1] / "lessons" / "skills.toml").read_text()
    for detector in DETECTORS:
        assert detector.language == "python"
        assert f'[skill."{detector.skill_id}"]' in skills, detector.id


BROKEN = """\
import asyncio
from collections import Counter

def fine(xs: list[int]) -> int:
    with open("f") as f:
        return sum(x for x in xs)

def broken(items):
    counts = Counter(items) +
    for i, item in enumerate(items):
        print(f"{i}: {item}" ])
    return [x for x in items if x in {"a", "b"}]

class Ok:
    def names(self) -> str:
        return ", ".join(f"{k}={v}" for k, v in self.d.items())
"""


def test_evidence_never_overlaps_errors():
    result = analyze(
        BROKEN.encode(),
        PYTHON,
        AnalysisOptions(language_options={"target-python": (3, 11)}, strict=True),
    )
    assert result.error_ranges, "the fixture must actually be broken"
    assert not result.problems
    found = {e.detector_id for e in result.evidence}
    # Code before and after the damage still counts: errors suppress evidence locally.
    assert found >= {"EV002", "EV003", "EV005", "EV015"}
    # `Counter(items)` sits inside the ERROR node, so tree-sitter's guess at it is not evidence.
    assert "EV008" not in found
    for item in result.evidence:
        for start, end in result.error_ranges:
            assert not item.span.overlaps(start, end), (item, (start, end))


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        # Reported on the name, which lies outside the damage: the detectors must look.
        ("def f(a: int, b) -> in t:\n    return 1\n", set()),
        ("def f(a: int, b: int\n    return 1\n", set()),
        ("def gen(xs):\n    x = [1, yield 2\n", set()),
        # A broken body does not unmake an annotated signature.
        ("def f(a: int, b) -> int:\n    return 1 +\n", {"EV005"}),
    ],
)
def test_evidence_on_names_checks_the_damage(source, expected):
    result = analyze(source.encode(), PYTHON, AnalysisOptions(strict=True))
    assert result.error_ranges
    assert {e.detector_id for e in result.evidence} == expected
