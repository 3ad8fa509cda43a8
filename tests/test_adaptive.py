"""Hints that adapt to the developer, end to end over the language server, and privacy.

Each test runs its own `lessonlens serve` with its own progress store (LESSONLENS_DATA_DIR),
so that one developer's history never leaks into another test.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest
from lsp_client import Editor
from lsprotocol import types

GOOD = """
def keep_{n}(words):
    out = 0
    for w in words:
        if w in {{"a", "an", "the", "of"}}:
            out += 1
    return out
"""
BAD = """
def scan_{n}(words):
    out = 0
    for w in words:
        if w in ["a", "an", "the", "of"]:
            out += 1
    return out
"""
CANARIES = ("zq_canary_function", "ZQ_CANARY_CONSTANT", "zq-canary-secret-string", "zqcanarydir")


@pytest.fixture
async def editor(tmp_path: Path):
    root = tmp_path / "project"
    root.mkdir()
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    subprocess.run(["git", "-C", str(root), "config", "user.email", "dev@example.com"], check=True)
    started = Editor(root, tmp_path / "data")
    await started.start()
    yield started
    await started.stop()


def membership(diagnostics: list[types.Diagnostic]) -> list[types.Diagnostic]:
    return [d for d in diagnostics if d.code == "PY001"]


async def test_a_developer_who_writes_it_right_sees_the_hints_fade_to_silence(editor: Editor):
    await editor.open("import os\n")
    for n in range(6):
        await editor.append(GOOD.format(n=n))
    # Now the anti-pattern, once: the skill is mastered, so no hint at all.
    assert membership(await editor.append(BAD.format(n=0))) == []


async def test_a_developer_who_keeps_introducing_it_keeps_getting_the_full_lesson(
    editor: Editor,
):
    await editor.open("import os\n")
    for n in range(6):
        found = membership(await editor.append(BAD.format(n=n)))
        assert len(found) == n + 1
        assert all(d.severity == types.DiagnosticSeverity.Information for d in found)
    hover = await editor.hover(found[-1].range.start)
    assert hover.startswith("# Test membership with a set")
    assert "## Why it matters" in hover
    assert "_Why you see this:" in hover


async def test_nearly_mastered_hints_are_quiet(editor: Editor):
    await editor.open("import os\n")
    # Two correct opportunities: the estimate is near 0.9, between quiet (0.6) and silent (0.95).
    await editor.append(GOOD.format(n=0))
    await editor.append(GOOD.format(n=1))
    (quiet,) = membership(await editor.append(BAD.format(n=0)))
    assert quiet.severity == types.DiagnosticSeverity.Hint
    hover = await editor.hover(quiet.range.start)
    assert "Show lesson" in hover and "## Why it matters" not in hover


async def test_progress_never_holds_source_text_identifiers_or_paths(tmp_path: Path):
    root = tmp_path / CANARIES[3]
    root.mkdir()
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    subprocess.run(["git", "-C", str(root), "config", "user.email", "dev@example.com"], check=True)
    editor = Editor(root, tmp_path / "data")
    await editor.start()
    try:
        await editor.open(f"{CANARIES[1]} = '{CANARIES[2]}'\n")
        for n in range(4):
            code = BAD.format(n=n).replace("scan_", CANARIES[0] + "_")
            found = membership(await editor.append(code))
            await editor.hover(found[-1].range.start)
            await editor.append(GOOD.format(n=n).replace("keep_", CANARIES[0] + "_ok_"))
        profile = await editor.request("lessonlens/progress", None)
    finally:
        await editor.stop()
    store = tmp_path / "data" / "progress.sqlite3"
    with sqlite3.connect(store) as connection:
        kinds = {row[0] for row in connection.execute("SELECT kind FROM events")}
    assert {"hint_shown", "antipattern_introduced", "skill_evidence"} <= kinds
    exported = subprocess.run(
        [sys.executable, "-m", "lessonlens", "progress", "--json"],
        cwd=root,
        env={**os.environ, "LESSONLENS_DATA_DIR": str(tmp_path / "data")},
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    raw = b"".join(p.read_bytes() for p in (tmp_path / "data").iterdir() if p.is_file())
    for canary in CANARIES:
        assert canary.encode() not in raw, canary
        assert canary not in exported, canary
        assert canary not in json.dumps(profile, default=str), canary
    assert b"dev@example.com" not in raw


def test_the_progress_request_needs_no_params(tmp_path: Path):
    """`lessonlens/progress` takes none; JSON-RPC lets a client leave `params` out entirely."""
    env = {**os.environ, "LESSONLENS_DATA_DIR": str(tmp_path / "data")}
    server = subprocess.Popen(
        [sys.executable, "-m", "lessonlens", "serve"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        env=env,
    )
    assert server.stdin is not None and server.stdout is not None

    def send(message: dict[str, Any]) -> None:
        body = json.dumps(message).encode()
        server.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        server.stdin.flush()

    def answer(request_id: int) -> dict[str, Any]:
        while True:
            length = 0
            while (line := server.stdout.readline()) != b"\r\n":
                assert line, "the server stopped answering"  # the watchdog killed it, or it died
                if line.lower().startswith(b"content-length"):
                    length = int(line.split(b":")[1])
            message: dict[str, Any] = json.loads(server.stdout.read(length))
            if message.get("id") == request_id:
                return message

    # A raw writer (pygls always sends "params"), so every wait is bounded by a watchdog.
    watchdog = threading.Timer(60, server.kill)
    watchdog.start()
    try:
        send({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"capabilities": {}}})
        answer(1)
        send({"jsonrpc": "2.0", "method": "initialized", "params": {}})
        send({"jsonrpc": "2.0", "id": 2, "method": "lessonlens/progress"})
        profile = answer(2)["result"]
        assert profile["sharing"] is False and profile["skills"] == []
        send({"jsonrpc": "2.0", "id": 3, "method": "shutdown"})
        answer(3)
        send({"jsonrpc": "2.0", "method": "exit"})
        assert server.wait(5) == 0
    finally:
        watchdog.cancel()
        server.kill()


async def test_dont_show_again_is_remembered_in_the_next_session(tmp_path: Path):
    root = tmp_path / "project"
    root.mkdir()
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    first = Editor(root, tmp_path / "data")
    await first.start()
    try:
        assert membership(await first.open(BAD.format(n=0)))
        await first.command("lessonlens.muteRule", "PY001")
    finally:
        await first.stop()
    second = Editor(root, tmp_path / "data")
    await second.start()
    try:
        assert membership(await second.open(BAD.format(n=1))) == []
    finally:
        await second.stop()
