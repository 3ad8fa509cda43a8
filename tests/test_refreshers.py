"""Spaced refreshers: every lesson's question, the FSRS schedule, and the front-matter checks."""

from __future__ import annotations

import random
import textwrap

import pytest

from lessonlens.lessons.catalog import load_catalog
from lessonlens.lessons.lesson import RefresherQuestion
from lessonlens.lessons.lesson_file import LessonParseError, parse_lesson
from lessonlens.server.learner.progress import Event, EventKind
from lessonlens.server.learner.refreshers import Refresher, RefresherSchedule, refresher_for

CATALOG = load_catalog()
LESSONS = sorted(CATALOG.lessons.values(), key=lambda lesson: lesson.id)
DAY = 24 * 3600.0
T0 = 1_700_000_000.0  # a fixed start, so that schedules do not depend on today's date
DEV = "d3v"


def opened(lesson_id: str, time: float, developer: str = DEV) -> Event:
    return Event(
        EventKind.LESSON_OPENED, developer, "python.data-structures", time, lesson_id=lesson_id
    )


def answered(lesson_id: str, time: float, correct: bool | None) -> Event:
    return Event(
        EventKind.REVIEW_ANSWERED,
        DEV,
        "python.data-structures",
        time,
        lesson_id=lesson_id,
        correct=correct,
    )


# --- every built-in lesson has a usable question ---------------------------------------------


def test_the_catalog_loads_cleanly():
    assert not CATALOG.errors
    assert len(LESSONS) >= 22


@pytest.mark.parametrize("lesson", LESSONS, ids=lambda lesson: lesson.id)
def test_every_builtin_lesson_has_a_refresher(lesson):
    refresher = refresher_for(lesson)
    assert refresher is not None, f"{lesson.path}: add a 'refresher:' block"
    assert refresher.lesson_id == lesson.id
    assert refresher.question.strip() and "\n" not in refresher.question
    assert refresher.question.endswith("?")
    assert 2 <= len(refresher.options) <= 4
    assert len(set(refresher.options)) == len(refresher.options)
    assert all(option.strip() for option in refresher.options)
    assert 0 <= refresher.answer < len(refresher.options)
    assert refresher.is_correct(refresher.answer)
    assert not any(
        refresher.is_correct(i) for i in range(len(refresher.options)) if i != refresher.answer
    )
    # About ten seconds to read: a short question and short options.
    assert len(refresher.question) <= 160
    assert all(len(option) <= 80 for option in refresher.options)


def test_the_right_option_does_not_always_sit_in_the_same_place():
    positions = [refresher.answer for lesson in LESSONS if (refresher := refresher_for(lesson))]
    assert len(set(positions)) >= 3


def test_a_lesson_without_a_refresher_has_none():
    lesson = parse_lesson(lesson_text(None), "demo-lesson.md")
    assert lesson.refresher is None
    assert refresher_for(lesson) is None


# --- the schedule -------------------------------------------------------------------------------


def test_a_lesson_opened_now_is_not_due_now():
    schedule = RefresherSchedule.from_events([opened("set-membership", T0)])
    assert schedule.retrievability("set-membership", T0) == pytest.approx(1.0)
    assert not schedule.due("set-membership", T0)
    assert not schedule.due("set-membership", T0 + DAY)


def test_it_falls_due_once_predicted_recall_drops_below_the_target():
    schedule = RefresherSchedule.from_events([opened("set-membership", T0)])
    when = schedule.next_due("set-membership")
    assert when is not None and when > T0 + DAY
    before = schedule.retrievability("set-membership", when - 1)
    after = schedule.retrievability("set-membership", when)
    assert before is not None and before >= 0.9
    assert after is not None and after < 0.9
    assert not schedule.due("set-membership", when - 1)
    assert schedule.due("set-membership", when)
    assert schedule.due("set-membership", T0 + 365 * DAY)


def test_recall_only_falls_with_time():
    schedule = RefresherSchedule.from_events([opened("set-membership", T0)])
    recall = [schedule.retrievability("set-membership", T0 + day * DAY) for day in range(60)]
    values = [r for r in recall if r is not None]
    assert len(values) == len(recall)
    assert values == sorted(values, reverse=True)


