"""End-to-end tests of ``lessonlens serve`` over stdio, driven by pytest-lsp.

Each test starts a real server process. The client impersonates VS Code 1.65 (told that it
pulls diagnostics, as current VS Code does) and Neovim 0.7 (push only, no position encodings,
byte columns in the diagnostics it sends back). Expected positions are computed here, from
``analyze`` and the negotiated encoding, never copied from the server's output.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from concurrent.futures import Future
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import unquote, urlparse

import pytest
import pytest_lsp
from lsprotocol import types
from pygls.exceptions import JsonRpcException
from pygls.protocol import default_converter
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities
from pytest_lsp.client import DEFAULT_CLIENT_FEATURES, register_lsp_features

from lessonlens.analyzers import AnalysisOptions, Finding, analyze, language_for_id
from lessonlens.lessons.catalog import load_catalog
from lessonlens.lessons.lesson import Lesson
from lessonlens.server.workspace.config import find_config

pytestmark = pytest.mark.filterwarnings("error::pytest_lsp.LspSpecificationWarning")

FIXTURES = Path(__file__).parent / "fixtures" / "lsp"
SAMPLE = (FIXTURES / "sample.py").read_text("utf-8")
UNICODE = (FIXTURES / "unicode.py").read_text("utf-8")
FIXES = (FIXTURES / "fixes.py").read_text("utf-8")
PYTHON = language_for_id("python")
assert PYTHON is not None
CATALOG = load_catalog()
# How long to wait for anything the server should do at once; generous for slow CI machines.
TIMEOUT = 10.0
SHOW_LESSON = "lessonlens.showLesson"
DISMISS = "lessonlens.dismiss"
MUTE_RULE = "lessonlens.muteRule"

T = TypeVar("T")
AT_START = types.Range(types.Position(0, 0), types.Position(0, 0))


# ---------------------------------------------------------------------- positions


def units(text: str, encoding: str) -> int:
    """Length of ``text`` in the encoding's units (LSP counts columns in these)."""
    if encoding == "utf-8":
        return len(text.encode("utf-8"))
    if encoding == "utf-16":
        return len(text.encode("utf-16-le")) // 2
    return len(text)


def position_of(text: str, index: int, encoding: str) -> types.Position:
    """The LSP position of string index ``index``; lines end at ``\\n`` only."""
    line = text.count("\n", 0, index)
    start = text.rfind("\n", 0, index) + 1
    return types.Position(line, units(text[start:index], encoding))


def index_of(text: str, where: types.Position, encoding: str) -> int:
    """The string index of an LSP position; a column past the line's end means its end.

    That clamping is the specification's rule ("defaults back to the line length"); a line past
    the last means the end of the text, which is what this server does.
    """
    lines = text.split("\n")
    if where.line >= len(lines):
        return len(text)
    start = sum(len(line) + 1 for line in lines[: where.line])
    count = 0
    for offset, char in enumerate(lines[where.line]):
        if count >= where.character:
            return start + offset
        count += units(char, encoding)
    return start + len(lines[where.line])


def apply_edit(text: str, where: types.Range, new_text: str, encoding: str) -> str:
    start = index_of(text, where.start, encoding)
    end = max(start, index_of(text, where.end, encoding))
    return text[:start] + new_text + text[end:]


def range_of(text: str, needle: str, encoding: str, occurrence: int = 0) -> types.Range:
    index = -1
    for _ in range(occurrence + 1):
        index = text.index(needle, index + 1)
    return types.Range(
        position_of(text, index, encoding), position_of(text, index + len(needle), encoding)
    )


def byte_range(text: str, where: types.Range, encoding: str) -> types.Range:
    """The same range with UTF-8 byte columns, as Neovim 0.7 sends them back."""
    start = index_of(text, where.start, encoding)
    end = index_of(text, where.end, encoding)
    return types.Range(position_of(text, start, "utf-8"), position_of(text, end, "utf-8"))


def span_range(text: str, finding: Finding, encoding: str) -> types.Range:
    """A finding's span (rows, byte columns) in the encoding's units."""
    lines = text.encode("utf-8").split(b"\n")
    span = finding.span

    def point(row: int, column: int) -> types.Position:
        return types.Position(row, units(lines[row][:column].decode("utf-8"), encoding))

    return types.Range(point(span.start_row, span.start_col), point(span.end_row, span.end_col))


def findings(text: str, uri: str) -> tuple[Finding, ...]:
    """What ``lessonlens check`` would find, with the project configuration of ``uri``."""
    config = find_config(Path(unquote(urlparse(uri).path)))
    options = AnalysisOptions(language_options=config.language_options)
    return analyze(text.encode("utf-8"), PYTHON, options).findings


def expected(text: str, uri: str, encoding: str) -> list[tuple[str, types.Range]]:
    return sorted(
        ((f.rule_id, span_range(text, f, encoding)) for f in findings(text, uri)), key=_order
    )


def seen(diagnostics: Sequence[types.Diagnostic]) -> list[tuple[str, types.Range]]:
    return sorted(((str(d.code), d.range) for d in diagnostics), key=_order)


def _order(item: tuple[str, types.Range]) -> tuple[int, int, str]:
    return item[1].start.line, item[1].start.character, item[0]


def codes(diagnostics: Sequence[types.Diagnostic]) -> list[str]:
    return sorted(str(d.code) for d in diagnostics)


def lesson(lesson_id: str) -> Lesson:
    found = CATALOG.lesson(lesson_id)
    assert found is not None, lesson_id
    return found


def uri_for(name: str) -> str:
    # Documents need not exist on disk; their folder decides the project configuration.
    return (FIXTURES / name).as_uri()


# ---------------------------------------------------------------------- the client


