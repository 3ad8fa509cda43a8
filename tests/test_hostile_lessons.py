"""Team lessons are untrusted input: a repository's `lesson-dirs` reach CI and every editor.

A lesson folder may hold a named pipe, a link to a device, deeply nested front matter, a huge
file or one built to make regular expressions backtrack, and Markdown with active content. None
of it may hang or crash `lessonlens check`, `lessons check` or the language server; a broken
file is reported by name and the rest load; active content is an error for `lessons check` and
is neutralised before the server sends a team lesson to the editor.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from lsp_client import Editor
from lsprotocol import types
from markdown_it import MarkdownIt
from samples import MEMBERSHIP

from lessonlens.lessons.catalog import builtin_folder, cross_check, load_catalog

TEMPLATE = (builtin_folder() / "set-membership.md").read_text("utf-8")
CLI = [sys.executable, "-c", "from lessonlens.server.cli import main; main()"]
needs_fifo = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs named pipes")


def lesson(lesson_id: str = "team-tip", *, body_extra: str = "", **front: str) -> str:
    """A valid lesson (the set-membership one, renamed), with extra prose or replaced keys."""
    text = TEMPLATE.replace("id: set-membership", f"id: {lesson_id}", 1)
    for key, value in front.items():
        start = text.index(f"\n{key}: ") + 1
        end = text.index("\n", start)
        text = text[:start] + f"{key}: {value}" + text[end:]
    return text.replace("## Try it at work\n", f"## Try it at work\n{body_extra}", 1)


def deeply_nested() -> str:
    """About 5.5 KB of front matter nested 600 deep: the reported RecursionError."""
    return lesson("deep").replace("claims: [faster]\n", "claims: " + "[" * 600 + "]" * 600 + "\n")


def fence_storm() -> str:
    """About 100 KB of unclosed fence openers: each one made the old fence regex scan to the end."""
    return lesson("fences").replace(
        "## Try it at work", "```python\n" * 10_400 + "## Try it at work"
    )


def spaced_heading() -> str:
    """A 64 KB heading of spaces: the old heading regex backtracked over them quadratically."""
    return lesson("spaces").replace("## Learn more", "## Learn more" + " " * 64_000 + "x")


def hostile_folder(folder: Path) -> Path:
    """A team folder with one good lesson and every kind of trouble beside it."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "team-tip.md").write_text(lesson(), "utf-8")
    os.mkfifo(folder / "fifo.md")
    (folder / "zero.md").symlink_to("/dev/zero")
    (folder / "deep.md").write_text(deeply_nested(), "utf-8")
    (folder / "huge.md").write_text(lesson("huge", body_extra="word " * 60_000 + "\n"), "utf-8")
    (folder / "fences.md").write_text(fence_storm(), "utf-8")
    (folder / "spaces.md").write_text(spaced_heading(), "utf-8")
    return folder


BROKEN = ("fifo.md", "zero.md", "deep.md", "huge.md")