def test_a_lesson_never_opened_is_never_due():
    schedule = RefresherSchedule.from_events([opened("set-membership", T0)])
    assert schedule.retrievability("counter", T0 + 400 * DAY) is None
    assert not schedule.due("counter", T0 + 400 * DAY)
    assert schedule.next_due("counter") is None


def review_at_due(correct: bool) -> RefresherSchedule:
    schedule = RefresherSchedule.from_events([opened("set-membership", T0)])
    when = schedule.next_due("set-membership")
    assert when is not None
    schedule.apply(answered("set-membership", when, correct))
    return schedule


def test_a_right_answer_pushes_the_next_refresher_further_than_a_wrong_one():
    first = RefresherSchedule.from_events([opened("set-membership", T0)]).next_due("set-membership")
    right = review_at_due(True).next_due("set-membership")
    wrong = review_at_due(False).next_due("set-membership")
    assert first is not None and right is not None and wrong is not None
    assert right > wrong
    # A right answer spaces the next one out further than the first interval was.
    assert right - first > first - T0


@pytest.mark.parametrize("correct", [True, False])
def test_an_answer_restores_recall_and_clears_the_due_flag(correct):
    schedule = RefresherSchedule.from_events([opened("set-membership", T0)])
    when = schedule.next_due("set-membership")
    assert when is not None and schedule.due("set-membership", when)
    schedule.apply(answered("set-membership", when, correct))
    assert schedule.retrievability("set-membership", when) == pytest.approx(1.0)
    assert not schedule.due("set-membership", when)
    later = schedule.next_due("set-membership")
    assert later is not None and later > when


def test_a_higher_target_retention_asks_sooner():
    events = [opened("set-membership", T0)]
    relaxed = RefresherSchedule.from_events(events, desired_retention=0.8).next_due(
        "set-membership"
    )
    strict = RefresherSchedule.from_events(events, desired_retention=0.95).next_due(
        "set-membership"
    )
    assert relaxed is not None and strict is not None
    assert strict < relaxed


def test_the_target_retention_must_be_a_probability():
    for bad in (0.0, 1.0, 1.5, -0.1):
        with pytest.raises(ValueError, match="desired_retention"):
            RefresherSchedule(bad)
    assert RefresherSchedule(0.85).desired_retention == 0.85


def history() -> list[Event]:
    return [
        opened("set-membership", T0),
        opened("counter", T0 + 2 * DAY),
        answered("set-membership", T0 + 5 * DAY, True),
        answered("counter", T0 + 9 * DAY, False),
        answered("set-membership", T0 + 30 * DAY, False),
        answered("set-membership", T0 + 40 * DAY, True),
    ]


def profile(schedule: RefresherSchedule) -> list[tuple[float | None, float | None]]:
    return [
        (schedule.next_due(lesson), schedule.retrievability(lesson, T0 + 60 * DAY))
        for lesson in ("set-membership", "counter")
    ]


def test_from_events_replays_in_time_order_whatever_order_it_is_given():
    expected = profile(RefresherSchedule.from_events(history()))
    for seed in range(5):
        shuffled = history()
        random.Random(seed).shuffle(shuffled)
        assert profile(RefresherSchedule.from_events(shuffled)) == expected
    assert profile(RefresherSchedule.from_events(reversed(history()))) == expected


def test_the_order_of_answers_matters():
    wrong_then_right = RefresherSchedule.from_events(
        [
            opened("set-membership", T0),
            answered("set-membership", T0 + 5 * DAY, False),
            answered("set-membership", T0 + 10 * DAY, True),
        ]
    )
    right_then_wrong = RefresherSchedule.from_events(
        [
            opened("set-membership", T0),
            answered("set-membership", T0 + 5 * DAY, True),
            answered("set-membership", T0 + 10 * DAY, False),
        ]
    )
    a = wrong_then_right.next_due("set-membership")
    b = right_then_wrong.next_due("set-membership")
    assert a is not None and b is not None
    assert a > b  # the most recent answer counts most


def test_apply_matches_from_events():
    schedule = RefresherSchedule()
    for event in history():
        schedule.apply(event)
    assert profile(schedule) == profile(RefresherSchedule.from_events(history()))


