"""``lessonlens check`` end to end: text output, exit codes, selection, the cache, parallelism.

Every run passes ``--cache-dir`` under ``tmp_path`` or ``--no-cache``, so that no test reads or
writes the user's real cache.
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
from click.testing import CliRunner, Result
from samples import CONCAT, MEMBERSHIP

from lessonlens.lessons.catalog import load_catalog
from lessonlens.server.cli import main

CLEAN = "def add(a, b):\n    return a + b\n"
CATALOG = load_catalog()


def lessonlens(*args: str, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(main, ["check", *args], env=env, catch_exceptions=False)


def report(*args: str) -> dict[str, Any]:
    result = lessonlens("--format", "json", *args)
    assert result.exit_code == 0, result.output
    payload: dict[str, Any] = json.loads(result.stdout)
    return payload


def findings(payload: dict[str, Any]) -> list[tuple[str, str, int, int]]:
    return [
        (file["path"], f["rule"], f["line"], f["column"])
        for file in payload["files"]
        for f in file["findings"]
    ]


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A small project, and the working folder set to it so that paths print relative."""
    root = tmp_path / "project"
    (root / "pkg").mkdir(parents=True)
    (root / "pkg" / "words.py").write_text(MEMBERSHIP)
    (root / "pkg" / "render.py").write_text(CONCAT)
    (root / "pkg" / "clean.py").write_text(CLEAN)
    monkeypatch.chdir(root)
    return root


def test_text_output_names_place_rule_message_and_lesson(project: Path, tmp_path: Path) -> None:
    result = lessonlens("pkg", "--select", "PY001,PY002", "--cache-dir", str(tmp_path / "c"))
    assert result.exit_code == 0, "it teaches, it does not block"
    lesson = CATALOG.lesson("set-membership")
    assert lesson is not None
    lines = result.stdout.splitlines()
    header = next(i for i, line in enumerate(lines) if line.startswith("pkg/words.py:"))
    assert lines[header].startswith("pkg/words.py:4:12: PY001 ")
    assert "use a set" in lines[header]
    lesson_line = lines[header + 1]
    assert lesson.title in lesson_line
    assert "lessonlens explain PY001" in lesson_line
    assert lesson.url in lesson_line
    assert any(line.startswith("pkg/render.py:4:9: PY002 ") for line in lines)
    assert "2 hints in 2 files" in result.stdout


def test_clean_code_says_so(project: Path) -> None:
    result = lessonlens("pkg/clean.py", "--select", "PY001,PY002", "--no-cache")
    assert result.exit_code == 0
    assert "No hints in 1 file" in result.stdout


def test_fail_on_gates_only_on_the_named_rules(project: Path) -> None:
    assert lessonlens("pkg", "--no-cache", "--fail-on", "PY001").exit_code == 1
    assert lessonlens("pkg/render.py", "--no-cache", "--fail-on", "PY001").exit_code == 0
    assert lessonlens("pkg/words.py", "--no-cache", "--fail-on", "PY002,PY001").exit_code == 1


def test_rule_ids_and_names_are_accepted_alike_in_any_case(project: Path) -> None:
    for key in ("py001", "PY001", "Membership-In-List", "py00"):
        assert lessonlens("pkg/words.py", "--no-cache", "--fail-on", key).exit_code == 1, key
    assert lessonlens("pkg/words.py", "--no-cache", "--ignore", "membership-in-list").exit_code == 0
    payload = report("pkg/words.py", "--select", "MEMBERSHIP-IN-LIST")
    assert {rule for _, rule, _, _ in findings(payload)} == {"PY001"}


@pytest.mark.parametrize("option", ["--fail-on", "--select", "--ignore"])
def test_an_unknown_rule_is_a_usage_error_with_a_suggestion(project: Path, option: str) -> None:
    result = lessonlens("pkg/words.py", "--no-cache", option, "membership-in-lst")
    assert result.exit_code == 2, result.output
    assert "did you mean 'membership-in-list'?" in result.output
    assert lessonlens("pkg/words.py", "--no-cache", option, "PY999").exit_code == 2


def test_a_bad_path_or_revision_exits_2_not_the_gate_s_1(project: Path) -> None:
    missing = lessonlens("pkg/nope.py", "--no-cache", "--fail-on", "PY001")
    assert missing.exit_code == 2 and "no such file or folder" in missing.output
    subprocess.run(["git", "init", "-q", str(project)], check=True)
    bad_rev = lessonlens("pkg", "--no-cache", "--diff", "no-such-revision")
    assert bad_rev.exit_code == 2, bad_rev.output


def test_fail_on_from_config(project: Path) -> None:
    (project / ".lessonlens.toml").write_text('fail-on = ["PY002"]\n')
    assert lessonlens("pkg/render.py", "--no-cache").exit_code == 1
    assert lessonlens("pkg/words.py", "--no-cache").exit_code == 0


