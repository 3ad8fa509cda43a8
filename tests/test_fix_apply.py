"""``lessonlens check --fix``, ``--unsafe-fixes`` and ``--fix-diff``, end to end.

Every run goes through the real command with ``--no-cache``: a test that swaps a rule's
predicate (to give a fix another applicability, or to break the code) must not meet a cached
analysis of the real rule, whose cache key does not know about the swap.
"""

from __future__ import annotations

import ast
import json
import os
import re
import shutil
import stat
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from samples import CONCAT, MEMBERSHIP

from lessonlens.analyzers import AnalysisOptions, Finding, analyze, language_for_id
from lessonlens.analyzers.engine import rule_set
from lessonlens.analyzers.match import Match
from lessonlens.analyzers.model import Applicability, Hit, Rule, TextEdit
from lessonlens.server.check import fixes
from lessonlens.server.check.run import CheckOptions
from lessonlens.server.cli import main

PYTHON = language_for_id("python")
assert PYTHON is not None
RULES = {rule.id: rule for rule in rule_set(PYTHON).rules}
FIXTURES = Path(__file__).parent / "fixtures" / "rules" / "python"
EXPECT = re.compile(r"#\s*expect:\s*(?P<ids>[A-Z0-9, ]+)")
TARGET = re.compile(r"#\s*target-python:\s*(\d+)\.(\d+)")
PY311 = '[tool.lessonlens]\ntarget-python = "3.11"\n'
# PY004 (the loop becomes a comprehension) and PY010 (drop `.keys()`) rewrite overlapping code:
# one pass can take only one of them; the next pass finds the other in the rewritten code.
OVERLAP = """\
def names():
    scores = {"ada": 3, "alan": 2}
    result = []
    for name in scores.keys():
        result.append(name)
    return result
"""
OVERLAP_FIXED = """\
def names():
    scores = {"ada": 3, "alan": 2}
    result = [name for name in scores]
    return result
"""
MEMBERSHIP_FIXED = MEMBERSHIP.replace('["a", "an", "the", "of"]', '{"a", "an", "the", "of"}')


def lessonlens(*args: str) -> Result:
    return CliRunner().invoke(main, ["check", "--no-cache", *args], catch_exceptions=False)


def findings(path: Path, *select: str, target: tuple[int, int] | None = (3, 11)) -> list[Finding]:
    options = AnalysisOptions(language_options={"target-python": target}, select=select)
    return list(analyze(path.read_bytes(), PYTHON, options).findings)


def parses(data: bytes) -> bool:
    """Whether both tree-sitter and CPython's own parser accept the code."""
    analysis = analyze(data, PYTHON, AnalysisOptions())
    if analysis.error_ranges:
        return False
    try:
        ast.parse(data)
    except SyntaxError:
        return False
    return True


def untouched(path: Path) -> Callable[[], bool]:
    """A check that ``path`` was not written at all: same bytes, same inode, same mtime."""
    before = path.stat()
    data = path.read_bytes()

    def check() -> bool:
        after = path.stat()
        return (
            path.read_bytes() == data
            and after.st_ino == before.st_ino
            and after.st_mtime_ns == before.st_mtime_ns
        )

    return check


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "project"
    (root / "pkg").mkdir(parents=True)
    (root / "pyproject.toml").write_text(PY311)
    (root / "pkg" / "words.py").write_text(MEMBERSHIP)
    (root / "pkg" / "render.py").write_text(CONCAT)
    monkeypatch.chdir(root)
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    return root


@pytest.fixture
def swap_check() -> Iterator[Callable[[str, Callable[[Hit], Hit]], None]]:
    """Run a rule's real predicate, then change its hit (the fix's applicability, its edits).

    Rules are frozen and shared by the process: the swap is undone after the test.
    """
    saved: list[tuple[Rule, Any]] = []

    def swap(rule_id: str, change: Callable[[Hit], Hit]) -> None:
        rule = RULES[rule_id]
        original = rule.check
        assert original is not None

        def check(match: Match) -> Hit | None:
            hit = original(match)
            return None if hit is None else change(hit)

        saved.append((rule, original))
        object.__setattr__(rule, "check", check)

    yield swap
    for rule, original in reversed(saved):
        object.__setattr__(rule, "check", original)


def unsafe(hit: Hit) -> Hit:
    assert hit.fix is not None
    return replace(
        hit,
        fix=replace(hit.fix, applicability=Applicability.UNSAFE, reason="the test says so"),
    )