class RecordingClient(LanguageClient):
    """pytest-lsp's client, keeping every publishDiagnostics (with its version) in order.

    pytest-lsp keeps only the latest diagnostics per document and drops the version, which a
    test needs to tell the publish for an edit from an earlier one still in flight.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.published: list[types.PublishDiagnosticsParams] = []
        self.lens_refreshes = 0


def _record_publish(client: RecordingClient, params: types.PublishDiagnosticsParams) -> None:
    client.published.append(params)
    client.diagnostics[params.uri] = params.diagnostics


def _record_lens_refresh(client: RecordingClient, params: None) -> None:
    # VS Code advertises codeLens refreshSupport; the server asks after new related lessons.
    client.lens_refreshes += 1


def make_client() -> RecordingClient:
    client = RecordingClient(converter_factory=default_converter)
    features = dict(DEFAULT_CLIENT_FEATURES)
    features[types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS] = _record_publish
    features[types.WORKSPACE_CODE_LENS_REFRESH] = _record_lens_refresh
    register_lsp_features(client, features)
    return client


SERVER = ClientServerConfig(
    server_command=[sys.executable, "-m", "lessonlens", "serve"],
    client_factory=make_client,
)


def vscode(*, encodings: Sequence[str] | None = None) -> types.ClientCapabilities:
    """VS Code 1.65's capabilities plus pull diagnostics (and their refresh), as VS Code has."""
    capabilities = client_capabilities("visual-studio-code")
    assert capabilities.text_document is not None and capabilities.workspace is not None
    capabilities.text_document.diagnostic = types.DiagnosticClientCapabilities(
        dynamic_registration=False, related_document_support=False
    )
    capabilities.workspace.diagnostics = types.DiagnosticWorkspaceClientCapabilities(
        refresh_support=True
    )
    if encodings is not None:
        capabilities.general = capabilities.general or types.GeneralClientCapabilities()
        capabilities.general.position_encodings = [types.PositionEncodingKind(e) for e in encodings]
    return capabilities


def neovim() -> types.ClientCapabilities:
    """Neovim 0.7: push diagnostics only, UTF-16, no workspace/configuration."""
    return client_capabilities("neovim@v0.7.0")


CLIENTS: dict[str, Callable[[], types.ClientCapabilities]] = {
    "visual-studio-code": vscode,
    "neovim": neovim,
}


async def within(awaitable: Awaitable[T], seconds: float = TIMEOUT) -> T:
    return await asyncio.wait_for(awaitable, seconds)


async def until(condition: Callable[[], bool], what: str, seconds: float = TIMEOUT) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        await asyncio.sleep(0.01)


async def eventually(
    produce: Callable[[], Awaitable[T]], check: Callable[[T], bool], what: str
) -> T:
    """Ask again until the answer passes: settings read after ``initialized`` land a bit later.

    The server then refreshes (pull) or republishes (push); a real editor asks again too.
    """
    deadline = time.monotonic() + TIMEOUT
    while True:
        value = await produce()
        if check(value):
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}; last answer: {value!r}")
        await asyncio.sleep(0.02)


class Document:
    def __init__(self, uri: str, text: str, version: int) -> None:
        self.uri = uri
        self.text = text
        self.version = version
        # Index into ``published`` from which a push counts as an answer to the last change.
        self.mark = 0
        self.result_id: str | None = None
        self.pulled: list[types.Diagnostic] = []


