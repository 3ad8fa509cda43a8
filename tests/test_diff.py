"""``lessonlens check --diff REV``: only findings on lines changed since REV, for pull requests."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from samples import CONCAT, MEMBERSHIP

from lessonlens.server.cli import main

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="--diff needs git")


def git(repo: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", *args], cwd=repo, capture_output=True, text=True, check=True, timeout=60
    )
    return done.stdout


def lessonlens(*args: str) -> Result:
    return CliRunner().invoke(main, ["check", *args], catch_exceptions=False)


def diff_findings(*args: str, rev: str = "HEAD") -> list[tuple[str, str, int]]:
    result = lessonlens(
        "--diff", rev, "--format", "json", "--no-cache", "--select", "PY001,PY002", *args
    )
    assert result.exit_code == 0, result.output
    payload: dict[str, Any] = json.loads(result.stdout)
    return [
        (file["path"], f["rule"], f["line"]) for file in payload["files"] for f in file["findings"]
    ]


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "repo"
    root.mkdir()
    # A user's global git settings must not change what the test sees.
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(tmp_path / "gitconfig"))
    git(root, "init", "-q")
    git(root, "config", "user.email", "dev@example.com")
    git(root, "config", "user.name", "Dev")
    git(root, "config", "commit.gpgsign", "false")
    (root / "src").mkdir()
    (root / "src" / "words.py").write_text(MEMBERSHIP)
    (root / "src" / "other.py").write_text(MEMBERSHIP)
    git(root, "add", ".")
    git(root, "commit", "-q", "-m", "initial")
    monkeypatch.chdir(root)
    return root


def test_only_new_lines_are_reported(repo: Path) -> None:
    (repo / "src" / "words.py").write_text(MEMBERSHIP + "\n" + CONCAT)
    assert diff_findings("src") == [("src/words.py", "PY002", 11)]
    # Without --diff, the old finding is still there.
    result = lessonlens("src", "--no-cache", "--select", "PY001,PY002")
    assert result.stdout.count(": PY001 ") == 2


def test_a_changed_line_is_reported(repo: Path) -> None:
    (repo / "src" / "other.py").write_text(MEMBERSHIP.replace('"of"', '"of", "to"'))
    assert diff_findings() == [("src/other.py", "PY001", 4)]


def test_staged_changes_count(repo: Path) -> None:
    (repo / "src" / "words.py").write_text(MEMBERSHIP + "\n" + CONCAT)
    git(repo, "add", "src/words.py")
    assert diff_findings() == [("src/words.py", "PY002", 11)]


def test_nothing_changed_reports_nothing(repo: Path) -> None:
    assert diff_findings() == []


def test_an_untracked_file_counts_entirely(repo: Path) -> None:
    (repo / "src" / "new.py").write_text(MEMBERSHIP + "\n" + CONCAT)
    assert diff_findings("src") == [("src/new.py", "PY001", 4), ("src/new.py", "PY002", 11)]


def test_an_ignored_file_does_not_count(repo: Path) -> None:
    (repo / ".gitignore").write_text("generated.py\n")
    (repo / "src" / "generated.py").write_text(MEMBERSHIP)
    assert diff_findings("src") == []


def test_against_an_older_revision(repo: Path) -> None:
    (repo / "src" / "words.py").write_text(MEMBERSHIP + "\n" + CONCAT)
    git(repo, "commit", "-q", "-am", "second")
    assert diff_findings(rev="HEAD") == []
    assert diff_findings(rev="HEAD~1") == [("src/words.py", "PY002", 11)]


def test_run_from_a_subfolder(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (repo / "src" / "words.py").write_text(MEMBERSHIP + "\n" + CONCAT)
    monkeypatch.chdir(repo / "src")
    assert diff_findings(".") == [("words.py", "PY002", 11)]


def test_unusual_file_names(repo: Path) -> None:
    """Git quotes non-ASCII names and marks names with spaces: the diff must still match."""
    names = ["naïve.py", "with space.py", 'quo"te.py']
    for name in names:
        (repo / "src" / name).write_text(MEMBERSHIP)
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "names")
    for name in names:
        (repo / "src" / name).write_text(MEMBERSHIP + "\n" + CONCAT)
    (repo / "src" / "nouveau né.py").write_text(CONCAT)
    found = sorted(diff_findings("src"))
    expected = [(f"src/{name}", "PY002", 11) for name in names]
    assert found == sorted([*expected, ("src/nouveau né.py", "PY002", 4)])


def test_lines_that_look_like_diff_headers(repo: Path) -> None:
    """A removed "-- x" and an added "++ x" line print as "--- x" and "+++ x" in the diff."""
    (repo / "src" / "words.py").write_text("-- 1\n" + MEMBERSHIP)
    git(repo, "commit", "-q", "-am", "unary")
    (repo / "src" / "words.py").write_text("++ 1\n" + MEMBERSHIP + "\n" + CONCAT)
    assert diff_findings() == [("src/words.py", "PY002", 12)]


def test_a_bad_revision_is_a_clear_error(repo: Path) -> None:
    result = lessonlens("--diff", "no-such-branch", "--no-cache", "src")
    assert result.exit_code in (1, 2)
    assert "Traceback" not in result.output
    assert "no-such-branch" in result.stderr
    assert result.stdout == ""


def test_an_option_is_not_taken_for_a_revision(repo: Path) -> None:
    target = repo.parent / "written-by-git.txt"
    result = lessonlens(f"--diff=--output={target}", "--no-cache", "src")
    assert result.exit_code in (1, 2)
    assert "not a revision" in result.stderr
    assert not target.exists()


def test_outside_a_repository(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "plain"
    folder.mkdir()
    (folder / "words.py").write_text(MEMBERSHIP)
    monkeypatch.chdir(folder)
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))
    result = lessonlens("--diff", "HEAD", "--no-cache", ".")
    assert result.exit_code in (1, 2)
    assert "Traceback" not in result.output
    assert "git" in result.stderr
