"""The one editor-like client the end-to-end tests drive a real ``lessonlens serve`` with.

It talks over stdio through pygls's ``LanguageClient``, so framing is pygls's and never ours;
``tests/test_hostile_protocol.py`` keeps its raw writer because framing is what it tests.
One document per client (``uri``), typed into as an editor does. Every wait is bounded, so a
server that stops answering fails the test instead of hanging it.
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import cattrs
from lsprotocol import types
from pygls.lsp.client import LanguageClient
from pygls.protocol import JsonRPCResponseMessage, default_converter

TIMEOUT = 20.0

PUSH = types.ClientCapabilities()
"""No diagnostic capability: the server publishes (as Neovim 0.7 does)."""
PULL = types.ClientCapabilities(
    text_document=types.TextDocumentClientCapabilities(
        diagnostic=types.DiagnosticClientCapabilities()
    )
)
"""The client asks with ``textDocument/diagnostic`` (as VS Code does)."""


def _raw_results() -> cattrs.Converter:
    """pygls's converter, except that a result LSP does not type is kept as its JSON.

    pygls makes such a result (a ``lessonlens/...`` request's) nested namedtuples, which drop
    the keys on ``json.dumps`` and rename those that are not identifiers.
    """
    converter = default_converter()
    converter.register_structure_hook(JsonRPCResponseMessage, lambda obj, cls: cls(**obj))
    return converter


class Editor:
    """A client for one server process, with its own progress store when given ``data_dir``."""

    def __init__(
        self,
        root: Path,
        data_dir: Path | None = None,
        *,
        name: str = "work.py",
        language: str = "python",
        env: Mapping[str, str] | None = None,
        cwd: Path | None = None,
        prefix: Sequence[str] = (),
    ) -> None:
        """``cwd`` is the server's working folder (by default the tests'); ``prefix`` goes
        before its command line (``unshare ... sh -c ...`` to give it its own mounts)."""
        self.root = root
        self.data_dir = data_dir
        self.language = language
        self.cwd = cwd
        self.prefix = tuple(prefix)
        self.env = {**os.environ, **(env or {})}
        if data_dir is not None:
            self.env["LESSONLENS_DATA_DIR"] = str(data_dir)
        self.uri = (root / name).as_uri()
        self.client = LanguageClient("lessonlens-test", "1", converter_factory=_raw_results)
        self.version = 1
        self.text = ""
        # Diagnostics published for ``uri``, by document version; every publication, in order.
        self.published: dict[int, list[types.Diagnostic]] = {}
        self.publications: list[types.PublishDiagnosticsParams] = []
        self.messages: list[str] = []
        self.logs: list[str] = []
        self.documents_shown: list[str] = []
        self.pulls = False
        self._arrived = asyncio.Event()
        # What the server wrote to stderr, read as it comes so that the pipe never fills.
        self._stderr: list[bytes] = []
        self._stderr_task: asyncio.Task[None] | None = None

        @self.client.feature(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
        def publish(ls: Any, params: types.PublishDiagnosticsParams) -> None:
            self.publications.append(params)
            if params.uri == self.uri and params.version is not None:
                self.published[params.version] = list(params.diagnostics)
            self._arrived.set()

        @self.client.feature(types.WINDOW_SHOW_MESSAGE)
        def show(ls: Any, params: types.ShowMessageParams) -> None:
            self.messages.append(params.message)

        @self.client.feature(types.WINDOW_LOG_MESSAGE)
        def log(ls: Any, params: types.LogMessageParams) -> None:
            self.logs.append(params.message)

        # As an editor opens a document the server asks it to (the practice command does).
        @self.client.feature(types.WINDOW_SHOW_DOCUMENT)
        def show_document(ls: Any, params: types.ShowDocumentParams) -> types.ShowDocumentResult:
            self.documents_shown.append(params.uri)
            return types.ShowDocumentResult(success=True)

    async def start(
        self,
        capabilities: types.ClientCapabilities = PUSH,
        initialization_options: Any = None,
        *,
        ready: bool = True,
        timeout: float = TIMEOUT,
    ) -> None:
        """Start, initialize and, with ``ready``, wait until the developer's history is loaded.

        ``lessonlens/progress`` answers only once the store is read: from then on every edit
        counts, which is what tests of recorded events need.
        """
        self.pulls = capabilities.text_document is not None and (
            capabilities.text_document.diagnostic is not None
        )
        command = [*self.prefix, sys.executable, "-m", "lessonlens", "serve"]
        await self.client.start_io(*command, env=self.env, cwd=self.cwd)
        process = self.process
        if process is not None and process.stderr is not None:
            self._stderr_task = asyncio.create_task(self._read_stderr(process.stderr))
        async with asyncio.timeout(timeout):
            await self.client.initialize_async(
                types.InitializeParams(
                    capabilities=capabilities,
                    root_uri=self.root.as_uri(),
                    initialization_options=initialization_options,
                )
            )
            self.client.initialized(types.InitializedParams())
            if ready:
                await self.request("lessonlens/progress", None)

    async def stop(self, timeout: float = TIMEOUT) -> float:
        """Shut down and exit as an editor does, within ``timeout``.

        Returns the seconds the ``shutdown`` request took to be answered. A server still
        running ``timeout`` seconds later is killed, and that is a ``TimeoutError``.
        """
        try:
            async with asyncio.timeout(timeout):
                started = time.monotonic()
                await self.client.shutdown_async(None)
                took = time.monotonic() - started
                self.client.exit(None)
        finally:
            await self._close(timeout)
        return took

    async def kill(self, timeout: float = TIMEOUT) -> None:
        """End the server at once, without ``shutdown`` (for a fixture's teardown)."""
        process = self.process
        if process is not None and process.returncode is None:
            process.kill()
        await self._close(timeout)

    async def _close(self, timeout: float) -> None:
        """Wait (bounded) for the server to end and the client to stop; kill it if need be."""
        try:
            async with asyncio.timeout(timeout):
                await self.client.stop()
        except TimeoutError:
            process = self.process
            if process is not None and process.returncode is None:
                process.kill()
            async with asyncio.timeout(timeout):
                await self.client.stop()
            raise TimeoutError(f"the server still ran after {timeout} s: killed") from None
        finally:
            if self._stderr_task is not None:
                async with asyncio.timeout(timeout):
                    await self._stderr_task

    @property
    def process(self) -> asyncio.subprocess.Process | None:
        """The server's process, once started (its ``pid``, its ``returncode`` once ended)."""
        return self.client._server

    @property
    def stderr(self) -> str:
        """What the server wrote to stderr so far (all of it once ``stop`` or ``kill`` ended)."""
        return b"".join(self._stderr).decode("utf-8", "replace")

    async def _read_stderr(self, stream: asyncio.StreamReader) -> None:
        while chunk := await stream.read(65536):
            self._stderr.append(chunk)

    # ------------------------------------------------------------------ documents
    #
    # Each edit of the client's document sends one notification, then returns that version's
    # diagnostics: published ones for a push client, pulled ones for a pull client. With
    # ``wait=False`` it returns ``[]`` at once (to wait on something else, ``published_where``).

    async def open(
        self, text: str, *, timeout: float = TIMEOUT, wait: bool = True
    ) -> list[types.Diagnostic]:
        self.text = text
        self.client.text_document_did_open(
            types.DidOpenTextDocumentParams(
                types.TextDocumentItem(self.uri, self.language, self.version, text)
            )
        )
        return await self._answer(wait, timeout)

    async def replace(
        self, start: int, end: int, text: str, *, wait: bool = True
    ) -> list[types.Diagnostic]:
        """Replace characters ``start:end`` of the text (ASCII only: columns are indices)."""

        def position(index: int) -> types.Position:
            line = self.text.count("\n", 0, index)
            return types.Position(line, index - (self.text.rfind("\n", 0, index) + 1))

        where = types.Range(position(start), position(end))
        self.text = self.text[:start] + text + self.text[end:]
        self._change(types.TextDocumentContentChangePartial(range=where, text=text))
        return await self._answer(wait, TIMEOUT)

    async def append(self, text: str, *, wait: bool = True) -> list[types.Diagnostic]:
        return await self.replace(len(self.text), len(self.text), text, wait=wait)

    async def type(self, at: int, text: str) -> list[types.Diagnostic]:
        """Type ``text`` at ``at`` one keystroke at a time; Enter brings its indentation."""
        found: list[types.Diagnostic] = []
        keys = [text[: len(text) - len(text.lstrip("\n "))], *text.lstrip("\n ")]
        for key in filter(None, keys):
            found = await self.replace(at, at, key)
            at += len(key)
        return found

    async def change_all(self, text: str, *, wait: bool = True) -> list[types.Diagnostic]:
        """Send the whole new text, as a client without incremental sync does."""
        self.text = text
        self._change(types.TextDocumentContentChangeWholeDocument(text=text))
        return await self._answer(wait, TIMEOUT)

    def _change(self, change: types.TextDocumentContentChangeEvent) -> None:
        self.version += 1
        self.client.text_document_did_change(
            types.DidChangeTextDocumentParams(
                types.VersionedTextDocumentIdentifier(version=self.version, uri=self.uri),
                [change],
            )
        )

    async def _answer(self, wait: bool, timeout: float) -> list[types.Diagnostic]:
        if not wait:
            return []
        if self.pulls:
            return await self.pull(timeout=timeout)
        return await self.diagnostics(self.version, timeout)

    def close(self, uri: str | None = None) -> None:
        self.client.text_document_did_close(
            types.DidCloseTextDocumentParams(types.TextDocumentIdentifier(uri or self.uri))
        )

    # ------------------------------------------------------------------ diagnostics

    async def diagnostics(
        self, version: int | None = None, timeout: float = TIMEOUT
    ) -> list[types.Diagnostic]:
        """The diagnostics published for ``version`` (by default the current one)."""
        version = self.version if version is None else version
        await self.published_where(lambda _: version in self.published, timeout)
        return self.published[version]

    async def published_where(
        self,
        wanted: Callable[[types.PublishDiagnosticsParams], bool],
        timeout: float = TIMEOUT,
    ) -> types.PublishDiagnosticsParams:
        """The first publication, already received or to come, that ``wanted`` accepts."""
        async with asyncio.timeout(timeout):
            while True:
                for params in self.publications:
                    if wanted(params):
                        return params
                self._arrived.clear()
                await self._arrived.wait()

    async def pull(
        self, uri: str | None = None, timeout: float = TIMEOUT
    ) -> list[types.Diagnostic]:
        """Ask for the diagnostics of ``uri`` (a pull client); a full report is expected."""
        async with asyncio.timeout(timeout):
            report = await self.client.text_document_diagnostic_async(
                types.DocumentDiagnosticParams(types.TextDocumentIdentifier(uri or self.uri))
            )
        assert isinstance(report, types.RelatedFullDocumentDiagnosticReport)
        return list(report.items)

    async def wait_for_message(self, timeout: float = TIMEOUT) -> list[str]:
        """The shown messages, once there is at least one."""
        async with asyncio.timeout(timeout):
            while not self.messages:
                await asyncio.sleep(0.05)
        return self.messages

    # ------------------------------------------------------------------ requests

    async def hover(
        self,
        where: types.Position,
        uri: str | None = None,
        timeout: float = TIMEOUT,
        *,
        required: bool = True,
    ) -> str:
        """The hover's markdown at ``where``; a hover is expected unless not ``required``
        (then no hover is ``""``)."""
        async with asyncio.timeout(timeout):
            hover = await self.client.text_document_hover_async(
                types.HoverParams(types.TextDocumentIdentifier(uri or self.uri), where)
            )
        if hover is None and not required:
            return ""
        assert hover is not None
        assert isinstance(hover.contents, types.MarkupContent)
        return hover.contents.value

    async def command(self, command: str, *arguments: Any, timeout: float = TIMEOUT) -> Any:
        async with asyncio.timeout(timeout):
            return await self.client.workspace_execute_command_async(
                types.ExecuteCommandParams(command=command, arguments=list(arguments))
            )

    async def request(self, method: str, params: Any, timeout: float = TIMEOUT) -> Any:
        """A request the server defines itself (``lessonlens/...``), answered raw (its JSON)."""
        async with asyncio.timeout(timeout):
            return await self.client.protocol.send_request_async(method, params)
