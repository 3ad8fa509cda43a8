"""Random incremental edits, applied through the language server, leave it where a fresh start
would be: the same findings, at the same ranges, as ``analyze`` of the text the edits produce.

Over LSP the server's text cannot be read back, so a second property drives the same edits
through the pieces the didChange handler uses (``lsp.convert.offset_of`` and
``Document.replace``) and compares the text itself with the Python-string model.

Edits are drawn as string indices into the current text, so positions never split a character;
an end position may overshoot its line, which the specification says means the line's end.
Lone ``\\r`` is left out: LSP counts it as a line break and tree-sitter does not.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest
import pytest_lsp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lsprotocol import types
from test_lsp import (
    FIXTURES,
    SAMPLE,
    SERVER,
    UNICODE,
    Editor,
    RecordingClient,
    findings,
    neovim,
    position_of,
    serve,
    span_range,
    vscode,
)

from lessonlens.analyzers import AnalysisOptions, analyze, analyze_tree, language_for_id, parsing
from lessonlens.analyzers.engine import rule_set
from lessonlens.lessons.catalog import load_catalog
from lessonlens.lsp import convert
from lessonlens.server.editor.documents import Document

pytestmark = pytest.mark.filterwarnings("error::pytest_lsp.LspSpecificationWarning")

PYTHON = language_for_id("python")
assert PYTHON is not None
RULE_FIXTURES = Path(__file__).parent / "fixtures" / "rules" / "python"
SEEDS = [SAMPLE, UNICODE, *(p.read_text("utf-8") for p in sorted(RULE_FIXTURES.glob("*.py")))]
CATALOG = load_catalog()

# Pieces of Python that rules look at, so that edits make and break findings, not only ERRORs.
FRAGMENTS = [
    "\n",
    "    ",
    "for x in xs:\n    ",
    "if w in ['a', 'b', 'c', 'd']:\n        pass\n",
    "x == None",
    "d.keys()",
    "s += 'é'",
    "out.append(x)",
    "def f(a=[]):\n    ",
    "# 世界 🐍\n",
    "'🐍'",
    "é",
    "日本",
    "🙂",
    "(",
    ")",
    ":",
    '"',
]
# Any character but surrogates (not encodable) and \r (see the module docstring).
CHARACTERS = st.characters(exclude_categories=["Cs"], exclude_characters="\r")
INSERTS = st.one_of(st.sampled_from(FRAGMENTS), st.text(CHARACTERS, max_size=6))


@dataclass(frozen=True)
class Edit:
    """Replace ``start:end`` (string indices into the text it applies to) by ``text``.

    With ``overshoot`` the end is sent as a column far past its line, and ``end`` is already
    that line's end, where the specification says such a column lands.
    """

    start: int
    end: int
    text: str
    overshoot: bool = False


@st.composite
def edit(draw: st.DrawFn, text: str) -> Edit:
    start = draw(st.integers(0, len(text)))
    end = draw(st.integers(start, min(len(text), start + 40)))
    overshoot = draw(st.integers(0, 4)) == 0
    if overshoot:
        line_end = text.find("\n", end)
        end = len(text) if line_end < 0 else line_end
    return Edit(start, end, draw(INSERTS), overshoot)


@dataclass(frozen=True)
class Session:
    seed: str
    # (how far the version moves, the edits sent in one didChange, in order)
    batches: tuple[tuple[int, tuple[Edit, ...]], ...]
    final: str


@st.composite
def sessions(draw: st.DrawFn) -> Session:
    seed = text = draw(st.sampled_from(SEEDS))
    batches = []
    for _ in range(draw(st.integers(1, 6))):
        edits = []
        for _ in range(draw(st.integers(1, 3))):
            change = draw(edit(text))
            edits.append(change)
            text = text[: change.start] + change.text + text[change.end :]
        batches.append((draw(st.integers(1, 3)), tuple(edits)))
    return Session(seed, tuple(batches), text)


def lsp_range(text: str, change: Edit, encoding: str) -> types.Range:
    start = position_of(text, change.start, encoding)
    end = position_of(text, change.end, encoding)
    if change.overshoot:
        end = types.Position(end.line, end.character + 1000)
    return types.Range(start, end)


# ---------------------------------------------------------------------- over LSP

# UTF-16 by Neovim 0.7's default (push), the other two offered by a VS Code that pulls.
CLIENTS = {
    "utf-16": neovim,
    "utf-8": lambda: vscode(encodings=["utf-8"]),
    "utf-32": lambda: vscode(encodings=["utf-32"]),
}


lsp = pytest_lsp.fixture(config=SERVER)(serve)


@pytest.fixture(params=sorted(CLIENTS))
async def editor(request: pytest.FixtureRequest, lsp: RecordingClient) -> Editor:
    # No cap on hints: the comparison is with every finding of a fresh analysis.
    started = await Editor.start(lsp, CLIENTS[request.param](), options={"maxHintsPerFile": 10**6})
    assert started.encoding == request.param
    return started


View = list[tuple[str, types.Range, str]]


def _ordered(view: View) -> View:
    return sorted(view, key=lambda item: (item[1].start.line, item[1].start.character, item[0]))


def seen_view(diagnostics: Sequence[types.Diagnostic]) -> View:
    return _ordered([(str(d.code), d.range, d.message) for d in diagnostics])


def expected_view(text: str, uri: str, encoding: str) -> View:
    """Rule, range and message of each finding of a fresh analysis.

    Messages quote the code (names, for instance), so they also catch a text that drifted
    somewhere no rule looks at positions.
    """
    view = []
    for finding in findings(text, uri):
        taught = CATALOG.lesson(finding.lesson_id)
        suffix = f" Lesson: {taught.title}" if taught else ""
        view.append(
            (finding.rule_id, span_range(text, finding, encoding), finding.message + suffix)
        )
    return _ordered(view)


@settings(
    max_examples=25,
    deadline=None,
    # One server serves every example: each opens its own document and closes it at the end.
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(session=sessions(), number=st.integers(0, 10**9))
async def test_random_edits_over_lsp_match_a_fresh_analysis(
    editor: Editor, session: Session, number: int
) -> None:
    uri = (FIXTURES / f"random-{number}-{len(editor.documents)}.py").as_uri()
    while uri in editor.documents:
        uri = uri.replace(".py", "-again.py")
    document = editor.open(uri, session.seed, version=1)
    for step, edits in session.batches:
        sent = []
        text = document.text
        for change in edits:
            # Each change's range refers to the text the previous change of the batch left.
            sent.append((lsp_range(text, change, editor.encoding), change.text))
            text = text[: change.start] + change.text + text[change.end :]
        editor.change(uri, sent, version=document.version + step)
        assert document.text == text  # the test's own model agrees with itself
    assert document.text == session.final
    diagnostics = await editor.diagnostics(uri)
    assert seen_view(diagnostics) == expected_view(session.final, uri, editor.encoding)
    editor.close(uri)


# ---------------------------------------------------------------------- the handler's pieces


@settings(max_examples=300, deadline=None)
@given(session=sessions(), encoding=st.sampled_from(sorted(CLIENTS)))
def test_random_edits_through_convert_give_the_string_result(
    session: Session, encoding: str
) -> None:
    """The didChange handler's steps, in process: LSP position -> byte offset -> replace.

    Also checks the incremental re-parse that the server keeps against a fresh parse.
    """
    grammar = rule_set(PYTHON).grammar
    parser = parsing.new_parser(grammar)
    document = Document("file:///random.py", PYTHON, 1, session.seed.encode("utf-8"))
    document.tree = parsing.parse(parser, document.data)
    for _, edits in session.batches:
        text = document.data.decode("utf-8")
        for change in edits:
            where = lsp_range(text, change, encoding)
            start = convert.offset_of(document, where.start, encoding)
            end = convert.offset_of(document, where.end, encoding)
            document.replace(start, end, change.text)
            text = text[: change.start] + change.text + text[change.end :]
            assert document.data.decode("utf-8") == text
        document.tree = parsing.parse(parser, document.data, document.tree)
    assert document.data == session.final.encode("utf-8")
    options = AnalysisOptions(language_options={"target-python": (3, 11)})
    incremental = analyze_tree(document.tree, document.data, PYTHON, options)
    assert incremental.findings == analyze(document.data, PYTHON, options).findings
