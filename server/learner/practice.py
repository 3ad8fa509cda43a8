"""Which practice challenge to offer, and what doing one records.

``lessonlens practice`` without a lesson picks the weakest skill among the team's priorities
that has a challenge: the lowest estimate among skills still being learned, the higher team
priority first on a tie; with no history yet, a challenge of the highest-priority skill. Writing
a challenge records an *attempted* practice event; its check records *passed* or *failed*, which
the learner model reads as an observation of the skill (like a refresher answer) and xAPI sends
as ``attempted``/``passed``/``failed`` (``server/team/statements.py``).
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import Any

from lessonlens.lessons.catalog import Catalog
from lessonlens.lessons.lesson import Lesson
from lessonlens.server.languages.practice import can_practise
from lessonlens.server.learner.progress import Event, EventKind

_PRIORITY_ORDER = {"high": 0, "medium": 1, "low": 2}
_LEVEL_ORDER = {"beginner": 0, "intermediate": 1, "advanced": 2}


def _easiest(lessons: Sequence[Lesson]) -> Lesson:
    return min(lessons, key=lambda lesson: (_LEVEL_ORDER.get(lesson.level, 1), lesson.id))


def choose_challenge(
    catalog: Catalog, skills: Sequence[Mapping[str, Any]], priorities: Mapping[str, str]
) -> tuple[Lesson, str] | None:
    """A lesson with a challenge for the learner, and why; None when no lesson has one.

    ``skills`` are the rows of the learner's profile (``profile.build_profile``: id, name,
    p_known, status, priority), ``priorities`` each skill's effective team priority.
    """
    by_skill: dict[str, list[Lesson]] = {}
    for lesson in catalog.lessons.values():
        if can_practise(lesson):
            by_skill.setdefault(lesson.skill_id, []).append(lesson)
    candidates = sorted(
        (
            row
            for row in skills
            if row["status"] in ("learning", "quiet")
            and row["priority"] != "none"
            and row["id"] in by_skill
        ),
        key=lambda row: (row["p_known"], _PRIORITY_ORDER.get(row["priority"], 1), row["id"]),
    )
    if candidates:
        row = candidates[0]
        reason = (
            f"{row['name']} has your lowest estimate ({row['p_known']:.0%}) among the team's "
            "priority skills you are still learning"
        )
        return _easiest(by_skill[row["id"]]), reason
    ranked = sorted(
        (skill for skill in by_skill if priorities.get(skill, "medium") != "none"),
        key=lambda skill: (_PRIORITY_ORDER.get(priorities.get(skill, "medium"), 1), skill),
    )
    if not ranked:
        return None
    skill = ranked[0]
    lesson = _easiest(by_skill[skill])
    name = catalog.skills[skill].name if skill in catalog.skills else skill
    reason = (
        f"no skill has evidence yet; {name} is a {priorities.get(skill, 'medium')}-priority "
        "skill of the team"
    )
    return lesson, reason


def practice_event(
    developer: str, lesson: Lesson, passed: bool | None, now: float | None = None
) -> Event:
    """The event of writing (``passed`` None) or checking a challenge."""
    return Event(
        EventKind.PRACTICE_CHECKED,
        developer,
        lesson.skill_id,
        time.time() if now is None else now,
        lesson_id=lesson.id,
        language=lesson.language,
        correct=passed,
    )