class Editor:
    """What an editor does with the client: keeps the text, versions and diagnostics.

    Diagnostics come by pull when the client advertises ``textDocument.diagnostic`` (sending the
    previous result id, as VS Code does, so a stale "unchanged" shows up as a failure) and
    otherwise by waiting for the push that carries the document's current version.
    """

    def __init__(self, client: RecordingClient, result: types.InitializeResult) -> None:
        self.client = client
        self.result = result
        capabilities = client.capabilities
        assert capabilities is not None
        self.pull = (
            capabilities.text_document is not None
            and capabilities.text_document.diagnostic is not None
        )
        encoding = result.capabilities.position_encoding or "utf-16"
        self.encoding = str(getattr(encoding, "value", encoding))
        self.documents: dict[str, Document] = {}

    @classmethod
    async def start(
        cls,
        client: RecordingClient,
        capabilities: types.ClientCapabilities,
        *,
        options: Any = None,
        configuration: dict[str, Any] | None = None,
    ) -> Editor:
        if configuration is not None:
            client.set_configuration(configuration, section="lessonlens")
        # These tests are about the protocol, not about adapting to a learner: every hint, every
        # time (the adaptive behaviour has its own tests, each with its own progress store), and
        # without the model (tests/test_model_lsp.py turns it on).
        defaults = {"adaptiveHints": False, "modelDevice": "off"}
        if options is None:
            options = defaults
        elif isinstance(options, dict):
            options = {**defaults, **options}
        result = await within(
            client.initialize_session(
                types.InitializeParams(
                    capabilities=capabilities,
                    initialization_options=options,
                    root_uri=FIXTURES.as_uri(),
                    workspace_folders=[types.WorkspaceFolder(uri=FIXTURES.as_uri(), name="lsp")],
                )
            )
        )
        return cls(client, result)

    # -- documents

    def open(self, uri: str, text: str, version: int = 1) -> Document:
        document = Document(uri, text, version)
        document.mark = len(self.client.published)
        self.documents[uri] = document
        self.client.text_document_did_open(
            types.DidOpenTextDocumentParams(
                types.TextDocumentItem(uri=uri, language_id="python", version=version, text=text)
            )
        )
        return document

    def change(
        self, uri: str, edits: Sequence[tuple[types.Range, str]], version: int | None = None
    ) -> None:
        """Send ``edits`` as one didChange; each applies to the text the previous one left."""
        document = self.documents[uri]
        for where, new_text in edits:
            document.text = apply_edit(document.text, where, new_text, self.encoding)
        document.version = version if version is not None else document.version + 1
        document.mark = len(self.client.published)
        self.client.text_document_did_change(
            types.DidChangeTextDocumentParams(
                text_document=types.VersionedTextDocumentIdentifier(
                    uri=uri, version=document.version
                ),
                content_changes=[
                    types.TextDocumentContentChangePartial(range=r, text=t) for r, t in edits
                ],
            )
        )

    def close(self, uri: str) -> None:
        self.documents.pop(uri)
        self.client.text_document_did_close(
            types.DidCloseTextDocumentParams(types.TextDocumentIdentifier(uri))
        )

    def expect_republish(self, uri: str) -> None:
        """The next push for ``uri`` (same version) answers what happens next (a command)."""
        self.documents[uri].mark = len(self.client.published)

    def range_of(self, uri: str, needle: str, occurrence: int = 0) -> types.Range:
        return range_of(self.documents[uri].text, needle, self.encoding, occurrence)

    def expected(self, uri: str) -> list[tuple[str, types.Range]]:
        return expected(self.documents[uri].text, uri, self.encoding)

    # -- diagnostics

    async def pull_report(
        self, uri: str, previous: str | None = None
    ) -> types.DocumentDiagnosticReport:
        return await within(
            self.client.text_document_diagnostic_async(
                types.DocumentDiagnosticParams(
                    text_document=types.TextDocumentIdentifier(uri), previous_result_id=previous
                )
            )
        )

    async def diagnostics(self, uri: str) -> list[types.Diagnostic]:
        document = self.documents[uri]
        if self.pull:
            report = await self.pull_report(uri, document.result_id)
            if report.kind == "unchanged":
                assert report.result_id == document.result_id
                return document.pulled
            document.pulled = list(report.items)
            document.result_id = report.result_id
            return document.pulled
        return list((await self.publish(uri)).diagnostics)

    async def publish(self, uri: str) -> types.PublishDiagnosticsParams:
        """The latest push for the document's current version since its last change."""
        document = self.documents[uri]

        def answers() -> list[types.PublishDiagnosticsParams]:
            return [
                p
                for p in self.client.published[document.mark :]
                if p.uri == uri and p.version == document.version
            ]

        await until(lambda: bool(answers()), f"diagnostics for {uri} v{document.version}")
        return answers()[-1]

    # -- features

    async def hover(self, uri: str, where: types.Position) -> types.Hover | None:
        return await within(
            self.client.text_document_hover_async(
                types.HoverParams(text_document=types.TextDocumentIdentifier(uri), position=where)
            )
        )

    async def actions(
        self,
        uri: str,
        where: types.Range,
        diagnostics: Sequence[types.Diagnostic] = (),
    ) -> list[types.CodeAction]:
        # Read as plain JSON: lsprotocol's converter takes a CodeAction that carries a command
        # for a Command (both have "title" and "command"), so the typed call loses it.
        params = types.CodeActionParams(
            text_document=types.TextDocumentIdentifier(uri),
            range=where,
            context=types.CodeActionContext(diagnostics=list(diagnostics)),
        )
        converter = self.client.protocol._converter
        result = await raw_request(
            self.client, types.TEXT_DOCUMENT_CODE_ACTION, converter.unstructure(params)
        )
        assert isinstance(result, list | None), result
        for item in result or []:
            assert isinstance(item.get("command"), dict | None), f"not a CodeAction: {item}"
        return [converter.structure(item, types.CodeAction) for item in result or []]

    async def lenses(self, uri: str) -> list[types.CodeLens]:
        result = await within(
            self.client.text_document_code_lens_async(
                types.CodeLensParams(types.TextDocumentIdentifier(uri))
            )
        )
        return list(result or [])

    async def command(self, command: str, *arguments: Any) -> Any:
        return await within(
            self.client.workspace_execute_command_async(
                types.ExecuteCommandParams(command=command, arguments=list(arguments))
            )
        )

    async def apply(self, edit: types.WorkspaceEdit) -> None:
        """Apply a WorkspaceEdit as an editor would, then tell the server with one didChange."""
        edits: list[types.TextEdit] = []
        uris: set[str] = set()
        for change in edit.document_changes or []:
            assert isinstance(change, types.TextDocumentEdit)
            document = self.documents[change.text_document.uri]
            # A versioned edit is for that version only; an editor refuses a stale one.
            assert change.text_document.version == document.version
            uris.add(document.uri)
            edits.extend(e for e in change.edits if isinstance(e, types.TextEdit))
        for changed, text_edits in (edit.changes or {}).items():
            uris.add(changed)
            edits.extend(text_edits)
        assert edits and len(uris) == 1, edit
        (uri,) = uris
        # All edits of a WorkspaceEdit refer to the original text: send them last first, so
        # that each one's range is still right when it arrives.
        edits.sort(key=lambda e: (e.range.start.line, e.range.start.character), reverse=True)
        self.change(uri, [(e.range, e.new_text) for e in edits])


async def raw_request(client: LanguageClient, method: str, params: Any) -> Any:
    """Send a request exactly as given and return the JSON result as it came.

    The typed API would not let wrong params out, nor leave a result unconverted.
    """
    msg_id = f"raw-{uuid.uuid4()}"
    future: Future[Any] = Future()
    client.protocol._request_futures[msg_id] = future
    client.protocol._send_data({"jsonrpc": "2.0", "id": msg_id, "method": method, "params": params})
    return await within(asyncio.wrap_future(future))


def _edit_ranges(edit: types.WorkspaceEdit) -> list[types.Range]:
    ranges = [
        e.range
        for change in edit.document_changes or []
        if isinstance(change, types.TextDocumentEdit)
        for e in change.edits
    ]
    return ranges + [e.range for edits in (edit.changes or {}).values() for e in edits]


# ---------------------------------------------------------------------- fixtures


async def serve(lsp_client: RecordingClient) -> AsyncIterator[None]:
    """A started server that the test initializes itself (capabilities, options, settings).

    Shut down at the end unless the test did (or the server died: pytest-lsp reports that).
    """
    yield
    server = lsp_client._server
    if server is not None and server.returncode is None and lsp_client.capabilities:
        await within(lsp_client.shutdown_session())


lsp = pytest_lsp.fixture(config=SERVER)(serve)


@pytest.fixture(params=sorted(CLIENTS))
async def editor(request: pytest.FixtureRequest, lsp: RecordingClient) -> Editor:
    return await Editor.start(lsp, CLIENTS[request.param]())


@pytest.fixture
async def vscode_editor(lsp: RecordingClient) -> Editor:
    return await Editor.start(lsp, vscode())


# ---------------------------------------------------------------------- initialize


