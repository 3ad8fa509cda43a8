"""The pygls language server: ``build_server()``, its lifecycle and the documents' sync.

Thin handlers that unpack params, call the core and convert back. The core
(``server.session.Session``) owns documents, analysis and what to show; ``lsp/`` only speaks
the protocol. Never print: stdout is the protocol channel in stdio mode. The server object is
``lsp/language_server.py``'s; what the editor asks about a document is ``lsp/features.py``'s;
the commands and the progress request are ``lsp/commands.py``'s.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import os
import sys
from collections.abc import Callable

from lsprotocol import types

from lessonlens.analyzers.languages import languages
from lessonlens.lsp import convert
from lessonlens.lsp.commands import register_commands
from lessonlens.lsp.features import register_features
from lessonlens.lsp.language_server import LessonLensServer
from lessonlens.server.editor.session import Session, uri_to_path
from lessonlens.server.editor.settings import PREFIX
from lessonlens.server.learner.coach import WRITE_TRY_S, Coach
from lessonlens.server.learner.fitted import read_fitted
from lessonlens.server.learner.progress import SqliteProgressStore, default_data_dir
from lessonlens.server.learner.pseudonym import developer_pseudonym, local_salt, repository_id
from lessonlens.server.workspace.config import ConfigError, find_config

log = logging.getLogger(__name__)


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
    register_features(server)
    register_commands(server)
    return server


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
    repository = repository_id(root, salt)
    return Coach(
        store,
        developer,
        session.skills,
        repository=repository,
        on_notice=notice,
        fitted=read_fitted(data_dir, repository),
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
