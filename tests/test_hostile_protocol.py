"""Hostile protocol input: the server stays up and answers the next well-formed message.

A raw stdio client writes bytes to a real ``lessonlens serve`` process (malformed frames,
oversized lengths, invalid JSON-RPC envelopes), then a valid request, and expects its answer
within ``TIMEOUT``. Settings and command arguments go through a real client (pytest-lsp).
"""

from __future__ import annotations

import json
import os
import queue
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import pytest_lsp
from lsprotocol import types
from pygls.exceptions import JsonRpcException
from pytest_lsp import ClientServerConfig
from test_lsp import (
    SAMPLE,
    SERVER,
    Editor,
    RecordingClient,
    codes,
    make_client,
    serve,
    until,
    uri_for,
    vscode,
    within,
)

from lessonlens.lsp.framing import MAX_MESSAGE_BYTES

pytestmark = pytest.mark.filterwarnings("error::pytest_lsp.LspSpecificationWarning")

TIMEOUT = 10.0
Message = dict[str, Any]


def frame(body: bytes, length: int | None = None) -> bytes:
    size = len(body) if length is None else length
    return b"Content-Length: %d\r\n\r\n" % size + body


def encode(message: Any) -> bytes:
    return json.dumps(message).encode("utf-8")


class RawClient:
    """A client that writes whatever bytes it is given and reads framed answers back."""

    def __init__(self, process: subprocess.Popen[bytes]) -> None:
        self.process = process
        self.answers: queue.Queue[Message] = queue.Queue()
        self.seen: list[Message] = []
        self._next_id = 1000
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        stdout = self.process.stdout
        assert stdout is not None
        while True:
            length = None
            while True:
                line = stdout.readline()
                if not line:
                    return
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":")[1])
                if line == b"\r\n":
                    break
            assert length is not None
            self.answers.put(json.loads(stdout.read(length)))

    def write(self, data: bytes) -> None:
        stdin = self.process.stdin
        assert stdin is not None
        stdin.write(data)
        stdin.flush()

    def send(self, message: Message) -> None:
        self.write(frame(encode(message)))

    def request(self, method: str, params: Any = None) -> int:
        self._next_id += 1
        self.send({"jsonrpc": "2.0", "id": self._next_id, "method": method, "params": params})
        return self._next_id

    def wait_for(self, check: Callable[[Message], bool], what: str) -> Message:
        deadline = time.monotonic() + TIMEOUT
        for message in self.seen:
            if check(message):
                self.seen.remove(message)
                return message
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                alive = self.process.poll() is None
                pytest.fail(f"no {what} within {TIMEOUT} s (server alive: {alive})")
            try:
                message = self.answers.get(timeout=left)
            except queue.Empty:
                continue
            if check(message):
                return message
            self.seen.append(message)

    def answer(self, msg_id: int) -> Message:
        return self.wait_for(
            lambda m: m.get("id") == msg_id and "method" not in m, f"answer {msg_id}"
        )

    def still_answers(self) -> None:
        """A valid request sent now is answered in time, and the process is alive."""
        msg_id = self.request(
            "textDocument/hover",
            {
                "textDocument": {"uri": "file:///nowhere.py"},
                "position": {"line": 0, "character": 0},
            },
        )
        answer = self.answer(msg_id)
        assert answer == {"jsonrpc": "2.0", "id": msg_id, "result": None}
        assert self.process.poll() is None

    def error_without_id(self) -> Message:
        return self.wait_for(
            lambda m: "error" in m and m.get("id", 0) is None, "error with id null"
        )


