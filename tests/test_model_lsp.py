"""The model in the language server, over stdio with a real client and the real model.

The server loads the model in the background after ``initialized`` (with ``$/progress``) and is
fully useful meanwhile, without a model, and with a broken one; once loaded, a unit with a
confident match and no rule finding gets a "Related lesson" code lens and its name a hover.
"""

from __future__ import annotations

import asyncio
import json
import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
import pytest_lsp
from lsprotocol import types
from samples import (
    RELATED,
    RELATED_EDIT,
    RELATED_EDIT_TEXT,
    RELATED_INGREDIENT,
    RELATED_LESSON,
    RELATED_UNIT,
    WALKER,
)
from test_lsp import (
    SAMPLE,
    SERVER,
    Editor,
    RecordingClient,
    codes,
    serve,
    until,
    uri_for,
    vscode,
)

from lessonlens.lessons.catalog import load_catalog

pytestmark = pytest.mark.filterwarnings("error::pytest_lsp.LspSpecificationWarning")

LOAD = "lessonlens/load-model"
TIMEOUT = 60.0


@pytest.fixture(autouse=True)
def model_folder(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, shipped: Path
) -> Path:
    """The shipped model, or an empty folder for tests marked ``no_model`` (set before the
    server starts: it inherits the environment)."""
    folder = tmp_path / "empty" if request.node.get_closest_marker("no_model") else shipped
    monkeypatch.setenv("LESSONLENS_MODEL_DIR", str(folder))
    return folder


lsp = pytest_lsp.fixture(config=SERVER)(serve)


def load_ended(client: RecordingClient) -> types.WorkDoneProgressEnd | None:
    values = client.progress_reports.get(LOAD) or []
    return values[-1] if values and isinstance(values[-1], types.WorkDoneProgressEnd) else None


async def test_the_server_answers_while_the_model_loads(lsp: RecordingClient) -> None:
    editor = await Editor.start(lsp, vscode(), options={"modelDevice": "cpu"})
    uri = uri_for("walker.py")
    editor.open(uri, WALKER)
    assert await editor.diagnostics(uri) == []
    # Diagnostics came back while the model was still loading: nothing waited for it.
    assert load_ended(lsp) is None
    await until(lambda: load_ended(lsp) is not None, "the model to load", TIMEOUT)
    end = load_ended(lsp)
    assert end is not None and end.message == "Related lessons ready"
    assert isinstance(lsp.progress_reports[LOAD][0], types.WorkDoneProgressBegin)
    logged = [m.message for m in lsp.log_messages]
    assert any("model ready (int8 on CPUExecutionProvider, sha256" in m for m in logged), logged


async def related_lens(editor: Editor, uri: str) -> list[types.CodeLens]:
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline:
        lenses = [
            lens
            for lens in await editor.lenses(uri)
            if lens.command and lens.command.title.startswith("Related lesson:")
        ]
        if lenses:
            return lenses
        await asyncio.sleep(0.05)
    pytest.fail("no related-lesson lens appeared")


async def test_a_unit_with_a_confident_match_gets_one_related_lesson(lsp: RecordingClient) -> None:
    editor = await Editor.start(lsp, vscode(), options={"modelDevice": "cpu"})
    uri = uri_for("related.py")
    editor.open(uri, RELATED)
    assert await editor.diagnostics(uri) == []  # no rule speaks here: only the model does
    lenses = await related_lens(editor, uri)
    assert len(lenses) == 1
    (lens,) = lenses
    lesson = load_catalog([]).lessons[RELATED_LESSON]
    assert lens.command is not None
    assert lens.command.title == f"Related lesson: {lesson.title}"
    assert lens.command.command == "lessonlens.showLesson"
    assert list(lens.command.arguments or []) == [[RELATED_LESSON]]
    assert lens.range.start.line == RELATED.splitlines().index(RELATED_UNIT)
    # Hovering the unit's name lists its related lessons, with their links.
    name = RELATED_UNIT.split("def ")[1].split("(")[0]
    where = editor.range_of(uri, f"def {name}").start
    hover = await editor.hover(uri, types.Position(where.line, where.character + 5))
    assert hover is not None and isinstance(hover.contents, types.MarkupContent)
    assert "Related lessons" in hover.contents.value
    assert lesson.url in hover.contents.value


async def test_skills_the_model_sees_in_changed_code_are_recorded_as_practice(
    lsp: RecordingClient, own_progress_store: Path
) -> None:
    editor = await Editor.start(lsp, vscode(), options={"modelDevice": "cpu"})
    uri = uri_for("related.py")
    editor.open(uri, RELATED)
    await related_lens(editor, uri)  # the first look: what was there, not what was done
    where = editor.range_of(uri, RELATED_EDIT)
    editor.change(uri, [(types.Range(where.end, where.end), RELATED_EDIT_TEXT)])
    await editor.diagnostics(uri)
    store = own_progress_store / "progress.sqlite3"

    def practiced() -> list[tuple[str, str]]:
        if not store.exists():
            return []
        with sqlite3.connect(store) as connection:
            return connection.execute(
                "SELECT skill_id, rule_id FROM events WHERE kind = 'skill_practiced'"
            ).fetchall()

    await until(lambda: bool(practiced()), "a practice event", TIMEOUT)
    skill = load_catalog([]).lessons[RELATED_LESSON].skill_id
    assert (skill, "model") in practiced()


