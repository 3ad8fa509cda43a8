"""Project configuration as ``lessonlens check`` sees it, and team lesson folders."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from samples import CONCAT, MEMBERSHIP

from lessonlens.lessons.catalog import builtin_folder, load_catalog
from lessonlens.server.cli import main
from lessonlens.server.cli.common import all_rules
from lessonlens.server.workspace.config import find_config

# PY012 (try-in-loop) only applies below Python 3.11; it fires on the `try` of line 4.
TRY_IN_LOOP = """\
def parse(lines):
    values = []
    for line in lines:
        try:
            values.append(int(line))
        except ValueError:
            break
    return values
"""


def lessonlens(*args: str) -> Result:
    return CliRunner().invoke(main, ["check", *args], catch_exceptions=False)


def rules_found(*args: str) -> list[tuple[str, int]]:
    result = lessonlens("--format", "json", "--no-cache", *args)
    assert result.exit_code == 0, result.output
    payload: dict[str, Any] = json.loads(result.stdout)
    return [(f["rule"], f["line"]) for file in payload["files"] for f in file["findings"]]


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


@pytest.fixture
def root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A project folder that is a git work tree, so the upward search stops at it."""
    project = tmp_path / "repo"
    (project / ".git").mkdir(parents=True)
    monkeypatch.chdir(project)
    return project


# ---------------------------------------------------------------------------- discovery


def test_config_is_found_upward_from_a_nested_path(root: Path) -> None:
    pyproject = write(root / "pyproject.toml", '[tool.lessonlens]\nignore = ["PY001"]\n')
    nested = write(root / "src" / "pkg" / "deep" / "words.py", MEMBERSHIP)
    write(root / "src" / "pkg" / "deep" / "render.py", CONCAT)
    config = find_config(nested)
    assert config.source == pyproject
    assert config.root == root
    assert config.ignore == ("PY001",)
    found = {rule for rule, _ in rules_found("src/pkg/deep", "--select", "PY001,PY002")}
    # --select replaces the config's selection; without it the config's ignore applies.
    assert found == {"PY001", "PY002"}
    assert {rule for rule, _ in rules_found("src/pkg/deep/words.py")} == set()
    assert ("PY002", 4) in rules_found("src/pkg/deep")


def test_nearest_config_wins(root: Path) -> None:
    write(root / ".lessonlens.toml", 'ignore = ["PY001"]\n')
    inner = write(root / "sub" / ".lessonlens.toml", 'ignore = ["PY002"]\n')
    write(root / "sub" / "words.py", MEMBERSHIP)
    assert find_config(root / "sub" / "words.py").source == inner
    assert ("PY001", 4) in rules_found("sub/words.py")


def test_dotfile_wins_over_pyproject_in_the_same_folder(root: Path) -> None:
    write(root / "pyproject.toml", '[tool.lessonlens]\nignore = ["PY002"]\n')
    dotfile = write(root / ".lessonlens.toml", 'ignore = ["PY001"]\n')
    write(root / "words.py", MEMBERSHIP)
    write(root / "render.py", CONCAT)
    config = find_config(root)
    assert config.source == dotfile
    assert config.ignore == ("PY001",)
    found = {rule for rule, _ in rules_found(".")}
    assert "PY002" in found
    assert "PY001" not in found


def test_pyproject_without_a_lessonlens_table_is_passed_over(root: Path) -> None:
    write(root / "pyproject.toml", '[tool.lessonlens]\nignore = ["PY001"]\n')
    write(root / "sub" / "pyproject.toml", '[project]\nname = "sub"\n')
    assert find_config(root / "sub").source == root / "pyproject.toml"


def test_search_stops_at_the_repository_root(root: Path) -> None:
    write(root.parent / ".lessonlens.toml", 'ignore = ["PY001"]\n')
    config = find_config(root)
    assert config.source is None
    assert config.ignore == ()


