"""Team views over the progress store: skill distributions, gaps against the matrix, capability.

Everything here is aggregate. The result never holds a pseudonym, one developer's row, or an
order of developers; and no figure is shown for a group smaller than ``min_group_size``
(default 5): below it the figure is replaced by ``suppressed`` with the reason. Quartiles of four
people, or a median time to mastery of two, would let a team lead read individuals back out.

The result is plain JSON-able data (dicts, lists, strings, numbers); its shape::

    {"developers": int | None,          # None when the whole team is below the minimum
     "min_group_size": int,
     "skills": [{"skill", "name", "count", "mean", "q1", "median", "q3"} | {"skill", "name",
                 "suppressed"}],
     "gaps": [{"skill", "name", "priority", "target", "mean", "gap", "head_count", "score",
               "lessons": [{"id", "title", "url"}]}],
     "unmeasured": [{"skill", "name", "priority", "target", "suppressed"}],
     "recurrence": [{"rule", "skill", "developers", "before": {"introduced", "opportunities",
                     "per_1000"}, "after": {...}} | {"rule", "skill", "suppressed"}],
     "time_to_mastery": [{"skill", "name", "developers", "median_days"} | {..., "suppressed"}]}
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from lessonlens.lessons.catalog import Catalog
from lessonlens.server.learner import Learner, SkillEstimate, estimate, is_mastered, params_for
from lessonlens.server.matrix import Matrix
from lessonlens.server.progress import Event, EventKind, ProgressStore

# How much a gap counts per priority; "none" never reaches the gap list.
PRIORITY_WEIGHTS: Mapping[str, float] = {"high": 3.0, "medium": 2.0, "low": 1.0}
_DAY = 24 * 3600.0
# Events where the developer's code was checked for a skill: each is one edit opportunity.
_OPPORTUNITIES = frozenset(
    {
        EventKind.SKILL_EVIDENCE,
        EventKind.ANTIPATTERN_INTRODUCED,
        EventKind.ANTIPATTERN_FIXED,
        EventKind.FIX_APPLIED,
    }
)


def _too_few(count: int, minimum: int, what: str) -> str:
    return f"fewer than {minimum} {what}" if count else f"no {what}"


def _quartiles(values: Sequence[float]) -> tuple[float, float, float]:
    # "inclusive" treats the data as the whole population (the team), not a sample of one,
    # and keeps the quartiles inside the observed range.
    q1, median, q3 = statistics.quantiles(values, n=4, method="inclusive")
    return q1, median, q3


@dataclass
class _Developer:
    """One developer's data, kept only while aggregating; it never leaves this module."""

    estimates: dict[str, SkillEstimate]
    events: list[Event]
    mastered_after: dict[str, float] = field(default_factory=dict)  # skill -> seconds


def _mastery_times(events: Iterable[Event], catalog: Catalog, now: float) -> dict[str, float]:
    """Per skill, seconds from the developer's first opportunity to the learner's mastery.

    The learner's own judgement (``is_mastered``) replayed event by event, not the stored
    ``MASTERED`` events: those are written only where an editor happened to be running.
    """
    learner = Learner(params_for(catalog.skills))
    first: dict[str, float] = {}
    reached: dict[str, float] = {}
    for event in events:
        learner.apply(event)
        if event.kind not in _OPPORTUNITIES and event.kind is not EventKind.REVIEW_ANSWERED:
            continue
        first.setdefault(event.skill_id, event.time)
        if event.skill_id not in reached and is_mastered(learner.snapshot(event.skill_id, now)):
            reached[event.skill_id] = event.time - first[event.skill_id]
    return reached


def _load(
    store: ProgressStore, catalog: Catalog, now: float, since: float | None
) -> list[_Developer]:
    lookup = params_for(catalog.skills)
    found: list[_Developer] = []
    for developer in store.developers():
        events = sorted(store.events(developer, since=since), key=lambda e: e.time)
        if not events:
            continue
        found.append(
            _Developer(estimate(events, lookup, now), events, _mastery_times(events, catalog, now))
        )
    return found


