"""Every rule against its annotated fixture: ``# expect: ID`` marks the next line."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from lessonlens.analyzers import AnalysisOptions, analyze, language_for_id
from lessonlens.analyzers.engine import rule_set

FIXTURES = Path(__file__).parent / "fixtures" / "rules" / "python"
PYTHON = language_for_id("python")
assert PYTHON is not None
RULES = rule_set(PYTHON).rules
EXPECT = re.compile(r"#\s*expect:\s*(?P<ids>[A-Z0-9, ]+)(?:fix=(?P<fix>safe|unsafe|none))?")
OK = re.compile(r"#\s*ok\b")
TARGET = re.compile(r"#\s*target-python:\s*(\d+)\.(\d+)")


def expectations(text: str) -> tuple[set[tuple[int, str]], int]:
    expected: set[tuple[int, str]] = set()
    negatives = 0
    for row, line in enumerate(text.splitlines()):
        if found := EXPECT.search(line):
            for rule_id in found["ids"].replace(",", " ").split():
                expected.add((row + 1, rule_id))
        elif OK.search(line):
            negatives += 1
    return expected, negatives


def fix_expectations(text: str) -> dict[int, str]:
    """Rows (zero-based) whose ``# expect: ID fix=safe|unsafe|none`` names the fix it offers."""
    return {
        row + 1: found["fix"]
        for row, line in enumerate(text.splitlines())
        if (found := EXPECT.search(line)) and found["fix"]
    }


def check(source: str, rule_id: str, target: tuple[int, int] | None = (3, 11)) -> set[int]:
    """Rows (zero-based) where ``rule_id`` fires on ``source``."""
    options = AnalysisOptions(
        language_options={"target-python": target}, select=(rule_id,), strict=True
    )
    result = analyze(source.encode(), PYTHON, options)
    assert not result.problems
    return {f.span.start_row for f in result.findings if f.rule_id == rule_id}


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.id)
def test_rule_fixture(rule):
    path = FIXTURES / f"{rule.id}.py"
    assert path.exists(), f"{rule.id} has no fixture at {path}"
    text = path.read_text()
    expected, negatives = expectations(text)
    target_match = TARGET.search(text)
    target = (int(target_match[1]), int(target_match[2])) if target_match else (3, 11)
    assert len(expected) >= 2, "at least two positive cases"
    assert negatives >= 2, "at least two negative cases"
    assert {row for row, rid in expected if rid == rule.id} == check(text, rule.id, target)
    options = AnalysisOptions(
        language_options={"target-python": target}, select=(rule.id,), strict=True
    )
    offered = {
        f.span.start_row: "none" if f.fix is None else f.fix.applicability.value
        for f in analyze(text.encode(), PYTHON, options).findings
    }
    for row, fix in fix_expectations(text).items():
        assert offered.get(row) == fix, f"row {row + 1}: expected fix={fix}, got {offered.get(row)}"


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.id)
def test_rule_fix_keeps_code_valid(rule):
    """A fix, applied, must leave code that parses cleanly and silences the finding."""
    text = (FIXTURES / f"{rule.id}.py").read_text()
    source = text.encode()
    options = AnalysisOptions(
        language_options={"target-python": (3, 11)}, select=(rule.id,), strict=True
    )
    for finding in analyze(source, PYTHON, options).findings:
        if finding.fix is None:
            continue
        fixed = source
        for edit in sorted(finding.fix.edits, key=lambda e: -e.span.start_byte):
            fixed = (
                fixed[: edit.span.start_byte] + edit.new_text.encode() + fixed[edit.span.end_byte :]
            )
        after = analyze(fixed, PYTHON, options)
        assert not after.error_ranges, f"fix for row {finding.span.start_row} broke the code"
        assert len(after.findings) == len(analyze(source, PYTHON, options).findings) - 1


def test_zip_lists_the_sequences_in_reading_order():
    source = "def f(a, b, c):\n    for i in range(len(a)):\n        print(a[i] + b[i] * c[i])\n"
    options = AnalysisOptions(select=("PY003",), strict=True)
    (finding,) = analyze(source.encode(), PYTHON, options).findings
    assert "`zip(a, b, c, strict=True)`" in finding.message
    source = "def f(a, b):\n    for i in range(len(a)):\n        print(b[i], a[i])\n"
    (finding,) = analyze(source.encode(), PYTHON, options).findings
    assert "`zip(b, a, strict=True)`" in finding.message


def test_opt_in_rules_run_only_where_named():
    """PY006 and PY020 are true but rarely worth acting on: they speak only when asked for."""
    source = (
        b'import re\n\ndef dates(lines):\n    for line in lines:\n        re.match(r"\\d+", line)\n'
    )
    opt_in = {r.id for r in RULES if r.opt_in}
    assert opt_in == {"PY006", "PY020"}

    def fired(*select: str) -> set[str]:
        return {f.rule_id for f in analyze(source, PYTHON, AnalysisOptions(select=select)).findings}

    assert "PY006" not in fired()
    assert "PY006" not in fired("PY0")  # a prefix selects the default rules only
    assert "PY006" in fired("PY006")
    assert "PY006" in fired("regex-in-loop")
    assert fired("PY006", "PY001") == {"PY006"}  # beside default rules named with it