async def test_with_the_model_off_nothing_loads(lsp: RecordingClient) -> None:
    editor = await Editor.start(lsp, vscode(), options={"modelDevice": "off"})
    uri = uri_for("walker.py")
    editor.open(uri, WALKER)
    await editor.diagnostics(uri)
    await until(
        lambda: any(
            isinstance(v[-1], types.WorkDoneProgressEnd) for v in lsp.progress_reports.values() if v
        ),
        "the lessons to load",
    )
    assert LOAD not in lsp.progress_reports


@pytest.mark.no_model
async def test_without_a_model_everything_else_works(lsp: RecordingClient) -> None:
    editor = await Editor.start(lsp, vscode(), options={"modelDevice": "cpu"})
    uri = uri_for("sample.py")
    editor.open(uri, SAMPLE)
    await until(lambda: load_ended(lsp) is not None, "the model load to give up", TIMEOUT)
    end = load_ended(lsp)
    assert end is not None and end.message == "Related lessons unavailable"
    assert codes(await editor.diagnostics(uri)) == ["PY001", "PY011", "PY022"]
    warnings = [m.message for m in lsp.log_messages if m.type == types.MessageType.Warning]
    assert any("no model at" in m and "lessonlens model build" in m for m in warnings), warnings
    assert not lsp.messages  # no pop-up for a feature that is not set up
    lenses = await editor.lenses(uri)
    assert not any(
        lens.command and lens.command.title.startswith("Related lesson") for lens in lenses
    )


async def test_check_related_and_the_editor_show_the_same_lenses(
    lsp: RecordingClient, tmp_path: Path, shipped: Path
) -> None:
    """One path: the same files get the same related lessons from the CLI and from the editor."""
    files = {"related.py": RELATED, "walker.py": WALKER}
    for folder in (Path(__file__).parent.parent / "examples" / "sample_project" / "inventory",):
        files.update({p.name: p.read_text("utf-8") for p in sorted(folder.glob("*.py"))})
    for name, text in files.items():
        (tmp_path / name).write_text(text, "utf-8")
    cli = subprocess.run(
        [sys.executable, "-m", "lessonlens", "check", "--related", "--format", "json", "."],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env={**os.environ, "LESSONLENS_MODEL_DIR": str(shipped)},
        check=False,
    )
    assert cli.returncode == 0, cli.stderr
    from_cli = {
        (Path(f["path"]).name, note["line"] - 1, note["lesson"]["id"])
        for f in json.loads(cli.stdout)["files"]
        for note in f["related"]
    }
    editor = await Editor.start(lsp, vscode(), options={"modelDevice": "cpu"})
    await until(lambda: load_ended(lsp) is not None, "the model to load", TIMEOUT)
    from_editor = set()
    for name, text in files.items():
        uri = (tmp_path / name).as_uri()
        refreshes = lsp.lens_refreshes
        editor.open(uri, text)
        await editor.diagnostics(uri)
        await until(
            lambda before=refreshes: lsp.lens_refreshes > before,
            f"related lessons of {name}",
            TIMEOUT,
        )
        for lens in await editor.lenses(uri):
            if lens.command and lens.command.title.startswith("Related lesson:"):
                (lesson_id,) = (lens.command.arguments or [[]])[0]
                from_editor.add((name, lens.range.start.line, lesson_id))
    assert from_cli == from_editor
    assert ("related.py", RELATED.splitlines().index(RELATED_UNIT), RELATED_LESSON) in from_cli
    # The walker already uses a deque: the deque lesson is not related to it anywhere.
    assert not any(lesson == "deque-queue" for name, _, lesson in from_cli if name == "walker.py")


async def test_the_related_hover_says_why(lsp: RecordingClient) -> None:
    editor = await Editor.start(lsp, vscode(), options={"modelDevice": "cpu"})
    uri = uri_for("related.py")
    editor.open(uri, RELATED)
    await editor.diagnostics(uri)
    await related_lens(editor, uri)
    name = RELATED_UNIT.split("def ")[1].split("(")[0]
    where = editor.range_of(uri, f"def {name}").start
    hover = await editor.hover(uri, types.Position(where.line, where.character + 5))
    assert hover is not None and isinstance(hover.contents, types.MarkupContent)
    text = hover.contents.value
    assert "Related lessons" in text
    why = text.split("---")[-1]
    assert "Why you see this" in why
    assert "relevant to this code" in why
    assert f"`{RELATED_INGREDIENT}`" in why  # what in the unit made the lesson apply
    assert "priority for your team" in why
