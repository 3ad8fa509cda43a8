"""Practice challenges on disk: writing one into a folder, and running its check there.

A challenge is a lesson's "Practice" section (``lessons.lesson.Practice``): the task, the
starter code the learner edits, and a check that imports the learner's code and asserts its
behaviour (and, for a lesson about speed, a measured ratio). Its folder holds ``TASK.md``, the
code (``challenge.py``), the check (``check_challenge.py``) and ``.lessonlens-practice.json``,
which says which lesson it is. Checks run as their own process, bounded in time: they run code
the learner wrote.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path

from lessonlens.lessons.lesson import Lesson
from lessonlens.server.languages.runner import run_in

MARKER = ".lessonlens-practice.json"
# A check that takes longer than this has a learner's infinite loop in it, or is too slow.
CHECK_TIMEOUT_S = 120.0


@dataclass(frozen=True)
class Layout:
    """Where a language's challenge lives in its folder, and how its check runs."""

    code: str
    check: str
    command: tuple[str, ...]
    # Other files the folder needs (Go's module file).
    extra: tuple[tuple[str, str], ...] = ()


LAYOUTS: dict[str, Layout] = {
    "python": Layout("challenge.py", "check_challenge.py", (sys.executable, "check_challenge.py")),
    # The check imports the learner's code: `import { f } from "./challenge.mjs"`.
    "javascript": Layout("challenge.mjs", "check.mjs", ("node", "check.mjs")),
    # `package challenge`: the check is a test file of the same package, run by `go test`.
    "go": Layout(
        "challenge.go",
        "challenge_test.go",
        ("go", "test", "-v", "-count=1", "."),
        (("go.mod", "module challenge\n\ngo 1.19\n"),),
    ),
}


class PracticeError(Exception):
    """A folder that holds no challenge, or a lesson without one (the message says which)."""


@dataclass(frozen=True)
class CheckResult:
    lesson_id: str
    passed: bool
    output: str


def can_practise(lesson: Lesson) -> bool:
    return lesson.practice is not None and lesson.language in LAYOUTS


def write_exercise(lesson: Lesson, folder: Path, code: str | None = None) -> list[Path]:
    """Write ``lesson``'s challenge into ``folder`` (its starter, or ``code``); the files written.

    The learner's code is never overwritten: an existing challenge file is kept.
    """
    if lesson.practice is None or lesson.language not in LAYOUTS:
        raise PracticeError(f"lesson '{lesson.id}' has no practice challenge")
    layout = LAYOUTS[lesson.language]
    folder.mkdir(parents=True, exist_ok=True)
    task = (
        f"# Practice: {lesson.title}\n\n{lesson.practice.task}\n\nEdit `{layout.code}`, then run "
        f"`lessonlens practice --check --dir {folder}`.\n\nThe lesson: `lessonlens explain "
        f"{lesson.id}`.\n"
    )
    files = {
        "TASK.md": task,
        layout.check: lesson.practice.check,
        MARKER: json.dumps({"lesson": lesson.id, "language": lesson.language}) + "\n",
        **dict(layout.extra),
    }
    written = []
    target = folder / layout.code
    if code is not None or not target.exists():
        target.write_text(code if code is not None else lesson.practice.starter, "utf-8")
        written.append(target)
    for name, text in files.items():
        (folder / name).write_text(text, "utf-8")
        written.append(folder / name)
    return written


def exercise_in(folder: Path) -> tuple[str, str]:
    """The (lesson id, language) of the challenge in ``folder``."""
    try:
        raw = (folder / MARKER).read_bytes()[:4096]
        data = json.loads(raw)
        lesson_id, language = str(data["lesson"]), str(data["language"])
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise PracticeError(
            f"{folder}: no practice challenge here (write one with `lessonlens practice`)"
        ) from exc
    if language not in LAYOUTS:
        raise PracticeError(f"{folder}: a challenge in an unknown language ({language})")
    return lesson_id, language


def run_check(folder: Path, lesson: Lesson, timeout: float = CHECK_TIMEOUT_S) -> CheckResult:
    """Run the lesson's check (the lesson's own, not the folder's copy) on the folder's code."""
    if lesson.practice is None or lesson.language not in LAYOUTS:
        raise PracticeError(f"lesson '{lesson.id}' has no practice challenge")
    layout = LAYOUTS[lesson.language]
    if not (folder / layout.code).is_file():
        raise PracticeError(f"{folder}: {layout.code} is missing")
    # The check comes from the lesson: an edited copy in the folder would pass anything.
    (folder / layout.check).write_text(lesson.practice.check, "utf-8")
    status, output = run_in(folder, list(layout.command), timeout)
    return CheckResult(lesson.id, status == 0, output.strip())
