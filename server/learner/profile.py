"""A developer's own skill profile: what ``lessonlens progress`` and ``lessonlens/progress`` show.

The profile is plain JSON-able data (dicts, lists, strings, numbers) so that the command line,
the language server and the editors render one shape. It is built from the developer's events
only: skill and lesson ids, counts and estimates. Events never hold source text, identifiers or
file paths, and nothing here adds any: titles and URLs come from the lesson catalog.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from lessonlens.lessons.catalog import Catalog
from lessonlens.lessons.lesson import Lesson
from lessonlens.server.learner.mastery import (
    MASTERY,
    BktParams,
    SkillEstimate,
    Treatment,
    estimate,
    params_for,
    treatment,
)
from lessonlens.server.learner.progress import EventKind, ProgressStore
from lessonlens.server.workspace.priorities import effective_priority

# What a skill's row says the editor does with it. "mastered", "claimed" and "off" are all
# silent in the editor; they are told apart because "you have learned this" and "your team
# does not ask for this" are different news.
STATUSES = ("learning", "quiet", "mastered", "claimed", "off")
_STATUS_ORDER = {status: index for index, status in enumerate(STATUSES)}
_PRIORITY_ORDER = {"high": 0, "medium": 1, "low": 2, "none": 3}
_LEVEL_ORDER = {"beginner": 0, "intermediate": 1, "advanced": 2}
# A trend smaller than this either way is noise, shown as flat.
TREND_EPSILON = 0.02


def _status(found: SkillEstimate, given: Treatment, priority: str) -> str:
    if given is Treatment.FULL:
        return "learning"
    if given is Treatment.QUIET:
        return "quiet"
    # Silent: say why, the best news first. A claim ("I know this") is honoured but is not
    # measured mastery, so it is reported as a claim until the evidence agrees.
    if found.p_known >= MASTERY:
        return "mastered"
    if found.claimed:
        return "claimed"
    if priority == "none":
        return "off"
    # A low-priority skill falls silent below MASTERY (at 0.9): mastered enough for this team.
    return "mastered"


def _direction(trend: float) -> str:
    if trend > TREND_EPSILON:
        return "up"
    if trend < -TREND_EPSILON:
        return "down"
    return "flat"


def _lesson_ref(lesson: Lesson) -> dict[str, Any]:
    return {"id": lesson.id, "title": lesson.title, "url": lesson.url, "summary": lesson.summary}


def _next_lesson(
    rows: list[dict[str, Any]], catalog: Catalog, opened: set[str], rules_seen: Mapping[str, int]
) -> dict[str, Any] | None:
    """The first unopened lesson of the weakest skill that the editor still teaches.

    Only skills with recorded activity are candidates: the suggestion follows evidence about this
    developer, never a guess about skills they have not touched. Within a skill, lessons behind
    the rules that fired most for them come first, then easier lessons.
    """
    candidates = sorted(
        (row for row in rows if row["status"] in ("learning", "quiet")),
        key=lambda row: (row["p_known"], _PRIORITY_ORDER.get(row["priority"], 1), row["id"]),
    )
    by_skill: dict[str, list[Lesson]] = {}
    for lesson in catalog.lessons.values():
        by_skill.setdefault(lesson.skill_id, []).append(lesson)
    for row in candidates:
        unopened = [lesson for lesson in by_skill.get(row["id"], []) if lesson.id not in opened]
        if not unopened:
            continue
        best = min(
            unopened,
            key=lambda lesson: (
                -sum(rules_seen.get(rule, 0) for rule in lesson.rules),
                _LEVEL_ORDER.get(lesson.level, 1),
                lesson.id,
            ),
        )
        return {
            **_lesson_ref(best),
            "skill": row["id"],
            "skill_name": row["name"],
            "reason": (
                f"{row['name']} has your lowest estimate ({row['p_known']:.0%}) among the "
                "skills you are still learning"
            ),
        }
    return None


def build_profile(
    store: ProgressStore,
    developer: str,
    catalog: Catalog,
    now: float,
    priorities: Mapping[str, str] | None = None,
    *,
    sharing: bool = False,
    fitted: Mapping[str, BktParams] | None = None,
) -> dict[str, Any]:
    """The developer's profile: one row per skill with recorded events, and a next lesson.

    ``fitted`` are the repository's fitted parameters (``fitted.py``), preferred to the
    taxonomy's. ``priorities`` are the team's overrides (``skill-priorities`` in the config); a
    skill's own priority from the taxonomy applies otherwise. ``sharing`` only reports the
    developer's setting: whether anything is shared is decided elsewhere, and it is off unless
    turned on. Rows are sorted by what needs attention: learning, then quiet, then silent
    skills, and the lowest estimate first within each.
    """
    events = store.events(developer)
    estimates = estimate(events, params_for(catalog.skills, fitted), now)
    overrides = priorities or {}

    lessons_by_skill: dict[str, list[str]] = {}
    opened: set[str] = set()
    rules_seen: dict[str, int] = {}
    for event in events:
        if event.kind is EventKind.LESSON_OPENED and event.lesson_id:
            seen = lessons_by_skill.setdefault(event.skill_id, [])
            if event.lesson_id not in seen:
                seen.append(event.lesson_id)
            opened.add(event.lesson_id)
        elif event.kind is EventKind.ANTIPATTERN_INTRODUCED and event.rule_id:
            rules_seen[event.rule_id] = rules_seen.get(event.rule_id, 0) + 1

    rows: list[dict[str, Any]] = []
    for skill_id, found in estimates.items():
        skill = catalog.skill(skill_id)
        priority = effective_priority(skill_id, overrides, catalog.skills)
        given = treatment(found, priority)
        rows.append(
            {
                "id": skill_id,
                "name": skill.name if skill else skill_id,
                "p_known": round(found.p_known, 4),
                "treatment": given.value,
                "status": _status(found, given, priority),
                "priority": priority,
                "trend": round(found.trend, 4),
                "trend_direction": _direction(found.trend),
                "opportunities": found.opportunities,
                "correct": found.correct,
                "incorrect": found.incorrect,
                "lessons_opened": found.lessons_opened,
                "lessons_seen": sorted(lessons_by_skill.get(skill_id, [])),
                "claimed": found.claimed,
                "last_seen": found.last_seen,
            }
        )
    rows.sort(key=lambda row: (_STATUS_ORDER[row["status"]], row["p_known"], row["name"]))

    return {
        "developer": developer,
        "generated_at": now,
        "mastery_threshold": MASTERY,
        "events": len(events),
        "sharing": sharing,
        "skills": rows,
        "next_lesson": _next_lesson(rows, catalog, opened, rules_seen),
    }


__all__ = ["STATUSES", "TREND_EPSILON", "build_profile"]
