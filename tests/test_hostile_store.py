"""Hostile conditions for the progress store and the LRS sync (issue 14, "the store", "sync").

Real SQLite files, real processes holding SQLite's write lock or the store's lock file, real HTTP
servers on 127.0.0.1 that trickle, lie or answer garbage, and the real server over stdio: an
acknowledged event is never dropped while the server runs, every wait is bounded, and every
unusable file is a message, never a traceback or a silent loss.
"""

from __future__ import annotations

import asyncio
import contextlib
import http.server
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from lsp_client import PUSH, Editor
from lsprotocol import types
from pygls.exceptions import JsonRpcException

from lessonlens.server.learner.progress import (
    DATABASE_NAME,
    Event,
    EventKind,
    ProgressStoreError,
    SqliteProgressStore,
)
from lessonlens.server.learner.pseudonym import SALT_NAME, developer_pseudonym, local_salt
from lessonlens.server.team.lrs import LrsError, cursor_file, sync
from lessonlens.server.team.statements import statement_id

LESSON = "counter"  # a built-in lesson: showLesson records one lesson_opened event per call
SHOW = ("lessonlens.showLesson", LESSON)
SKILL = "python.collections"


# ---------------------------------------------------------------------- helpers


async def start_server(editor: Editor, **options: Any) -> Editor:
    """Start ``lessonlens serve`` (a push client) and wait until the lessons are loaded.

    Every wait is bounded; what the server says on stderr is in ``editor.stderr`` once it ended.
    """
    options = {"lessonlens": {"modelDevice": "off", **options}}
    await editor.start(PUSH, options, ready=False, timeout=20)
    # Answered once the developer's history is loaded (or could not be).
    await editor.request("lessonlens/progress", None, timeout=60)
    # The lessons load in the background; from the first lesson shown on, they are there.
    # That first one is an event too: every test counts from 1.
    deadline = time.monotonic() + 60
    while True:
        try:
            await editor.command(*SHOW)
            return editor
        except JsonRpcException:
            assert time.monotonic() < deadline, "the lessons never loaded"
            await asyncio.sleep(0.2)


def messages_with(editor: Editor, text: str) -> list[str]:
    """The messages shown (``window/showMessage``) that hold ``text``."""
    return [message for message in editor.messages if text in message]


async def stop(editor: Editor, timeout: float = 20) -> float:
    """Shutdown and exit, status 0; the seconds the shutdown request took to be answered."""
    took = await editor.stop(timeout)
    assert editor.process is not None and editor.process.returncode == 0
    return took


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    root.mkdir()
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    subprocess.run(["git", "-C", str(root), "config", "user.email", "dev@example.com"], check=True)
    return root


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "data"
    folder.mkdir()
    return folder


@pytest.fixture
async def serve(data_dir: Path, project: Path) -> AsyncIterator[Any]:
    started: list[Editor] = []

    async def start(**options: Any) -> Editor:
        editor = Editor(project, data_dir)
        started.append(editor)
        return await start_server(editor, **options)

    yield start
    for editor in started:
        await editor.kill()