def test_reopening_a_lesson_is_not_a_review():
    once = RefresherSchedule.from_events([opened("set-membership", T0)])
    twice = RefresherSchedule.from_events(
        [opened("set-membership", T0), opened("set-membership", T0 + 20 * DAY)]
    )
    assert once.next_due("set-membership") == twice.next_due("set-membership")


def test_other_events_leave_the_schedule_alone():
    noise = [
        Event(
            kind,
            DEV,
            "python.data-structures",
            T0 + DAY,
            rule_id="PY001",
            lesson_id="set-membership",
            correct=True,
        )
        for kind in EventKind
        if kind not in (EventKind.LESSON_OPENED, EventKind.REVIEW_ANSWERED)
    ]
    # None of those creates a card either.
    assert RefresherSchedule.from_events(noise).retrievability("set-membership", T0) is None
    noise.append(answered("set-membership", T0 + 3 * DAY, None))  # an answer with no outcome
    noise.append(Event(EventKind.LESSON_OPENED, DEV, "python.data-structures", T0 + DAY))
    base = [opened("set-membership", T0)]
    assert profile(RefresherSchedule.from_events(base + noise)) == profile(
        RefresherSchedule.from_events(base)
    )


def test_an_answer_without_an_opening_creates_the_card():
    schedule = RefresherSchedule.from_events([answered("counter", T0, True)])
    assert schedule.retrievability("counter", T0) == pytest.approx(1.0)
    assert schedule.next_due("counter") is not None


def test_a_late_event_does_not_move_a_card_back_in_time():
    schedule = RefresherSchedule()
    schedule.apply(opened("set-membership", T0 + 10 * DAY))
    schedule.apply(answered("set-membership", T0, True))  # another window's clock, behind
    assert schedule.retrievability("set-membership", T0 + 10 * DAY) == pytest.approx(1.0)
    when = schedule.next_due("set-membership")
    assert when is not None and when > T0 + 10 * DAY


def test_one_schedule_holds_one_developer():
    with pytest.raises(ValueError, match="one developer"):
        RefresherSchedule.from_events(
            [opened("set-membership", T0), opened("counter", T0 + 1, developer="someone-else")]
        )


def test_the_refresher_is_the_lessons_question():
    lesson = CATALOG.lessons["set-membership"]
    question = lesson.refresher
    assert question is not None
    refresher = refresher_for(lesson)
    assert refresher == Refresher(
        "set-membership", question.question, question.options, question.answer
    )
    assert refresher.options[refresher.answer] == "set"


# --- front-matter validation --------------------------------------------------------------------

HEAD = """\
---
id: demo-lesson
title: A demo
skill: python.data-structures
level: beginner
modality: hint
summary: One line.
rules: []
links:
  - title: docs
    url: https://docs.python.org/3/
"""

BODY = """\
---

## Why it matters
Because.

## Before and after
```python before
result = 1
```
```python after
result = 1
```

## Try it at work
Try it.

## Learn more
- [docs](https://docs.python.org/3/)
"""

REFRESHER_LINE = HEAD.count("\n") + 1  # the file line of `refresher:`


def lesson_text(block: str | None) -> str:
    return HEAD + (textwrap.dedent(block) if block is not None else "") + BODY


def test_a_valid_refresher_is_parsed():
    lesson = parse_lesson(
        lesson_text(
            """\
            refresher:
              question: "  Which type makes `x in names` constant-time?  "
              options: ["list", " set ", "tuple"]
              answer: 1
            """
        ),
        "demo-lesson.md",
    )
    assert lesson.refresher == RefresherQuestion(
        "Which type makes `x in names` constant-time?", ("list", "set", "tuple"), 1
    )
    assert lesson.line_of("refresher") == REFRESHER_LINE


def test_refresher_null_means_none():
    lesson = parse_lesson(lesson_text("refresher: null\n"), "demo-lesson.md")
    assert lesson.refresher is None