@pytest.fixture
def raw() -> Iterator[RawClient]:
    with tempfile.TemporaryFile() as stderr:
        process = subprocess.Popen(
            [sys.executable, "-m", "lessonlens", "serve"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=stderr,
        )
        client = RawClient(process)
        try:
            msg_id = client.request(
                "initialize",
                {
                    "processId": os.getpid(),
                    "rootUri": None,
                    "capabilities": {},
                    "initializationOptions": {"modelDevice": "off", "adaptiveHints": False},
                },
            )
            assert "result" in client.answer(msg_id)
            client.send({"jsonrpc": "2.0", "method": "initialized", "params": {}})
            yield client
        finally:
            process.kill()
            process.wait(timeout=TIMEOUT)


HOVER = encode(
    {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "textDocument/hover",
        "params": {
            "textDocument": {"uri": "file:///elsewhere.py"},
            "position": {"line": 0, "character": 0},
        },
    }
)


# ---------------------------------------------------------------------- framing

FRAMES = {
    # The body ends 20 bytes early: its tail runs into the next header.
    "short length": frame(HOVER, len(HOVER) - 20),
    # The length runs 20 bytes into the next message's header.
    "long length": frame(HOVER, len(HOVER) + 20),
    # A terabyte announced, a few bytes sent.
    "terabyte length": frame(HOVER, 1 << 40),
    "negative length": b"Content-Length: -5\r\n\r\n" + HOVER,
    "no length": b"Content-Type: application/json\r\n\r\n" + HOVER,
    "not json": frame(b"{this is not json"),
    "not utf-8": frame(b'{"jsonrpc": "2.0", "method": "\xff\xfe"}'),
    "garbage before a header": b"GET / HTTP/1.1\r\nHost: x\r\n\r\n",
    "a megabyte header line": b"X-Junk: " + b"a" * (1 << 20) + b"\r\n",
    "deep nesting": frame(b"[" * 100_000 + b"]" * 100_000),
}


@pytest.mark.parametrize("name", sorted(FRAMES))
def test_a_malformed_frame_does_not_stop_the_server(raw: RawClient, name: str) -> None:
    raw.write(FRAMES[name])
    raw.still_answers()
    raw.still_answers()


def peak_rss_bytes(pid: int) -> int:
    status = Path(f"/proc/{pid}/status").read_text()
    return next(int(line.split()[1]) * 1024 for line in status.splitlines() if "VmHWM" in line)


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads /proc")
def test_an_oversized_message_is_refused_without_being_held(raw: RawClient) -> None:
    """A body over the cap, really sent, is read past in chunks, never held whole."""
    raw.still_answers()  # started up: lessons loaded, history read
    before = peak_rss_bytes(raw.process.pid)
    text = "x = 1\n" * ((MAX_MESSAGE_BYTES + (1 << 20)) // 6)
    item = {"uri": "file:///big.py", "languageId": "python", "version": 1, "text": text}
    did_open = {
        "jsonrpc": "2.0",
        "method": "textDocument/didOpen",
        "params": {"textDocument": item},
    }
    raw.write(frame(encode(did_open)))
    del text, item, did_open
    error = raw.error_without_id()
    assert error["error"]["code"] == -32600
    assert "limit" in error["error"]["message"]
    raw.still_answers()
    growth = peak_rss_bytes(raw.process.pid) - before
    assert growth < MAX_MESSAGE_BYTES // 4, f"peak RSS grew by {growth:,} bytes"


# ---------------------------------------------------------------------- envelopes

ENVELOPES: dict[str, Any] = {
    "jsonrpc 1.0": {"jsonrpc": "1.0", "id": 5, "method": "textDocument/hover"},
    "no jsonrpc": {"id": 5, "method": "textDocument/hover"},
    "object id": {"jsonrpc": "2.0", "id": {"a": 1}, "method": "shutdown"},
    "array id": {"jsonrpc": "2.0", "id": [1], "method": "shutdown"},
    "bool id": {"jsonrpc": "2.0", "id": True, "method": "shutdown"},
    "float id": {"jsonrpc": "2.0", "id": 1.5, "method": "shutdown"},
    "no method": {"jsonrpc": "2.0", "id": 5, "params": {}},
    "method not a string": {"jsonrpc": "2.0", "id": 5, "method": 5},
    "array body": [{"jsonrpc": "2.0", "id": 5, "method": "shutdown"}],
    "number body": 42,
    "string body": "shutdown",
    "null body": None,
}


@pytest.mark.parametrize("name", sorted(ENVELOPES))
def test_an_invalid_envelope_is_answered_with_id_null(raw: RawClient, name: str) -> None:
    raw.send(ENVELOPES[name])
    error = raw.error_without_id()
    assert error["jsonrpc"] == "2.0"
    assert error["error"]["code"] == -32600
    raw.still_answers()


def test_bad_json_is_a_parse_error_with_id_null(raw: RawClient) -> None:
    raw.write(frame(b'{"jsonrpc": "2.0", "id": 5, "method": '))
    error = raw.error_without_id()
    assert error["error"]["code"] == -32700
    raw.still_answers()


# ---------------------------------------------------------------------- settings and commands

lsp = pytest_lsp.fixture(config=SERVER)(serve)


async def test_an_out_of_range_debounce_is_refused_by_name(lsp: RecordingClient) -> None:
    editor = await Editor.start(lsp, vscode(), options={"debounceMs": 10_000_000})
    uri = uri_for("sample.py")
    editor.open(uri, SAMPLE)
    # Pulls are answered at once (the default), not after 10,000 s.
    assert codes(await within(editor.diagnostics(uri))) == ["PY001", "PY011", "PY022"]
    await until(lambda: len(lsp.messages) >= 1, "window/showMessage")
    assert "debounceMs" in lsp.messages[0].message


def store_files(data_dir: Path) -> bytes:
    return b"".join(p.read_bytes() for p in sorted(data_dir.rglob("*")) if p.is_file())


async def test_i_know_this_refuses_an_unknown_skill(
    lsp: RecordingClient, own_progress_store: Path
) -> None:
    editor = await Editor.start(lsp, vscode())
    await within(lsp.protocol.send_request_async("lessonlens/progress", None))
    with pytest.raises(JsonRpcException, match="unknown skill"):
        await within(
            lsp.workspace_execute_command_async(
                types.ExecuteCommandParams(
                    command="lessonlens.iKnowThis", arguments=["canary.no-such-skill"]
                )
            )
        )
    # A known skill is still honoured: the command works, only the bad id is refused.
    await within(
        lsp.workspace_execute_command_async(
            types.ExecuteCommandParams(command="lessonlens.iKnowThis", arguments=["python.loops"])
        )
    )
    assert editor.documents == {}
    await within(lsp.shutdown_session())
    stored = store_files(own_progress_store)
    assert b"python.loops" in stored
    assert b"canary.no-such-skill" not in stored


COMMANDS = {
    "mute an unknown rule": ("lessonlens.muteRule", ["NOPE999"], "unknown rule"),
    "dismiss an unknown rule": (
        "lessonlens.dismiss",
        [uri_for("sample.py"), "NOPE999", 0],
        "unknown rule",
    ),
    "dismiss a negative line": (
        "lessonlens.dismiss",
        [uri_for("sample.py"), "PY001", -1],
        "line >= 0",
    ),
    "dismiss a boolean line": (
        "lessonlens.dismiss",
        [uri_for("sample.py"), "PY001", True],
        "line >= 0",
    ),
    "fix applied to an unknown rule": (
        "lessonlens.fixApplied",
        [uri_for("sample.py"), "NOPE999", 0],
        "unknown rule",
    ),
    "refresher with a negative option": (
        "lessonlens.answerRefresher",
        ["set-membership", -1],
        "optionIndex >= 0",
    ),
}


@pytest.mark.parametrize("name", sorted(COMMANDS))
async def test_a_command_with_bad_arguments_is_refused(lsp: RecordingClient, name: str) -> None:
    command, arguments, says = COMMANDS[name]
    editor = await Editor.start(lsp, vscode())
    uri = uri_for("sample.py")
    editor.open(uri, SAMPLE)
    before = codes(await editor.diagnostics(uri))
    # The developer's history is loaded: a refresher answer would now be recorded.
    await within(lsp.protocol.send_request_async("lessonlens/progress", None))
    with pytest.raises(JsonRpcException, match=says):
        await within(
            lsp.workspace_execute_command_async(
                types.ExecuteCommandParams(command=command, arguments=arguments)
            )
        )
    # Nothing changed: every hint is still shown.
    assert codes(await editor.diagnostics(uri)) == before == ["PY001", "PY011", "PY022"]


# ---------------------------------------------------------------------- a failing analysis task

# The real server, with a fault injected into the analysis task outside its own ``try``.
FAULTY = ClientServerConfig(
    server_command=[
        sys.executable,
        "-c",
        "import sys\n"
        "from lessonlens.server.editor import visibility\n"
        "def fault(*args, **kwargs):\n"
        "    raise RuntimeError('injected fault')\n"
        "visibility._is_test_file = fault\n"
        "from lessonlens.server.cli import main\n"
        "sys.exit(main(['serve']))\n",
    ],
    client_factory=make_client,
)
faulty = pytest_lsp.fixture(config=FAULTY)(serve)


async def test_a_failing_analysis_task_still_answers_every_pull(faulty: RecordingClient) -> None:
    editor = await Editor.start(faulty, vscode())
    uri = uri_for("sample.py")
    editor.open(uri, SAMPLE)
    for _ in range(2):
        with pytest.raises(JsonRpcException, match="injected fault"):
            await within(
                faulty.text_document_diagnostic_async(
                    types.DocumentDiagnosticParams(text_document=types.TextDocumentIdentifier(uri))
                )
            )
    await until(
        lambda: any("injected fault" in m.message for m in faulty.log_messages),
        "a log message naming the failure",
    )
    # The server is still up: other requests are answered.
    await within(editor.hover(uri, types.Position(0, 0)))


# ---------------------------------------------------------------------- TCP


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_the_tcp_server_recovers_from_a_short_frame_too() -> None:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "lessonlens", "serve", "--tcp", f"127.0.0.1:{port}"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + TIMEOUT
        while True:
            try:
                connection = socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT)
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        with connection:
            request = {"jsonrpc": "2.0", "id": 7, "method": "shutdown"}
            connection.sendall(FRAMES["short length"] + frame(encode(request)))
            answers = connection.makefile("rb")
            while True:
                line = answers.readline()
                assert line, "connection closed without an answer"
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":")[1])
                    while answers.readline() != b"\r\n":
                        pass
                    message = json.loads(answers.read(length))
                    if message.get("id") == 7:
                        break
            assert message == {"jsonrpc": "2.0", "id": 7, "result": None}
    finally:
        process.kill()
        process.wait(timeout=TIMEOUT)
