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
from lessonlens.analyzers.facade import analyse, edit_to, with_evidence
from lessonlens.analyzers.lastresult import BytesMemo

FIXTURES = Path(__file__).parent / "fixtures" / "rules"
SEEDS = sorted(
    [
        *FIXTURES.glob("javascript/*.*"),
        *FIXTURES.glob("go/*.go"),
        # TypeScript's types, enums, overloads and `declare` forms beside rule code.
        *(FIXTURES.parent / "properties").glob("*.ts"),
    ],
    key=lambda p: p.name,
)
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
    # Assignments in one unit to a top-level `let` another unit reads.
    "let ",
    " = [];\n",
    "++;\n",
    # Top-level imports and declarations, read by name from the units.
    "import { seen } from './seen';\n",
    "const seen = new Set();\n",
    "export const items = seen;\n",
    "seen",
    "items",
    # Object literals inside top-level values: the fingerprint leaves their contents out.
    "export const opts = Object.freeze({ names: seen, size: 1 });\n",
    "({ x: ",
    " })",
    # Class fields, which the fingerprint counts only by the top-level lists they use.
    "  cache = new Map();\n",
    "  static names = seen;\n",
    "  protected rows: { id: string }[] = [];\n",
    # TypeScript declarations that are units of their own, and what turns code into one.
    "interface Item { id: string }\n",
    "type ",
    "enum Mode { A }\n",
    "declare ",
    "export ",
    "): void;\n",
    "abstract ",
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
    # The editor's way: the findings first, then the evidence, each part with its own cache.
    finding_units, evidence_units = UnitCache(), UnitCache()
    old = seed.read_bytes()
    cached = analyse(old, spec, OPTIONS, units=units)
    last = analyse(old, spec, OPTIONS, units=incremental_units)
    shown = analyse(old, spec, OPTIONS, units=finding_units, part="findings")
    with_evidence(shown, OPTIONS, units=evidence_units)
    for changes in rounds:
        new = apply(old, changes)
        fresh = analyse(new, spec, OPTIONS)
        cached = analyse(new, spec, OPTIONS, units=units)
        assert cached.analysis == fresh.analysis
        shown = analyse(new, spec, OPTIONS, units=finding_units, part="findings")
        assert shown.analysis.findings == fresh.analysis.findings
        assert not shown.analysis.evidence
        assert with_evidence(shown, OPTIONS, units=evidence_units).analysis == fresh.analysis
        tree = edit_to(last.tree, last.data, valid_utf8(new))
        last = analyse(new, spec, OPTIONS, previous=tree, units=incremental_units)
        if not fresh.analysis.error_ranges and not last.analysis.error_ranges:
            assert last.analysis == fresh.analysis
        old = new


def test_a_top_level_let_assigned_in_another_function_is_read_from_the_cache_as_afresh():
    """Whether a big top-level array is ever reassigned decides JS006 in another function: the
    cached analysis follows an assignment added or removed in any unit, as a fresh one does."""
    spec = language_for_path(Path("words.js"))
    assert spec is not None
    words = ", ".join(f'"w{i}"' for i in range(40))
    reads = (
        f"let NAMES = [{words}];\n"
        "function keep(words) {\n  const out = [];\n  for (const w of words) {\n"
        "    if (NAMES.includes(w)) continue;\n    out.push(w);\n  }\n  return out;\n}\n"
    )
    assigned = reads + "function reset() {\n  NAMES = [];\n}\n"
    untouched = reads + "function reset() {\n  console.log(NAMES.length);\n}\n"
    for first, second, fires in ((assigned, untouched, True), (untouched, assigned, False)):
        units = UnitCache()
        analyse(first.encode(), spec, OPTIONS, units=units)
        cached = analyse(second.encode(), spec, OPTIONS, units=units).analysis
        assert cached == analyse(second.encode(), spec, OPTIONS).analysis
        assert ("JS006" in {f.rule_id for f in cached.findings}) is fires


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(SEEDS), st.binary(max_size=200))
def test_arbitrary_bytes_never_raise(seed, data):
    spec = language_for_path(seed)
    assert spec is not None
    analysis = analyze(data, spec, OPTIONS)
    assert not analysis.problems
    for finding in analysis.findings:
        assert 0 <= finding.span.start_byte <= finding.span.end_byte <= len(data)


