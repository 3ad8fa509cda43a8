"""Invariants of the analyzer on arbitrary and randomly edited input (hypothesis)."""

from __future__ import annotations

import sysconfig
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lessonlens.analyzers import AnalysisOptions, analyze, analyze_tree, language_for_id, parsing
from lessonlens.analyzers.engine import rule_set

PYTHON = language_for_id("python")
assert PYTHON is not None
OPTIONS = AnalysisOptions(language_options={"target-python": (3, 10)}, strict=True)
FIXTURES = Path(__file__).parent / "fixtures" / "rules" / "python"
SEEDS = [p.read_text() for p in sorted(FIXTURES.glob("*.py"))]
# A real module with classes, methods and module-level code, for the unit cache.
CLASS_SEED = (Path(sysconfig.get_paths()["stdlib"]) / "textwrap.py").read_text()

# Pieces of Python that rules look at, so random text hits rule code paths, not only ERRORs.
FRAGMENTS = [
    "for x in xs:\n    ",
    "while q:\n    ",
    "if k in d:\n    ",
    "else:\n    ",
    "\n",
    "    ",
    "x in [1, 2, 3, 4]",
    "s += 'a'",
    "out.append(x)",
    "out = []\n",
    "range(len(xs))",
    "xs[i]",
    "sorted(x)[0]",
    "len(x) == 0",
    "d.keys()",
    "open(p)",
    "json.loads(f.read())",
    "re.match('a', s)",
    "async def f():\n    ",
    "def f(a=[]):\n    ",
    "try:\n    ",
    "except E:\n    break\n",
    "time.sleep(1)",
    "x == None",
    "lst = lst + [x]",
    "any([x for x in y])",
    "import re\n",
    "import json\n",
    "import time\n",
    # Imports whose names units read, and imports that change what the file imports as a whole.
    "from json import load, loads\n",
    "from re import match\n",
    "import re as regex\n",
    "from . import sibling\n",
    "import numpy as np\n",
    "from xml import dom\n",
    "def sorted(x):\n    ",
    "sorted(xs)[-1]",
    "match('a', s)",
    "é",
    "日本",
    "🙂",
    "(",
    ")",
    ":",
    "'",
    '"',
]
python_ish = st.lists(st.one_of(st.sampled_from(FRAGMENTS), st.text(max_size=8)), max_size=40).map(
    "".join
)


def check_spans(source: bytes, analysis) -> None:
    rows = source.count(b"\n")
    for item in [*analysis.findings, *analysis.evidence]:
        span = item.span
        assert 0 <= span.start_byte <= span.end_byte <= len(source)
        assert 0 <= span.start_row <= span.end_row <= rows
        for edit in item.fix.edits if getattr(item, "fix", None) else ():
            assert 0 <= edit.span.start_byte <= edit.span.end_byte <= len(source)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(python_ish)
def test_arbitrary_text_never_raises_and_spans_stay_in_the_document(text):
    source = text.encode("utf-8", "surrogatepass")
    analysis = analyze(source, PYTHON, OPTIONS)
    assert not analysis.problems
    check_spans(source, analysis)
    for item in [*analysis.findings, *analysis.evidence]:
        assert not any(item.span.overlaps(a, b) for a, b in analysis.error_ranges)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=300))
def test_arbitrary_bytes_never_raise(data):
    check_spans(data, analyze(data, PYTHON, OPTIONS))


def point(source: bytes, offset: int) -> tuple[int, int]:
    row = source.count(b"\n", 0, offset)
    return row, offset - (source.rfind(b"\n", 0, offset) + 1)


edits = st.lists(
    st.tuples(
        st.floats(0, 1),
        st.integers(0, 12),
        st.one_of(st.sampled_from(FRAGMENTS), st.text(max_size=6)),
    ),
    min_size=1,
    max_size=8,
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(SEEDS), edits)
def test_incremental_reparse_gives_the_same_findings_as_a_fresh_parse(seed, changes):
    grammar = rule_set(PYTHON).grammar
    parser = parsing.new_parser(grammar)
    source = seed.encode()
    tree = parsing.parse(parser, source)
    for where, delete, insert in changes:
        start = int(where * len(source))
        # Keep edits on UTF-8 character boundaries, as an editor would.
        while start < len(source) and (source[start] & 0xC0) == 0x80:
            start += 1
        end = min(len(source), start + delete)
        while end < len(source) and (source[end] & 0xC0) == 0x80:
            end += 1
        new_bytes = insert.encode("utf-8", "surrogatepass")
        updated = source[:start] + new_bytes + source[end:]
        parsing.edit(
            tree,
            start,
            end,
            start + len(new_bytes),
            point(source, start),
            point(source, end),
            point(updated, start + len(new_bytes)),
        )
        source = updated
        tree = parsing.parse(parser, source, tree)
    incremental = analyze_tree(tree, source, PYTHON, OPTIONS)
    fresh = analyze(source, PYTHON, OPTIONS)
    assert incremental.findings == fresh.findings
    assert incremental.evidence == fresh.evidence