def safe(hit: Hit) -> Hit:
    return hit if hit.fix is None else replace(hit, fix=replace(hit.fix, applicability=SAFE))


SAFE = Applicability.SAFE
NONE_CHECK = "def check(value):\n    if value == None:\n        return 0\n    return 1\n"


def no_fix(hit: Hit) -> Hit:
    return replace(hit, fix=None)


@pytest.fixture
def safe_fixes(swap_check: Callable[[str, Callable[[Hit], Hit]], None]) -> None:
    """PY001, PY004 and PY010 offer safe fixes, whatever the rules decide today.

    The tests that use this are about how fixes are applied, not about which rule's fix is
    safe; the fixture-file tests below take the rules as they are.
    """
    for rule_id in ("PY001", "PY004", "PY010"):
        swap_check(rule_id, safe)


@pytest.fixture
def hint_without_fix(
    project: Path, swap_check: Callable[[str, Callable[[Hit], Hit]], None]
) -> Path:
    """``pkg/none.py``: a PY022 hint that offers no fix."""
    swap_check("PY022", no_fix)
    path = project / "pkg" / "none.py"
    path.write_text(NONE_CHECK)
    return path


# ---------------------------------------------------------------------------- safe fixes


@pytest.mark.usefixtures("safe_fixes")
def test_fix_applies_safe_fixes_and_reports_what_it_changed(
    project: Path, hint_without_fix: Path
) -> None:
    words = project / "pkg" / "words.py"
    others = [untouched(hint_without_fix), untouched(project / "pkg" / "render.py")]
    result = lessonlens("pkg", "--fix")
    assert result.exit_code == 0, result.output
    assert words.read_text() == MEMBERSHIP_FIXED
    assert parses(words.read_bytes())
    assert all(check() for check in others), "a file with no applied fix is never written"
    assert findings(words, "PY001") == []
    lines = result.stdout.splitlines()
    assert lines[0] == "Fixed 1 hint in 1 file:"
    assert lines[1] == "  pkg/words.py:4: PY001 Use a set literal"
    # Then the usual report, of what remains: the hint without a fix, nothing in words.py.
    assert any(line.startswith("pkg/none.py:2:8: PY022 ") for line in lines)
    assert not any(line.startswith("pkg/words.py:") for line in lines)
    assert "1 hint in 1 file" in result.stdout


