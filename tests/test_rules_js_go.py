"""JavaScript/TypeScript and Go rules and detectors against their annotated fixtures.

A rule's fixtures are ``fixtures/rules/<language>/<ID>*.<ext>``: ``// expect: ID`` (optionally
``fix=safe|unsafe|none``) marks that the rule fires on the next line, ``// ok`` marks a tricky
line where it must stay silent. Each file is analysed by the language its extension names
(``.js``, ``.ts``, ``.tsx``, ``.go``), so one rule can be proved on JavaScript and TypeScript
alike. A detector's fixtures are ``fixtures/evidence/<language>/<ID>*``, with ``// evidence: ID``
and ``// none``. A ``// target-go: 1.22`` line sets the Go version.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from lessonlens.analyzers import AnalysisOptions, analyze, language_for_id, language_for_path
from lessonlens.analyzers.engine import rule_set
from lessonlens.analyzers.languages import LanguageSpec

HERE = Path(__file__).parent / "fixtures"
SPECS = {name: language_for_id(name) for name in ("javascript", "typescript", "tsx", "go")}
FAMILIES = {"javascript": ("javascript", "typescript", "tsx"), "go": ("go",)}
RULES = [(family, r) for family, ids in FAMILIES.items() for r in rule_set(SPECS[ids[0]]).rules]
DETECTORS = [
    (family, d) for family, ids in FAMILIES.items() for d in rule_set(SPECS[ids[0]]).detectors
]
EXPECT = re.compile(
    r"//\s*expect:\s*(?P<ids>[A-Z0-9, ]+?)\s*(?:fix=(?P<fix>safe|unsafe|none))?\s*$"
)
OK = re.compile(r"//\s*ok\b")
EVIDENCE = re.compile(r"//\s*evidence:\s*(?P<ids>[A-Z0-9, ]+)")
NONE = re.compile(r"//\s*none\b")
TARGET_GO = re.compile(r"//\s*target-go:\s*1\.(\d+)")


def _options(text: str, select: tuple[str, ...]) -> AnalysisOptions:
    found = TARGET_GO.search(text)
    language = {"target-go": (1, int(found[1]))} if found else {}
    return AnalysisOptions(language_options=language, select=select, strict=True)


def _spec(path: Path) -> LanguageSpec:
    spec = language_for_path(path)
    assert spec is not None, path
    return spec


def fixtures(kind: str, family: str, owner_id: str) -> list[Path]:
    return sorted((HERE / kind / family).glob(f"{owner_id}*.*"))


def test_every_query_compiles_for_every_grammar_of_its_language():
    """One package, three grammars: a node type TypeScript lacks would break the .ts files."""
    for family, ids in FAMILIES.items():
        owners = {r.id for r in rule_set(SPECS[ids[0]]).rules}
        for name in ids:
            assert {r.id for r in rule_set(SPECS[name]).rules} == owners, (family, name)


@pytest.mark.parametrize(("family", "rule"), RULES, ids=lambda v: getattr(v, "id", v))
def test_rule_fixture(family, rule):
    paths = fixtures("rules", family, rule.id)
    assert paths, f"{rule.id} has no fixture in fixtures/rules/{family}/"
    positives = negatives = 0
    for path in paths:
        text = path.read_text()
        expected: set[int] = set()
        fixes: dict[int, str] = {}
        for row, line in enumerate(text.splitlines()):
            if found := EXPECT.search(line):
                if rule.id in found["ids"].replace(",", " ").split():
                    expected.add(row + 1)
                    if found["fix"]:
                        fixes[row + 1] = found["fix"]
            elif OK.search(line):
                negatives += 1
        positives += len(expected)
        result = analyze(text.encode(), _spec(path), _options(text, (rule.id,)))
        assert not result.problems, result.problems
        fired = {f.span.start_row for f in result.findings if f.rule_id == rule.id}
        assert fired == expected, f"{path.name}: fired on {sorted(r + 1 for r in fired)}"
        offered = {
            f.span.start_row: "none" if f.fix is None else f.fix.applicability.value
            for f in result.findings
        }
        for row, fix in fixes.items():
            assert offered.get(row) == fix, f"{path.name}:{row + 1}: fix={offered.get(row)}"
    assert positives >= 2, "at least two positive cases"
    assert negatives >= 3, "at least three negative cases"


@pytest.mark.parametrize(("family", "rule"), RULES, ids=lambda v: getattr(v, "id", v))
def test_rule_fix_keeps_code_valid(family, rule):
    """A fix, applied, leaves code that parses cleanly and no longer fires."""
    for path in fixtures("rules", family, rule.id):
        text = path.read_text()
        source, spec, options = text.encode(), _spec(path), _options(text, (rule.id,))
        before = analyze(source, spec, options).findings
        for finding in before:
            if finding.fix is None:
                continue
            fixed = source
            for edit in sorted(finding.fix.edits, key=lambda e: -e.span.start_byte):
                fixed = (
                    fixed[: edit.span.start_byte]
                    + edit.new_text.encode()
                    + fixed[edit.span.end_byte :]
                )
            after = analyze(fixed, spec, options)
            assert not after.error_ranges, f"{path.name}:{finding.span.start_row + 1} broke code"
            assert len(after.findings) == len(before) - 1, f"{path.name} still fires"


@pytest.mark.parametrize(("family", "detector"), DETECTORS, ids=lambda v: getattr(v, "id", v))
def test_detector_fixture(family, detector):
    paths = fixtures("evidence", family, detector.id)
    assert paths, f"{detector.id} has no fixture in fixtures/evidence/{family}/"
    positives = negatives = 0
    for path in paths:
        text = path.read_text()
        expected: set[int] = set()
        silent: set[int] = set()
        for row, line in enumerate(text.splitlines()):
            if found := EVIDENCE.search(line):
                if detector.id in found["ids"].replace(",", " ").split():
                    expected.add(row + 1)
            elif NONE.search(line):
                silent.add(row + 1)
        positives += len(expected)
        negatives += len(silent)
        result = analyze(text.encode(), _spec(path), _options(text, ()))
        seen = {e.span.start_row for e in result.evidence if e.detector_id == detector.id}
        assert expected <= seen, f"{path.name}: missing {sorted(r + 1 for r in expected - seen)}"
        assert not seen & silent, f"{path.name}: fired on {sorted(r + 1 for r in seen & silent)}"
    assert positives >= 2 and negatives >= 2


def test_at_least_six_detectors_per_language():
    for family in FAMILIES:
        assert len([d for f, d in DETECTORS if f == family]) >= 6, family


def test_rule_names_are_unique_across_languages():
    """`explain`, `--select` and `# noqa`-style names reach a rule by name, in any language."""
    from lessonlens.analyzers.facade import rules_by_id

    names = [rule.name for rule in rules_by_id().values()]
    assert sorted({n for n in names if names.count(n) > 1}) == []


def test_test_code_walked_without_quiet_rules_finds_the_same(monkeypatch):
    """JS and Go test files use the query without quiet rules' patterns: same findings."""
    from lessonlens.analyzers import engine

    paths = sorted([*(HERE / "rules").glob("*/*.*"), *(HERE / "evidence").glob("*/*.*")])
    paths = [p for p in paths if p.parent.name in FAMILIES]
    options = AnalysisOptions(language_options={"target-go": (1, 22)}, test_code=True)
    reduced = [analyze(p.read_bytes(), _spec(p), options) for p in paths]
    walk_query = engine._walk_query
    monkeypatch.setattr(
        engine, "_walk_query", lambda r, part, test_code: walk_query(r, part=part, test_code=False)
    )
    full = [analyze(p.read_bytes(), _spec(p), options) for p in paths]
    assert reduced == full
    assert any(a.findings for a in full) and any(a.evidence for a in full)
