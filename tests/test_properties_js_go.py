"""Properties of JavaScript/TypeScript and Go analysis over random input and random edits.

The seeds are the rule fixtures (real-looking code that fires rules), edited with fragments of
each language so that edits reach rule code, not only ERROR nodes. Analysis never raises, and
the editor's unit cache (and baseline's incremental re-parse) gives exactly a fresh analysis.
"""

from __future__ import annotations

from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lessonlens.analyzers import AnalysisOptions, analyze, language_for_path
from lessonlens.analyzers.engine import UnitCache, valid_utf8
from lessonlens.analyzers.facade import analyse, edit_to

FIXTURES = Path(__file__).parent / "fixtures" / "rules"
SEEDS = sorted([*FIXTURES.glob("javascript/*.*"), *FIXTURES.glob("go/*.go")], key=lambda p: p.name)
OPTIONS = AnalysisOptions(language_options={"target-go": (1, 22)}, strict=True)
FRAGMENTS = [
    "for (const x of xs) {\n",
    "await ",
    "async ",
    ".map(async (x) => ",
    "}\n",
    "class A {\n  m() {\n",
    "const seen = [];\n",
    "new Promise(async (r) => r(1));\n",
    "for _, x := range xs {\n",
    "func f() {\n",
    "defer f.Close()\n",
    's += "x"\n',
    'import "strings"\n',
    "}",
    "\n",
    "(",
    ")",
]
edits = st.lists(
    st.tuples(
        st.floats(0, 1),
        st.integers(0, 12),
        st.one_of(st.sampled_from(FRAGMENTS), st.text(max_size=6)),
    ),
    min_size=1,
    max_size=4,
)


def apply(source: bytes, changes: list[tuple[float, int, str]]) -> bytes:
    for where, delete, insert in changes:
        start = int(where * len(source))
        source = source[:start] + insert.encode("utf-8", "surrogatepass") + source[start + delete :]
    return source


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(SEEDS), st.lists(edits, min_size=1, max_size=3))
def test_cached_and_incremental_analysis_equal_a_fresh_one(seed, rounds):
    """The unit cache always gives a fresh analysis; so does an incremental re-parse where the
    code parses (tree-sitter's error recovery may place ERROR nodes differently when it reuses
    an old tree, and findings that touch an error are dropped)."""
    spec = language_for_path(seed)
    assert spec is not None
    units, incremental_units = UnitCache(), UnitCache()
    old = seed.read_bytes()
    cached = analyse(old, spec, OPTIONS, units=units)
    last = analyse(old, spec, OPTIONS, units=incremental_units)
    for changes in rounds:
        new = apply(old, changes)
        fresh = analyse(new, spec, OPTIONS)
        cached = analyse(new, spec, OPTIONS, units=units)
        assert cached.analysis == fresh.analysis
        tree = edit_to(last.tree, last.data, valid_utf8(new))
        last = analyse(new, spec, OPTIONS, previous=tree, units=incremental_units)
        if not fresh.analysis.error_ranges and not last.analysis.error_ranges:
            assert last.analysis == fresh.analysis
        old = new


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(SEEDS), st.binary(max_size=200))
def test_arbitrary_bytes_never_raise(seed, data):
    spec = language_for_path(seed)
    assert spec is not None
    analysis = analyze(data, spec, OPTIONS)
    assert not analysis.problems
    for finding in analysis.findings:
        assert 0 <= finding.span.start_byte <= finding.span.end_byte <= len(data)