def test_a_declaration_read_through_another_reaches_the_cache():
    """A unit reads ``NAMES``, declared from ``BASE``: changing ``BASE`` (or importing it)
    changes what the unit's hint depends on, though the unit never writes ``BASE``."""
    spec = language_for_path(Path("words.js"))
    assert spec is not None
    words = ", ".join(f'"w{i}"' for i in range(40))
    body = (
        "function keep(words) {\n  const out = [];\n  for (const w of words) {\n"
        "    if (NAMES.includes(w)) continue;\n    out.push(w);\n  }\n  return out;\n}\n"
    )
    variants = [
        f"const BASE = [{words}];\nconst NAMES = BASE;\n" + body,
        f"const BASE = new Set([{words}]);\nconst NAMES = BASE;\n" + body,
        f"const BASE = [{words}];\nconst NAMES = BASE.filter(Boolean);\n" + body,
        "const BASE = ['a'];\nconst NAMES = BASE.filter(Boolean);\n" + body,
        "import { BASE } from './b';\nconst NAMES = BASE.filter(Boolean);\n" + body,
        f"const NAMES = [{words}];\n" + body,
    ]
    fired = set()
    for first in variants:
        for second in variants:
            units = UnitCache()
            analyse(first.encode(), spec, OPTIONS, units=units)
            cached = analyse(second.encode(), spec, OPTIONS, units=units).analysis
            assert cached == analyse(second.encode(), spec, OPTIONS).analysis
            fired.add(any(f.rule_id == "JS006" for f in cached.findings))
    assert fired == {True, False}


def _cached_then_fresh(path: str, first: bytes, second: bytes):
    spec = language_for_path(Path(path))
    assert spec is not None
    units = UnitCache()
    analyse(first, spec, OPTIONS, units=units)
    cached = analyse(second, spec, OPTIONS, units=units).analysis
    assert cached == analyse(second, spec, OPTIONS).analysis
    return [(f.rule_id, f.span.start_row) for f in cached.findings]


def test_go_facts_outside_the_function_reach_the_cache():
    """A build constraint above ``package`` (GO008) and a ``%w`` in another function (GO009)
    change a function's hints without touching it: the cache follows both, as afresh."""
    loop = (
        b'package main\n\nimport "fmt"\n\nfunc each(items []string) {\n'
        b"\tfor _, item := range items {\n\t\titem := item\n\t\tgo fmt.Println(item)\n\t}\n}\n"
    )
    older = b"//go:build go1.21\n\n" + loop
    assert _cached_then_fresh("a.go", loop, older) == []
    assert _cached_then_fresh("a.go", older, loop) == [("GO008", 6)]
    compare = (
        b'package main\n\nimport (\n\t"errors"\n\t"fmt"\n\t"io/fs"\n\t"os"\n)\n\n'
        b"func load(name string) ([]byte, error) {\n\tdata, err := os.ReadFile(name)\n"
        b"\tif err == fs.ErrNotExist {\n\t\treturn nil, nil\n\t}\n\treturn data, err\n}\n\n"
        b'var ErrGone = errors.New("gone")\n\n'
        b"func gone(err error) bool {\n\treturn err == ErrGone\n}\n"
    )
    wraps = compare + b'\nfunc wrap() error {\n\treturn fmt.Errorf("x: %w", ErrGone)\n}\n'
    plain = compare + b'\nfunc wrap() error {\n\treturn fmt.Errorf("x: %v", ErrGone)\n}\n'
    # The comparison with ErrGone is flagged once the file wraps it.
    assert _cached_then_fresh("b.go", plain, wraps) == [("GO009", 11), ("GO009", 20)]
    assert _cached_then_fresh("b.go", wraps, plain) == [("GO009", 11)]