def test_output_file_gets_the_report(project: Path) -> None:
    out = project / "report.json"
    result = lessonlens("pkg", "--no-cache", "--format", "json", "--output", str(out))
    assert result.exit_code == 0
    assert result.stdout == ""
    assert ("pkg/words.py", "PY001", 4, 12) in findings(json.loads(out.read_text("utf-8")))


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        (["--select", "PY001"], {"PY001"}),
        (["--select", "PY001", "--select", "PY002"], {"PY001", "PY002"}),
        (["--select", "PY001,PY002"], {"PY001", "PY002"}),
        (["--select", "PY00", "--ignore", "PY002"], {"PY001"}),
        (["--select", "PY001,PY002", "--ignore", "PY00"], set()),
        (["--select", "membership-in-list"], {"PY001"}),
    ],
    ids=["id", "repeated", "comma", "prefix-minus-id", "ignore-prefix", "rule-name"],
)
def test_select_and_ignore(project: Path, options: list[str], expected: set[str]) -> None:
    rules = {rule for _, rule, _, _ in findings(report("pkg", "--no-cache", *options))}
    assert rules == expected


def test_config_select_and_ignore(project: Path) -> None:
    (project / ".lessonlens.toml").write_text('select = ["PY00"]\nignore = ["PY002"]\n')
    rules = {rule for _, rule, _, _ in findings(report("pkg", "--no-cache"))}
    assert rules == {"PY001"}


def test_cli_select_overrides_config(project: Path) -> None:
    (project / ".lessonlens.toml").write_text('select = ["PY001"]\nignore = ["PY002"]\n')
    # An explicitly selected rule is not silently dropped by the config's ignore list.
    rules = {rule for _, rule, _, _ in findings(report("pkg", "--no-cache", "--select", "PY002"))}
    assert rules == {"PY002"}


def test_cli_ignore_adds_to_config_ignore(project: Path) -> None:
    (project / ".lessonlens.toml").write_text('select = ["PY001", "PY002"]\nignore = ["PY002"]\n')
    assert {r for _, r, _, _ in findings(report("pkg", "--no-cache"))} == {"PY001"}
    assert findings(report("pkg", "--no-cache", "--ignore", "PY001")) == []


def test_cache_hits_on_an_unchanged_tree(project: Path, tmp_path: Path) -> None:
    cache = str(tmp_path / "cache")
    first = report("pkg", "--cache-dir", cache)
    assert first["summary"]["files"] == 3
    assert first["summary"]["cache_hits"] == 0
    second = report("pkg", "--cache-dir", cache)
    assert second["summary"]["cache_hits"] == 3
    assert second["files"] == first["files"]
    assert ("pkg/words.py", "PY001", 4, 12) in findings(second)

    (project / "pkg" / "render.py").write_text(CONCAT.replace("str(row)", "repr(row)"))
    third = report("pkg", "--cache-dir", cache)
    assert third["summary"]["cache_hits"] == 2
    assert findings(third) == findings(first)

    assert report("pkg", "--no-cache")["summary"]["cache_hits"] == 0


def test_cache_is_shared_across_selections(project: Path, tmp_path: Path) -> None:
    """Selection filters after analysis: a cached result must not hide other rules' findings."""
    cache = str(tmp_path / "cache")
    assert {r for _, r, _, _ in findings(report("pkg", "--cache-dir", cache, "--select", "PY001"))}
    again = report("pkg", "--cache-dir", cache, "--select", "PY002")
    assert again["summary"]["cache_hits"] == 3
    assert {r for _, r, _, _ in findings(again)} == {"PY002"}