def _skill_name(catalog: Catalog, skill_id: str) -> str:
    skill = catalog.skill(skill_id)
    return skill.name if skill else skill_id


def _distributions(
    developers: Sequence[_Developer], catalog: Catalog, minimum: int
) -> dict[str, dict[str, Any]]:
    """Per skill, the distribution of mastery among developers with evidence of it.

    A developer who only opened a lesson of a skill has an estimate at the prior, which says
    nothing about the team; only developers with at least one opportunity count.
    """
    values: dict[str, list[float]] = {}
    for developer in developers:
        for skill_id, found in developer.estimates.items():
            if found.opportunities:
                values.setdefault(skill_id, []).append(found.p_known)
    rows: dict[str, dict[str, Any]] = {}
    for skill_id, seen in sorted(values.items()):
        row: dict[str, Any] = {"skill": skill_id, "name": _skill_name(catalog, skill_id)}
        if len(seen) < minimum:
            row["suppressed"] = _too_few(len(seen), minimum, "developers with evidence")
        else:
            q1, median, q3 = _quartiles(seen)
            row.update(count=len(seen), mean=statistics.fmean(seen), q1=q1, median=median, q3=q3)
        rows[skill_id] = row
    return rows


def _lessons_for(catalog: Catalog, skill_id: str) -> list[dict[str, str]]:
    """The lessons that teach the skill or one of its sub-skills, easiest first."""
    order = {"beginner": 0, "intermediate": 1, "advanced": 2}

    def under(candidate: str) -> bool:
        current: str | None = candidate
        seen: set[str] = set()
        while current is not None and current not in seen:
            if current == skill_id:
                return True
            seen.add(current)
            skill = catalog.skill(current)
            current = skill.parent if skill else None
        return False

    lessons = [lesson for lesson in catalog.lessons.values() if under(lesson.skill_id)]
    lessons.sort(key=lambda lesson: (order.get(lesson.level, 1), lesson.id))
    return [{"id": x.id, "title": x.title, "url": x.url} for x in lessons]