def test_the_fingerprints_piece_cache_stays_within_its_bound(monkeypatch):
    """Each top-level piece's part of the fingerprint is kept by its bytes, up to a bound in
    bytes: past it the cache starts again, and fingerprints are what they were."""
    from lessonlens.analyzers.javascript import fingerprint as fp

    monkeypatch.setattr(fp, "_CONTRIBUTIONS", BytesMemo(max_bytes=4096))
    spec = language_for_path(Path("big.js"))
    assert spec is not None
    first = None
    for round_ in range(3):
        source = "".join(
            f"const table{i} = [{', '.join(str(i * j) for j in range(40))}];\n" for i in range(60)
        ).encode()
        result = analyse(source, spec, OPTIONS, units=UnitCache())
        printed = fp.fingerprint(result.tree.root_node, source)
        first = first or printed
        assert printed == first, round_
        assert fp._CONTRIBUTIONS.kept_bytes <= 4096
        assert sum(len(key[1]) for key in fp._CONTRIBUTIONS.entries) <= 4096


def test_an_import_alone_counts_in_the_fingerprint_only_for_a_global_rules_check():
    """Rules read a name bound by one import (or a TypeScript type) as a name bound nowhere,
    except the globals they check (``Set`` imported from a library is not the global):
    renaming one changes no name's meaning, so the units that use it are not walked again."""
    from lessonlens.analyzers.javascript import fingerprint as fp

    spec = language_for_path(Path("a.ts"))
    assert spec is not None

    def printed(text: str):
        source = text.encode()
        return fp.fingerprint(analyse(source, spec, OPTIONS).tree.root_node, source)

    body = (
        "\nexport function read(xs: string[]) {\n  return xs.map((x) => fs.readFileSync(x));\n}\n"
    )
    before = printed("import fs from 'node:fs';" + body)
    assert printed("import fsk from 'node:fs';" + body).changed_names(before) == set()
    # Rules never resolve a type's name.
    typed = printed("import fs from 'node:fs';\ninterface Options { a: string }" + body)
    renamed = printed("import fs from 'node:fs';\ninterface Optionz { a: string }" + body)
    assert renamed.changed_names(typed) == set()
    library = printed("import { Sett } from 'immutable';" + body)
    # Whether `Set` is the global counts for every unit, whether it writes `Set` or not.
    assert printed("import { Set } from 'immutable';" + body).changed_names(library) is None
    # Two declarations of one name: neither is the binding, so the import counts.
    twice = printed("import fs from 'node:fs';\nvar fs = [];" + body)
    assert twice.changed_names(before) == {"fs"}
    for first, second in (
        ("import { Set } from 'immutable';", "import { Sett } from 'immutable';"),
        ("import fs from 'node:fs';", "import fs from 'node:fs';\nconst fs = [1, 2];"),
    ):
        uses = "\nfunction has(xs, x) {\n  const s = new Set(xs);\n  return s.has(x) || fs;\n}\n"
        _cached_then_fresh("a.ts", (first + uses).encode(), (second + uses).encode())


def test_no_predicate_reads_another_units_code():
    """Another function pushing into a top-level list, the top level passing the list on, or a
    function whose broken header leaves its loop at top level, once kept stale hints in the
    cache: predicates read only their unit and the top level, and the fingerprint holds how
    the top level uses a variable, so the cache gives what a fresh analysis gives."""
    words = ", ".join(f'"w{i}"' for i in range(40))
    keep = (
        f"const NAMES = [{words}];\nfunction keep(words) {{\n  const out = [];\n"
        "  for (const w of words) {\n    if (NAMES.includes(w)) continue;\n    out.push(w);\n"
        "  }\n  return out;\n}\n"
    )
    pushes = (keep + "export function add(w) {\n  NAMES.push(w);\n}\n").encode()
    logs = (keep + "export function add(w) {\n  console.log(w);\n}\n").encode()
    assert _cached_then_fresh("a.js", pushes, logs) == [("JS006", 4)]
    assert _cached_then_fresh("a.js", logs, pushes) == [("JS006", 4)]
    # How the top level uses the list (in a call, in an object literal) still counts.
    for unused, used in (
        ("register(1);\n", "register(NAMES);\n"),
        ("const opts = { size: 1 };\n", "const opts = { names: NAMES };\n"),
    ):
        plain, passed = (keep + unused).encode(), (keep + used).encode()
        assert _cached_then_fresh("a.js", passed, plain) == [("JS006", 4)]
        assert _cached_then_fresh("a.js", plain, passed) == []
    seed = FIXTURES / "javascript" / "JS007.js"
    test_cached_and_incremental_analysis_equal_a_fresh_one.hypothesis.inner_test(
        seed, [[(0.0, 1, "async ")], [(0.875, 1, ""), (0.76171875, 0, "const seen = [];\n")]]
    )