def run(args: list[str], cwd: Path, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """Run the CLI in its own process, so that a hang is a failure and not a stuck suite."""
    try:
        return subprocess.run(
            [*CLI, *args], cwd=cwd, capture_output=True, text=True, timeout=timeout, check=False
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"`lessonlens {' '.join(args)}` still running after {timeout} s")


# ---------------------------------------------------------------------- the loader


@needs_fifo
def test_lessons_check_names_each_broken_file_and_loads_the_rest(tmp_path: Path) -> None:
    team = hostile_folder(tmp_path / "team")
    done = run(["lessons", "check", str(team)], tmp_path)
    output = done.stdout + done.stderr
    assert "Traceback" not in output
    assert f"{team / 'fifo.md'}:0: error: not a regular file" in output
    assert f"{team / 'zero.md'}:0: error: not a regular file" in output
    assert f"{team / 'huge.md'}:0: error: larger than 256 KiB" in output
    assert f"{team / 'deep.md'}:" in output and "nested deeper than" in output
    assert done.returncode == 1
    assert " lessons, " in done.stdout  # the summary line: the run finished


@needs_fifo
def test_check_prints_its_report_with_hostile_lessons_in_the_repository(tmp_path: Path) -> None:
    hostile_folder(tmp_path / "team")
    (tmp_path / ".lessonlens.toml").write_text('lesson-dirs = ["team"]\n')
    (tmp_path / "good.py").write_text(MEMBERSHIP)
    done = run(["check", ".", "--no-cache", "--select", "PY001", "--format", "json"], tmp_path)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert [f["path"] for f in report["files"] if f["findings"]] == ["good.py"]
    skipped = [line for line in done.stderr.splitlines() if "lesson skipped:" in line]
    for name in BROKEN:
        assert any(f"{Path('team') / name}:" in line for line in skipped), (name, done.stderr)


def test_deep_front_matter_costs_its_own_file_only(tmp_path: Path) -> None:
    team = tmp_path / "team"
    team.mkdir()
    (team / "deep.md").write_text(deeply_nested(), "utf-8")
    (team / "team-tip.md").write_text(lesson(), "utf-8")
    catalog = load_catalog([team])
    assert "team-tip" in catalog.lessons
    [problem] = [p for p in catalog.problems if p.path.endswith("deep.md")]
    assert "nested deeper than" in problem.message
    lines = deeply_nested().split("\n")
    assert problem.line == 1 + lines.index(next(x for x in lines if x.startswith("claims:")))


def test_oversized_lesson_is_refused_unread(tmp_path: Path) -> None:
    team = tmp_path / "team"
    team.mkdir()
    (team / "huge.md").write_text(lesson("huge", body_extra="word " * 60_000 + "\n"), "utf-8")
    catalog = load_catalog([team])
    assert "huge" not in catalog.lessons
    assert [p.message for p in catalog.problems if p.path.endswith("huge.md")] == [
        "larger than 256 KiB (a lesson is a 90-second read)"
    ]


def test_a_folder_of_too_many_lessons_is_cut_short_with_a_problem(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from lessonlens.lessons import catalog as module

    monkeypatch.setattr(module, "MAX_LESSON_FILES", 3)
    team = tmp_path / "team"
    team.mkdir()
    for n in range(5):
        (team / f"team-{n}.md").write_text(lesson(f"team-{n}"), "utf-8")
    catalog = load_catalog([team])
    assert len([i for i in catalog.lessons if i.startswith("team-")]) == 3
    assert [p.message for p in catalog.problems if p.path == str(team)] == [
        "more than 3 lessons in the folder: the rest skipped"
    ]


@pytest.mark.parametrize("make", [fence_storm, spaced_heading], ids=["fences", "heading"])
def test_pathological_lessons_load_in_linear_time(tmp_path: Path, make: Any) -> None:
    """A hang guard, not a speed target: the old regexes took 12-40 s on these files."""
    team = tmp_path / "team"
    team.mkdir()
    text = make()
    (team / f"{text.split(chr(10))[1].split(': ')[1]}.md").write_text(text, "utf-8")
    started = time.perf_counter()
    catalog = load_catalog([team], include_builtin=False)
    cross_check(catalog, {})  # counts the words of prose, outside code fences
    assert time.perf_counter() - started < 2
    assert len(catalog.lessons) + len(catalog.problems) == 1


# ---------------------------------------------------------------------- active content

HOSTILE = lesson(
    "hostile",
    summary="Sets are fast <img src=x onerror=alert(1)>",
    body_extra=(
        "<script>alert(document.cookie)</script>\n"  # line 1 of the section
        "\n"
        "Read [the docs](javascript:alert(1)) and [more](data:text/html,<b>x</b>).\n"  # 3
        "\n"
        'Run [this](command:workbench.action.terminal.new "go") or '
        '<a href="https://x.example" onclick="steal()">that</a>.\n'  # 5
        "\n"
        "[local](file:///etc/passwd) and ![pic](vbscript:msgbox)\n"  # 7
        "\n"
        "Code is fine: `<script>` and [ok](https://docs.python.org/3/).\n"  # 9
        "\n"
    ),
)


def test_lessons_check_flags_active_content_with_file_and_line(tmp_path: Path) -> None:
    team = tmp_path / "team"
    team.mkdir()
    (team / "hostile.md").write_text(HOSTILE, "utf-8")
    done = run(["lessons", "check", str(team)], tmp_path)
    first = HOSTILE.split("\n").index("## Try it at work") + 2  # the first added line
    summary_line = HOSTILE.split("\n").index(next(x for x in HOSTILE.split("\n") if "onerror" in x))
    path = team / "hostile.md"
    expected = [
        (summary_line + 1, "raw HTML"),
        (first, "raw HTML"),
        (first + 2, "javascript:"),
        (first + 2, "data:"),
        (first + 4, "command:"),
        (first + 4, "raw HTML"),
        (first + 6, "file:"),
        (first + 6, "vbscript:"),
    ]
    errors = [line for line in done.stderr.splitlines() if ": error: " in line]
    for line, what in expected:
        assert any(e.startswith(f"{path}:{line}: error: ") and what in e for e in errors), (
            line,
            what,
            errors,
        )
    assert not any(f"{path}:{first + 8}:" in e for e in errors), errors  # code and https
    assert done.returncode == 1


# ---------------------------------------------------------------------- the language server


CAPABILITIES = types.ClientCapabilities(
    text_document=types.TextDocumentClientCapabilities(
        diagnostic=types.DiagnosticClientCapabilities(), hover=types.HoverClientCapabilities()
    )
)
"""A pull client that hovers."""


@pytest.fixture
async def serve() -> AsyncIterator[Any]:
    """Start a server in ``cwd`` (the workspace root); each one is killed at the end."""
    editors: list[Editor] = []

    async def start(cwd: Path, options: dict[str, Any] | None = None) -> Editor:
        editor = Editor(cwd, name="good.py", cwd=cwd)
        editors.append(editor)
        await editor.start(CAPABILITIES, options or {}, ready=False, timeout=10)
        return editor

    yield start
    for editor in editors:
        await editor.kill(timeout=10)


async def open_membership(editor: Editor, root: Path) -> types.Position:
    (root / "good.py").write_text(MEMBERSHIP)
    report = await editor.open(MEMBERSHIP, timeout=10)
    assert [d.code for d in report] == ["PY001"]
    return types.Position(line=3, character=14)


async def hover_until(editor: Editor, where: types.Position, wanted: str) -> str:
    """The hover's Markdown once it shows ``wanted`` (team lessons load in the background)."""
    deadline = time.monotonic() + 15
    markdown = ""
    while time.monotonic() < deadline:
        started = time.monotonic()
        markdown = await editor.hover(where, timeout=5, required=False)
        assert time.monotonic() - started < 5
        if wanted in markdown:
            return markdown
        await asyncio.sleep(0.2)
    pytest.fail(f"the hover never showed {wanted!r}; last: {markdown[:300]!r}")


@needs_fifo
@pytest.mark.parametrize(
    ("source", "trouble"),
    [
        ("repository config", "everything"),
        ("editor settings", "everything"),
        ("editor settings", "a named pipe"),  # alone: it no longer hides behind another fault
    ],
)
async def test_server_answers_with_hostile_lessons_in_a_lesson_folder(
    tmp_path: Path, serve: Any, source: str, trouble: str
) -> None:
    team = hostile_folder(tmp_path / "team")
    if trouble == "a named pipe":
        for path in team.iterdir():
            if path.name != "fifo.md":
                path.unlink()
    # The good team lesson replaces the built-in one, so that the hover shows when it loaded.
    (team / "team-tip.md").unlink(missing_ok=True)
    (team / "set-membership.md").write_text(
        TEMPLATE.replace("title: Test membership", "title: Team-approved test membership"), "utf-8"
    )
    options = {}
    if source == "repository config":
        (tmp_path / ".lessonlens.toml").write_text('lesson-dirs = ["team"]\n')
    else:
        options = {"lessonDirs": [str(team)]}
    editor = await serve(tmp_path, options)
    where = await open_membership(editor, tmp_path)
    await hover_until(editor, where, "Team-approved test membership")
    # Still answering after the catalog loaded.
    assert await editor.pull(timeout=10) is not None


async def test_hover_neutralises_active_content_of_team_lessons(tmp_path: Path, serve: Any) -> None:
    team = tmp_path / "team"
    team.mkdir()
    (team / "set-membership.md").write_text(
        HOSTILE.replace("id: hostile", "id: set-membership"), "utf-8"
    )
    # The worked example always: the hostile prose is in its "Try it at work". On auto, a hover
    # answered before the team lessons loaded counts as opening the lesson, and the next hover
    # shows the deep dive, which has no such section (CI met that race).
    options = {"lessonDirs": [str(team)], "lessonForm": "worked-example"}
    editor = await serve(tmp_path, options)
    where = await open_membership(editor, tmp_path)
    markdown = await hover_until(editor, where, "alert(document.cookie)")
    parser = MarkdownIt("commonmark")
    parser.validateLink = lambda url: True  # see every link, as a lenient client would
    hrefs: list[str] = []
    for token in parser.parse(markdown):
        assert token.type != "html_block", token.content
        for child in token.children or ():
            assert child.type != "html_inline", child.content
            if child.type in ("link_open", "image"):
                hrefs.append(str(child.attrs.get("href", child.attrs.get("src", ""))))
    assert hrefs and all(h.startswith(("https://", "http://")) for h in hrefs), hrefs
    assert "https://docs.python.org/3/" in hrefs  # the safe link stays a link
    # Nothing is hidden: the text of what was neutralised is still there to read.
    assert "the docs" in markdown and "onerror" in markdown


async def test_built_in_lessons_reach_the_hover_unchanged(tmp_path: Path, serve: Any) -> None:
    editor = await serve(tmp_path)
    where = await open_membership(editor, tmp_path)
    body = next(iter(load_catalog().lessons["set-membership"].body.split("\n\n")))
    await hover_until(editor, where, body)