def test_invalid_utf8_is_analysed_with_the_same_offsets():
    """Invalid bytes inside strings that predicates read must not stop the analysis."""
    source = (
        b'import json, time\nasync def f(p):\n    time.sleep("\xff\xfe")\n'
        b'    return json.loads(open("\xc3(").read())\n'
    )
    analysis = analyze(source, PYTHON, OPTIONS)
    assert not analysis.problems
    assert {f.rule_id for f in analysis.findings} >= {"PY016"}
    for finding in analysis.findings:
        assert finding.span.end_byte <= len(source)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from([*SEEDS, CLASS_SEED, CLASS_SEED]), st.lists(edits, min_size=1, max_size=4))
def test_unit_cache_gives_the_same_analysis_as_a_fresh_one(seed, rounds):
    """An editor analyses after each burst of edits, reusing unchanged definitions."""
    from lessonlens.analyzers.engine import UnitCache

    cache = UnitCache()
    # The editor's way: the findings first, then the evidence, each part with its own cache.
    finding_cache, evidence_cache = UnitCache(), UnitCache()
    source = seed.encode()
    tree = parsing.parse(parsing.new_parser(rule_set(PYTHON).grammar), source)
    analyze_tree(tree, source, PYTHON, OPTIONS, cache)
    analyze_tree(tree, source, PYTHON, OPTIONS, finding_cache, "findings")
    analyze_tree(tree, source, PYTHON, OPTIONS, evidence_cache, "evidence")
    for changes in rounds:
        for where, delete, insert in changes:
            start = int(where * len(source))
            while start < len(source) and (source[start] & 0xC0) == 0x80:
                start += 1
            end = min(len(source), start + delete)
            while end < len(source) and (source[end] & 0xC0) == 0x80:
                end += 1
            source = source[:start] + insert.encode("utf-8", "surrogatepass") + source[end:]
        tree = parsing.parse(parsing.new_parser(rule_set(PYTHON).grammar), source)
        cached = analyze_tree(tree, source, PYTHON, OPTIONS, cache)
        fresh = analyze(source, PYTHON, OPTIONS)
        assert cached.findings == fresh.findings
        assert cached.evidence == fresh.evidence
        shown = analyze_tree(tree, source, PYTHON, OPTIONS, finding_cache, "findings")
        recorded = analyze_tree(tree, source, PYTHON, OPTIONS, evidence_cache, "evidence")
        assert (shown.findings, shown.evidence) == (fresh.findings, ())
        assert (recorded.findings, recorded.evidence) == ((), fresh.evidence)


def test_unit_cache_while_typing_in_a_large_real_module():
    from lessonlens.analyzers.engine import UnitCache

    source = (Path(sysconfig.get_paths()["stdlib"]) / "textwrap.py").read_bytes()
    cache = UnitCache()
    parser = parsing.new_parser(rule_set(PYTHON).grammar)
    # Type into function bodies, add and remove an import, and rename a module-level name.
    edits = [
        (
            b"        return text",
            b"        s = ''\n        for c in text:\n            s += c\n        return text",
        ),
        (b"import re", b"import re\nimport json"),
        (b"import json\n", b""),
        (b"_whitespace = ", b"sorted = None\n_whitespace = "),
        # What an imported name means changes: only the units that write it are walked again.
        (b"import re\n", b"import re\nfrom re import sub as compile\n"),
        (b"from re import sub as compile\n", b"from re import compile\n"),
        (b"import re\n", b"import re\nfrom . import width\n"),
        (b"from . import width\n", b"from pandas import width\n"),
    ]
    analyze_tree(parsing.parse(parser, source), source, PYTHON, OPTIONS, cache)
    for old, new in edits:
        assert old in source
        source = source.replace(old, new, 1)
        tree = parsing.parse(parser, source)
        cached = analyze_tree(tree, source, PYTHON, OPTIONS, cache)
        fresh = analyze(source, PYTHON, OPTIONS)
        assert cached.findings == fresh.findings
        assert cached.evidence == fresh.evidence


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from([*SEEDS, CLASS_SEED]), st.lists(edits, min_size=1, max_size=3))
def test_a_new_version_parsed_from_the_last_one_analyses_as_a_fresh_one(seed, rounds):
    """``facade.edit_to`` between two versions of a file (as ``baseline`` does between commits)
    tells the old tree one edit; parsing and analysing from it equals a fresh analysis."""
    from lessonlens.analyzers.engine import UnitCache, valid_utf8
    from lessonlens.analyzers.facade import analyse, edit_to

    units = UnitCache()
    old = seed.encode()
    last = analyse(old, PYTHON, OPTIONS, units=units)
    for changes in rounds:
        new = old
        for where, delete, insert in changes:
            start = int(where * len(new))
            new = new[:start] + insert.encode("utf-8", "surrogatepass") + new[start + delete :]
        tree = edit_to(last.tree, last.data, valid_utf8(new))
        last = analyse(new, PYTHON, OPTIONS, previous=tree, units=units)
        fresh = analyse(new, PYTHON, OPTIONS)
        assert last.analysis == fresh.analysis
        assert str(last.tree.root_node) == str(fresh.tree.root_node)
        old = new


def test_an_import_a_unit_reads_without_writing_its_whole_name_reaches_the_cache():
    """PY018's fix for ``loads(f.read())`` reads whether ``load`` is imported too, in a unit
    that writes only ``loads``: a new import of ``load`` reaches it (found by hypothesis)."""
    seed = (FIXTURES / "PY018.py").read_text()
    test_unit_cache_gives_the_same_analysis_as_a_fresh_one.hypothesis.inner_test(
        seed, [[(0.0, 0, "from json import load, loads\n")]]
    )
