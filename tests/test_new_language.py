"""A language registered only by the tests reaches check, the editor and the progress store.

Lua (``tests/lang_lua/``: a ``LanguageSpec``, one rule, one lesson and its skills) is installed
the way a real plugin is: a distribution's entry point in the group ``lessonlens.languages``
naming the plugin's module. Here the distribution is a ``.dist-info`` folder on the
``PYTHONPATH`` of the processes under test, so no core code names Lua and this test process
never registers it (every other test sees the built-in languages only).
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from lsp_client import Editor
from lsprotocol import types

TESTS = Path(__file__).parent
LESSONS = TESTS / "lang_lua" / "lessons"
SOURCE = 'local s = ""\nfor i = 1, 10 do\n  s = s .. i\nend\nlocal once = s .. "!"\nprint(once)\n'


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    root.mkdir()
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    subprocess.run(["git", "-C", str(root), "config", "user.email", "dev@example.com"], check=True)
    (root / ".lessonlens.toml").write_text(f"lesson-dirs = [{json.dumps(str(LESSONS))}]\n")
    (root / "build.lua").write_text(SOURCE)
    return root


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """The environment of a process where the Lua plugin is installed (by its entry point)."""
    site = tmp_path / "site"
    info = site / "lessonlens_test_lua-0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: lessonlens-test-lua\nVersion: 0\n")
    (info / "entry_points.txt").write_text("[lessonlens.languages]\nlua = lang_lua\n")
    paths = [str(site), str(TESTS), *filter(None, [os.environ.get("PYTHONPATH")])]
    return {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(paths),
        "LESSONLENS_DATA_DIR": str(tmp_path / "data"),
        "GIT_CONFIG_GLOBAL": str(tmp_path / "no-global-gitconfig"),
        "GIT_CONFIG_NOSYSTEM": "1",
    }


def check(project: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "lessonlens", "check", ".", "--no-cache", *args],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_rule_reaches_check_as_text(project: Path, env: dict[str, str]) -> None:
    done = check(project, env)
    assert done.returncode == 0, done.stderr
    assert "build.lua:3:3: LUA001" in done.stdout
    assert "Build strings with table.concat" in done.stdout
    # Outside a loop, `..` is fine: one finding only.
    assert "1 hint in 1 file" in done.stdout


def test_the_rule_reaches_check_as_json(project: Path, env: dict[str, str]) -> None:
    done = check(project, env, "--format", "json")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    [file] = report["files"]
    assert file["path"] == "build.lua"
    [finding] = file["findings"]
    assert (finding["rule"], finding["line"], finding["column"]) == ("LUA001", 3, 3)
    assert finding["skill"] == "lua.strings"
    assert finding["lesson"]["id"] == "lua-concat-in-loop"


def test_without_the_plugin_the_file_is_not_analysed(project: Path, env: dict[str, str]) -> None:
    done = check(project, {**env, "PYTHONPATH": os.environ.get("PYTHONPATH", "")})
    assert "LUA001" not in done.stdout


def test_the_lesson_and_rule_pass_lessons_check(env: dict[str, str]) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "lessonlens", "lessons", "check", str(LESSONS)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "lua-concat-in-loop" not in done.stdout + done.stderr


async def test_the_rule_reaches_the_editor_and_the_store(
    project: Path, env: dict[str, str], tmp_path: Path
) -> None:
    editor = Editor(project, name="build.lua", language="lua", env=env)
    await editor.start()
    try:
        await editor.open(SOURCE, wait=False)
        params = await editor.published_where(lambda p: p.uri == editor.uri and bool(p.diagnostics))
        [diagnostic] = params.diagnostics
        assert diagnostic.code == "LUA001"
        assert diagnostic.range.start == types.Position(2, 2)
        assert diagnostic.data == "lua-concat-in-loop"
        hover = await editor.hover(diagnostic.range.start)
        assert "table.concat" in hover
    finally:
        await editor.stop()
    with sqlite3.connect(tmp_path / "data" / "progress.sqlite3") as db:
        rows = db.execute("SELECT kind, language, rule_id, lesson_id FROM events").fetchall()
    assert ("hint_shown", "lua", "LUA001", "lua-concat-in-loop") in rows, rows
    assert {language for _, language, _, _ in rows} == {"lua"}, rows