async def test_initialize_advertises_the_features(editor: Editor) -> None:
    capabilities = editor.result.capabilities
    sync = capabilities.text_document_sync
    assert isinstance(sync, types.TextDocumentSyncOptions)
    assert sync.open_close is True
    assert sync.change == types.TextDocumentSyncKind.Incremental
    assert capabilities.code_lens_provider == types.CodeLensOptions(resolve_provider=True)
    assert capabilities.hover_provider
    assert capabilities.code_action_provider
    assert capabilities.execute_command_provider is not None
    assert {SHOW_LESSON, DISMISS, MUTE_RULE} <= set(capabilities.execute_command_provider.commands)
    assert capabilities.diagnostic_provider is not None
    # Neither client offers position encodings: UTF-16 is the protocol's default.
    assert editor.encoding == "utf-16"
    info = editor.result.server_info
    assert info is not None and info.name == "lessonlens"


async def test_lessons_load_with_work_done_progress(editor: Editor) -> None:
    """Both clients support window.workDoneProgress: a server-created token begins and ends."""
    reports = editor.client.progress_reports

    def ended() -> bool:
        return any(
            values and isinstance(values[-1], types.WorkDoneProgressEnd)
            for values in reports.values()
        )

    await until(ended, "the lesson-loading progress to end")
    for values in reports.values():
        assert isinstance(values[0], types.WorkDoneProgressBegin)


# ---------------------------------------------------------------------- diagnostics


async def test_open_gives_diagnostics_with_lesson_links(editor: Editor) -> None:
    uri = uri_for("sample.py")
    editor.open(uri, SAMPLE)
    diagnostics = await editor.diagnostics(uri)
    assert seen(diagnostics) == editor.expected(uri)
    assert codes(diagnostics) == ["PY001", "PY011", "PY022"]
    by_rule = {f.rule_id: f for f in findings(SAMPLE, uri)}
    for diagnostic in diagnostics:
        finding = by_rule[str(diagnostic.code)]
        taught = lesson(finding.lesson_id)
        assert diagnostic.source == "lessonlens"
        assert diagnostic.data == finding.lesson_id
        assert diagnostic.code_description == types.CodeDescription(href=taught.url)
        assert diagnostic.message == f"{finding.message} Lesson: {taught.title}"
        assert diagnostic.severity == (
            types.DiagnosticSeverity.Hint
            if finding.severity.value == "hint"
            else types.DiagnosticSeverity.Information
        )


async def test_pull_result_id_and_unchanged(vscode_editor: Editor) -> None:
    editor = vscode_editor
    uri = uri_for("sample.py")
    editor.open(uri, SAMPLE, version=3)
    first = await editor.pull_report(uri)
    assert first.kind == "full" and first.result_id
    assert first.result_id.startswith(f"{uri}@3")
    again = await editor.pull_report(uri, first.result_id)
    assert again.kind == "unchanged"
    assert again.result_id == first.result_id
    # Versions need not step by one.
    editor.change(uri, [(editor.range_of(uri, "out = []"), "out = [] ")], version=10)
    after = await editor.pull_report(uri, first.result_id)
    assert after.kind == "full" and after.result_id != first.result_id
    assert seen(after.items) == editor.expected(uri)


async def test_push_after_every_change_even_when_nothing_changes(lsp: RecordingClient) -> None:
    editor = await Editor.start(lsp, neovim())
    uri = uri_for("sample.py")
    document = editor.open(uri, SAMPLE, version=1)
    opened = await editor.publish(uri)
    assert seen(opened.diagnostics) == editor.expected(uri)
    # Replace a word by itself: the text and the findings stay, the version moves on.
    editor.change(uri, [(editor.range_of(uri, "lookup"), "lookup")], version=7)
    same = await editor.publish(uri)
    assert same.version == 7
    assert same.diagnostics == opened.diagnostics
    assert document.text == SAMPLE
    # A change that moves every finding by one line.
    editor.change(uri, [(AT_START, "\n")])
    moved = await editor.publish(uri)
    assert moved.version == 8
    assert seen(moved.diagnostics) == editor.expected(uri)
    assert [d.range.start.line for d in moved.diagnostics] == [
        d.range.start.line + 1 for d in opened.diagnostics
    ]


async def test_closed_document_is_cleared_and_its_changes_ignored(editor: Editor) -> None:
    uri = uri_for("sample.py")
    editor.open(uri, SAMPLE)
    await editor.diagnostics(uri)
    editor.close(uri)
    if not editor.pull:
        await until(
            lambda: (
                editor.client.published[-1].uri == uri
                and not editor.client.published[-1].diagnostics
            ),
            "the diagnostics of the closed document to be cleared",
        )
    editor.client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=9),
            content_changes=[types.TextDocumentContentChangePartial(range=AT_START, text="x")],
        )
    )
    assert await editor.hover(uri, types.Position(6, 15)) is None
    other = uri_for("other.py")
    editor.open(other, SAMPLE)
    assert codes(await editor.diagnostics(other)) == ["PY001", "PY011", "PY022"]


# ---------------------------------------------------------------------- hover


async def test_hover_shows_the_lesson_on_a_finding_only(editor: Editor) -> None:
    uri = uri_for("sample.py")
    editor.open(uri, SAMPLE)
    await editor.diagnostics(uri)
    inside = editor.range_of(uri, '"the"').start
    hover = await editor.hover(uri, inside)
    assert hover is not None
    assert isinstance(hover.contents, types.MarkupContent)
    assert hover.contents.kind == types.MarkupKind.Markdown
    text = hover.contents.value
    taught = lesson("set-membership")
    assert text.startswith(f"# {taught.title}")
    assert taught.summary in text
    assert any(line.startswith("_Why you see this:") for line in text.splitlines())
    assert await editor.hover(uri, types.Position(0, 0)) is None
    assert await editor.hover(uri, editor.range_of(uri, "return out").start) is None


# ---------------------------------------------------------------------- code actions


def titles(actions: Sequence[types.CodeAction]) -> list[str]:
    return [a.title for a in actions]


def fix_title(finding: Finding) -> str:
    """The title of a fix's code action: an unsafe fix says why it may change behaviour."""
    fix = finding.fix
    assert fix is not None
    return f"Fix: {fix.title}" if fix.safe else f"Fix (unsafe: {fix.reason}): {fix.title}"


