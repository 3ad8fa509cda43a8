"""The Neovim client (editors/neovim) end to end, in a real headless Neovim.

Debian's Neovim is 0.7.2, the oldest version the client supports and the one with the most
quirks: no ``vim.lsp.start``, push diagnostics only, code lenses only on request. The session is
scripted by ``tests/fixtures/neovim/driver.lua``, which writes what it saw as JSON; the
assertions live here so that a failure shows the whole session at once.

Every XDG folder points into ``tmp_path``: Neovim's LSP log, and whatever the server caches,
stay out of the user's home. These tests fail rather than skip without ``nvim``: a skipped
editor test would let the client rot unnoticed.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from lessonlens.lessons.catalog import load_catalog

REPO = Path(__file__).resolve().parents[1]
EDITOR_DIR = REPO / "editors" / "neovim"
FIXTURES = Path(__file__).resolve().parent / "fixtures" / "neovim"
SAMPLE = FIXTURES / "sample.py"
DRIVER = FIXTURES / "driver.lua"
CATALOG = load_catalog()

# Where each expected finding starts in sample.py: the line holding the text, at its byte column
# (Neovim's diagnostic columns are bytes; the PY001 line has an "é" before the finding, so a
# client or server that confused UTF-16 with bytes would land one column off).
EXPECTED_STARTS = {
    "PY001": 'w in ["a"',
    "PY002": "text = text + str(row)",
    "PY022": "value == None",
}
# Seconds for one whole Neovim session; the driver's own waits are 20 s each.
SESSION_TIMEOUT = 120


def nvim_path() -> str:
    path = shutil.which("nvim")
    if path is None:
        pytest.fail(
            "nvim is not installed. `make test` installs it (its setup-test step runs "
            "`apt-get install -y neovim`); or install Neovim 0.7+ yourself.",
            pytrace=False,
        )
    return path


def lua_string(text: str) -> str:
    """A Lua long-bracket literal: no escapes to get wrong in Windows or non-ASCII paths."""
    assert "]==]" not in text
    return f"[==[{text}]==]"


def isolated_env(tmp_path: Path) -> dict[str, str]:
    env = dict(os.environ)
    for name in ("CONFIG", "DATA", "STATE", "CACHE"):
        folder = tmp_path / "xdg" / name.lower()
        folder.mkdir(parents=True, exist_ok=True)
        env[f"XDG_{name}_HOME"] = str(folder)
    # A developer with no history: every hint at full strength, whatever other tests recorded.
    env["LESSONLENS_DATA_DIR"] = str(tmp_path / "progress")
    return env


def lsp_log(tmp_path: Path) -> str:
    # stdpath("cache") up to 0.9, stdpath("log") (under XDG_STATE_HOME) from 0.10.
    for log in (
        tmp_path / "xdg" / "state" / "nvim" / "lsp.log",
        tmp_path / "xdg" / "cache" / "nvim" / "lsp.log",
    ):
        if log.exists():
            return log.read_text(errors="replace")[-6000:]
    return "(no LSP log)"


def run_nvim(tmp_path: Path, init_lua: str, *files: Path) -> dict[str, Any]:
    """Run one headless session whose init.lua writes JSON to vim.g.lessonlens_test_output."""
    output = tmp_path / "result.json"
    init = tmp_path / "init.lua"
    init.write_text(
        f"vim.g.lessonlens_test_output = {lua_string(str(output))}\n"
        f"vim.opt.runtimepath:prepend({lua_string(str(EDITOR_DIR))})\n" + init_lua,
        encoding="utf-8",
    )
    command = [nvim_path(), "--headless", "--clean", "-u", str(init), *map(str, files)]
    try:
        completed = subprocess.run(
            command,
            cwd=tmp_path,
            env=isolated_env(tmp_path),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=SESSION_TIMEOUT,
        )
    except subprocess.TimeoutExpired as error:
        pytest.fail(
            f"nvim did not quit within {SESSION_TIMEOUT} s\nstdout: {error.stdout!r}\n"
            f"stderr: {error.stderr!r}\nLSP log:\n{lsp_log(tmp_path)}",
            pytrace=False,
        )
    transcript = (
        f"exit status {completed.returncode}\nstdout:\n{completed.stdout}\n"
        f"stderr:\n{completed.stderr}\nLSP log:\n{lsp_log(tmp_path)}"
    )
    if not output.exists():
        pytest.fail(f"nvim wrote no result\n{transcript}", pytrace=False)
    result: dict[str, Any] = json.loads(output.read_text(encoding="utf-8"))
    result["transcript"] = transcript
    return result


def expected_starts(source: str) -> dict[str, tuple[int, int]]:
    """Rule id -> (0-based line, byte column) of the text each finding starts at."""
    starts = {}
    for number, line in enumerate(source.splitlines()):
        for code, text in EXPECTED_STARTS.items():
            if text in line:
                starts[code] = (number, line.encode().index(text.encode()))
    assert starts.keys() == EXPECTED_STARTS.keys()
    return starts


def lesson_for(rule_id: str) -> str:
    return next(lesson.id for lesson in CATALOG.lessons.values() if rule_id in lesson.rules)


def enclosing_def_line(source: str, line: int) -> int:
    lines = source.splitlines()
    return next(n for n in range(line, -1, -1) if lines[n].startswith("def "))


def test_diagnostics_hover_lenses_and_lessons_in_a_real_neovim(tmp_path: Path) -> None:
    project = tmp_path / "project"
    project.mkdir()
    (project / "pyproject.toml").write_text('[project]\nname = "sample"\n', encoding="utf-8")
    sample = project / "sample.py"
    shutil.copyfile(SAMPLE, sample)
    source = sample.read_text(encoding="utf-8")
    cmd = ", ".join(lua_string(part) for part in (sys.executable, "-m", "lessonlens", "serve"))

    result = run_nvim(
        tmp_path,
        'require("vim.lsp.log").set_level("debug")\n'
        f'require("lessonlens").setup({{ cmd = {{ {cmd} }}, settings = {{ debounceMs = 0 }} }})\n'
        f"dofile({lua_string(str(DRIVER))})\n",
        sample,
    )
    transcript = f"{json.dumps({k: v for k, v in result.items() if k != 'transcript'}, indent=1)}"
    transcript += f"\n{result['transcript']}"
    assert result.get("error") is None, transcript
    assert result["nvim"]["minor"] >= 7, transcript
    assert result["filetype"] == "python", transcript

    starts = expected_starts(source)
    seen = {d["code"]: (d["lnum"], d["col"]) for d in result["diagnostics"]}
    assert seen == starts, transcript
    for diagnostic in result["diagnostics"]:
        lesson = CATALOG.lessons[lesson_for(diagnostic["code"])]
        assert diagnostic["source"] == "lessonlens", transcript
        assert diagnostic["data"] == lesson.id, transcript
        assert diagnostic["href"] == lesson.url, transcript
        assert diagnostic["message"].endswith(f" Lesson: {lesson.title}"), transcript

    hovers = {hover["code"]: hover for hover in result["hovers"]}
    for code in starts:
        title = CATALOG.lessons[lesson_for(code)].title
        hover = hovers[code]
        assert hover.get("error") is None, transcript
        assert hover["kind"] == "markdown", transcript
        assert hover["markdown"].startswith(f"# {title}"), transcript
        assert "_Why you see this:" in hover["markdown"], transcript

    # One lens above each function with findings, each function here holding one lesson.
    lens_lines = {enclosing_def_line(source, line) for line, _ in starts.values()}
    assert {lens["line"] for lens in result["lenses"]} == lens_lines, transcript
    for lens in result["lenses"]:
        assert lens["title"] == "1 lesson here", transcript
        assert lens["command"] == "lessonlens.showLesson", transcript

    # :LessonlensShowLesson with no argument: the lesson of the hint under the cursor, in a float.
    shown = result["shown"]
    title = CATALOG.lessons[lesson_for(shown["for_code"])].title
    assert shown["filetype"] == "markdown", transcript
    assert shown["floating"] is True, transcript
    assert f"# {title}" in shown["lines"], transcript
    # The example's code is labelled, not three bare blocks.
    assert "**Before**" in shown["lines"] and "**After**" in shown["lines"], transcript

    # Running a lens goes through the client-side command handler with a list of lesson ids.
    lens_shown = result["lens_shown"]
    lens_lines_by_code = {c: enclosing_def_line(source, line) for c, (line, _) in starts.items()}
    code = next(c for c, line in lens_lines_by_code.items() if line == lens_shown["for_line"])
    assert f"# {CATALOG.lessons[lesson_for(code)].title}" in lens_shown["lines"], transcript
    assert lens_shown["filetype"] == "markdown", transcript

    # A rule id, which is what the hint shows, finds its lesson through the buffer's hints.
    by_rule = result["by_rule"]
    lesson = CATALOG.lessons[lesson_for(by_rule["for_code"])]
    assert by_rule["name"] == f"lessonlens://lesson/{lesson.id}", transcript
    assert f"# {lesson.title}" in by_rule["lines"], transcript

    # Code actions, chosen from Neovim's own menu: the lesson, a dismissal, then the fix.
    actions = result["actions"]
    for code, titles in actions.items():
        lesson = CATALOG.lessons[lesson_for(code)]
        assert f"Show lesson: {lesson.title}" in titles, transcript
        assert "Dismiss here" in titles, transcript
        assert f"Don't show {code} again" in titles, transcript
    shown_by_action = result["action_shown"]
    title = CATALOG.lessons[lesson_for(shown_by_action["for_code"])].title
    assert f"# {title}" in shown_by_action["lines"], transcript
    fixed = result["fixed"]
    # "Fix: " for a safe fix, "Fix (unsafe: <reason>): " for an unsafe one (chosen by name).
    assert any(title.startswith("Fix") for title in actions[fixed["code"]]), transcript
    as_set = fixed["before"].replace('["a", "an", "the", "of"]', '{"a", "an", "the", "of"}')
    assert fixed["after"] == as_set, transcript
    # The dismissed hint stays hidden after an edit elsewhere; only the untouched one is left.
    untouched = set(starts) - {fixed["code"], shown_by_action["for_code"]}
    assert fixed["codes"] == sorted(untouched), transcript

    # Muting hides that rule's hint at once.
    after_mute = result["after_mute"]
    assert after_mute["codes"] == [], transcript


@pytest.mark.parametrize(
    ("name", "filetype", "code", "text"),
    [
        (
            "load.ts",
            "typescript",
            "JS015",
            "export const load = (url: string) =>\n"
            "  new Promise(async (resolve) => resolve(await get(url)));\n",
        ),
        (
            "names.go",
            "go",
            "GO007",
            'package names\n\nimport "strings"\n\nfunc Same(a, b string) bool {\n'
            "\treturn strings.ToLower(a) == strings.ToLower(b)\n}\n",
        ),
    ],
)
def test_typescript_and_go_buffers_get_hints_and_lessons(
    tmp_path: Path, name: str, filetype: str, code: str, text: str
) -> None:
    """The default filetypes attach the server to TypeScript and Go buffers too."""
    project = tmp_path / "project"
    project.mkdir()
    source = project / name
    source.write_text(text, encoding="utf-8")
    cmd = ", ".join(lua_string(part) for part in (sys.executable, "-m", "lessonlens", "serve"))
    result = run_nvim(
        tmp_path,
        "vim.g.lessonlens_test_light = true\n"
        f'require("lessonlens").setup({{ cmd = {{ {cmd} }}, settings = {{ debounceMs = 0 }} }})\n'
        f"dofile({lua_string(str(DRIVER))})\n",
        source,
    )
    transcript = result["transcript"]
    assert result.get("error") is None, transcript
    assert result["filetype"] == filetype, transcript
    assert [d["code"] for d in result["diagnostics"]] == [code], transcript
    (hover,) = result["hovers"]
    title = CATALOG.lessons[lesson_for(code)].title
    assert hover["markdown"].startswith(f"# {title}"), transcript


def test_the_module_loads_cleanly(tmp_path: Path) -> None:
    """Loading and setup() alone raise nothing, define the commands, and start no server."""
    result = run_nvim(
        tmp_path,
        """
local result = {}
local ok, err = pcall(function()
  local lessonlens = require("lessonlens")
  lessonlens.setup({ cmd = { "lessonlens-not-installed" }, settings = { debounceMs = 0 } })
  result.show = vim.fn.exists(":LessonlensShowLesson")
  result.mute = vim.fn.exists(":LessonlensMuteRule")
  result.clients = #(vim.lsp.get_clients or vim.lsp.get_active_clients)()
  local files = vim.api.nvim_get_runtime_file("lsp/lessonlens.lua", false)
  result.lsp_config = dofile(files[1]).cmd
end)
result.error = not ok and tostring(err) or nil
result.errmsg = vim.v.errmsg
vim.fn.writefile({ vim.fn.json_encode(result) }, vim.g.lessonlens_test_output)
vim.cmd("qall!")
""",
    )
    assert result.get("error") is None, result["transcript"]
    assert result["errmsg"] == "", result["transcript"]
    assert (result["show"], result["mute"]) == (2, 2), result["transcript"]
    assert result["clients"] == 0, result["transcript"]
    assert result["lsp_config"] == ["lessonlens", "serve"], result["transcript"]