def test_a_suppression_comment_after_a_top_level_statement_reaches_the_cache():
    """A comment after a top-level statement is in no piece, yet it silences the statement's
    hint: adding or removing it changes the hints at once, as afresh."""
    for path, line, comment in (
        ("a.py", "ok = os.environ.get('X') == None", "  # noqa"),
        (
            "a.js",
            "for (const x of xs) { if (ys.indexOf(x) !== -1) f(); }",
            " // eslint-disable-line",
        ),
    ):
        head = "import os\n" if path.endswith(".py") else "const xs = [1, 2, 3];\n"
        plain, silenced = (head + line + "\n").encode(), (head + line + comment + "\n").encode()
        assert _cached_then_fresh(path, plain, silenced) == []
        assert len(_cached_then_fresh(path, silenced, plain)) == 1


def test_typing_where_no_unit_reads_leaves_the_fingerprint_unchanged():
    """Typing in a class's field, a method's name, a type's body or an object literal inside a
    top-level value (``Object.freeze({...})``) changes nothing a unit reads: no other unit is
    walked again (the glue alone, or the edited unit), and the hints stay those of a fresh
    analysis (the property tests above)."""
    from lessonlens.analyzers.javascript import fingerprint as fp

    spec = language_for_path(Path("a.ts"))
    assert spec is not None
    template = (
        "import { readFile } from 'node:fs/promises';\n"
        "interface Options { names: string[]; {TYPE} }\n"
        "export const defaults = Object.freeze({ retries: {VALUE}, names: ['a'] });\n"
        "export class Loader {\n"
        "  private rows: { id: string; {FIELD} }[] = [];\n"
        "  async {METHOD}(paths: string[]) {\n"
        "    for (const p of paths) this.rows.push({ id: await readFile(p, 'utf-8') });\n"
        "  }\n"
        "}\n"
    )
    parts = {"{TYPE}": "limit?: number", "{VALUE}": "3", "{FIELD}": "size: number"}
    parts["{METHOD}"] = "loadAll"

    def printed(**changed: str):
        text = template
        for key, value in {**parts, **changed}.items():
            text = text.replace(key, value)
        source = text.encode()
        return fp.fingerprint(analyse(source, spec, OPTIONS).tree.root_node, source)

    before = printed()
    for key, value in (
        ("{TYPE}", "limit?: string"),
        ("{VALUE}", "5"),
        ("{FIELD}", "size: string"),
        ("{METHOD}", "loadEvery"),
    ):
        after = printed(**{key: value})
        assert after == before, key


def test_a_glue_fix_that_edits_the_import_block_moves_with_the_import_block():
    """A Go function whose header is broken leaves its body at top level, in the glue; GO005's
    fix there also edits the import block. The glue's cached fix once moved with its own piece
    when a line was typed between the two, so its import edit pointed at the wrong bytes."""
    seed = FIXTURES / "go" / "GO005.go"
    loop = "for (const x of xs) {\n"
    test_cached_and_incremental_analysis_equal_a_fresh_one.hypothesis.inner_test(
        seed, [[(1.0, 0, loop), (0.359375, 0, loop)], [(0.25, 0, loop)]]
    )


def test_go005_offers_no_fix_where_the_import_block_lost_its_imports():
    """An import block that typing has left without a readable import gives GO005 nothing to
    place the new import by: no fix, instead of the rule failing."""
    seed = FIXTURES / "go" / "GO005-shadow.go"
    test_cached_and_incremental_analysis_equal_a_fresh_one.hypothesis.inner_test(
        seed, [[(0.078125, 6, ""), (0.21875, 0, "await "), (0.078125, 6, "A")]]
    )