def invocation(command: types.Command | None) -> tuple[str, str, list[Any]]:
    """A command as plain values (the converter turns JSON arrays into tuples)."""
    assert command is not None

    def plain(value: Any) -> Any:
        return [plain(v) for v in value] if isinstance(value, list | tuple) else value

    return command.title, command.command, plain(command.arguments or [])


async def test_code_actions_for_a_finding(editor: Editor) -> None:
    uri = uri_for("sample.py")
    document = editor.open(uri, SAMPLE, version=4)
    diagnostics = await editor.diagnostics(uri)
    membership = next(d for d in diagnostics if d.code == "PY001")
    actions = await editor.actions(uri, membership.range, [membership])
    taught = lesson("set-membership")
    (finding,) = [f for f in findings(SAMPLE, uri) if f.rule_id == "PY001"]
    assert titles(actions) == [
        fix_title(finding),
        f"Show lesson: {taught.title}",
        "I know this",
        "Dismiss here",
        "Don't show PY001 again",
    ]
    fix, show, know, dismiss, mute = actions
    assert fix.kind == types.CodeActionKind.QuickFix
    assert finding.fix is not None
    assert (fix.is_preferred is True) == finding.fix.safe
    line = membership.range.start.line
    # The edit, and a command the client runs after applying it, so that the hint's removal
    # counts as the tool's fix (a learning opportunity), not as the developer's own.
    assert fix.edit is not None
    assert invocation(fix.command) == (fix.title, "lessonlens.fixApplied", [uri, "PY001", line])
    assert invocation(show.command) == (show.title, SHOW_LESSON, ["set-membership"])
    assert invocation(know.command) == (
        "I know this",
        "lessonlens.iKnowThis",
        ["python.data-structures"],
    )
    assert invocation(dismiss.command) == ("Dismiss here", DISMISS, [uri, "PY001", line])
    assert invocation(mute.command) == (mute.title, MUTE_RULE, ["PY001"])
    # A finding without a fix offers no "Fix" action.
    none = next(d for d in diagnostics if d.code == "PY022")
    assert titles(await editor.actions(uri, none.range, [none])) == [
        f"Show lesson: {lesson('is-none').title}",
        "I know this",
        "Dismiss here",
        "Don't show PY022 again",
    ]
    # Apply the fix as the editor would: the finding goes, the others stay.
    assert fix.edit is not None
    await editor.apply(fix.edit)
    assert document.version == 5
    assert '{"a", "an", "the", "of"}' in document.text
    after = await editor.diagnostics(uri)
    assert codes(after) == ["PY011", "PY022"]
    assert seen(after) == editor.expected(uri)


@pytest.mark.parametrize("with_data", [True, False], ids=["data", "code+line"])
async def test_code_actions_match_diagnostics_with_byte_columns(
    lsp: RecordingClient, with_data: bool
) -> None:
    """Neovim 0.7 sends back its diagnostics with byte columns; the line still matches."""
    editor = await Editor.start(lsp, neovim())
    uri = uri_for("unicode.py")
    editor.open(uri, UNICODE)
    (diagnostic,) = await editor.diagnostics(uri)
    text = editor.documents[uri].text
    quirky = types.Diagnostic(
        range=byte_range(text, diagnostic.range, editor.encoding),
        message=diagnostic.message,
        severity=diagnostic.severity,
        code=diagnostic.code,
        source=diagnostic.source,
        data=diagnostic.data if with_data else None,
    )
    assert quirky.range != diagnostic.range
    # The cursor, as Neovim sends it: an empty range at the start of the line.
    cursor = types.Position(diagnostic.range.start.line, 0)
    actions = await editor.actions(uri, types.Range(cursor, cursor), [quirky])
    (finding,) = findings(UNICODE, uri)
    assert titles(actions) == [
        fix_title(finding),
        f"Show lesson: {lesson('is-none').title}",
        "I know this",
        "Dismiss here",
        "Don't show PY022 again",
    ]


async def test_only_a_safe_fix_is_preferred_and_an_unsafe_one_says_why(editor: Editor) -> None:
    """A preferred quick fix may be applied unasked ("fix all", auto-fix keys): only a safe fix
    is preferred. An unsafe one names its risk in the title the developer chooses from."""
    uri = uri_for("fixes.py")
    document = editor.open(uri, FIXES)
    by_rule = {f.rule_id: f for f in findings(FIXES, uri)}
    safe, unsafe = by_rule["PY010"].fix, by_rule["PY001"].fix
    assert safe is not None and safe.safe, "PY010 drops `.keys()` of a known dict: safe"
    assert unsafe is not None and not unsafe.safe and unsafe.reason, "PY001's fix is unsafe"
    diagnostics = {str(d.code): d for d in await editor.diagnostics(uri)}

    async def fix_action(rule_id: str) -> types.CodeAction:
        diagnostic = diagnostics[rule_id]
        actions = await editor.actions(uri, diagnostic.range, [diagnostic])
        (fix,) = [a for a in actions if a.edit is not None]
        assert actions[0] is fix, "the fix comes first"
        assert fix.kind == types.CodeActionKind.QuickFix
        return fix

    preferred = await fix_action("PY010")
    assert preferred.title == "Fix: Drop `.keys()`"
    assert preferred.is_preferred is True
    risky = await fix_action("PY001")
    assert risky.title == f"Fix (unsafe: {unsafe.reason}): Use a set literal"
    assert risky.is_preferred is not True
    # Chosen by name, it applies like any other fix.
    assert risky.edit is not None
    await editor.apply(risky.edit)
    assert '        if w in {"a", "an", "the", "of"}:\n' in document.text
    assert codes(await editor.diagnostics(uri)) == ["PY010"]


async def test_code_actions_need_a_finding(editor: Editor) -> None:
    uri = uri_for("sample.py")
    editor.open(uri, SAMPLE)
    await editor.diagnostics(uri)
    nowhere = editor.range_of(uri, "return out")
    assert await editor.actions(uri, nowhere) == []