BAD = {
    "not a mapping": ('refresher: "Which type?"\n', "must map 'question', 'options' and 'answer'"),
    "a list": ("refresher: [question, options]\n", "must map"),
    "unknown key": (
        """\
        refresher:
          question: "Which type?"
          options: ["list", "set"]
          answer: 1
          hint: "think hashing"
        """,
        "unknown key 'hint' in 'refresher'",
    ),
    "no question": (
        """\
        refresher:
          options: ["list", "set"]
          answer: 1
        """,
        "'question' must be a non-empty string",
    ),
    "blank question": (
        """\
        refresher:
          question: "   "
          options: ["list", "set"]
          answer: 1
        """,
        "'question' must be a non-empty string",
    ),
    "question not a string": (
        """\
        refresher:
          question: [1, 2]
          options: ["list", "set"]
          answer: 1
        """,
        "'question' must be a non-empty string",
    ),
    "no options": (
        """\
        refresher:
          question: "Which type?"
          answer: 0
        """,
        "'options' must list 2 to 4 non-empty strings",
    ),
    "one option": (
        """\
        refresher:
          question: "Which type?"
          options: ["set"]
          answer: 0
        """,
        "'options' must list 2 to 4 non-empty strings",
    ),
    "five options": (
        """\
        refresher:
          question: "Which type?"
          options: ["list", "set", "tuple", "dict", "str"]
          answer: 1
        """,
        "'options' must list 2 to 4 non-empty strings",
    ),
    "options not a list": (
        """\
        refresher:
          question: "Which type?"
          options: "list, set"
          answer: 1
        """,
        "'options' must list 2 to 4 non-empty strings",
    ),
    "an unquoted yes": (
        """\
        refresher:
          question: "Is a set faster?"
          options: [yes, no]
          answer: 0
        """,
        "'options' must list 2 to 4 non-empty strings",
    ),
    "an empty option": (
        """\
        refresher:
          question: "Which type?"
          options: ["list", ""]
          answer: 0
        """,
        "'options' must list 2 to 4 non-empty strings",
    ),
    "repeated options": (
        """\
        refresher:
          question: "Which type?"
          options: ["set", "list", "set "]
          answer: 0
        """,
        "'options' must all differ",
    ),
    "no answer": (
        """\
        refresher:
          question: "Which type?"
          options: ["list", "set"]
        """,
        "'answer' must be the 0-based index of the right option (0 to 1)",
    ),
    "answer out of range": (
        """\
        refresher:
          question: "Which type?"
          options: ["list", "set", "tuple"]
          answer: 3
        """,
        "(0 to 2)",
    ),
    "negative answer": (
        """\
        refresher:
          question: "Which type?"
          options: ["list", "set"]
          answer: -1
        """,
        "'answer' must be the 0-based index",
    ),
    "answer as text": (
        """\
        refresher:
          question: "Which type?"
          options: ["list", "set"]
          answer: "set"
        """,
        "'answer' must be the 0-based index",
    ),
    "answer as a boolean": (
        """\
        refresher:
          question: "Which type?"
          options: ["list", "set"]
          answer: true
        """,
        "'answer' must be the 0-based index",
    ),
    "answer as a float": (
        """\
        refresher:
          question: "Which type?"
          options: ["list", "set"]
          answer: 1.0
        """,
        "'answer' must be the 0-based index",
    ),
}


@pytest.mark.parametrize(("block", "message"), BAD.values(), ids=BAD.keys())
def test_an_invalid_refresher_names_the_file_and_the_line(block, message):
    with pytest.raises(LessonParseError) as caught:
        parse_lesson(lesson_text(block), "team/demo-lesson.md", builtin=False)
    problem = caught.value.problem
    assert problem.path == "team/demo-lesson.md"
    assert problem.line == REFRESHER_LINE
    assert message in problem.message
    assert str(caught.value).startswith(f"team/demo-lesson.md:{REFRESHER_LINE}: error: ")


def test_a_team_lesson_with_a_broken_refresher_is_reported_and_left_out(tmp_path):
    (tmp_path / "demo-lesson.md").write_text(lesson_text(BAD["one option"][0]), "utf-8")
    catalog = load_catalog([tmp_path])
    assert "demo-lesson" not in catalog.lessons
    assert [(p.path, p.line) for p in catalog.errors] == [
        (str(tmp_path / "demo-lesson.md"), REFRESHER_LINE)
    ]
    assert "set-membership" in catalog.lessons  # the rest still load