def test_an_index_that_only_reads_the_sequence_says_iterate_directly():
    source = "def f(path):\n    for i in range(len(path)):\n        print(path[i])\n"
    options = AnalysisOptions(select=("PY003",), strict=True)
    (finding,) = analyze(source.encode(), PYTHON, options).findings
    assert "iterate `path` directly" in finding.message


def test_a_file_that_imports_test_support_is_test_code():
    """Performance advice in tests is noise: `sqlalchemy.testing`, `django.test` mark them."""
    body = "\n\ndef collect(users):\n    return any([u.orders for u in users])\n"
    options = AnalysisOptions(select=("PY013",), strict=True)
    assert analyze(body.encode(), PYTHON, options).findings
    for header in ("from sqlalchemy.testing import fixtures", "from django.test import TestCase"):
        assert not analyze((header + body).encode(), PYTHON, options).findings


def test_len_tests_in_a_package_speak_only_of_builtins():
    """In a package's own module a sized object may be its own class, whose truthiness need
    not follow len() (SQLAlchemy's ClauseList raises on bool()): only known builtins get it."""
    body = (
        "def visit(fn):\n    if len(fn.clauses) > 0:\n        return 1\n"
        "    words = fn.name.split()\n    if len(words) == 0:\n        return 0\n"
    )
    options = AnalysisOptions(select=("PY008",), strict=True)

    def rows(source: str) -> list[int]:
        return [f.span.start_row for f in analyze(source.encode(), PYTHON, options).findings]

    assert rows(body) == [1, 4]
    assert rows("from . import elements\n\n" + body) == [6]


def test_none_comparisons_that_may_build_a_query_are_left_alone():
    """`return User.deleted == None` builds `IS NULL` in SQLAlchemy code and in SQLAlchemy's
    own modules (which import themselves relatively); in a condition it would raise instead."""
    body = "def f(x):\n    if x == None:\n        return 0\n    return x.deleted == None\n"
    options = AnalysisOptions(select=("PY022",), strict=True)

    def rows(source: str) -> list[int]:
        return [f.span.start_row for f in analyze(source.encode(), PYTHON, options).findings]

    assert rows(body) == [1, 3]
    for header in ("import sqlalchemy as sa", "from .elements import ColumnElement"):
        assert rows(header + "\n\n" + body) == [3]


def test_a_file_never_closed_is_not_said_to_be_closed_only_without_errors():
    """The message comes from the function that opens the file, not another one that closes
    a file of the same name."""
    source = (
        "def windows():\n    f = open('a.log', 'a')\n    f.write('x')\n    f.close()\n\n\n"
        "def linux():\n    f = open('b.log', 'a')\n    f.write('x')\n"
    )
    options = AnalysisOptions(select=("PY014",), strict=True)
    found = {
        f.span.start_row: f.message for f in analyze(source.encode(), PYTHON, options).findings
    }
    assert "not closed if an exception is raised" in found[1]
    assert found[7] == "`f` is never closed; open it in a `with` block."


def test_style_advice_stays_out_of_tests_but_idioms_of_correctness_do_not():
    """`.keys()` or `== None` in a test is not worth a reviewer's time; a file left open is."""
    source = (
        "import pytest\n\n\ndef test_names(scores: dict, path):\n"
        "    for name in scores.keys():\n        assert name != None\n"
        "    f = open(path)\n    f.read()\n"
    )
    found = {f.rule_id for f in analyze(source.encode(), PYTHON, AnalysisOptions()).findings}
    assert found == {"PY014"}
    plain = source.replace("import pytest\n", "")
    found = {f.rule_id for f in analyze(plain.encode(), PYTHON, AnalysisOptions()).findings}
    assert found == {"PY010", "PY014", "PY022"}
    in_tests = AnalysisOptions(test_code=True)
    found = {f.rule_id for f in analyze(plain.encode(), PYTHON, in_tests).findings}
    assert found == {"PY014"}


def test_each_pattern_of_the_combined_query_has_the_owner_its_own_query_gives():
    """One compile, owners found by where patterns start: as if each query compiled alone."""
    from lessonlens.analyzers.rulesets import _checked_query, _query_text

    rules = rule_set(PYTHON)
    every = [*rules.rules, *rules.detectors]
    texts = [_query_text(PYTHON, owner.query) for owner in every]
    _, owners = _checked_query(rules.grammar, every, texts)
    assert [o.id for o in rules.owners] == [o.id for o in owners]


def test_test_code_is_walked_without_quiet_rules_and_finds_the_same(monkeypatch):
    """Test files use a query without the patterns of rules quiet in tests: same result."""
    from lessonlens.analyzers import engine

    options = AnalysisOptions(language_options={"target-python": (3, 11)}, test_code=True)
    sources = [p.read_bytes() for p in sorted(FIXTURES.glob("*.py"))]
    reduced = [analyze(source, PYTHON, options) for source in sources]
    rules = rule_set(PYTHON)
    assert engine._walk_query(rules, part="all", test_code=True)[0] is not rules.query
    walk_query = engine._walk_query
    monkeypatch.setattr(
        engine, "_walk_query", lambda r, part, test_code: walk_query(r, part=part, test_code=False)
    )
    full = [analyze(source, PYTHON, options) for source in sources]
    assert reduced == full
    assert any(a.findings for a in full) and any(a.evidence for a in full)