# ---------------------------------------------------------------------- code lens


async def test_code_lens_counts_lessons_per_function(editor: Editor) -> None:
    uri = uri_for("sample.py")
    editor.open(uri, SAMPLE)
    await editor.diagnostics(uri)
    lenses = await editor.lenses(uri)
    by_line = {lens.range.start.line: lens for lens in lenses}
    lookup_line = editor.range_of(uri, "def lookup").start.line
    check_line = editor.range_of(uri, "def check").start.line
    assert sorted(by_line) == [lookup_line, check_line]
    lookup, check = by_line[lookup_line], by_line[check_line]
    assert invocation(lookup.command) == (
        "2 lessons here",
        SHOW_LESSON,
        [["set-membership", "key-in-dict"]],
    )
    assert invocation(check.command) == ("1 lesson here", SHOW_LESSON, [["is-none"]])
    for lens in lenses:
        resolved = await within(editor.client.code_lens_resolve_async(lens))
        assert resolved == lens
    # The lens's own command, run as the editor runs it: one lesson per id.
    assert lookup.command is not None
    shown = await editor.command(lookup.command.command, *(lookup.command.arguments or []))
    assert [item["title"] for item in shown] == [
        lesson("set-membership").title,
        lesson("key-in-dict").title,
    ]


# ---------------------------------------------------------------------- commands


async def test_show_lesson_returns_markdown(editor: Editor) -> None:
    shown = await editor.command(SHOW_LESSON, "is-none")
    taught = lesson("is-none")
    assert shown["title"] == taught.title
    assert shown["markdown"].startswith(f"# {taught.title}")
    assert taught.summary in shown["markdown"]


async def test_dismiss_hides_one_finding_and_survives_edits_above(editor: Editor) -> None:
    uri = uri_for("sample.py")
    editor.open(uri, SAMPLE)
    diagnostics = await editor.diagnostics(uri)
    membership = next(d for d in diagnostics if d.code == "PY001")
    refreshes = editor.client.diagnostic_refresh_count
    editor.expect_republish(uri)
    assert await editor.command(DISMISS, uri, "PY001", membership.range.start.line) is None
    if editor.pull:
        await until(
            lambda: editor.client.diagnostic_refresh_count > refreshes,
            "workspace/diagnostic/refresh",
        )
    assert codes(await editor.diagnostics(uri)) == ["PY011", "PY022"]
    # Lines above move: the dismissed line's text is unchanged, so it stays hidden.
    editor.change(uri, [(AT_START, "import os\n\n")])
    moved = await editor.diagnostics(uri)
    assert codes(moved) == ["PY011", "PY022"]
    assert seen(moved) == [e for e in editor.expected(uri) if e[0] != "PY001"]
    # Editing that line brings the hint back.
    editor.change(uri, [(editor.range_of(uri, '"of"]'), '"of", "to"]')])
    assert codes(await editor.diagnostics(uri)) == ["PY001", "PY011", "PY022"]


async def test_mute_rule_hides_it_in_every_document(editor: Editor) -> None:
    first, second, later = uri_for("sample.py"), uri_for("unicode.py"), uri_for("later.py")
    editor.open(first, SAMPLE)
    editor.open(second, UNICODE)
    assert "PY022" in codes(await editor.diagnostics(first))
    assert codes(await editor.diagnostics(second)) == ["PY022"]
    editor.expect_republish(first)
    editor.expect_republish(second)
    assert await editor.command(MUTE_RULE, "PY022") is None
    assert codes(await editor.diagnostics(first)) == ["PY001", "PY011"]
    assert codes(await editor.diagnostics(second)) == []
    editor.open(later, SAMPLE)
    assert codes(await editor.diagnostics(later)) == ["PY001", "PY011"]
    assert (
        await editor.actions(second, types.Range(types.Position(0, 0), types.Position(9, 0))) == []
    )


@pytest.mark.parametrize(
    ("command", "arguments"),
    [
        ("lessonlens.noSuchCommand", []),
        (SHOW_LESSON, ["no-such-lesson"]),
        (SHOW_LESSON, [42]),
        (DISMISS, [1, 2, 3]),
        (DISMISS, []),
        (MUTE_RULE, [["PY001"]]),
    ],
)
async def test_bad_commands_are_errors_and_the_server_stays_up(
    editor: Editor, command: str, arguments: list[Any]
) -> None:
    uri = uri_for("sample.py")
    editor.open(uri, SAMPLE)
    with pytest.raises(JsonRpcException):
        await editor.command(command, *arguments)
    assert codes(await editor.diagnostics(uri)) == ["PY001", "PY011", "PY022"]
    assert await editor.hover(uri, editor.range_of(uri, '"the"').start) is not None


# ---------------------------------------------------------------------- settings


async def test_workspace_configuration_and_its_changes(lsp: RecordingClient) -> None:
    editor = await Editor.start(lsp, vscode(), configuration={"select": ["PY022"]})
    uri = uri_for("sample.py")
    editor.open(uri, SAMPLE)
    await eventually(
        lambda: editor.diagnostics(uri), lambda d: codes(d) == ["PY022"], "select = PY022"
    )
    refreshes = lsp.diagnostic_refresh_count
    lsp.set_configuration({"select": ["PY001", "PY011"], "ignore": ["PY011"]}, section="lessonlens")
    lsp.workspace_did_change_configuration(types.DidChangeConfigurationParams(settings=None))
    await until(lambda: lsp.diagnostic_refresh_count > refreshes, "workspace/diagnostic/refresh")
    assert codes(await editor.diagnostics(uri)) == ["PY001"]
    assert lsp.messages == []


async def test_an_opt_in_rule_speaks_once_selected_in_the_settings(lsp: RecordingClient) -> None:
    source = (
        "import re\n\n\ndef dates(lines):\n"
        '    for line in lines:\n        re.match(r"\\d+", line)\n'
    )
    editor = await Editor.start(lsp, vscode())
    uri = uri_for("dates.py")
    editor.open(uri, source)
    assert codes(await editor.diagnostics(uri)) == []
    refreshes = lsp.diagnostic_refresh_count
    lsp.set_configuration({"select": ["PY0", "PY006"]}, section="lessonlens")
    lsp.workspace_did_change_configuration(types.DidChangeConfigurationParams(settings=None))
    await until(lambda: lsp.diagnostic_refresh_count > refreshes, "workspace/diagnostic/refresh")
    await eventually(
        lambda: editor.diagnostics(uri), lambda d: codes(d) == ["PY006"], "select PY006"
    )