def test_corrupt_cache_does_not_crash(project: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    expected = findings(report("pkg", "--no-cache"))
    report("pkg", "--cache-dir", str(cache))
    databases = list(cache.glob("*.db"))
    assert databases, "the cache is an sqlite file"
    for database in databases:
        database.write_bytes(b"this is not an sqlite database\x00\xff" * 64)
    for leftover in cache.glob("*.db-*"):  # the write-ahead log would otherwise repair it
        leftover.unlink()
    assert findings(report("pkg", "--cache-dir", str(cache))) == expected
    assert findings(report("pkg", "--cache-dir", str(cache), "--jobs", "2")) == expected


def test_cache_dir_that_is_a_file_degrades_to_no_cache(project: Path, tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    payload = report("pkg", "--cache-dir", str(blocker))
    assert ("pkg/words.py", "PY001", 4, 12) in findings(payload)
    assert payload["summary"]["cache_hits"] == 0


def test_parallel_run_gives_the_same_findings_in_the_same_order(project: Path) -> None:
    # More files than one worker chunk, each with findings on different lines.
    for i in range(20):
        padding = "\n" * (i % 5)
        text = padding + (MEMBERSHIP if i % 2 else CONCAT)
        (project / "pkg" / f"module_{i:02d}.py").write_text(text)
    serial = report("pkg", "--no-cache", "--jobs", "1")
    parallel = report("pkg", "--no-cache", "--jobs", "2")
    assert len(findings(serial)) >= 22
    assert findings(parallel) == findings(serial)
    assert [f["path"] for f in parallel["files"]] == [f["path"] for f in serial["files"]]


def test_parallel_run_uses_the_cache(project: Path, tmp_path: Path) -> None:
    for i in range(10):
        (project / "pkg" / f"module_{i}.py").write_text(MEMBERSHIP)
    cache = str(tmp_path / "cache")
    first = report("pkg", "--cache-dir", cache, "--jobs", "2")
    second = report("pkg", "--cache-dir", cache, "--jobs", "2")
    assert second["summary"]["cache_hits"] == second["summary"]["files"] == 13
    assert findings(second) == findings(first)


def _console_script() -> str:
    script = Path(sys.executable).with_name("lessonlens")
    if script.exists():
        return str(script)
    found = shutil.which("lessonlens")
    assert found, "the lessonlens console script is not installed"
    return found


def test_console_script(project: Path, tmp_path: Path) -> None:
    """The installed entry point, in a real process with a real (non-terminal) stdout."""
    env = {**os.environ, "NO_COLOR": "1"}
    env.pop("GITHUB_STEP_SUMMARY", None)
    done = subprocess.run(
        [_console_script(), "check", "pkg", "--cache-dir", str(tmp_path / "cache")],
        cwd=project,
        capture_output=True,
        text=True,
        encoding="utf-8",
        env=env,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "pkg/words.py:4:12: PY001 " in done.stdout
    assert "\x1b[" not in done.stdout, "no colour codes when stdout is not a terminal"
    gated = subprocess.run(
        [_console_script(), "check", "pkg/words.py", "--no-cache", "--fail-on", "PY001"],
        cwd=project,
        capture_output=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert gated.returncode == 1


@pytest.mark.skipif(sys.platform == "win32", reason="needs a pseudo-terminal")
def test_progress_bar_on_a_terminal_only(project: Path) -> None:
    """A long scan shows progress on stderr when stderr is a terminal, and only then."""
    import pty
    import select

    for i in range(60):
        (project / "pkg" / f"module_{i:02d}.py").write_text(CLEAN)
    args = [_console_script(), "check", "pkg", "--no-cache", "--jobs", "1"]
    env = {**os.environ, "TERM": "xterm", "COLUMNS": "100"}
    env.pop("GITHUB_STEP_SUMMARY", None)
    env.pop("NO_COLOR", None)
    leader, follower = pty.openpty()
    try:
        process = subprocess.Popen(
            args, cwd=project, stdout=subprocess.PIPE, stderr=follower, env=env
        )
        os.close(follower)
        seen = b""
        while True:
            ready, _, _ = select.select([leader], [], [], 60)
            if not ready:
                break
            try:
                chunk = os.read(leader, 4096)
            except OSError:  # the terminal closes when the process ends
                break
            if not chunk:
                break
            seen += chunk
        assert process.stdout is not None
        out = process.stdout.read()
        assert process.wait(timeout=60) == 0
    finally:
        os.close(leader)
    assert b"Checking" in seen
    assert b"Checking" not in out
    assert b"2 hints in 2 files" in out

    piped = subprocess.run(args, cwd=project, capture_output=True, env=env, timeout=120)
    assert piped.returncode == 0
    assert b"Checking" not in piped.stderr


def test_an_opt_in_rule_reports_only_when_named(project: Path) -> None:
    """PY006 runs in every analysis (one cached result serves every selection), but reports
    only where selected by its id or name: the cache must not leak it into a default run."""
    (project / "pkg" / "dates.py").write_text(
        "import re\n\n\ndef dates(lines):\n"
        '    for line in lines:\n        re.match(r"\\d+", line)\n'
    )
    cache = str(project / "cache")
    for _ in range(2):  # cold, then from the cache
        assert "PY006" not in {r for _, r, _, _ in findings(report("pkg", "--cache-dir", cache))}
        named = findings(report("pkg", "--cache-dir", cache, "--select", "PY006"))
        assert {rule for _, rule, _, _ in named} == {"PY006"}


def test_performance_hints_stay_out_of_tests_idiom_hints_do_not(tmp_path: Path) -> None:
    """A queue drained from the front is worth a hint in the product, not in its tests; a file
    left open is worth one in both. Test folders count below the project's root only."""
    project = tmp_path / "tests" / "project"  # a checkout that happens to sit under tests/
    code = (
        "def drain(rows, path):\n    queue = list(rows)\n    log = open(path, 'a')\n"
        "    while queue:\n        item = queue.pop(0)\n        log.write(item)\n"
    )
    for relative in ("src/jobs.py", "tests/test_jobs.py", "src/conftest.py", "testing/jobs.py"):
        (project / relative).parent.mkdir(parents=True, exist_ok=True)
        (project / relative).write_text(code)
    (project / "pyproject.toml").write_text("[tool.lessonlens]\n")
    found = findings(report(str(project), "--no-cache"))
    rules = {(Path(path).relative_to(project).as_posix(), rule) for path, rule, _, _ in found}
    assert rules == {
        ("src/jobs.py", "PY005"),
        ("src/jobs.py", "PY014"),
        ("tests/test_jobs.py", "PY014"),
        ("src/conftest.py", "PY014"),
        ("testing/jobs.py", "PY014"),
    }