def test_fix_in_a_real_process_keeps_the_report_parseable(project: Path) -> None:
    """The installed command; with --format json, what was fixed goes to stderr.

    A real process runs the rules as they are: --unsafe-fixes applies PY001's fix whichever
    its applicability.
    """
    script = shutil.which("lessonlens", path=str(Path(sys.executable).parent))
    assert script, "the lessonlens console script is not installed"
    done = subprocess.run(
        [script, "check", "pkg", "--no-cache", "--fix", "--unsafe-fixes", "--format", "json"],
        cwd=project,
        capture_output=True,
        text=True,
        encoding="utf-8",
        env={**os.environ, "NO_COLOR": "1"},
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    payload = json.loads(done.stdout)
    assert payload["summary"]["files"] == 2
    assert not any(f["findings"] for f in payload["files"] if f["path"] == "pkg/words.py")
    assert "Fixed 1 hint in 1 file:" in done.stderr
    assert "  pkg/words.py:4: PY001 Use a set literal" in done.stderr
    assert (project / "pkg" / "words.py").read_text() == MEMBERSHIP_FIXED


def test_nothing_to_fix_says_so_and_writes_nothing(project: Path) -> None:
    render = untouched(project / "pkg" / "render.py")
    result = lessonlens("pkg/render.py", "--fix")
    assert result.exit_code == 0
    assert result.stdout.startswith("No fixes to apply.\n")
    assert render()


def fixable_fixtures() -> list[str]:
    """Rules whose fixture has at least one finding with a fix (safe or not)."""
    return [
        rule_id
        for rule_id in sorted(RULES)
        if any(f.fix is not None for f in findings(FIXTURES / f"{rule_id}.py", rule_id))
    ]


def marked_rows(text: str, rule_id: str) -> list[int]:
    """Zero-based rows that an ``# expect: RULE`` comment marks (the line below it), in order."""
    return [
        row + 1
        for row, line in enumerate(text.splitlines())
        if (found := EXPECT.search(line)) and rule_id in found["ids"].replace(",", " ").split()
    ]


@pytest.mark.parametrize("with_unsafe", [False, True], ids=["safe", "unsafe-too"])
@pytest.mark.parametrize("rule_id", fixable_fixtures())
def test_fixture_fixed_parses_and_keeps_only_unfixable_findings(
    project: Path, rule_id: str, with_unsafe: bool
) -> None:
    """The rule's fixture, fixed: it parses, and the rule still fires exactly on the marked
    cases whose fix was absent (or unsafe, without --unsafe-fixes).

    The ``# expect:`` comments travel with the code, so the k-th mark before fixing is the k-th
    after; a fix that swallowed a mark would show as a count mismatch.
    """
    original = (FIXTURES / f"{rule_id}.py").read_text("utf-8")
    pinned = TARGET.search(original)
    target = (int(pinned[1]), int(pinned[2])) if pinned else (3, 11)
    (project / "pyproject.toml").write_text(
        f'[tool.lessonlens]\ntarget-python = "{target[0]}.{target[1]}"\n'
    )
    path = project / f"{rule_id}.py"
    path.write_text(original, encoding="utf-8")
    before = findings(path, rule_id, target=target)

    def keeps_firing(row: int) -> bool:
        here = [f for f in before if f.span.start_row == row]
        return any(f.fix is None or not (f.fix.safe or with_unsafe) for f in here)

    marks = marked_rows(original, rule_id)
    assert {f.span.start_row for f in before} == set(marks)
    still = [keeps_firing(row) for row in marks]

    args = ["--fix", "--select", rule_id] + (["--unsafe-fixes"] if with_unsafe else [])
    result = lessonlens(path.name, *args)
    assert result.exit_code == 0, result.output

    fixed = path.read_bytes()
    assert parses(fixed) == parses(original.encode()), "the fixed fixture still parses"
    after_marks = marked_rows(fixed.decode("utf-8"), rule_id)
    assert len(after_marks) == len(marks), "a fix removed an `# expect:` comment"
    expected = {row for row, keep in zip(after_marks, still, strict=True) if keep}
    assert {f.span.start_row for f in findings(path, rule_id, target=target)} == expected
    if all(still):
        assert fixed == original.encode(), "nothing was fixable, so nothing was written"
    else:
        assert fixed != original.encode()


# ---------------------------------------------------------------------------- unsafe fixes


def test_an_unsafe_fix_is_applied_only_with_unsafe_fixes(
    project: Path, swap_check: Callable[[str, Callable[[Hit], Hit]], None]
) -> None:
    """Whatever rule offers it: --fix alone never applies an unsafe fix (ARCHITECTURE.md)."""
    swap_check("PY001", unsafe)
    words = project / "pkg" / "words.py"
    unchanged = untouched(words)
    result = lessonlens("pkg/words.py", "--fix")
    assert result.exit_code == 0, result.output
    assert unchanged(), "an unsafe fix was applied without --unsafe-fixes"
    assert "No fixes to apply." in result.stdout
    assert (
        "Not applied: 1 unsafe fix (they may change behaviour; `--unsafe-fixes` applies them):"
        in result.stdout
    )
    assert "  pkg/words.py:4: PY001 Use a set literal (unsafe: the test says so)" in result.stdout
    # The hint stays in the report, its fix marked unsafe.
    assert "pkg/words.py:4:12: PY001 " in result.stdout
    assert "    fix (unsafe: the test says so): Use a set literal" in result.stdout

    result = lessonlens("pkg/words.py", "--fix", "--unsafe-fixes")
    assert result.exit_code == 0, result.output
    assert words.read_text() == MEMBERSHIP_FIXED
    assert "  pkg/words.py:4: PY001 Use a set literal (unsafe)" in result.stdout
    assert "Not applied" not in result.stdout


def test_py022_fix_is_unsafe_and_waits_for_unsafe_fixes(project: Path) -> None:
    """`x == None` -> `x is None` can change what a custom `__eq__` decides: PY022's fix is
    unsafe, so --fix leaves it and --unsafe-fixes applies it."""
    code = NONE_CHECK
    path = project / "pkg" / "none.py"
    path.write_text(code)
    (finding,) = findings(path, "PY022")
    assert finding.fix is not None and not finding.fix.safe, "PY022's fix is unsafe"
    assert finding.fix.reason
    unchanged = untouched(path)
    result = lessonlens("pkg/none.py", "--fix")
    assert unchanged()
    assert f"PY022 Use `value is None` (unsafe: {finding.fix.reason})" in result.stdout
    lessonlens("pkg/none.py", "--fix", "--unsafe-fixes")
    assert path.read_text() == code.replace("value == None", "value is None")


def test_unsafe_fixes_alone_is_a_usage_error(project: Path) -> None:
    result = lessonlens("pkg", "--unsafe-fixes")
    assert result.exit_code == 2
    assert "--unsafe-fixes only applies with --fix or --fix-diff" in result.output


# ---------------------------------------------------------------------------- --fix-diff


@pytest.mark.usefixtures("safe_fixes")
def test_fix_diff_prints_the_diff_and_writes_nothing(project: Path) -> None:
    (project / "pkg" / "names.py").write_text(OVERLAP)
    files = sorted((project / "pkg").iterdir())
    checks = [untouched(path) for path in files]
    result = lessonlens("pkg", "--fix-diff")
    assert result.exit_code == 0, result.output
    assert all(check() for check in checks), "--fix-diff wrote a file"
    diff = result.stdout
    assert diff.startswith("--- a/pkg/names.py\n+++ b/pkg/names.py\n")
    assert "--- a/pkg/words.py\n+++ b/pkg/words.py\n" in diff
    assert '-        if w in ["a", "an", "the", "of"]:\n' in diff
    assert '+        if w in {"a", "an", "the", "of"}:\n' in diff
    assert "render.py" not in diff
    assert "Would fix 3 hints in 2 files:" in result.stderr
    # The diff is a real patch: applied, it gives exactly what --fix writes.
    subprocess.run(
        ["git", "apply", "--unsafe-paths", "-"], input=diff.encode(), cwd=project, check=True
    )
    assert (project / "pkg" / "names.py").read_text() == OVERLAP_FIXED
    assert (project / "pkg" / "words.py").read_text() == MEMBERSHIP_FIXED


def test_fix_diff_with_a_report_format_is_a_usage_error(project: Path) -> None:
    result = lessonlens("pkg", "--fix-diff", "--format", "json")
    assert result.exit_code == 2


# ---------------------------------------------------------------------------- how fixes apply


@pytest.mark.usefixtures("safe_fixes")
def test_overlapping_fixes_converge_over_passes(project: Path) -> None:
    path = project / "pkg" / "names.py"
    path.write_text(OVERLAP)
    result = lessonlens("pkg/names.py", "--fix")
    assert result.exit_code == 0, result.output
    assert path.read_text() == OVERLAP_FIXED
    assert "Fixed 2 hints in 1 file:" in result.stdout
    assert "  pkg/names.py:3: PY004 Use a list comprehension" in result.stdout
    assert "  pkg/names.py:3: PY010 Drop `.keys()`" in result.stdout
    assert "No hints in 1 file." in result.stdout


def test_a_fix_that_breaks_the_code_leaves_the_file_alone(
    project: Path, swap_check: Callable[[str, Callable[[Hit], Hit]], None]
) -> None:
    def broken(hit: Hit) -> Hit:
        assert hit.fix is not None
        (edit,) = hit.fix.edits
        fix = replace(hit.fix, edits=(TextEdit(edit.span, "{1, 2"),), applicability=SAFE)
        return replace(hit, fix=fix)

    swap_check("PY001", broken)
    swap_check("PY004", safe)
    swap_check("PY010", safe)
    words = project / "pkg" / "words.py"
    other = project / "pkg" / "names.py"
    other.write_text(OVERLAP)
    unchanged = untouched(words)
    result = lessonlens("pkg", "--fix", "-j", "1")
    assert result.exit_code == 0, result.output
    assert unchanged(), "a fix that breaks the code was written"
    assert "does not parse (PY001); file left untouched" in result.stderr
    assert "pkg/words.py:4:12: PY001 " in result.stdout, "the hint is still reported"
    # The other file's fixes are not held back by it.
    assert other.read_text() == OVERLAP_FIXED


def test_a_fix_the_declared_encoding_cannot_hold_is_not_applied(
    project: Path, swap_check: Callable[[str, Callable[[Hit], Hit]], None]
) -> None:
    """A latin-1 file of plain ASCII is analysed as its own bytes; UTF-8 text must not go in."""

    def accented(hit: Hit) -> Hit:
        assert hit.fix is not None
        (edit,) = hit.fix.edits
        edits = (TextEdit(edit.span, '{"é", "an", "the", "of"}'),)
        return replace(hit, fix=replace(hit.fix, edits=edits, applicability=SAFE))

    swap_check("PY001", accented)
    path = project / "pkg" / "latin.py"
    path.write_bytes(b"# -*- coding: latin-1 -*-\n" + MEMBERSHIP.encode())
    unchanged = untouched(path)
    result = lessonlens("pkg/latin.py", "--fix")
    assert result.exit_code == 0, result.output
    assert unchanged()
    assert "declared encoding cannot hold the new text (PY001)" in result.stderr


@pytest.mark.usefixtures("safe_fixes")
def test_bytes_line_endings_and_mode_are_kept(project: Path) -> None:
    """Only the edited bytes change: CRLF ends, non-ASCII text and the permission bits stay."""
    source = (
        '# -*- coding: utf-8 -*-\r\nLABEL = "héllo 世界 🐍"\r\n\r\n'
        + MEMBERSHIP.replace("\n", "\r\n")
    ).encode("utf-8")
    path = project / "pkg" / "crlf.py"
    path.write_bytes(source)
    path.chmod(0o754)
    result = lessonlens("pkg/crlf.py", "--fix")
    assert result.exit_code == 0, result.output
    assert path.read_bytes() == source.replace(
        b'["a", "an", "the", "of"]', b'{"a", "an", "the", "of"}'
    )
    assert stat.S_IMODE(path.stat().st_mode) == 0o754
    assert [p.name for p in (project / "pkg").iterdir() if p.name.startswith(".")] == []


@pytest.mark.usefixtures("safe_fixes")
def test_a_file_edited_while_being_fixed_is_not_overwritten(project: Path) -> None:
    """Between reading and writing, someone saved the file: their change wins."""
    path = project / "pkg" / "words.py"
    planned = fixes.fix_file(path, "pkg/words.py", CheckOptions())
    assert planned is not None and planned.changed
    path.write_text(MEMBERSHIP + "# saved meanwhile\n")
    problem = fixes.write(planned)
    assert problem is not None and "changed on disk" in problem
    assert path.read_text() == MEMBERSHIP + "# saved meanwhile\n"
    assert fixes.write(replace(planned, original=path.read_bytes())) is None
    assert path.read_text() == MEMBERSHIP_FIXED


@pytest.mark.usefixtures("safe_fixes")
def test_a_symlink_stays_a_link(project: Path) -> None:
    link = project / "pkg" / "link.py"
    link.symlink_to("words.py")
    result = lessonlens("pkg/link.py", "--fix")
    assert result.exit_code == 0, result.output
    assert link.is_symlink()
    assert (project / "pkg" / "words.py").read_text() == MEMBERSHIP_FIXED


@pytest.mark.parametrize(
    "name, data",
    [
        ("bom.py", b"\xef\xbb\xbf" + MEMBERSHIP.encode()),
        ("latin.py", b"# -*- coding: latin-1 -*-\n# caf\xe9\n" + MEMBERSHIP.encode()),
        ("bad.py", b"# \xff\n" + MEMBERSHIP.encode()),
    ],
    ids=["bom", "latin-1", "undecodable"],
)
@pytest.mark.usefixtures("safe_fixes")
def test_files_not_analysed_as_their_own_bytes_are_not_fixed(
    project: Path, name: str, data: bytes
) -> None:
    """Their analysed bytes differ from the file's: byte offsets would land in the wrong place."""
    path = project / "pkg" / name
    path.write_bytes(data)
    unchanged = untouched(path)
    result = lessonlens(f"pkg/{name}", "--fix")
    assert result.exit_code == 0, result.output
    assert unchanged()
    assert "PY001" in result.stdout, "the hint is still reported"


@pytest.mark.usefixtures("safe_fixes")
def test_skipped_files_are_not_fixed(project: Path) -> None:
    big = project / "pkg" / "big.py"
    big.write_text(MEMBERSHIP + "#" * 2000 + "\n")
    (project / ".lessonlens.toml").write_text('target-python = "3.11"\nmax-file-size = 1000\n')
    unchanged = untouched(big)
    result = lessonlens("pkg/big.py", "--fix")
    assert result.exit_code == 0, result.output
    assert unchanged()


@pytest.mark.parametrize(
    "options",
    [["--ignore", "PY001"], ["--select", "PY002"], ["--select", "PY00", "--ignore", "PY001"]],
)
@pytest.mark.usefixtures("safe_fixes")
def test_fix_honours_the_selection(project: Path, options: list[str]) -> None:
    unchanged = untouched(project / "pkg" / "words.py")
    result = lessonlens("pkg", "--fix", *options)
    assert result.exit_code == 0, result.output
    assert unchanged()


@pytest.mark.usefixtures("safe_fixes")
def test_fix_honours_the_config(project: Path) -> None:
    (project / "pyproject.toml").write_text(PY311 + 'ignore = ["PY001"]\n')
    unchanged = untouched(project / "pkg" / "words.py")
    assert lessonlens("pkg", "--fix").exit_code == 0
    assert unchanged()
    (project / "pyproject.toml").write_text(
        PY311 + '[tool.lessonlens.skill-priorities]\n"python.data-structures" = "none"\n'
    )
    assert lessonlens("pkg", "--fix").exit_code == 0
    assert unchanged(), "a silenced skill's hints are not fixed either"


def git(project: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *args],
        cwd=project,
        check=True,
        capture_output=True,
    )