@pytest.mark.parametrize("client_name", sorted(CLIENTS))
async def test_max_hints_per_file_keeps_the_first(lsp: RecordingClient, client_name: str) -> None:
    editor = await Editor.start(lsp, CLIENTS[client_name](), options={"maxHintsPerFile": 2})
    uri = uri_for("sample.py")
    editor.open(uri, SAMPLE)
    diagnostics = await editor.diagnostics(uri)
    assert seen(diagnostics) == editor.expected(uri)[:2]


@pytest.mark.parametrize("client_name", sorted(CLIENTS))
async def test_invalid_settings_give_one_message_and_defaults(
    lsp: RecordingClient, client_name: str
) -> None:
    options = {"maxHintsPerFile": "many", "debounceMs": -5, "select": "PY001", "unknownKey": 1}
    editor = await Editor.start(lsp, CLIENTS[client_name](), options=options)
    uri = uri_for("sample.py")
    editor.open(uri, SAMPLE)
    assert codes(await editor.diagnostics(uri)) == ["PY001", "PY011", "PY022"]
    await until(lambda: len(lsp.messages) >= 1, "window/showMessage")
    await editor.hover(uri, types.Position(0, 0))  # a round trip: anything queued has arrived
    assert len(lsp.messages) == 1
    assert lsp.messages[0].type == types.MessageType.Warning
    details = "\n".join(m.message for m in lsp.log_messages)
    for key in ("maxHintsPerFile", "debounceMs", "select"):
        assert key in details
    assert "unknownKey" not in lsp.messages[0].message


async def test_document_over_the_size_limit_is_skipped_with_one_message(editor: Editor) -> None:
    uri = uri_for("big.py")
    big = SAMPLE + "x = 1\n" * 170_000
    assert len(big.encode("utf-8")) > 1_000_000
    editor.open(uri, big)
    assert await editor.diagnostics(uri) == []
    await until(lambda: len(editor.client.messages) >= 1, "window/showMessage")
    end = position_of(big, len(big), editor.encoding)
    editor.change(uri, [(types.Range(end, end), "y = 2\n")])
    assert await editor.diagnostics(uri) == []
    # A small document is still analysed, and the big one warned about once only.
    small = uri_for("sample.py")
    editor.open(small, SAMPLE)
    assert codes(await editor.diagnostics(small)) == ["PY001", "PY011", "PY022"]
    assert len(editor.client.messages) == 1


# ---------------------------------------------------------------------- robustness


async def test_unknown_documents_and_positions_out_of_range(editor: Editor) -> None:
    unknown = uri_for("never-opened.py")
    origin = types.Position(0, 0)
    assert await editor.hover(unknown, origin) is None
    assert await editor.actions(unknown, types.Range(origin, origin)) == []
    assert await editor.lenses(unknown) == []
    if editor.pull:
        report = await editor.pull_report(unknown)
        assert report.kind == "full" and list(report.items) == []
    uri = uri_for("sample.py")
    editor.open(uri, SAMPLE)
    await editor.diagnostics(uri)
    far = types.Position(10_000, 10_000)
    assert await editor.hover(uri, far) is None
    assert await editor.hover(uri, types.Position(2, 10_000)) is None
    # A range past the end clamps to the end: it covers every finding.
    everything = await editor.actions(uri, types.Range(origin, far))
    assert [t for t in titles(everything) if t.startswith("Don't show")] == [
        "Don't show PY001 again",
        "Don't show PY011 again",
        "Don't show PY022 again",
    ]


@pytest.mark.parametrize(
    ("text", "needle", "overshoot", "replacement", "rules"),
    [
        # The last line has no line break to stand on: its end is after its last character.
        ("x = f()\nassert x == 2", "2", True, "None", ["PY022"]),
        # LSP breaks lines at \n, \r\n and \r only; a form feed (Emacs page breaks, in real
        # Python files) or \x1e is an ordinary character, though str.splitlines() breaks there.
        ("flag = 1\x0c; check = flag == None\n", "None", False, "0", []),
        ("flag = 1\x0c; check = flag == None\n", "None", True, "0", []),
        ("a = g('\x1e'); assert a == 2\n", "2", True, "None", ["PY022"]),
    ],
    ids=["last-line", "form-feed", "form-feed-overshoot", "record-separator"],
)
async def test_edits_land_where_the_specification_says(
    editor: Editor, text: str, needle: str, overshoot: bool, replacement: str, rules: list[str]
) -> None:
    """A column past a line's end means the line's end; only \n, \r\n and \r end lines."""
    uri = uri_for("edges.py")
    document = editor.open(uri, text)
    await editor.diagnostics(uri)
    where = editor.range_of(uri, needle)
    if overshoot:
        where = types.Range(where.start, types.Position(where.end.line, where.end.character + 50))
    editor.change(uri, [(where, replacement)])
    index = text.index(needle)
    end = text.find("\n", index) if overshoot else index + len(needle)
    assert document.text == text[:index] + replacement + text[end if end >= 0 else len(text) :]
    diagnostics = await editor.diagnostics(uri)
    assert codes(diagnostics) == rules
    assert seen(diagnostics) == editor.expected(uri)


@pytest.mark.parametrize(
    ("method", "params"),
    [
        (types.TEXT_DOCUMENT_HOVER, {"textDocument": 5, "position": "here"}),
        (types.TEXT_DOCUMENT_CODE_ACTION, {"textDocument": {"uri": 1}, "range": None}),
        (types.WORKSPACE_EXECUTE_COMMAND, {"command": 42, "arguments": "x"}),
        (types.TEXT_DOCUMENT_CODE_LENS, []),
    ],
)
async def test_malformed_params_get_an_error_and_the_server_stays_up(
    editor: Editor, method: str, params: Any
) -> None:
    uri = uri_for("sample.py")
    editor.open(uri, SAMPLE)
    await editor.diagnostics(uri)
    with pytest.raises(JsonRpcException):
        await raw_request(editor.client, method, params)
    assert await editor.hover(uri, editor.range_of(uri, '"the"').start) is not None
    editor.change(uri, [(AT_START, "\n")])
    assert seen(await editor.diagnostics(uri)) == editor.expected(uri)


