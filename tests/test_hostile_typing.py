"""Typing, large files and deep nesting, end to end over the real language server on stdio.

Ordinary typing passes through states that do not parse: a hint that is there before and after
must record nothing in the learner's history. A large or deeply nested file must get its first
diagnostics, and the same hints as ``lessonlens check`` gives for it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from lsp_client import Editor
from lsprotocol import types

from lessonlens.server.learner.coach import SETTLE_S

BAD = """\
import os


def scan(words):
    out = 0
    for w in words:
        if w in ["a", "an", "the", "of"]:
            out += 1
    return out
"""
LOOP_LINE = "    for w in words:"
# Typed at the top of the loop's body: while its brackets are open, the ERROR node swallows the
# `if` below and its hint goes, then comes back when the line is complete.
STATEMENT = 'seen.append({"word": w, "at": (out, 1)})'
SIGNALS = ("antipattern_fixed", "antipattern_introduced")
TIMEOUT = 20.0
OPTIONS = {"modelDevice": "off"}


def start_editor(tmp_path: Path, name: str = "work.py") -> Editor:
    """A push client typing into one document, with its own progress store."""
    root = tmp_path / "project"
    root.mkdir(exist_ok=True)
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    subprocess.run(["git", "-C", str(root), "config", "user.email", "dev@example.com"], check=True)
    return Editor(root, tmp_path / "data", name=name)


def signals(editor: Editor) -> list[tuple[str, str | None]]:
    """Anti-pattern events in the progress store, as (kind, rule id), in order."""
    assert editor.data_dir is not None
    store = editor.data_dir / "progress.sqlite3"
    if not store.exists():
        return []
    with sqlite3.connect(store) as connection:
        rows = connection.execute(
            "SELECT kind, rule_id FROM events WHERE kind IN (?, ?) ORDER BY seq", SIGNALS
        ).fetchall()
    return [(kind, rule) for kind, rule in rows]


@pytest.fixture
async def editor(tmp_path: Path):
    started = start_editor(tmp_path)
    await started.start(initialization_options=OPTIONS)
    yield started
    with contextlib.suppress(Exception):  # a test may have stopped it to read the store
        await started.stop()


def rules(diagnostics: list[types.Diagnostic]) -> list[str]:
    return [str(d.code) for d in diagnostics]


async def test_typing_a_statement_inside_a_loop_records_nothing_for_its_hint(editor: Editor):
    assert rules(await editor.open(BAD)) == ["PY001"]
    at = BAD.index(LOOP_LINE) + len(LOOP_LINE)
    vanished = 0
    for _ in range(3):
        end = await editor.type(at, "\n        " + STATEMENT)
        assert rules(end) == ["PY001"]
        vanished += sum("PY001" not in rules(d) for d in editor.published.values())
        # Undo it as an editor does: one deletion of the whole line.
        await editor.replace(at, at + len("\n        " + STATEMENT), "")
    assert vanished, "the hint never went away while typing: the test typed nothing unparseable"
    await editor.stop()  # the store has everything the session recorded
    assert signals(editor) == []


async def test_a_fix_undone_before_it_settles_records_nothing(editor: Editor):
    await editor.open(BAD)
    start = BAD.index('["a"')
    end = BAD.index('"of"]') + len('"of"')
    # "[" -> "{" and "]" -> "}", keystroke by keystroke, then undone at once.
    await editor.replace(start, start + 1, "{")
    assert rules(await editor.replace(end, end + 1, "}")) == []
    assert rules(await editor.replace(0, len(editor.text), BAD)) == ["PY001"]
    await asyncio.sleep(SETTLE_S + 0.5)
    await editor.stop()
    assert signals(editor) == []


async def test_a_real_fix_that_persists_records_fixed(editor: Editor):
    await editor.open(BAD)
    start = BAD.index('["a"')
    end = BAD.index('"of"]') + len('"of"')
    await editor.replace(start, start + 1, "{")
    assert rules(await editor.replace(end, end + 1, "}")) == []
    # Recorded while the session goes on, once the fix has lasted: not only at the end.
    deadline = time.monotonic() + SETTLE_S + TIMEOUT
    while not signals(editor) and time.monotonic() < deadline:
        await asyncio.sleep(0.2)
    assert signals(editor) == [("antipattern_fixed", "PY001")]
    # And a hint that comes back for good is introduced again.
    await editor.replace(0, len(editor.text), BAD)
    await editor.stop()
    assert signals(editor) == [
        ("antipattern_fixed", "PY001"),
        ("antipattern_introduced", "PY001"),
    ]


def nested(depth: int) -> str:
    """Blocks nested ``depth`` deep at module level, hints inside and after them."""
    lines = ["words = []", "out = []"]
    lines += ["    " * i + f"if len(words) > {i}:" for i in range(depth)]
    inner = "    " * depth
    lines += [
        inner + "for w in words:",
        inner + '    if w in ["a", "an", "the", "of"]:',
        inner + "        out.append(w)",
        "",
        "",
        "def other(items):",
        "    for i in range(len(items)):",
        "        print(items[i])",
    ]
    return "\n".join(lines) + "\n"


def check_findings(path: Path) -> list[tuple[str, int]]:
    """(rule, 0-based line) of every finding ``lessonlens check`` reports for ``path``."""
    done = subprocess.run(
        [sys.executable, "-m", "lessonlens", "check", "--no-cache", "--format", "json", str(path)],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    (report,) = json.loads(done.stdout)["files"]
    return sorted((f["rule"], f["line"] - 1) for f in report["findings"])


def shown(diagnostics: list[types.Diagnostic]) -> list[tuple[str, int]]:
    return sorted((str(d.code), d.range.start.line) for d in diagnostics)


async def test_a_deeply_nested_file_gets_the_same_hints_as_check(editor: Editor):
    text = nested(500)
    path = Path(editor.uri.removeprefix("file://"))
    path.write_text(text, "utf-8")
    expected = check_findings(path)
    assert expected, "check found nothing: the file does not exercise the rules"
    assert shown(await editor.open(text)) == expected


def large_module(size: int = 990_000) -> str:
    """Many small top-level functions with hints, as a generated or vendored module has."""
    body = BAD.split("\n", 3)[3]
    parts = ["import os\n"]
    n = 0
    while sum(map(len, parts)) < size:
        parts.append(body.replace("def scan", f"def scan_{n}"))
        n += 1
    return "".join(parts)


async def test_a_large_files_first_diagnostics_arrive(tmp_path: Path):
    editor = start_editor(tmp_path, "large.py")
    await editor.start(initialization_options=OPTIONS)
    try:
        # A hang guard with a generous bound: figures are in benchmarks/soak.py.
        found = await editor.open(large_module(), timeout=120)
        assert found and set(rules(found)) == {"PY001"}
    finally:
        await editor.stop()
