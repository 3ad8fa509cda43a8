"""The pygls language server: thin handlers that unpack params, call the core, convert back.

The core (``server.session.Session``) owns documents, analysis and what to show; this module
only speaks the protocol. Never print: stdout is the protocol channel in stdio mode.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
import logging
import os
import sys
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import Any, BinaryIO

from lsprotocol import types
from pygls.exceptions import JsonRpcException, JsonRpcInternalError, JsonRpcInvalidParams
from pygls.io_ import StdoutWriter
from pygls.lsp.server import LanguageServer
from pygls.protocol import LanguageServerProtocol
from pygls.protocol.language_server import lsp_method

from lessonlens import __version__
from lessonlens.analyzers.languages import languages
from lessonlens.lsp import convert
from lessonlens.lsp.framing import (
    CHUNK_BYTES,
    INVALID_REQUEST,
    PARSE_ERROR,
    FrameReader,
    Refused,
    envelope_problem,
)
from lessonlens.server.editor.session import AnalysisFailed, DocumentResult, Session, uri_to_path
from lessonlens.server.editor.settings import PREFIX, parse_settings
from lessonlens.server.learner.coach import WRITE_TRY_S, Coach
from lessonlens.server.learner.progress import (
    SqliteProgressStore,
    default_data_dir,
    developer_pseudonym,
    local_salt,
    repository_id,
)
from lessonlens.server.workspace.config import ConfigError, find_config

log = logging.getLogger(__name__)

SHOW_LESSON = "lessonlens.showLesson"
DISMISS = "lessonlens.dismiss"
MUTE_RULE = "lessonlens.muteRule"
I_KNOW_THIS = "lessonlens.iKnowThis"
ANSWER_REFRESHER = "lessonlens.answerRefresher"
FIX_APPLIED = "lessonlens.fixApplied"
PROGRESS_REQUEST = "lessonlens/progress"
# The progress view's answer, at the latest: reading waits for the coach's writer at most a try.
PROGRESS_WAIT_S = 5.0


class LessonLensProtocol(LanguageServerProtocol):
    """pygls's protocol, minus two traps that the end-to-end tests found.

    - pygls's builtin didChange applies each change to its own copy of the text first, and
      clamps positions past a line's end *in place*, in ``str.splitlines()`` lines: those also
      break at form feeds and other separators, and its clamp leaves the last line one
      character short. Our handler then read the mutated ranges. The session keeps the
      documents and pygls's copy is never read, so the builtin only hands over to our handler.
    - A request whose params do not match the method's type fails inside ``json.loads`` and
      pygls never answers it: the client would wait forever. Answer it with the error.
    """

    @lsp_method(types.TEXT_DOCUMENT_DID_CHANGE)
    def lsp_text_document__did_change(
        self, params: types.DidChangeTextDocumentParams
    ) -> Iterator[Any]:
        if (handler := self.fm.features.get(types.TEXT_DOCUMENT_DID_CHANGE)) is not None:
            yield handler, (params,), None

    def _execute_handler(
        self,
        msg_id: Any,
        handler: Any,
        callback: Any,
        args: tuple[Any, ...] | None = None,
        kwargs: dict[str, Any] | None = None,
    ) -> None:
        """Run a handler as pygls does, after forgetting the futures of handlers that are done.

        pygls 2.1.1 keeps each handler's future in ``_request_futures`` until a request's
        answer removes it, so a notification's future (a coroutine's, a thread's, a
        generator's: every didChange leaves one or two, with its params) stays forever and
        memory grows ~2 KB per edit (``benchmarks/soak.py`` measures it). Pruned here, not in
        a done callback: pygls's ``shutdown`` cancels futures while iterating over the dict.
        """
        for done in [key for key, future in list(self._request_futures.items()) if future.done()]:
            self._request_futures.pop(done, None)
        super()._execute_handler(msg_id, handler, callback, args, kwargs)

    def structure_message(self, data: dict[str, Any]) -> Any:
        if data.get("method") == PROGRESS_REQUEST and "params" not in data:
            # A request without params is valid JSON-RPC; pygls cannot structure it.
            data = {**data, "params": None}
        try:
            return super().structure_message(data)
        except JsonRpcException as error:
            if "id" in data and "method" in data:
                self._send_response(data["id"], None, error.to_response_error())
            raise

    def refuse(self, refused: Refused) -> None:
        """Answer what could not be read as a request: JSON-RPC 2.0 says ``id: null`` then.

        Sent as a plain object: pygls's converter drops a None id from ``ResponseErrorMessage``.
        """
        log.warning("refused a message: %s", refused.message)
        error = {"code": refused.code, "message": refused.message}
        self._send_data({"jsonrpc": "2.0", "id": None, "error": error})

    def receive(self, body: bytes, frames: FrameReader) -> None:
        """One frame's body: parsed, its envelope checked, then handed to pygls.

        Parsed without pygls's ``object_hook``, which structured any nested object with a
        ``jsonrpc`` key as a message; only the top level is a message.
        """
        try:
            data = json.loads(body)
        except (ValueError, RecursionError) as exc:
            self.refuse(Refused(PARSE_ERROR, f"Parse error: {exc}"))
            frames.resync(body)
            return
        problem = envelope_problem(data)
        if problem is not None:
            self.refuse(Refused(INVALID_REQUEST, f"Invalid Request: {problem}"))
            return
        self.handle_message(self.structure_message(data))


class LessonLensServer(LanguageServer):
    """A language server that owns one editor session."""

    protocol: LessonLensProtocol

    def __init__(self) -> None:
        super().__init__("lessonlens", __version__, protocol_cls=LessonLensProtocol)
        self.session = Session(
            on_result=self.on_result, on_notice=self.notice, on_related=self.on_related
        )
        self.lens_refresh_support = False
        self.model_task: asyncio.Task[None] | None = None
        self.pull = False
        self.refresh_support = False
        self.configuration_support = False
        self.progress_support = False
        self.document_changes = False
        self.root_uri: str | None = None
        # Set once the developer's history is loaded (or could not be): the progress view
        # waits for it rather than show an empty profile.
        self.coach_ready = asyncio.Event()
        # Wakes the background sync at once (sharing just turned on), instead of at the next tick.
        self.sync_soon = asyncio.Event()
        self.sync_task: asyncio.Task[None] | None = None
        # Bumped whenever visibility changes without an edit (mute, dismiss, settings), so
        # that pull clients do not keep an "unchanged" report that is no longer true.
        self.generation = 0

    def start_io(self, stdin: BinaryIO | None = None, stdout: BinaryIO | None = None) -> None:
        """The stdio server of pygls, with frames read by ``lsp/framing.py`` (see why there)."""
        source = stdin or sys.stdin.buffer
        read_some = getattr(source, "read1", source.read)
        # Its own thread: a read blocks until the client writes, and must not hold a worker
        # that analysis or the progress store is waiting for.
        reading = ThreadPoolExecutor(max_workers=1, thread_name_prefix="lessonlens-stdin")

        async def read() -> bytes:
            loop = asyncio.get_running_loop()
            return await loop.run_in_executor(reading, read_some, CHUNK_BYTES)

        self.protocol.set_writer(StdoutWriter(stdout or sys.stdout.buffer))
        try:
            asyncio.run(self.serve_frames(FrameReader(read)))
        except BrokenPipeError:
            log.error("the client has gone; shutting down")
        except (KeyboardInterrupt, SystemExit):
            pass
        finally:
            reading.shutdown(wait=False)
            self.shutdown()  # type: ignore[no-untyped-call]

    def start_tcp(self, host: str, port: int) -> None:
        """The TCP server of pygls (one client at a time), with the same framing as stdio."""

        async def connection(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            self.protocol.set_writer(writer)
            await self.serve_frames(FrameReader(partial(reader.read, CHUNK_BYTES)))
            self.shutdown()  # type: ignore[no-untyped-call]

        async def listen() -> None:
            self._server = await asyncio.start_server(connection, host, port)
            async with self._server:
                await self._server.serve_forever()

        with contextlib.suppress(asyncio.CancelledError):
            asyncio.run(listen())

    async def serve_frames(self, frames: FrameReader) -> None:
        while (body := await frames.next()) is not None:
            if isinstance(body, Refused):
                self.protocol.refuse(body)
                continue
            try:
                self.protocol.receive(body, frames)
            except Exception as exc:
                log.exception("unable to handle a message")
                self._report_server_error(exc, JsonRpcException)

    @property
    def encoding(self) -> str:
        # pygls hands back an enum when it falls back to UTF-16, and str() of a (str, Enum)
        # member is "PositionEncodingKind.Utf16", which matches no encoding in convert: edits
        # after an emoji then landed one column off per astral character.
        encoding = self.workspace.position_encoding or convert.UTF16
        return encoding.value if isinstance(encoding, types.PositionEncodingKind) else encoding

    def result_id(self, result: DocumentResult) -> str:
        return f"{result.uri}@{result.version}#{result.revision}.{self.generation}"

    def diagnostics(self, result: DocumentResult) -> list[types.Diagnostic]:
        lines = convert.Lines(result.data)
        return [
            convert.diagnostic(
                f,
                self.session.lesson(f.lesson_id),
                lines,
                self.encoding,
                quiet=result.is_quiet(f),
            )
            for f in result.hints
        ]

    def on_result(self, result: DocumentResult) -> None:
        if self.pull:
            return
        self.text_document_publish_diagnostics(
            types.PublishDiagnosticsParams(
                uri=result.uri, diagnostics=self.diagnostics(result), version=result.version
            )
        )

    def visibility_changed(self, results: list[DocumentResult]) -> None:
        self.generation += 1
        if self.pull:
            if self.refresh_support:
                self.workspace_diagnostic_refresh(None)
            return
        for result in results:
            self.on_result(result)

    def report_server_error(self, error: Exception, source: Any) -> None:
        # A malformed request is answered with its error; it needs no pop-up as well.
        if isinstance(error, JsonRpcInvalidParams):
            log.warning("invalid request params: %s", error)
            return
        super().report_server_error(error, source)

    def on_related(self, uri: str) -> None:
        """New related lessons for a document: the client asks for code lenses again."""
        if self.lens_refresh_support:
            self.workspace_code_lens_refresh(None)

    def notice(self, message: str) -> None:
        self.window_show_message(
            types.ShowMessageParams(type=types.MessageType.Warning, message=message)
        )

    def apply_settings(self, raw: Any) -> None:
        sharing_before = self.session.settings.share_progress
        settings, errors = parse_settings(raw, self.session.settings)
        if errors:
            # Each error starts with the setting's name ("lessonlens.debounceMs: expected ...").
            names = [e.partition(":")[0] for e in errors if e.startswith(f"{PREFIX}.")]
            which = f" ({', '.join(names)})" if names else ""
            self.notice(
                f"lessonlens: {len(errors)} invalid setting{'s' if len(errors) > 1 else ''}"
                f"{which}; defaults used (details in the output log)."
            )
            for error in errors:
                self.window_log_message(
                    types.LogMessageParams(type=types.MessageType.Warning, message=error)
                )
        self.visibility_changed(self.session.update_settings(settings))
        if settings.share_progress and not sharing_before and self.coach_ready.is_set():
            self.sync_soon.set()


# ---------------------------------------------------------------------- lifecycle


def initialize(ls: LessonLensServer, params: types.InitializeParams) -> None:
    capabilities = params.capabilities
    text = capabilities.text_document
    workspace = capabilities.workspace
    ls.pull = text is not None and text.diagnostic is not None
    ls.refresh_support = bool(
        workspace and workspace.diagnostics and workspace.diagnostics.refresh_support
    )
    ls.configuration_support = bool(workspace and workspace.configuration)
    ls.progress_support = bool(capabilities.window and capabilities.window.work_done_progress)
    ls.lens_refresh_support = bool(
        workspace and workspace.code_lens and workspace.code_lens.refresh_support
    )
    ls.document_changes = bool(
        workspace and workspace.workspace_edit and workspace.workspace_edit.document_changes
    )
    options = params.initialization_options
    if isinstance(options, dict) and isinstance(options.get(PREFIX), dict):
        options = options[PREFIX]
    ls.apply_settings(options)
    # The coach (the developer's history) loads after ``initialized``, off the event loop:
    # reading a long history must not hold up the editor's initialize request.
    ls.root_uri = params.root_uri or (
        params.workspace_folders[0].uri if params.workspace_folders else None
    )


async def start_coach(ls: LessonLensServer) -> None:
    loop = asyncio.get_running_loop()

    def notice(message: str) -> None:
        # From the store's and the writer's threads: only the event loop writes to the client.
        loop.call_soon_threadsafe(ls.notice, message)

    try:
        coach = await loop.run_in_executor(None, make_coach, ls.session, ls.root_uri, notice)
    except Exception as exc:  # hints still work without a progress store
        # A notice, not only the log: the developer can act on it (the message says how).
        log.warning("progress tracking is off: %r", exc)
        ls.notice(f"lessonlens: progress tracking is off: {exc}")
        return
    finally:
        ls.coach_ready.set()
    changed = ls.session.start_coach(coach)
    if changed:
        ls.visibility_changed(changed)


def make_coach(
    session: Session, root_uri: str | None, on_notice: Callable[[str], None] | None = None
) -> Coach:
    """The developer behind this editor (a pseudonym), and the store their progress goes to."""
    root = uri_to_path(root_uri) if root_uri else None
    data_dir = default_data_dir()
    try:
        config = find_config(root) if root is not None and root.is_dir() else None
    except ConfigError as exc:
        # Tracking goes on with the defaults (the local salt); the session shows the notice
        # when it analyses a document under that configuration.
        log.warning("invalid project configuration, progress uses the defaults: %s", exc)
        config = None
    team_salt = config.team_salt if config is not None else None
    notice = on_notice or session.on_notice
    developer = developer_pseudonym(root, team_salt, data_dir)
    salt = team_salt.encode() if team_salt else local_salt(data_dir)
    store = SqliteProgressStore(
        data_dir / "progress.sqlite3", on_notice=notice, busy_timeout_s=WRITE_TRY_S
    )
    return Coach(
        store,
        developer,
        session.skills,
        repository=repository_id(root, salt),
        on_notice=notice,
    )


async def initialized(ls: LessonLensServer, params: types.InitializedParams) -> None:
    token = "lessonlens/load-lessons"
    if ls.progress_support:
        try:
            await ls.work_done_progress.create_async(token)
            ls.work_done_progress.begin(
                token, types.WorkDoneProgressBegin(title="lessonlens", message="Loading lessons")
            )
        except Exception:  # a client that refuses the token still gets a working server
            ls.progress_support = False
    await start_coach(ls)
    ls.sync_task = asyncio.get_running_loop().create_task(sync_in_background(ls))
    catalog = await asyncio.wrap_future(ls.session.reload_lessons())
    if ls.progress_support:
        ls.work_done_progress.end(
            token, types.WorkDoneProgressEnd(message=f"{len(catalog.lessons)} lessons ready")
        )
    await pull_configuration(ls)
    freeze_heap()
    if ls.session.settings.model_device != "off":
        ls.model_task = asyncio.get_running_loop().create_task(load_model(ls))


async def load_model(ls: LessonLensServer) -> None:
    """Load the encoder in the background; the server is fully useful meanwhile, and without it.

    The outcome goes to the log (the provider, variant and model hash), not to a pop-up: a
    missing model is a feature not yet set up, not an error to nag about.
    """
    token = "lessonlens/load-model"
    progress = ls.progress_support
    if progress:
        try:
            await ls.work_done_progress.create_async(token)
            ls.work_done_progress.begin(
                token,
                types.WorkDoneProgressBegin(title="lessonlens", message="Loading the lesson model"),
            )
        except Exception:
            progress = False
    # numpy, onnxruntime and the tokenizer load here, in the background (ARCHITECTURE.md).
    from lessonlens.model_runtime.related import ModelService

    service = ModelService(device=ls.session.settings.model_device, interactive=True)
    loaded = await asyncio.get_running_loop().run_in_executor(None, service.load)
    if loaded:
        loop = asyncio.get_running_loop()
        lessons = list(ls.session.catalog.lessons.values())
        # The lesson matrix is part of loading: the first document should not pay for it.
        await loop.run_in_executor(None, service.index, lessons, ls.session.skills)
        # Nor for the lessons' gates: compiling their queries holds the GIL for about half a
        # second, which stalled the edits typed during the first pass that related units.
        for spec in languages():
            await loop.run_in_executor(None, service.gates, lessons, spec)
    ls.window_log_message(
        types.LogMessageParams(
            type=types.MessageType.Info if loaded else types.MessageType.Warning,
            message=f"lessonlens: {service.message}",
        )
    )
    if progress:
        ls.work_done_progress.end(
            token,
            types.WorkDoneProgressEnd(
                message="Related lessons ready" if loaded else "Related lessons unavailable"
            ),
        )
    if loaded:
        ls.session.attach_model(service)
        freeze_heap()


def freeze_heap() -> None:
    """Leave what start-up built (modules, lessons, the model) out of later collections.

    A full collection walks every tracked object: with the protocol's types and the model
    loaded, one took 20-40 ms on the analysis thread, the tail of edit -> diagnostics.
    """
    gc.collect()
    gc.freeze()


SYNC_EVERY_S = 600


async def sync_in_background(ls: LessonLensServer) -> None:
    """While sharing is on and an LRS is set, send progress every ten minutes.

    A failure is logged, never shown: the LRS being down must not interrupt anyone's work.
    """
    while True:
        try:
            result = await ls.session.sync_progress()
            if result is not None and result.sent:
                log.info("synced %d statements to the LRS", result.sent)
        except Exception as exc:
            ls.window_log_message(
                types.LogMessageParams(
                    type=types.MessageType.Warning,
                    message=f"lessonlens: progress not synced to the LRS: {exc}",
                )
            )
        ls.sync_soon.clear()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(ls.sync_soon.wait(), timeout=SYNC_EVERY_S)


async def pull_configuration(ls: LessonLensServer) -> None:
    if not ls.configuration_support:
        return
    try:
        values = await ls.workspace_configuration_async(
            types.ConfigurationParams(items=[types.ConfigurationItem(section=PREFIX)])
        )
    except Exception as exc:
        log.warning("workspace/configuration failed: %r", exc)
        return
    if values and isinstance(values[0], dict):
        ls.apply_settings(values[0])


async def did_change_configuration(
    ls: LessonLensServer, params: types.DidChangeConfigurationParams
) -> None:
    if ls.configuration_support:
        await pull_configuration(ls)
    elif isinstance(params.settings, dict):
        ls.apply_settings(params.settings.get(PREFIX, params.settings))


def shutdown(ls: LessonLensServer, params: None) -> None:
    # Never wait on a sync: its cursor moves only on the LRS's checked answer, so abandoning it
    # loses nothing; the next sync sends those events again.
    if ls.sync_task is not None:
        ls.sync_task.cancel()
    ls.session.shutdown()


def exit_(ls: LessonLensServer, params: None) -> None:
    """Quit at once, with status 0 only after ``shutdown`` (as the specification asks).

    Everything was closed on ``shutdown``; interpreter teardown would only add waiting.
    """
    ls.session.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0 if getattr(ls.protocol, "_shutdown", False) else 1)


# ---------------------------------------------------------------------- documents


def did_open(ls: LessonLensServer, params: types.DidOpenTextDocumentParams) -> None:
    doc = params.text_document
    ls.session.open(doc.uri, doc.language_id, doc.version, doc.text)


def did_change(ls: LessonLensServer, params: types.DidChangeTextDocumentParams) -> None:
    uri, version = params.text_document.uri, params.text_document.version
    document = ls.session.document(uri)
    if document is None:
        log.info("didChange for a document that is not open: %s", uri)
        return
    for change in params.content_changes:
        # Each change's range refers to the text as the previous change left it.
        if isinstance(change, types.TextDocumentContentChangePartial):
            start = convert.offset_of(document, change.range.start, ls.encoding)
            end = convert.offset_of(document, change.range.end, ls.encoding)
            ls.session.change(uri, version, [(start, end, change.text)])
        else:
            ls.session.change(uri, version, [change.text])


def did_close(ls: LessonLensServer, params: types.DidCloseTextDocumentParams) -> None:
    ls.session.close(params.text_document.uri)
    if not ls.pull:
        ls.text_document_publish_diagnostics(
            types.PublishDiagnosticsParams(uri=params.text_document.uri, diagnostics=[])
        )


# ---------------------------------------------------------------------- features


async def diagnostic(
    ls: LessonLensServer, params: types.DocumentDiagnosticParams
) -> types.DocumentDiagnosticReport:
    try:
        result = await ls.session.analysis(params.text_document.uri)
    except AnalysisFailed as exc:
        # Answered with the error (the client keeps its last report), and said in the log.
        ls.window_log_message(
            types.LogMessageParams(type=types.MessageType.Error, message=f"lessonlens: {exc}")
        )
        raise JsonRpcInternalError(str(exc)) from exc
    if result is None:
        return types.RelatedFullDocumentDiagnosticReport(items=[])
    result_id = ls.result_id(result)
    if params.previous_result_id == result_id:
        return types.RelatedUnchangedDocumentDiagnosticReport(result_id=result_id)
    return types.RelatedFullDocumentDiagnosticReport(
        items=ls.diagnostics(result), result_id=result_id
    )


def hover(ls: LessonLensServer, params: types.HoverParams) -> types.Hover | None:
    result = ls.session.result(params.text_document.uri)
    if result is None:
        return None
    lines = convert.Lines(result.data)
    offset = convert.offset_in(lines, params.position, ls.encoding)
    markdown = ls.session.hover(result.uri, offset)
    if markdown is None:
        return None
    return types.Hover(contents=types.MarkupContent(kind=types.MarkupKind.Markdown, value=markdown))


def code_action(
    ls: LessonLensServer, params: types.CodeActionParams
) -> list[types.CodeAction] | None:
    uri = params.text_document.uri
    result = ls.session.result(uri)
    if result is None:
        return None
    lines = convert.Lines(result.data)
    start = convert.offset_in(lines, params.range.start, ls.encoding)
    end = convert.offset_in(lines, params.range.end, ls.encoding)
    mentioned = [
        (str(d.code), d.range.start.line)
        for d in params.context.diagnostics
        if d.source == "lessonlens" and d.code is not None
    ]
    actions = []
    for action in ls.session.actions(uri, start, end, mentioned):
        finding = action.finding
        diagnostic_ = convert.diagnostic(
            finding, ls.session.lesson(finding.lesson_id), lines, ls.encoding
        )
        if action.kind == "fix":
            actions.append(
                types.CodeAction(
                    title=action.title,
                    kind=types.CodeActionKind.QuickFix,
                    diagnostics=[diagnostic_],
                    is_preferred=action.preferred,
                    # Run by the client right after it applies the edit: the hint's removal is
                    # then the tool's fix, a learning opportunity, not the developer's own.
                    command=types.Command(
                        title=action.title, command=FIX_APPLIED, arguments=list(action.arguments)
                    ),
                    edit=convert.workspace_edit(
                        uri,
                        result.version,
                        finding,
                        lines,
                        ls.encoding,
                        document_changes=ls.document_changes,
                    ),
                )
            )
        else:
            command = {
                "lesson": SHOW_LESSON,
                "dismiss": DISMISS,
                "mute": MUTE_RULE,
                "know": I_KNOW_THIS,
                "answer": ANSWER_REFRESHER,
            }[action.kind]
            actions.append(
                types.CodeAction(
                    title=action.title,
                    kind=types.CodeActionKind.QuickFix,
                    diagnostics=[diagnostic_],
                    command=types.Command(
                        title=action.title, command=command, arguments=list(action.arguments)
                    ),
                )
            )
    return actions


async def code_lens(ls: LessonLensServer, params: types.CodeLensParams) -> list[types.CodeLens]:
    # Asked right after didOpen (Neovim does), the lenses wait for the first analysis rather
    # than answer an empty list that the client keeps until its next refresh.
    try:
        await ls.session.analysis(params.text_document.uri)
    except AnalysisFailed:
        return []
    lenses = []
    for lens in ls.session.lenses(params.text_document.uri):
        where = types.Range(types.Position(lens.row, 0), types.Position(lens.row, 0))
        lenses.append(
            types.CodeLens(
                range=where,
                command=types.Command(
                    title=lens.title, command=SHOW_LESSON, arguments=[list(lens.lesson_ids)]
                ),
            )
        )
    return lenses


def code_lens_resolve(ls: LessonLensServer, params: types.CodeLens) -> types.CodeLens:
    return params


# ---------------------------------------------------------------------- commands


def show_lesson(ls: LessonLensServer, target: Any) -> Any:
    ids = target if isinstance(target, list) else [target]
    if not ids or not all(isinstance(i, str) for i in ids):
        raise JsonRpcInvalidParams("lessonlens.showLesson takes a lesson id or a list of ids")
    lessons = [ls.session.show_lesson(i) for i in ids]
    missing = [i for i, lesson in zip(ids, lessons, strict=True) if lesson is None]
    if missing:
        raise JsonRpcInvalidParams(f"unknown lesson: {', '.join(missing)}")
    return lessons if isinstance(target, list) else lessons[0]


def _is_line(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _known_rule(ls: LessonLensServer, rule_id: Any, command: str) -> str:
    if not isinstance(rule_id, str):
        raise JsonRpcInvalidParams(f"{command}: the rule id must be a string")
    if rule_id not in ls.session.rules:
        raise JsonRpcInvalidParams(f"{command}: unknown rule {rule_id[:80]!r}")
    return rule_id


def dismiss(ls: LessonLensServer, uri: Any, rule_id: Any, line: Any) -> None:
    if not isinstance(uri, str) or not _is_line(line):
        raise JsonRpcInvalidParams("lessonlens.dismiss takes [uri, ruleId, line >= 0]")
    rule_id = _known_rule(ls, rule_id, DISMISS)
    ls.visibility_changed(ls.session.dismiss(uri, rule_id, line))


def mute_rule(ls: LessonLensServer, rule_id: Any) -> None:
    rule_id = _known_rule(ls, rule_id, MUTE_RULE)
    ls.visibility_changed(ls.session.mute(rule_id))


def i_know_this(ls: LessonLensServer, skill_id: Any) -> None:
    if not isinstance(skill_id, str):
        raise JsonRpcInvalidParams("lessonlens.iKnowThis takes [skillId]")
    if skill_id not in ls.session.skills:
        # Stored, an unknown id would be a skill in the developer's record that no lesson has.
        raise JsonRpcInvalidParams(f"lessonlens.iKnowThis: unknown skill {skill_id[:80]!r}")
    ls.visibility_changed(ls.session.i_know_this(skill_id))


def answer_refresher(ls: LessonLensServer, lesson_id: Any, index: Any) -> Any:
    if not isinstance(lesson_id, str) or not _is_line(index):
        raise JsonRpcInvalidParams("lessonlens.answerRefresher takes [lessonId, optionIndex >= 0]")
    answered = ls.session.answer_refresher(lesson_id, index)
    if answered is None:
        raise JsonRpcInvalidParams(f"no refresher for lesson {lesson_id}")
    correct, right = answered
    message = "Correct." if correct else f'Not quite: the answer is "{right}".'
    ls.window_show_message(
        types.ShowMessageParams(type=types.MessageType.Info, message=f"lessonlens: {message}")
    )
    return {"correct": correct, "answer": right}


def fix_applied(ls: LessonLensServer, uri: Any, rule_id: Any, line: Any) -> None:
    if not isinstance(uri, str) or not _is_line(line):
        raise JsonRpcInvalidParams("lessonlens.fixApplied takes [uri, ruleId, line >= 0]")
    rule_id = _known_rule(ls, rule_id, FIX_APPLIED)
    ls.session.fix_applied(uri, rule_id, line)


async def progress(ls: LessonLensServer, params: Any) -> Any:
    try:
        await asyncio.wait_for(ls.coach_ready.wait(), timeout=30)
    except TimeoutError:
        log.warning("progress requested before the history loaded")
    # Off the event loop, and bounded: another process may hold the store.
    loop = asyncio.get_running_loop()
    try:
        return await asyncio.wait_for(
            loop.run_in_executor(None, ls.session.profile), timeout=PROGRESS_WAIT_S
        )
    except TimeoutError:
        raise JsonRpcInternalError(
            "lessonlens: the progress store is busy (another program is using it); try again"
        ) from None


def build_server() -> LessonLensServer:
    """A server with every feature registered (statically, by method name)."""
    server = LessonLensServer()
    server.feature(types.INITIALIZE)(initialize)
    server.feature(types.INITIALIZED)(initialized)
    server.feature(types.SHUTDOWN)(shutdown)
    server.feature(types.EXIT)(exit_)
    server.feature(types.WORKSPACE_DID_CHANGE_CONFIGURATION)(did_change_configuration)
    server.feature(types.TEXT_DOCUMENT_DID_OPEN)(did_open)
    server.feature(types.TEXT_DOCUMENT_DID_CHANGE)(did_change)
    server.feature(types.TEXT_DOCUMENT_DID_CLOSE)(did_close)
    server.feature(
        types.TEXT_DOCUMENT_DIAGNOSTIC,
        types.DiagnosticOptions(
            identifier="lessonlens", inter_file_dependencies=False, workspace_diagnostics=False
        ),
    )(diagnostic)
    server.feature(types.TEXT_DOCUMENT_HOVER)(hover)
    server.feature(
        types.TEXT_DOCUMENT_CODE_ACTION,
        types.CodeActionOptions(code_action_kinds=[types.CodeActionKind.QuickFix]),
    )(code_action)
    server.feature(types.TEXT_DOCUMENT_CODE_LENS, types.CodeLensOptions(resolve_provider=True))(
        code_lens
    )
    server.feature(types.CODE_LENS_RESOLVE)(code_lens_resolve)
    server.command(SHOW_LESSON)(show_lesson)
    server.command(DISMISS)(dismiss)
    server.command(MUTE_RULE)(mute_rule)
    server.command(I_KNOW_THIS)(i_know_this)
    server.command(ANSWER_REFRESHER)(answer_refresher)
    server.command(FIX_APPLIED)(fix_applied)
    server.feature(PROGRESS_REQUEST)(progress)
    return server