def gap_analysis(
    distributions: Mapping[str, Mapping[str, Any]],
    matrix: Matrix,
    catalog: Catalog,
    *,
    role: str | None = None,
    top: int = 10,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(gaps, unmeasured): the matrix's skills, target against the team's mean mastery.

    ``score = (target - mean) * priority weight * head count``, where head count is the number
    of developers with evidence of the skill: a gap that many people share costs the team more
    than the same gap in one corner. Sorted by score, then skill id (so ties read the same on
    every run). Skills met or exceeded are not gaps. A skill whose distribution is suppressed
    cannot be measured without exposing individuals and is listed apart, unranked.
    """
    gaps: list[dict[str, Any]] = []
    unmeasured: list[dict[str, Any]] = []
    for entry in matrix.prioritised():
        target = entry.target_for(role)
        row = distributions.get(entry.skill_id)
        base = {
            "skill": entry.skill_id,
            "name": _skill_name(catalog, entry.skill_id),
            "priority": entry.priority,
            "target": target,
        }
        if row is None or "suppressed" in row:
            reason = row["suppressed"] if row else "no developers with evidence"
            unmeasured.append({**base, "suppressed": reason})
            continue
        gap = target - float(row["mean"])
        if gap <= 0:
            continue
        head_count = int(row["count"])
        gaps.append(
            {
                **base,
                "mean": row["mean"],
                "gap": gap,
                "head_count": head_count,
                "score": gap * PRIORITY_WEIGHTS[entry.priority] * head_count,
            }
        )
    gaps.sort(key=lambda g: (-g["score"], g["skill"]))
    for found in gaps[:top]:
        found["lessons"] = _lessons_for(catalog, found["skill"])
    return gaps[:top], unmeasured


def _rate(introduced: int, opportunities: int) -> dict[str, Any]:
    per = round(1000 * introduced / opportunities, 1) if opportunities else None
    return {"introduced": introduced, "opportunities": opportunities, "per_1000": per}


def recurrence(
    developers: Sequence[_Developer], catalog: Catalog, minimum: int
) -> list[dict[str, Any]]:
    """Per anti-pattern (rule), how often it is written before and after its lesson is seen.

    The issue asks for a rate per 1,000 changed lines, but the store holds no line counts (by
    design: events carry ids only). The denominator is therefore the number of edit
    *opportunities*: events where the developer's code was checked for the rule's skill (skill
    evidence, anti-pattern introduced or fixed, quick fix applied). ``per_1000`` is anti-patterns
    introduced per 1,000 such opportunities.

    The split is each developer's first exposure to a lesson for that rule (a ``LESSON_OPENED``
    event naming the rule, or a lesson that lists it). Only developers who were exposed and have
    opportunities on both sides count, so that "before" and "after" describe the same people;
    fewer than ``minimum`` of them and the rule's figures are suppressed.
    """
    teaches: dict[str, set[str]] = {}
    for lesson in catalog.lessons.values():
        for rule_id in lesson.rules:
            teaches.setdefault(rule_id, set()).add(lesson.id)
    rules: dict[str, str] = {}  # rule -> its skill, from what the store saw
    for developer in developers:
        for event in developer.events:
            if event.kind is EventKind.ANTIPATTERN_INTRODUCED and event.rule_id:
                rules.setdefault(event.rule_id, event.skill_id)
    rows: list[dict[str, Any]] = []
    for rule_id, skill_id in sorted(rules.items()):
        lessons = teaches.get(rule_id, set())
        people = 0
        before = [0, 0]  # introduced, opportunities
        after = [0, 0]
        for developer in developers:
            exposed = next(
                (
                    e.time
                    for e in developer.events
                    if e.kind is EventKind.LESSON_OPENED
                    and (e.rule_id == rule_id or e.lesson_id in lessons)
                ),
                None,
            )
            if exposed is None:
                continue
            sides = ([0, 0], [0, 0])
            for event in developer.events:
                if event.skill_id != skill_id or event.kind not in _OPPORTUNITIES:
                    continue
                side = sides[0] if event.time < exposed else sides[1]
                side[1] += 1
                if event.kind is EventKind.ANTIPATTERN_INTRODUCED and event.rule_id == rule_id:
                    side[0] += 1
            if sides[0][1] and sides[1][1]:
                people += 1
                for total, part in ((before, sides[0]), (after, sides[1])):
                    total[0] += part[0]
                    total[1] += part[1]
        row: dict[str, Any] = {"rule": rule_id, "skill": skill_id}
        if people < minimum:
            what = "developers with opportunities before and after the lesson"
            row["suppressed"] = _too_few(people, minimum, what)
        else:
            row.update(developers=people, before=_rate(*before), after=_rate(*after))
        rows.append(row)
    return rows


def time_to_mastery(
    developers: Sequence[_Developer], catalog: Catalog, minimum: int
) -> list[dict[str, Any]]:
    """Per skill, the median days from a developer's first opportunity to mastery.

    Only developers who reached mastery count (the others have no time yet); the number who did
    is shown, so that a short median over few people is not mistaken for the team's pace.
    """
    reached: dict[str, list[float]] = {}
    for developer in developers:
        for skill_id, seconds in developer.mastered_after.items():
            reached.setdefault(skill_id, []).append(seconds / _DAY)
    rows: list[dict[str, Any]] = []
    for skill_id, days in sorted(reached.items()):
        row: dict[str, Any] = {"skill": skill_id, "name": _skill_name(catalog, skill_id)}
        if len(days) < minimum:
            row["suppressed"] = _too_few(len(days), minimum, "developers who reached mastery")
        else:
            row.update(developers=len(days), median_days=round(statistics.median(days), 2))
        rows.append(row)
    return rows


def team_report(
    store: ProgressStore,
    catalog: Catalog,
    matrix: Matrix | None,
    now: float,
    *,
    min_group_size: int | None = None,
    since: float | None = None,
    role: str | None = None,
) -> dict[str, Any]:
    """The team's aggregate view (shape in the module docstring).

    ``min_group_size`` can only raise the matrix's minimum (5 unless the project's config says
    otherwise): the shared config is the team's privacy policy, and one person's command-line
    flag must not loosen it.
    """
    matrix = matrix if matrix is not None else Matrix()
    minimum = max(matrix.min_group_size, min_group_size or 0, 2)
    developers = _load(store, catalog, now, since)
    if len(developers) < minimum:
        # Below the minimum even skill-level aggregates would describe a handful of people.
        return {
            "developers": None,
            "min_group_size": minimum,
            "suppressed": _too_few(len(developers), minimum, "developers in the store"),
            "skills": [],
            "gaps": [],
            "unmeasured": [],
            "recurrence": [],
            "time_to_mastery": [],
        }
    distributions = _distributions(developers, catalog, minimum)
    gaps, unmeasured = gap_analysis(distributions, matrix, catalog, role=role)
    return {
        "developers": len(developers),
        "min_group_size": minimum,
        "skills": list(distributions.values()),
        "gaps": gaps,
        "unmeasured": unmeasured,
        "recurrence": recurrence(developers, catalog, minimum),
        "time_to_mastery": time_to_mastery(developers, catalog, minimum),
    }


# ---- exports -------------------------------------------------------------------------------

SELF_COLUMNS = ("time", "kind", "skill", "rule", "lesson", "language", "correct")
TEAM_COLUMNS = ("section", "skill", "rule", "metric", "value")


def self_rows(events: Iterable[Event]) -> list[dict[str, Any]]:
    """A developer's own events as export rows: ids and times only, never code or paths.

    The pseudonym and the hashed repository id are left out: the export is the developer's own,
    and neither means anything to them.
    """
    import datetime

    return [
        {
            "time": datetime.datetime.fromtimestamp(e.time, datetime.UTC).isoformat(),
            "kind": e.kind.value,
            "skill": e.skill_id,
            "rule": e.rule_id,
            "lesson": e.lesson_id,
            "language": e.language,
            "correct": e.correct,
        }
        for e in sorted(events, key=lambda e: e.time)
    ]


def team_rows(report: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The team report flattened to long-format rows (section, skill, rule, metric, value).

    Long format because the sections have different figures; a suppressed figure is one row
    whose metric is ``suppressed`` and whose value is the reason.
    """
    rows: list[dict[str, Any]] = []

    def add(section: str, skill: str | None, rule: str | None, metric: str, value: Any) -> None:
        rows.append(
            {"section": section, "skill": skill, "rule": rule, "metric": metric, "value": value}
        )

    add("team", None, None, "min_group_size", report["min_group_size"])
    if report["developers"] is None:
        add("team", None, None, "suppressed", report.get("suppressed"))
    else:
        add("team", None, None, "developers", report["developers"])
    for section in ("skills", "gaps", "unmeasured", "time_to_mastery"):
        for entry in report[section]:
            for metric, value in entry.items():
                if metric in ("skill", "name"):
                    continue
                if metric == "lessons":
                    value = " ".join(lesson["id"] for lesson in value)
                add(section, entry["skill"], None, metric, value)
    for entry in report["recurrence"]:
        for metric, value in entry.items():
            if metric in ("rule", "skill"):
                continue
            if isinstance(value, dict):
                for part, figure in value.items():
                    add("recurrence", entry["skill"], entry["rule"], f"{metric}_{part}", figure)
            else:
                add("recurrence", entry["skill"], entry["rule"], metric, value)
    return rows


def render_csv(rows: Sequence[Mapping[str, Any]], columns: Sequence[str]) -> str:
    import csv
    import io

    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(columns), lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: "" if row.get(k) is None else row.get(k) for k in columns})
    return buffer.getvalue()


def render_self(events: Iterable[Event], fmt: str) -> str:
    import json

    rows = self_rows(events)
    if fmt == "csv":
        return render_csv(rows, SELF_COLUMNS)
    return json.dumps({"scope": "self", "events": rows}, indent=2) + "\n"


def render_team(report: Mapping[str, Any], fmt: str) -> str:
    import json

    if fmt == "csv":
        return render_csv(team_rows(report), TEAM_COLUMNS)
    return json.dumps({"scope": "team", **report}, indent=2) + "\n"
