"""Lesson renditions: every built-in lesson in its four forms, and practice checks that run.

A practice challenge's check must pass against its reference solution and fail against its
starting code (the code a learner begins from), run as ``lessonlens practice --check`` runs it.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from lessonlens.lessons.catalog import load_catalog
from lessonlens.lessons.lesson import FORMS
from lessonlens.lessons.renditions import render
from lessonlens.server.languages.practice import can_practise, run_check, write_exercise

CATALOG = load_catalog()
LESSONS = sorted(CATALOG.lessons.values(), key=lambda lesson: lesson.id)
WITH_PRACTICE = [lesson for lesson in LESSONS if can_practise(lesson)]


@pytest.mark.parametrize("lesson", LESSONS, ids=lambda lesson: lesson.id)
def test_every_form_renders_with_labelled_code(lesson):
    for form in FORMS:
        text = render(lesson, form)
        assert lesson.title in text
        if form in ("worked-example", "deep-dive"):
            assert "**Before**" in text and "**After**" in text
            assert (
                "```python setup" not in text and "before\n" not in text.split("**Before**")[0][-8:]
            )


@pytest.mark.parametrize("lesson", WITH_PRACTICE, ids=lambda lesson: lesson.id)
def test_practice_check_passes_the_solution_and_fails_the_starter(lesson, tmp_path: Path):
    assert lesson.practice is not None
    solved = tmp_path / "solved"
    write_exercise(lesson, solved, code=lesson.practice.solution)
    result = run_check(solved, lesson)
    assert result.passed, f"the check fails the reference solution:\n{result.output}"
    started = tmp_path / "started"
    write_exercise(lesson, started)
    result = run_check(started, lesson)
    assert not result.passed, "the check passes the starting code: it checks nothing"