class WriteLock:
    """Another process holding SQLite's write lock on the database (BEGIN IMMEDIATE)."""

    def __init__(self, database: Path) -> None:
        code = (
            "import sqlite3, sys\n"
            f"c = sqlite3.connect({str(database)!r}, isolation_level=None)\n"
            "c.execute('BEGIN IMMEDIATE')\n"
            "print('held', flush=True)\n"
            "sys.stdin.readline()\n"
            "c.execute('ROLLBACK')\n"
        )
        self.process = subprocess.Popen(
            [sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE
        )
        assert self.process.stdout is not None
        assert self.process.stdout.readline() == b"held\n"

    def release(self) -> None:
        if self.process.poll() is None:
            assert self.process.stdin is not None
            self.process.stdin.write(b"go\n")
            self.process.stdin.close()
            self.process.wait(10)


async def wait_for_count(database: Path, count: int, seconds: float = 20) -> int:
    """The lessons opened in ``database`` once there are ``count``, or when time is up."""
    deadline = time.monotonic() + seconds
    while (found := lessons_opened(database)) < count and time.monotonic() < deadline:
        await asyncio.sleep(0.2)
    return found


def lessons_opened(database: Path) -> int:
    if database.parts[1] == "proc":
        # SQLite resolves the /proc/PID/root link to "/", the test's own file system: read a
        # copy of the server's files instead.
        copy = Path(tempfile.mkdtemp()) / database.name
        for suffix in ("", "-wal"):
            shutil.copyfile(f"{database}{suffix}", f"{copy}{suffix}")
        database = copy
    with sqlite3.connect(database) as connection:
        (count,) = connection.execute(
            "SELECT count(*) FROM events WHERE kind = 'lesson_opened'"
        ).fetchone()
    connection.close()
    return int(count)


def run_cli(
    *args: str, data_dir: Path, cwd: Path, timeout: float = 60
) -> subprocess.CompletedProcess:
    env = {**os.environ, "LESSONLENS_DATA_DIR": str(data_dir)}
    return subprocess.run(
        [sys.executable, "-m", "lessonlens", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


# ---------------------------------------------------------------------- the salt


@pytest.mark.parametrize("content", [b"", b"short"])
def test_a_short_salt_is_refused_with_the_file_and_the_way_out(
    content: bytes, data_dir: Path, project: Path
) -> None:
    salt = data_dir / SALT_NAME
    salt.write_bytes(content)
    with pytest.raises(ProgressStoreError) as refused:
        developer_pseudonym(project, None, data_dir)
    message = str(refused.value)
    assert str(salt) in message and "delete" in message.lower()
    assert salt.read_bytes() == content  # never replaced behind the developer's back

    # The CLI says the same, without a traceback; deleting the file starts a new pseudonym.
    shown = run_cli("progress", data_dir=data_dir, cwd=project)
    assert shown.returncode == 2, shown.stderr
    assert str(salt) in shown.stderr and "Traceback" not in shown.stderr
    salt.unlink()
    assert len(local_salt(data_dir)) == 32
    assert run_cli("progress", data_dir=data_dir, cwd=project).returncode == 0


def test_an_empty_team_salt_is_refused(data_dir: Path, project: Path) -> None:
    with pytest.raises(ProgressStoreError, match="team-salt"):
        developer_pseudonym(project, "   ", data_dir)


async def test_the_server_says_why_tracking_is_off_when_the_salt_is_short(
    serve: Any, data_dir: Path
) -> None:
    (data_dir / SALT_NAME).write_bytes(b"")
    editor = await serve()
    assert messages_with(editor, SALT_NAME), editor.messages
    await editor.request("lessonlens/progress", None, timeout=5)  # answered, not an error


# ---------------------------------------------------------------------- a busy database


async def test_events_wait_for_a_busy_database_and_requests_do_not(
    serve: Any, data_dir: Path
) -> None:
    """Another process holds the write lock longer than SQLite's busy timeout."""
    editor = await serve()
    database = data_dir / DATABASE_NAME
    assert await wait_for_count(database, 1) == 1
    holder = WriteLock(database)
    try:
        for _ in range(25):
            await editor.command(*SHOW)
        started = time.monotonic()
        with contextlib.suppress(JsonRpcException):  # an answer, result or error
            await editor.request("lessonlens/progress", None, timeout=30)
        took = time.monotonic() - started
        assert took < 4.0, f"the progress request took {took:.1f} s"
        await asyncio.sleep(12)  # past the busy timeout (10 s): today's writer gave up here
        assert lessons_opened(database) == 1
    finally:
        holder.release()
    assert await wait_for_count(database, 26) == 26
    await stop(editor)


async def test_shutdown_says_how_many_events_were_not_written(serve: Any, data_dir: Path) -> None:
    editor = await serve()
    assert await wait_for_count(data_dir / DATABASE_NAME, 1) == 1
    holder = WriteLock(data_dir / DATABASE_NAME)
    try:
        for _ in range(3):
            await editor.command(*SHOW)
        took = await stop(editor)
        assert took < 8.0, f"shutdown took {took:.1f} s"
    finally:
        holder.release()
    assert "3 progress events were not written" in editor.stderr


def test_a_held_lock_file_is_a_message_not_a_hang(data_dir: Path, project: Path) -> None:
    lock = data_dir / f"{DATABASE_NAME}.lock"
    code = (
        "import fcntl, sys\n"
        f"h = open({str(lock)!r}, 'a+b')\n"
        "fcntl.flock(h.fileno(), fcntl.LOCK_EX)\n"
        "print('held', flush=True)\n"
        "sys.stdin.readline()\n"
    )
    holder = subprocess.Popen(
        [sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline() == b"held\n"
        started = time.monotonic()
        shown = run_cli("progress", data_dir=data_dir, cwd=project, timeout=40)
        assert time.monotonic() - started < 30
        assert shown.returncode == 2
        assert str(lock) in shown.stderr and "Traceback" not in shown.stderr
    finally:
        holder.kill()
        holder.wait()


# ---------------------------------------------------------------------- unusable files


def _directory(database: Path) -> None:
    database.mkdir()


def _newer_schema(database: Path) -> None:
    with sqlite3.connect(database) as connection:
        connection.execute("CREATE TABLE events (seq INTEGER PRIMARY KEY)")
        connection.execute("PRAGMA user_version = 99")
    connection.close()


def _wrong_columns(database: Path) -> None:
    with sqlite3.connect(database) as connection:
        connection.execute("CREATE TABLE events (seq INTEGER PRIMARY KEY, what TEXT)")
        connection.execute("PRAGMA user_version = 2")
    connection.close()


UNUSABLE = {"directory": _directory, "newer": _newer_schema, "columns": _wrong_columns}


@pytest.mark.parametrize("make", UNUSABLE.values(), ids=UNUSABLE.keys())
def test_an_unusable_database_is_a_message_in_the_cli(
    make: Any, data_dir: Path, project: Path
) -> None:
    database = data_dir / DATABASE_NAME
    make(database)
    shown = run_cli("progress", data_dir=data_dir, cwd=project)
    assert shown.returncode == 2, shown.stderr
    assert str(database) in shown.stderr and "Traceback" not in shown.stderr


@pytest.mark.parametrize("make", UNUSABLE.values(), ids=UNUSABLE.keys())
async def test_an_unusable_database_is_one_notice_in_the_editor(
    make: Any, serve: Any, data_dir: Path
) -> None:
    database = data_dir / DATABASE_NAME
    make(database)
    editor = await serve()
    for _ in range(3):
        await editor.command(*SHOW)
    assert len(messages_with(editor, str(database))) == 1, editor.messages
    await editor.request("lessonlens/progress", None, timeout=5)  # answered, not an error
    await stop(editor)


def _with_bad_rows(database: Path, developer: str) -> None:
    with SqliteProgressStore(database) as store:
        store.record(
            [
                Event(EventKind.LESSON_OPENED, developer, SKILL, 1.7e9 + n, lesson_id=LESSON)
                for n in range(3)
            ]
        )
    with sqlite3.connect(database) as connection:
        insert = (
            "INSERT INTO events (id, kind, developer, skill_id, time, language, correct) "
            "VALUES (?, ?, ?, ?, ?, 'python', ?)"
        )
        connection.execute(insert, ("bad-time", "lesson_opened", developer, SKILL, "soon", None))
        connection.execute(insert, ("bad-answer", "review_answered", developer, SKILL, 1.7e9, 7))
        connection.execute(
            "INSERT INTO events (id, kind, developer, skill_id, time, language) "
            "VALUES ('bad-text', 'lesson_opened', ?, CAST(X'FFFE' AS TEXT), 1.7e9, 'python')",
            (developer,),
        )
    connection.close()


async def test_bad_rows_are_skipped_and_counted(data_dir: Path, project: Path, serve: Any) -> None:
    developer = developer_pseudonym(project, None, data_dir)
    _with_bad_rows(data_dir / DATABASE_NAME, developer)
    shown = run_cli("progress", "--json", data_dir=data_dir, cwd=project)
    assert shown.returncode == 0, shown.stderr
    assert "3 " in shown.stderr and "skipped" in shown.stderr
    skills = {row["id"] for row in json.loads(shown.stdout)["skills"]}
    assert SKILL in skills
    # The editor keeps tracking: the good history is there and new events are stored.
    editor = await serve()
    profile = await editor.request("lessonlens/progress", None)
    assert SKILL in {row["id"] for row in profile["skills"]}
    await editor.command(*SHOW)
    await stop(editor)
    # 3 good, 2 bad ones of that kind ("bad-time", "bad-text") and 2 new
    assert lessons_opened(data_dir / DATABASE_NAME) == 7


# ---------------------------------------------------------------------- disk full


async def test_a_full_disk_is_one_notice_and_loses_nothing(tmp_path: Path, project: Path) -> None:
    if shutil.which("unshare") is None or os.geteuid() != 0:
        pytest.skip("needs unshare and root to mount a small file system")
    data_dir = tmp_path / "small"
    data_dir.mkdir()
    mount = f'mount -t tmpfs -o size=2m tmpfs {data_dir} && exec "$0" "$@"'
    probe = subprocess.run(["unshare", "-m", "sh", "-c", mount, "true"], capture_output=True)
    if probe.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {probe.stderr!r}")
    editor = Editor(project, data_dir, prefix=("unshare", "-m", "sh", "-c", mount))
    try:
        await start_server(editor)
        assert editor.process is not None
        # The server's view of its data folder, from outside its mount namespace.
        inside = Path(f"/proc/{editor.process.pid}/root") / str(data_dir).lstrip("/")
        assert await wait_for_count(inside / DATABASE_NAME, 1) == 1
        filler = inside / "filler"
        with filler.open("wb") as handle, pytest.raises(OSError):
            while True:
                handle.write(b"\0" * 65536)
                handle.flush()
        for _ in range(10):
            await editor.command(*SHOW)
        deadline = time.monotonic() + 10
        while not messages_with(editor, "full") and time.monotonic() < deadline:
            await asyncio.sleep(0.2)
        await asyncio.sleep(1)
        assert len(messages_with(editor, "full")) == 1, editor.messages
        filler.unlink()  # space again: what was waiting is written
        assert await wait_for_count(inside / DATABASE_NAME, 11) == 11
        await stop(editor)
    finally:
        await editor.kill()


# ---------------------------------------------------------------------- sync


class Lrs:
    """An LRS on 127.0.0.1 that answers each POST with what ``answer`` returns.

    ``answer(ids)`` gets the ids of the statements posted and returns (status, body), or None to
    trickle: the status line one byte every half second, for as long as the client listens.
    """

    def __init__(self, answer: Any) -> None:
        self.posts = 0
        self.arrived = threading.Event()
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                outer.posts += 1
                body = self.rfile.read(int(self.headers["Content-Length"]))
                ids = [made["id"] for made in json.loads(body)]
                outer.arrived.set()
                reply = answer(ids)
                try:
                    if reply is None:
                        for byte in b"HTTP/1.1 200 OK\r\n" * 1000:
                            self.wfile.write(bytes([byte]))
                            self.wfile.flush()
                            time.sleep(0.5)
                        return
                    status, content = reply
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(content)))
                    self.end_headers()
                    self.wfile.write(content)
                except OSError:
                    return

            def do_GET(self) -> None:
                self.send_response(404)  # a statement asked for by id: not here
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/xAPI"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def _events(store: SqliteProgressStore, developer: str, count: int) -> list[Event]:
    events = [
        Event(EventKind.LESSON_OPENED, developer, SKILL, 1.7e9 + n, lesson_id=LESSON)
        for n in range(count)
    ]
    store.record(events)
    return events


def _sync_within(seconds: float, **arguments: Any) -> Any:
    """Run ``sync``; fail the test (instead of hanging it) if it has not ended in ``seconds``."""
    outcome: list[Any] = []

    def run() -> None:
        try:
            outcome.append(sync(username=None, password=None, retries=0, **arguments))
        except Exception as error:
            outcome.append(error)

    worker = threading.Thread(target=run, daemon=True)
    started = time.monotonic()
    worker.start()
    worker.join(seconds)
    assert not worker.is_alive(), f"sync still running after {seconds} s"
    return outcome[0], time.monotonic() - started


def test_a_trickling_lrs_meets_an_overall_deadline(tmp_path: Path) -> None:
    lrs = Lrs(lambda ids: None)
    try:
        with SqliteProgressStore(tmp_path / DATABASE_NAME) as store:
            _events(store, "dev", 2)
            outcome, took = _sync_within(
                20,
                store=store,
                developer="dev",
                lrs_url=lrs.url,
                cursor_path=tmp_path / "cursor.json",
                timeout_s=2.0,
            )
        assert isinstance(outcome, LrsError), outcome
        assert took < 6, took
        assert not (tmp_path / "cursor.json").exists()
    finally:
        lrs.close()


@pytest.mark.parametrize(
    "answer",
    [
        lambda ids: (200, b"<html>stored, probably</html>"),
        lambda ids: (200, json.dumps([str(uuid.uuid4()) for _ in ids]).encode()),
        lambda ids: (200, json.dumps(ids[:-1]).encode()),
        lambda ids: (200, b'{"ok": true}'),
    ],
    ids=["garbage", "other-ids", "missing-id", "object"],
)
def test_the_cursor_moves_only_on_the_ids_sent(answer: Any, tmp_path: Path) -> None:
    lrs = Lrs(answer)
    cursor = tmp_path / "cursor.json"
    try:
        with SqliteProgressStore(tmp_path / DATABASE_NAME) as store:
            _events(store, "dev", 3)
            outcome, _ = _sync_within(
                20, store=store, developer="dev", lrs_url=lrs.url, cursor_path=cursor
            )
            assert isinstance(outcome, LrsError), outcome
            assert "LRS" in str(outcome)
            assert not cursor.exists()
    finally:
        lrs.close()


def test_an_lrs_that_returns_the_ids_sent_moves_the_cursor(tmp_path: Path) -> None:
    lrs = Lrs(lambda ids: (200, json.dumps([i.upper() for i in ids]).encode()))
    cursor = tmp_path / "cursor.json"
    try:
        with SqliteProgressStore(tmp_path / DATABASE_NAME) as store:
            events = _events(store, "dev", 3)
            outcome, _ = _sync_within(
                20, store=store, developer="dev", lrs_url=lrs.url, cursor_path=cursor
            )
            assert outcome.sent == 3, outcome
            again, _ = _sync_within(
                20, store=store, developer="dev", lrs_url=lrs.url, cursor_path=cursor
            )
            assert again.sent == 0 and lrs.posts == 1
        assert [statement_id(e) for e in events]  # the ids the LRS echoed, upper-cased
    finally:
        lrs.close()


async def test_shutdown_does_not_wait_on_a_sync(
    serve: Any, data_dir: Path, project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LESSONLENS_LRS_USERNAME", "user")
    monkeypatch.setenv("LESSONLENS_LRS_PASSWORD", "not-a-secret")
    lrs = Lrs(lambda ids: None)
    try:
        editor = await serve(lrsUrl=lrs.url)
        await editor.command(*SHOW)
        editor.client.workspace_did_change_configuration(
            types.DidChangeConfigurationParams(
                settings={
                    "lessonlens": {"modelDevice": "off", "lrsUrl": lrs.url, "shareProgress": True}
                }
            )
        )
        arrived = await asyncio.to_thread(lrs.arrived.wait, 20)
        assert arrived, "the background sync never reached the LRS"
        took = await stop(editor)
        assert took < 5.0, f"shutdown took {took:.1f} s"
        developer = developer_pseudonym(project, None, data_dir)
        assert not cursor_file(data_dir, lrs.url, developer).exists()
    finally:
        lrs.close()


@pytest.mark.parametrize("address", ["file:///tmp/lrs", "ftp://127.0.0.1/xAPI/"])
def test_an_lrs_address_that_is_not_http_is_refused_before_anything_is_sent(
    address: str, tmp_path: Path
) -> None:
    target = tmp_path / "lrs"
    cursor = tmp_path / "cursor.json"
    with SqliteProgressStore(tmp_path / DATABASE_NAME) as store:
        _events(store, "dev", 2)
        outcome, _ = _sync_within(
            20,
            store=store,
            developer="dev",
            lrs_url=address.replace("/tmp/lrs", str(target)),
            cursor_path=cursor,
        )
    assert isinstance(outcome, LrsError), outcome
    assert "http or https" in str(outcome)
    assert not cursor.exists() and not target.exists()
