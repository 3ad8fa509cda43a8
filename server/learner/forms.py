"""Which form of a lesson to show first: the learner's state decides, and says why.

The forms (``lessons.lesson.FORMS``): a newcomer to an idiom learns from a worked example;
someone who has read the lesson and keeps writing the pattern needs practice, not the same text
again; someone near mastery needs a one-line nudge; a skill the team marks a priority earns the
deep dive once the example has been seen. The policy, in order:

1. a personal preference (the ``lessonForm`` setting) other than ``auto`` wins;
2. the last refresher answer for the lesson was wrong: the worked example again;
3. the lesson was never opened: the worked example;
4. the pattern came back at least ``RECURRENCES_FOR_PRACTICE`` times since the lesson was first
   opened, and the lesson has a challenge: practice;
5. the skill is near mastery (its hints are quiet for the team's priority): the nudge;
6. the skill is a high team priority: the deep dive;
7. otherwise the worked example.

A form the lesson lacks (a team lesson without a practice section) falls back to the worked
example. The reason is shown in the hover's "Why you see this".
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from lessonlens.lessons.lesson import FORMS, Lesson
from lessonlens.server.learner.mastery import SkillEstimate, Treatment, treatment
from lessonlens.server.learner.progress import Event, EventKind

AUTO = "auto"
PREFERENCES = (AUTO, *FORMS)
RECURRENCES_FOR_PRACTICE = 2


@dataclass(frozen=True)
class Choice:
    form: str
    reason: str


@dataclass(frozen=True)
class LessonHistory:
    """What the learner did with one lesson, from their events."""

    opened: bool = False
    # Anti-patterns of the lesson's rules written since the lesson was first opened.
    recurrences: int = 0
    # The last refresher answer for the lesson: True, False, or None when never asked.
    last_answer: bool | None = None


def lesson_history(lesson: Lesson, events: Iterable[Event]) -> LessonHistory:
    """One pass over the developer's events, in time order (ties: as recorded), unsorted.

    Asked on every hover and code action: a sort of the whole history each time is not needed
    to find a first opening, the anti-patterns after it and the last answer.
    """
    opened_at: tuple[float, int] | None = None
    answered_at: tuple[float, int] | None = None
    last_answer: bool | None = None
    introduced: list[tuple[float, int]] = []
    rules = set(lesson.rules)
    for index, event in enumerate(events):
        at = (event.time, index)
        if event.lesson_id == lesson.id and event.kind is EventKind.LESSON_OPENED:
            opened_at = at if opened_at is None else min(opened_at, at)
        elif event.kind is EventKind.ANTIPATTERN_INTRODUCED and event.rule_id in rules:
            introduced.append(at)
        elif (
            event.kind is EventKind.REVIEW_ANSWERED
            and event.lesson_id == lesson.id
            and event.correct is not None
            and (answered_at is None or at > answered_at)
        ):
            answered_at, last_answer = at, event.correct
    recurrences = 0 if opened_at is None else sum(1 for at in introduced if at > opened_at)
    return LessonHistory(opened_at is not None, recurrences, last_answer)


def choose_form(
    lesson: Lesson,
    history: LessonHistory,
    estimate: SkillEstimate | None,
    priority: str,
    preference: str = AUTO,
) -> Choice:
    """The form to show ``lesson`` in first, and why (see the module's policy)."""
    has = set(FORMS) - set(lesson.missing_forms())
    choice = _choose(history, estimate, priority, preference, has)
    if choice.form not in has:
        return Choice("worked-example", choice.reason)
    return choice


def _choose(
    history: LessonHistory,
    estimate: SkillEstimate | None,
    priority: str,
    preference: str,
    has: set[str],
) -> Choice:
    if preference in FORMS:
        return Choice(preference, f"you asked for the {_name(preference)} form in your settings")
    if history.last_answer is False:
        return Choice(
            "worked-example", "your last answer to its refresher was wrong: the example again"
        )
    if not history.opened:
        return Choice("worked-example", "a first look at this lesson: the worked example")
    if history.recurrences >= RECURRENCES_FOR_PRACTICE and "practice" in has:
        return Choice(
            "practice",
            f"the pattern came back {history.recurrences} times since you read the lesson: "
            "a short practice challenge, checked by running it",
        )
    if priority != "none" and treatment(estimate, priority) is Treatment.QUIET:
        p_known = estimate.p_known if estimate is not None else 0.0
        return Choice("nudge", f"nearly mastered ({p_known:.0%}): a one-line reminder")
    if priority == "high" and "deep-dive" in has:
        return Choice("deep-dive", "a high-priority skill for your team: the deep dive")
    return Choice("worked-example", "you are still learning this skill: the worked example")


def _name(form: str) -> str:
    return form.replace("-", " ")