# ---------------------------------------------------------------------------- target Python


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        ({"pyproject.toml": '[project]\nrequires-python = ">=3.9"\n'}, (3, 9)),
        ({"pyproject.toml": '[project]\nrequires-python = "<4, >=3.10.2"\n'}, (3, 10)),
        ({"pyproject.toml": '[project]\nrequires-python = "~=3.12"\n'}, (3, 12)),
        ({".lessonlens.toml": 'target-python = "3.8"\n'}, (3, 8)),
        (
            {
                "pyproject.toml": '[project]\nrequires-python = ">=3.9"\n',
                ".lessonlens.toml": 'target-python = "3.12"\n',
            },
            (3, 12),
        ),
        (
            {
                "pyproject.toml": '[project]\nrequires-python = ">=3.9"\n',
                ".lessonlens.toml": 'ignore = ["PY002"]\n',
            },
            (3, 9),
        ),
        ({"pyproject.toml": '[project]\nname = "x"\n'}, None),
    ],
    ids=["floor", "floor-among-bounds", "compatible", "target", "target-wins", "dotfile", "none"],
)
def test_target_python(root: Path, files: dict[str, str], expected: Any) -> None:
    for name, text in files.items():
        write(root / name, text)
    assert find_config(root / "module.py").language_options.get("target-python") == expected


needs_py012 = pytest.mark.skipif("PY012" not in all_rules(), reason="PY012 is not written yet")


@needs_py012
@pytest.mark.parametrize(
    ("files", "fires"),
    [
        ({".lessonlens.toml": 'target-python = "3.10"\n'}, True),
        ({".lessonlens.toml": 'target-python = "3.11"\n'}, False),
        ({"pyproject.toml": '[project]\nrequires-python = ">=3.10"\n'}, True),
        ({"pyproject.toml": '[project]\nrequires-python = ">=3.11"\n'}, False),
        (
            {
                "pyproject.toml": '[project]\nrequires-python = ">=3.9"\n',
                ".lessonlens.toml": 'target-python = "3.12"\n',
            },
            False,
        ),
        # Version-dependent advice stays silent when the target is unknown.
        ({}, False),
    ],
    ids=["target-3.10", "target-3.11", "floor-3.10", "floor-3.11", "target-wins", "unknown"],
)
def test_version_gated_rule_follows_the_target(
    root: Path, files: dict[str, str], fires: bool
) -> None:
    for name, text in files.items():
        write(root / name, text)
    write(root / "parse.py", TRY_IN_LOOP)
    assert rules_found("parse.py", "--select", "PY012") == ([("PY012", 4)] if fires else [])


@needs_py012
def test_cache_does_not_serve_results_for_another_target(root: Path, tmp_path: Path) -> None:
    write(root / "parse.py", TRY_IN_LOOP)
    config = root / ".lessonlens.toml"
    cache = str(tmp_path / "cache")

    def run() -> dict[str, Any]:
        result = lessonlens(
            "parse.py", "--format", "json", "--select", "PY012", "--cache-dir", cache
        )
        assert result.exit_code == 0, result.output
        payload: dict[str, Any] = json.loads(result.stdout)
        return payload

    write(config, 'target-python = "3.10"\n')
    assert run()["summary"]["findings"] == 1
    write(config, 'target-python = "3.11"\n')
    assert run()["summary"]["findings"] == 0
    write(config, 'target-python = "3.10"\n')
    again = run()
    assert again["summary"]["findings"] == 1
    assert again["summary"]["cache_hits"] == 1


# ---------------------------------------------------------------------------- invalid config


@pytest.mark.parametrize(
    ("name", "text", "key", "detail"),
    [
        (".lessonlens.toml", 'selct = ["PY001"]\n', "selct", "did you mean 'select'"),
        ("pyproject.toml", "[tool.lessonlens]\nignroe = []\n", "tool.lessonlens.ignroe", "ignore"),
        (".lessonlens.toml", "select = 3\n", "select", "list of strings"),
        (".lessonlens.toml", 'max-file-size = "big"\n', "max-file-size", "positive integer"),
        (".lessonlens.toml", "max-file-size = 0\n", "max-file-size", "positive integer"),
        (".lessonlens.toml", "target-python = 3.10\n", "target-python", "3.11"),
        (".lessonlens.toml", 'lesson-dirs = [".", 1]\n', "lesson-dirs", "list of strings"),
        (
            ".lessonlens.toml",
            '[skill-priorities]\n"python.strings" = "urgent"\n',
            "skill-priorities.python.strings",
            "high, medium, low, none",
        ),
        (".lessonlens.toml", "skill-priorities = 1\n", "skill-priorities", "table"),
        ("pyproject.toml", 'tool.lessonlens = "on"\n', "tool.lessonlens", "table"),
        (".lessonlens.toml", "select = [\n", "(file)", "TOML"),
    ],
    ids=[
        "unknown-key",
        "unknown-key-pyproject",
        "wrong-type",
        "wrong-int-type",
        "not-positive",
        "version-as-number",
        "mixed-list",
        "bad-priority",
        "priorities-not-table",
        "table-not-table",
        "bad-toml",
    ],
)
def test_invalid_config_is_a_clear_error(
    root: Path, name: str, text: str, key: str, detail: str
) -> None:
    config = write(root / name, text)
    write(root / "words.py", MEMBERSHIP)
    result = lessonlens("words.py", "--no-cache")
    assert result.exit_code in (1, 2)
    assert "Traceback" not in result.output
    assert f"{config}: {key}: " in result.stderr
    assert detail in result.stderr
    assert result.stdout == ""


