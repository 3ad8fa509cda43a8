"""The form a lesson opens in: the policy (server/learner/forms.py) on its own, and end to end
over the language server as a developer moves through the stages."""

from __future__ import annotations

import asyncio
import subprocess
from pathlib import Path

import pytest
from lsp_client import Editor
from test_adaptive import BAD, GOOD, membership

from lessonlens.lessons.catalog import load_catalog
from lessonlens.server.learner.coach import SETTLE_S
from lessonlens.server.learner.forms import LessonHistory, choose_form, lesson_history
from lessonlens.server.learner.mastery import SkillEstimate
from lessonlens.server.learner.progress import Event, EventKind

CATALOG = load_catalog()
LESSON = CATALOG.lessons["set-membership"]


def _estimate(p_known: float, correct: int = 5) -> SkillEstimate:
    return SkillEstimate(
        skill_id=LESSON.skill_id,
        p_known=p_known,
        opportunities=correct + 1,
        correct=correct,
        incorrect=1,
        lessons_opened=1,
        last_seen=0.0,
        claimed=False,
        trend=0.0,
    )


@pytest.mark.parametrize(
    ("history", "p_known", "priority", "preference", "form"),
    [
        (LessonHistory(), 0.1, "medium", "auto", "worked-example"),
        (LessonHistory(opened=True, recurrences=2), 0.1, "medium", "auto", "practice"),
        (LessonHistory(opened=True, recurrences=1), 0.1, "medium", "auto", "worked-example"),
        (LessonHistory(opened=True), 0.8, "medium", "auto", "nudge"),
        (LessonHistory(opened=True), 0.3, "high", "auto", "deep-dive"),
        (LessonHistory(opened=True, last_answer=False), 0.8, "high", "auto", "worked-example"),
        (LessonHistory(), 0.1, "medium", "deep-dive", "deep-dive"),
    ],
)
def test_the_policy_picks_the_form_for_the_stage(history, p_known, priority, preference, form):
    choice = choose_form(LESSON, history, _estimate(p_known), priority, preference)
    assert choice.form == form
    assert choice.reason


def test_a_form_the_lesson_lacks_falls_back_to_the_worked_example():
    bare = CATALOG.lessons["set-membership"]
    from dataclasses import replace

    without = replace(bare, practice=None)
    choice = choose_form(without, LessonHistory(opened=True, recurrences=5), None, "medium")
    assert choice.form == "worked-example"


def test_recurrences_count_only_after_the_lesson_was_first_opened():
    rule = LESSON.rules[0]

    def event(kind: EventKind, at: float, **fields: object) -> Event:
        return Event(kind, "d", LESSON.skill_id, at, **fields)  # type: ignore[arg-type]

    events = [
        event(EventKind.ANTIPATTERN_INTRODUCED, 1, rule_id=rule),
        event(EventKind.LESSON_OPENED, 2, lesson_id=LESSON.id),
        event(EventKind.ANTIPATTERN_INTRODUCED, 3, rule_id=rule),
        event(EventKind.ANTIPATTERN_INTRODUCED, 4, rule_id="PY999"),
        event(EventKind.REVIEW_ANSWERED, 5, lesson_id=LESSON.id, correct=False),
    ]
    assert lesson_history(LESSON, events) == LessonHistory(True, 1, False)


@pytest.fixture
async def editor(tmp_path: Path):
    root = tmp_path / "project"
    root.mkdir()
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    subprocess.run(["git", "-C", str(root), "config", "user.email", "dev@example.com"], check=True)
    # A medium-priority team, so that the deep dive is not what the second look shows.
    (root / ".lessonlens.toml").write_text(
        '[skill-priorities]\n"python.data-structures" = "medium"\n'
    )
    started = Editor(root, tmp_path / "data")
    await started.start()
    yield started
    await started.stop()


async def test_each_stage_sees_the_form_the_policy_picks(editor: Editor) -> None:
    await editor.open("import os\n")
    # A first look: the worked example, its code labelled, and why it was chosen. (A hint
    # counts as written once it has lasted SETTLE_S: the waits let each one settle.)
    (hint,) = membership(await editor.append(BAD.format(n=0)))
    await asyncio.sleep(SETTLE_S + 0.5)
    hover = await editor.hover(hint.range.start)
    assert hover.startswith("# Test membership with a set")
    assert "**Before**" in hover and "**After**" in hover and "The step that matters" in hover
    assert "a first look at this lesson" in hover
    # They read it, and write the pattern twice more: practice, not the same text again.
    await editor.append(BAD.format(n=1))
    await asyncio.sleep(SETTLE_S + 0.5)
    found = membership(await editor.append(BAD.format(n=2)))
    await asyncio.sleep(SETTLE_S + 0.5)
    hover = await editor.hover(found[-1].range.start)
    assert hover.startswith("# Practice: Test membership with a set")
    assert "lessonlens practice set-membership" in hover
    assert "came back 2 times since you read the lesson" in hover
    # The hint offers the practice, and running it writes the challenge and opens its code.
    written = await editor.command("lessonlens.practice", LESSON.id)
    assert written["uri"] in editor.documents_shown
    folder = Path(written["folder"])
    assert (folder / "challenge.py").read_text() == LESSON.practice.starter  # type: ignore[union-attr]
    assert written["check"].startswith("lessonlens practice --check --dir ")


async def test_near_mastery_the_hint_is_a_nudge(editor: Editor) -> None:
    await editor.open("import os\n")
    await editor.append(GOOD.format(n=0))
    await editor.append(GOOD.format(n=1))
    (quiet,) = membership(await editor.append(BAD.format(n=0)))
    hover = await editor.hover(quiet.range.start)
    assert LESSON.nudge in hover and "## Why it matters" not in hover


async def test_a_personal_preference_wins(tmp_path: Path) -> None:
    root = tmp_path / "project"
    root.mkdir()
    editor = Editor(root, tmp_path / "data")
    await editor.start(initialization_options={"lessonForm": "deep-dive"})
    try:
        await editor.open("import os\n")
        (hint,) = membership(await editor.append(BAD.format(n=0)))
        hover = await editor.hover(hint.range.start)
        assert hover.startswith("# Test membership with a set, not a list: the deep dive")
        assert "## Going further" in hover
        assert "you asked for the deep dive form in your settings" in hover
        shown = await editor.command("lessonlens.showLesson", LESSON.id)
        # The lesson view: the chosen form first, the others below it.
        markdown = shown["markdown"]
        assert markdown.index("the deep dive") < markdown.index("# Practice:")
    finally:
        await editor.stop()