async def test_shutdown_then_exit_quits_quickly(editor: Editor) -> None:
    client = editor.client
    uri = uri_for("sample.py")
    editor.open(uri, SAMPLE)
    await editor.diagnostics(uri)
    await within(client.shutdown_async(None))
    server = client._server
    assert server is not None
    started = time.monotonic()
    client.exit(None)
    code = await within(server.wait(), 0.5)
    assert time.monotonic() - started < 0.5
    assert code == 0


async def _read_frame(stream: asyncio.StreamReader) -> dict[str, Any] | None:
    """One framed message; ``None`` at a clean end of stream. Anything else fails the test."""
    length: int | None = None
    while True:
        line = await stream.readline()
        if not line:
            assert length is None, "stdout ended inside a message header"
            return None
        assert line.endswith(b"\r\n"), f"not a protocol header on stdout: {line!r}"
        if line == b"\r\n":
            break
        name, _, value = line.decode("ascii").partition(":")
        assert name in ("Content-Length", "Content-Type"), f"unexpected header {line!r}"
        if name == "Content-Length":
            length = int(value)
    assert length is not None, "message without Content-Length"
    body = await stream.readexactly(length)
    message: dict[str, Any] = json.loads(body)
    assert message.get("jsonrpc") == "2.0"
    return message


async def test_stdout_carries_only_protocol_messages() -> None:
    """Run the server by hand: every byte on stdout belongs to a framed JSON-RPC message."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "lessonlens",
        "serve",
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
    )
    assert process.stdin is not None and process.stdout is not None
    uri = uri_for("sample.py")

    def send(message: dict[str, Any]) -> None:
        body = json.dumps({"jsonrpc": "2.0", **message}).encode("utf-8")
        assert process.stdin is not None
        process.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)

    async def next_message(
        stream: asyncio.StreamReader, wanted: Callable[[dict[str, Any]], bool]
    ) -> dict[str, Any]:
        while True:
            message = await within(_read_frame(stream))
            assert message is not None, "stdout closed early"
            if wanted(message):
                return message

    try:
        send(
            {
                "id": 1,
                "method": "initialize",
                "params": {"processId": None, "rootUri": None, "capabilities": {}},
            }
        )
        response = await next_message(process.stdout, lambda m: m.get("id") == 1)
        assert "result" in response
        send({"method": "initialized", "params": {}})
        item = {"uri": uri, "languageId": "python", "version": 1, "text": SAMPLE}
        send({"method": "textDocument/didOpen", "params": {"textDocument": item}})
        published = await next_message(
            process.stdout, lambda m: m.get("method") == "textDocument/publishDiagnostics"
        )
        assert len(published["params"]["diagnostics"]) == 3
        send({"id": 2, "method": "shutdown", "params": None})
        await next_message(process.stdout, lambda m: m.get("id") == 2)
        send({"method": "exit", "params": None})
        started = time.monotonic()
        while await within(_read_frame(process.stdout), 1.0) is not None:
            pass
        assert await within(process.wait(), 0.5) == 0
        assert time.monotonic() - started < 0.5
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()


# ---------------------------------------------------------------------- position encodings

ENCODING_OFFERS = {
    "utf-16": None,
    "utf-8": ["utf-8"],
    "utf-32": ["utf-32"],
}


@pytest.mark.parametrize("encoding", sorted(ENCODING_OFFERS))
async def test_position_encodings(lsp: RecordingClient, encoding: str) -> None:
    """A line with accents, CJK and an emoji (two UTF-16 units, four bytes) before a finding."""
    editor = await Editor.start(lsp, vscode(encodings=ENCODING_OFFERS[encoding]))
    assert editor.encoding == encoding
    if ENCODING_OFFERS[encoding] is not None:
        assert editor.result.capabilities.position_encoding == encoding
    uri = uri_for("unicode.py")
    document = editor.open(uri, UNICODE)
    (diagnostic,) = await editor.diagnostics(uri)
    line = UNICODE.splitlines()[1]
    start = line.index("name ==")
    assert diagnostic.range == types.Range(
        types.Position(1, units(line[:start], encoding)),
        types.Position(1, units(line[: start + len("name == None")], encoding)),
    )
    hover = await editor.hover(uri, editor.range_of(uri, "None").start)
    assert hover is not None
    # An incremental edit right after the emoji: the text it leaves must be exact, or the
    # code no longer parses the same and the findings move or vanish.
    after_emoji = editor.range_of(uri, "🐍").end
    editor.change(uri, [(types.Range(after_emoji, after_emoji), '"; assert name == None; x = "🐍')])
    assert 'label = "héllo 世界 🐍"; assert name == None; x = "🐍"; assert' in document.text
    diagnostics = await editor.diagnostics(uri)
    assert seen(diagnostics) == editor.expected(uri)
    assert len(diagnostics) == 2
    # And the fix's edit, in the same encoding, rewrites exactly the comparison.
    second = max(diagnostics, key=lambda d: d.range.start.character)
    # Both findings share rule and line, and actions match diagnostics by rule and line, so
    # both fixes may be offered: take the one whose edit covers the second comparison.
    fixes = [a.edit for a in await editor.actions(uri, second.range, [second]) if a.edit]
    (fix,) = [f for f in fixes if _edit_ranges(f) == [second.range]]
    await editor.apply(fix)
    assert 'x = "🐍"; assert name is None\n' in document.text
    assert len(await editor.diagnostics(uri)) == 1


async def test_position_encoding_follows_the_client_order(lsp: RecordingClient) -> None:
    editor = await Editor.start(lsp, vscode(encodings=["utf-32", "utf-8", "utf-16"]))
    assert editor.encoding == "utf-32"