# ---------------------------------------------------------------------------- team lessons


def copy_builtin(lesson_id: str, folder: Path, old: str, new: str) -> Path:
    """Copy a built-in lesson into a team folder, with one line changed."""
    text = (builtin_folder() / f"{lesson_id}.md").read_text("utf-8")
    assert old in text
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{lesson_id}.md"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return path


def test_team_lesson_overrides_the_builtin_one(root: Path) -> None:
    builtin = load_catalog().lessons["set-membership"]
    copy_builtin(
        "set-membership",
        root / "team-lessons",
        f"title: {builtin.title}",
        "title: Our house rule for membership tests",
    )
    write(root / ".lessonlens.toml", 'lesson-dirs = ["team-lessons"]\n')
    write(root / "src" / "words.py", MEMBERSHIP)
    result = lessonlens("src", "--no-cache", "--select", "PY001")
    assert result.exit_code == 0, result.output
    assert "lesson: Our house rule for membership tests" in result.stdout
    assert builtin.title not in result.stdout
    assert result.stderr == ""


def test_lesson_dirs_are_relative_to_the_config_file(root: Path) -> None:
    builtin = load_catalog().lessons["set-membership"]
    copy_builtin(
        "set-membership", root / "docs" / "lessons", f"title: {builtin.title}", "title: Team title"
    )
    write(root / "pyproject.toml", '[tool.lessonlens]\nlesson-dirs = ["docs/lessons"]\n')
    write(root / "a" / "b" / "words.py", MEMBERSHIP)
    result = lessonlens("a/b/words.py", "--no-cache", "--format", "json", "--select", "PY001")
    (finding,) = json.loads(result.stdout)["files"][0]["findings"]
    assert finding["lesson"]["title"] == "Team title"


def test_broken_team_lesson_is_reported_and_the_check_goes_on(root: Path) -> None:
    team = root / "team-lessons"
    broken = copy_builtin("str-join", team, "level: intermediate", "level: expert")
    builtin = load_catalog().lessons["set-membership"]
    copy_builtin("set-membership", team, f"title: {builtin.title}", "title: Team title")
    write(root / ".lessonlens.toml", 'lesson-dirs = ["team-lessons"]\n')
    write(root / "render.py", CONCAT)
    write(root / "words.py", MEMBERSHIP)
    result = lessonlens(".", "--no-cache", "--select", "PY001,PY002")
    assert result.exit_code == 0
    level_line = broken.read_text().splitlines().index("level: expert") + 1
    assert f"{broken}:{level_line}: " in result.stderr
    assert "level" in result.stderr
    # The broken override is left out: the built-in lesson still teaches, the good one applies.
    assert f"lesson: {load_catalog().lessons['str-join'].title}" in result.stdout
    assert "lesson: Team title" in result.stdout
    assert "render.py:4:9: PY002" in result.stdout


# ---------------------------------------------------------------------------- skill priorities


@pytest.mark.parametrize(
    ("priorities", "expected"),
    [
        ('"python.strings" = "none"', {"PY001"}),
        ('"python.strings" = "low"', {"PY001", "PY002"}),
        # A skill inherits its nearest ancestor's priority, unless it has its own.
        ('"python.performance" = "none"', {"PY002"}),
        ('"python.performance" = "none"\n"python.data-structures" = "high"', {"PY001", "PY002"}),
    ],
    ids=["silenced", "low-still-shown", "inherited", "child-overrides-parent"],
)
def test_skill_priority_none_silences_a_skill(
    root: Path, priorities: str, expected: set[str]
) -> None:
    write(root / ".lessonlens.toml", f"[skill-priorities]\n{priorities}\n")
    write(root / "words.py", MEMBERSHIP)
    write(root / "render.py", CONCAT)
    assert {rule for rule, _ in rules_found(".", "--select", "PY001,PY002")} == expected
