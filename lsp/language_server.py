"""The server object: a pygls ``LanguageServer`` that owns one editor session.

It serves frames over stdio or TCP (read by ``lsp/framing.py``), sends what the session reports
unasked (diagnostics, notices, a code-lens refresh) and applies the editor's settings. The
handlers that answer the editor are in ``lsp/server.py`` (lifecycle, documents),
``lsp/features.py`` and ``lsp/commands.py``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sys
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import Any, BinaryIO

from lsprotocol import types
from pygls.exceptions import JsonRpcException, JsonRpcInvalidParams
from pygls.io_ import StdoutWriter
from pygls.lsp.server import LanguageServer

from lessonlens import __version__
from lessonlens.lsp import convert
from lessonlens.lsp.framing import CHUNK_BYTES, FrameReader, Refused
from lessonlens.lsp.protocol import LessonLensProtocol
from lessonlens.server.editor.session import DocumentResult, Session
from lessonlens.server.editor.settings import PREFIX, parse_settings

log = logging.getLogger(__name__)


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