@pytest.mark.usefixtures("safe_fixes")
def test_fix_with_diff_rev_fixes_changed_lines_only(project: Path) -> None:
    """Fixes on lines changed since REV only, across passes that move lines about."""
    later = "\n\ndef later(words):\n" + MEMBERSHIP.split("\n", 1)[1]
    path = project / "pkg" / "mixed.py"
    path.write_text("def names():\n    return {}\n" + later)
    git(project, "init", "-q")
    git(project, "add", ".")
    git(project, "commit", "-q", "-m", "start")
    # Rewrite names() into the overlapping loop: its lines are the change; later() is not.
    path.write_text(OVERLAP + later)
    result = lessonlens("pkg/mixed.py", "--fix", "--diff", "HEAD")
    assert result.exit_code == 0, result.output
    assert path.read_text() == OVERLAP_FIXED + later
    assert "Fixed 2 hints in 1 file:" in result.stdout
    assert "PY001" not in result.stdout, "only findings on changed lines are reported"


@pytest.mark.usefixtures("safe_fixes")
def test_fix_with_diff_rev_follows_lines_that_earlier_passes_moved(project: Path) -> None:
    """The first pass folds three changed lines into one; the second must not take the
    unchanged hint that has moved up onto a line number the change had held."""
    later = "    for w in words:\n" + MEMBERSHIP.splitlines(keepends=True)[3]
    path = project / "pkg" / "moved.py"
    start = 'def names():\n    scores = {"ada": 3, "alan": 2}\n    return []\n'
    path.write_text(start + "def later(words):  # old\n" + later)
    git(project, "init", "-q")
    git(project, "add", ".")
    git(project, "commit", "-q", "-m", "start")
    # Changed: lines 3-7 (the loop, its return, and `def later` losing its comment).
    path.write_text(OVERLAP + "def later(words):\n" + later)
    assert [(f.rule_id, f.span.start_row + 1) for f in findings(path, "PY001")] == [("PY001", 9)]
    result = lessonlens("pkg/moved.py", "--fix", "--diff", "HEAD")
    assert result.exit_code == 0, result.output
    # After the fold the hint sits on line 7, which was a changed line before: still not fixed.
    assert path.read_text() == OVERLAP_FIXED + "def later(words):\n" + later
    assert "Fixed 2 hints in 1 file:" in result.stdout


@pytest.mark.usefixtures("safe_fixes", "hint_without_fix")
def test_fail_on_counts_what_remains_after_fixing(project: Path) -> None:
    assert lessonlens("pkg/words.py", "--fail-on", "PY001").exit_code == 1
    assert lessonlens("pkg", "--fix", "--fail-on", "PY001").exit_code == 0
    assert lessonlens("pkg", "--fix", "--fail-on", "PY022").exit_code == 1


@pytest.mark.usefixtures("safe_fixes")
def test_fix_diff_gate_counts_what_would_remain(project: Path) -> None:
    assert lessonlens("pkg/words.py", "--fix-diff", "--fail-on", "PY001").exit_code == 0
    assert lessonlens("pkg/words.py", "--fail-on", "PY001").exit_code == 1
