"""Team figures: the one definition of every number a team lead is shown.

``lessonlens export --team`` (JSON and CSV, ``exports.py``) and ``lessonlens report --html`` both
show what :func:`team_report` returns; ``report.py`` only draws it. Each developer's events are
replayed once through the learner by ``history.py``; every figure is aggregated here (where the
export and page once disagreed, the definition kept is the one a lead can act on):

- **Period.** One rule, :func:`period`, for the report and the export: it ends at ``--until``
  (the end of that day, UTC), else at the end of the day of the last event, so that a history
  that stopped months ago is drawn where its data is, not as a flat line up to today. It starts
  at ``--since``, else at the Monday of the first event's week but at most ``MAX_WEEKS`` weeks
  (the last included) before its end. Every figure is computed from the events in the period.
- **Minimum group.** The matrix's ``min-group-size`` (default 5, ``matrix.DEFAULT_MIN_GROUP_SIZE``)
  is the team's privacy policy: ``--min-group`` can only raise it (:func:`minimum_group`). Every
  figure is hidden, with its reason, by one rule, :func:`suppression`: fewer developers behind it
  than the minimum. One with no one behind it has no data instead (:func:`withheld`): its row
  holds ``no_data`` and what is missing ("no one has opened a lesson on this rule yet").
- **Mastery by skill.** Per skill, the estimates (at the end of the period) of the developers
  with at least one opportunity: mean, quartiles and developers per 20% band. A developer who
  only opened a lesson is at the prior, which says nothing about the team. Every skill of the
  matrix is listed, with "no developers with evidence" (``no_data``) where none has any.
- **Gap.** ``target - team mean`` for a measured matrix skill below its target, ranked by ``score =
  gap * PRIORITY_WEIGHTS[priority] * head count`` (developers with evidence): a gap many people
  share costs more than the same gap in one corner. The top ``TOP_GAPS``, each with every lesson
  that teaches the skill or one of its sub-skills, easiest first.
  ``headline.skills_below_target`` counts every gap, not only the top ones.
- **Recurrence.** Per rule, anti-patterns introduced per 1,000 opportunities of its skill, before
  and after each developer's first opening of a lesson that teaches the rule, over the *same*
  developers: those with opportunities on both sides (else a change in who was measured would
  pass for a change in what people write). A rule is shown whole or withheld whole. The
  headline pools the rules shown.
- **Time to mastery.** Days from a developer's first opportunity on a skill to the first event
  after which the learner judged it mastered, judged at that event's time; per skill the median
  over those who reached mastery, and in the headline over every skill mastered.
- **Weeks.** The team's mean mastery at the end of each week (the mean over developers of each
  one's mean estimate, so every developer weighs the same), and the lessons opened and hints
  dismissed, for every week of the period.
- **Headline.** The pooled recurrence, median days to mastery, lessons opened and hints
  dismissed in the period, and matrix skills below target of those measured. A None figure has
  its reason in ``headline_why``, one short line ("no skill matrix configured");
  ``recurrence_after`` and ``skills_with_target`` share their partner's. When the whole team is
  hidden or has no events, its reason (``suppressed``, ``developers`` 0) stands for them all.

Everything is aggregate: the result never holds a pseudonym, one developer's row, or an order of
developers. It is plain JSON-able data; its shape::

    {"developers": int | None,          # None: the team is below the minimum; 0: no events
     "min_group_size": int,
     "suppressed": str | None,          # why the whole team is hidden
     "generated": float,                # when the report was made (unix seconds)
     "period": {"since": "YYYY-MM-DD", "until": "YYYY-MM-DD", "weeks": int},  # days inclusive,
                                        # UTC; for a hidden team only the days asked for, else None
     "headline": {"recurrence_before", "recurrence_after", "median_days_to_mastery",
                  "lessons_opened", "hints_dismissed", "skills_below_target",
                  "skills_with_target"},   # None where hidden, unavailable or without data
     "headline_why": {figure: str},     # why a headline figure is None (team shown)
     "matrix": [{"skill", "name", "priority", "target"}],
     "skills": [{"skill", "name", "count", "mean", "q1", "median", "q3", "bands"}
                | {"skill", "name", "suppressed" | "no_data"}],
     "weeks": [{"start", "mean_mastery", "lessons_opened", "hints_dismissed"}],
     "gaps": [{"skill", "name", "priority", "target", "mean", "gap", "head_count", "score",
               "lessons": [{"id", "title", "url"}]}],
     "unmeasured": [{"skill", "name", "priority", "target", "suppressed" | "no_data"}],
     "recurrence": [{"rule", "skill", "developers", "before": {"introduced", "opportunities",
                     "per_1000"}, "after": {...}} | {"rule", "skill", "suppressed" | "no_data"}],
     "time_to_mastery": [{"skill", "name", "developers", "median_days"} | {..., "suppressed"}],
     "limits": {"recurrence" | "hints_dismissed" | "mastery": str}}   # what the source lacks
"""

from __future__ import annotations

import statistics
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from lessonlens.lessons.catalog import Catalog
from lessonlens.server.learner.mastery import BktParams
from lessonlens.server.learner.progress import EventKind, ProgressStore
from lessonlens.server.team.history import (
    OPPORTUNITIES,
    Developer,
    load_histories,
    read_day,
    replay,
    utc_day,
    week_start,
    weeks_between,
)
from lessonlens.server.team.matrix import Matrix

# How much a gap counts per priority; "none" never reaches the gap list.
PRIORITY_WEIGHTS: Mapping[str, float] = {"high": 3.0, "medium": 2.0, "low": 1.0}
TOP_GAPS = 10
BAND_COUNT = 5  # 20% mastery bands
MAX_WEEKS = 26  # the longest period chosen for the reader: --since/--until choose any other
_FIRST = ("recurrence_before", "recurrence_after", "median_days_to_mastery", "lessons_opened")
HEADLINE = (*_FIRST, "hints_dismissed", "skills_below_target", "skills_with_target")
_SECTIONS = ("skills", "weeks", "gaps", "unmeasured", "recurrence", "time_to_mastery")
_WEEK = 7 * 24 * 3600.0


# ---- the period ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    """The span the figures describe: events from ``start`` (inclusive) to ``end`` (exclusive)."""

    start: float
    end: float
    weeks: tuple[float, ...]  # the first day (Monday, UTC) of each week drawn

    def as_data(self) -> dict[str, Any]:
        # Both days inclusive, as a reader says them: the end is the instant after the last day.
        last = utc_day(self.end - 1e-3)
        return {"since": utc_day(self.start), "until": last, "weeks": len(self.weeks)}


def period(
    first: float | None, last: float | None, since: float | None, until: float | None, now: float
) -> Period:
    """The period of the team figures, the one rule for the report and the export alike.

    ``first`` and ``last`` are the times of the first and last events between ``since`` and
    ``until`` (None when there are none). The period ends at ``until`` when one is given, else
    at the end of the day of the last event: a team whose history stopped months ago is shown
    where its data is, not as a flat line up to today. It starts at ``since`` when one is given,
    else at the Monday of the first event's week, but at most ``MAX_WEEKS`` weeks (the last
    included) before its end. Every figure is computed from the events in the period.
    """
    if until is not None:
        end = until
    elif last is not None:
        end = read_day(utc_day(last), end=True)
    else:
        end = max(now, since or now)
    if since is not None:
        start = since
    else:
        earliest = week_start(end - 1e-3) - (MAX_WEEKS - 1) * _WEEK
        start = max(earliest, week_start(first)) if first is not None else earliest
    return Period(start, end, tuple(weeks_between(start, end)))


# ---- the minimum group ---------------------------------------------------------------------


def minimum_group(matrix: Matrix | None, requested: int | None = None) -> int:
    """The smallest group a team figure may describe.

    ``requested`` (a command's ``--min-group``) can only raise the matrix's minimum: the shared
    config is the team's privacy policy, and one person's flag must not loosen it. Never below
    two: one developer's numbers are their own.
    """
    configured = (matrix if matrix is not None else Matrix()).min_group_size
    return max(configured, requested or 0, 2)


def suppression(count: int, minimum: int, what: str) -> str | None:
    """Why a figure computed over ``count`` developers is hidden, or None when it may be shown.

    The one place that decides: quartiles of four people, or a median time to mastery of two,
    would let a team lead read individuals back out.
    """
    if count >= minimum:
        return None
    return f"fewer than {minimum} {what}"


def withheld(count: int, minimum: int, what: str, nobody: str | None = None) -> dict[str, str]:
    """Why a figure over ``count`` developers is not given: {} when it is.

    The row's key and reason: ``no_data`` when no one is behind it (nothing to hide, so never
    called suppressed; the reason is ``nobody``, or "no {what}"), ``suppressed`` when fewer than
    the minimum are.
    """
    if count == 0:
        return {"no_data": nobody or f"no {what}"}
    reason = suppression(count, minimum, what)
    return {"suppressed": reason} if reason else {}


# ---- figures -------------------------------------------------------------------------------


def _skill_name(catalog: Catalog, skill_id: str) -> str:
    skill = catalog.skill(skill_id)
    return skill.name if skill else skill_id


def _quartiles(values: Sequence[float]) -> tuple[float, float, float]:
    # "inclusive" treats the data as the whole population (the team), not a sample of one,
    # and keeps the quartiles inside the observed range.
    q1, median, q3 = statistics.quantiles(values, n=4, method="inclusive")
    return q1, median, q3


def _distributions(
    developers: Sequence[Developer], catalog: Catalog, matrix: Matrix, minimum: int
) -> dict[str, dict[str, Any]]:
    """Per skill (every skill with evidence, and every matrix skill), the team's mastery."""
    values: dict[str, list[float]] = {s.skill_id: [] for s in matrix.prioritised()}
    for developer in developers:
        for skill_id, found in developer.estimates.items():
            if found.opportunities:
                values.setdefault(skill_id, []).append(found.p_known)
    rows: dict[str, dict[str, Any]] = {}
    for skill_id, seen in sorted(values.items()):
        row: dict[str, Any] = {"skill": skill_id, "name": _skill_name(catalog, skill_id)}
        hidden = withheld(len(seen), minimum, "developers with evidence")
        if hidden:
            row.update(hidden)
        else:
            q1, median, q3 = _quartiles(seen)
            bands = [0] * BAND_COUNT
            for value in seen:
                bands[min(int(value * BAND_COUNT), BAND_COUNT - 1)] += 1
            row.update(
                count=len(seen),
                mean=statistics.fmean(seen),
                q1=q1,
                median=median,
                q3=q3,
                bands=bands,
            )
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
    top: int | None = TOP_GAPS,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(gaps, unmeasured): the matrix's skills, target against the team's mean mastery.

    Gaps are sorted by score, then skill id (so ties read the same on every run); ``top=None``
    keeps them all. Skills met or exceeded are not gaps. A skill whose distribution is
    suppressed cannot be measured without exposing individuals and is listed apart, unranked.
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
        if row is None or "count" not in row:
            why = {"no_data": "no developers with evidence"} if row is None else row
            unmeasured.append(
                {**base, **{k: v for k, v in why.items() if k in ("suppressed", "no_data")}}
            )
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
    chosen = gaps if top is None else gaps[:top]
    for found in chosen:
        found["lessons"] = _lessons_for(catalog, found["skill"])
    return chosen, unmeasured


def _rate(introduced: int, opportunities: int) -> float | None:
    return round(1000 * introduced / opportunities, 1) if opportunities else None


def _side(introduced: int, opportunities: int) -> dict[str, Any]:
    per_1000 = _rate(introduced, opportunities)
    return {"introduced": introduced, "opportunities": opportunities, "per_1000": per_1000}


def recurrence(
    developers: Sequence[Developer], catalog: Catalog, minimum: int
) -> list[dict[str, Any]]:
    """Per anti-pattern (rule), how often it is written before and after its lesson is seen.

    ``per_1000`` is anti-patterns introduced per 1,000 opportunities of the rule's skill (skill
    evidence, anti-pattern introduced or fixed, quick fix applied). The split is each developer's
    first exposure to a lesson for that rule (a ``LESSON_OPENED`` event naming the rule, or a
    lesson that lists it). Only developers who were exposed and have opportunities on both sides
    count, so that "before" and "after" describe the same people.
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
        opened = False
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
            opened = True
            sides = ([0, 0], [0, 0])
            for event in developer.events:
                if event.skill_id != skill_id or event.kind not in OPPORTUNITIES:
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
        what = "developers with opportunities before and after the lesson"
        nobody = (
            "no one with opportunities both before and after the lesson yet"
            if opened
            else "no one has opened a lesson on this rule yet"
        )
        hidden = withheld(people, minimum, what, nobody)
        if hidden:
            row.update(hidden)
        else:
            row.update(developers=people, before=_side(*before), after=_side(*after))
        rows.append(row)
    return rows


def time_to_mastery(
    developers: Sequence[Developer], catalog: Catalog, minimum: int
) -> list[dict[str, Any]]:
    """Per skill, the median days from a developer's first opportunity to mastery.

    Only developers who reached mastery count (the others have no time yet); the number who did
    is shown, so that a short median over few people is not mistaken for the team's pace.
    """
    reached: dict[str, list[float]] = {}
    for developer in developers:
        for skill_id, after in developer.mastered_after.items():
            reached.setdefault(skill_id, []).append(after)
    rows: list[dict[str, Any]] = []
    for skill_id, days in sorted(reached.items()):
        row: dict[str, Any] = {"skill": skill_id, "name": _skill_name(catalog, skill_id)}
        hidden = withheld(len(days), minimum, "developers who reached mastery")
        if hidden:
            row.update(hidden)
        else:
            row.update(developers=len(days), median_days=round(statistics.median(days), 2))
        rows.append(row)
    return rows


def _week_rows(
    developers: Sequence[Developer], weeks: Sequence[float], minimum: int
) -> list[dict[str, Any]]:
    rows: dict[float, dict[str, Any]] = {
        start: {"start": start, "mean_mastery": None, "lessons_opened": 0, "hints_dismissed": 0}
        for start in weeks
    }
    for start in weeks:
        means = [d.weekly[start] for d in developers if start in d.weekly]
        if suppression(len(means), minimum, "developers with evidence") is None:
            rows[start]["mean_mastery"] = statistics.fmean(means)
    for developer in developers:
        for event in developer.events:
            row = rows.get(week_start(event.time))
            if row is not None and event.kind is EventKind.LESSON_OPENED:
                row["lessons_opened"] += 1
            elif row is not None and event.kind is EventKind.HINT_DISMISSED:
                row["hints_dismissed"] += 1
    return list(rows.values())


def _limits(missing: Collection[EventKind], source: str) -> dict[str, str]:
    """What a source that cannot hold some kinds (an LRS) cannot give: unavailable, never zero."""
    limits = {}
    if EventKind.ANTIPATTERN_INTRODUCED in missing:
        limits["recurrence"] = f"not available: {source} holds no anti-patterns introduced"
    if EventKind.HINT_DISMISSED in missing:
        limits["hints_dismissed"] = f"not available: {source} holds no hints dismissed"
    left_out = [
        name
        for kind, name in (
            (EventKind.ANTIPATTERN_INTRODUCED, "anti-patterns introduced"),
            (EventKind.FIX_APPLIED, "fixes applied"),
            (EventKind.I_KNOW_THIS, '"I know this" claims'),
        )
        if kind in missing
    ]
    if left_out:
        limits["mastery"] = (
            f"mastery estimates and days to mastery use the evidence in {source} only, "
            f"without {', '.join(left_out)}"
        )
    return limits


def _pooled(rows: Iterable[Mapping[str, Any]], side: str) -> float | None:
    shown = [row[side] for row in rows if side in row]
    return _rate(sum(s["introduced"] for s in shown), sum(s["opportunities"] for s in shown))


def _said(hidden: Mapping[str, str]) -> str:
    """A ``withheld`` result as one line: "suppressed: ..." only for a group below the minimum."""
    if "suppressed" in hidden:
        return f"suppressed: {hidden['suppressed']}"
    return hidden["no_data"]


def _recurrence_why(rows: Sequence[Mapping[str, Any]]) -> str:
    """Why no rule's recurrence can be pooled for the headline (no row is shown)."""
    if not rows:
        return "no anti-pattern written in this period"
    if small := [row["suppressed"] for row in rows if "suppressed" in row]:
        return f"suppressed: {small[0]}, on every rule"
    if all(row["no_data"].startswith("no one has opened") for row in rows):
        return "no one has opened a lesson on the anti-patterns written yet"
    return "no one has written code both before and after a lesson yet"


def _matrix_why(configured: bool, targets: int, unmeasured: list[dict[str, Any]]) -> str | None:
    """Why no matrix skill can be compared with its target; None when one can."""
    if not configured:
        return "no skill matrix configured"
    if not targets:
        return "no skill in the matrix has a target"
    if len(unmeasured) < targets:
        return None
    if small := [row["suppressed"] for row in unmeasured if "suppressed" in row]:
        return f"suppressed: {small[0]}, on every matrix skill"
    return "no developer has evidence on a matrix skill yet"


def team_report(
    store: ProgressStore,
    catalog: Catalog,
    matrix: Matrix | None,
    now: float,
    *,
    min_group_size: int | None = None,
    since: float | None = None,
    until: float | None = None,
    role: str | None = None,
    missing: Collection[EventKind] = frozenset(),
    source: str = "the progress store",
    fitted: Mapping[str, BktParams] | None = None,
) -> dict[str, Any]:
    """Every team figure (shape and definitions in the module docstring).

    ``since`` and ``until`` (unix seconds, ``until`` exclusive) choose the period; without them
    it is the one :func:`period` anchors to the data. ``now`` is when the report is made.
    ``missing`` names the event kinds ``store`` cannot hold (an LRS holds no anti-patterns
    introduced): the figures built on them become unavailable, with a reason naming ``source``,
    rather than zeros that would read as a perfect team. ``fitted``: as :func:`replay`'s.
    """
    configured = matrix is not None
    matrix = matrix if matrix is not None else Matrix()
    minimum = minimum_group(matrix, min_group_size)
    limits = _limits(missing, source)
    targets = [
        {
            "skill": entry.skill_id,
            "name": _skill_name(catalog, entry.skill_id),
            "priority": entry.priority,
            "target": entry.target_for(role),
        }
        for entry in matrix.prioritised()
    ]
    found = load_histories(store, since, until)
    first = min((events[0].time for events in found), default=None)
    last = max((events[-1].time for events in found), default=None)
    span = period(first, last, since, until, now)
    inside = ([e for e in events if e.time >= span.start] for events in found)
    histories = [events for events in inside if events]
    headline: dict[str, Any] = dict.fromkeys(HEADLINE)
    why: dict[str, str] = {}
    team_hidden = withheld(
        len(histories), minimum, "developers with events in the period", "no events in this period"
    )
    result: dict[str, Any] = {
        "developers": len(histories),
        "min_group_size": minimum,
        "suppressed": None,
        "generated": now,
        "period": span.as_data(),
        "headline": headline,
        "headline_why": why,
        "matrix": targets,
        **{key: [] for key in _SECTIONS},
        "limits": limits,
    }
    if team_hidden:
        # Below the minimum even skill-level aggregates would describe a handful of people, and
        # so would the days their events span: only the days asked for are repeated.
        result["period"] = {
            "since": utc_day(since) if since is not None else None,
            "until": utc_day(until - 1e-3) if until is not None else None,
            "weeks": None,
        }
        if "suppressed" in team_hidden:
            result.update(developers=None, suppressed=team_hidden["suppressed"])
        return result
    developers = replay(histories, catalog, span.end, span.weeks, fitted)
    distributions = _distributions(developers, catalog, matrix, minimum)
    gaps, unmeasured = gap_analysis(distributions, matrix, catalog, role=role, top=None)
    recurring = [] if "recurrence" in limits else recurrence(developers, catalog, minimum)
    mastery = time_to_mastery(developers, catalog, minimum)
    week_rows = _week_rows(developers, span.weeks, minimum)
    masters = [d for d in developers if d.mastered_after]
    nobody = "no developer has reached mastery of a skill yet"
    hidden = withheld(len(masters), minimum, "developers who reached mastery", nobody)
    if hidden:
        why["median_days_to_mastery"] = _said(hidden)
    else:
        days = [value for d in masters for value in d.mastered_after.values()]
        headline["median_days_to_mastery"] = round(statistics.median(days), 2)
    if "recurrence" in limits:
        why["recurrence_before"] = limits["recurrence"]
    elif any("developers" in row for row in recurring):
        headline["recurrence_before"] = _pooled(recurring, "before")
        headline["recurrence_after"] = _pooled(recurring, "after")
    else:
        why["recurrence_before"] = _recurrence_why(recurring)
    # Every event in the period counts, in the weeks drawn or not.
    kinds = [e.kind for d in developers for e in d.events]
    headline["lessons_opened"] = kinds.count(EventKind.LESSON_OPENED)
    headline["hints_dismissed"] = kinds.count(EventKind.HINT_DISMISSED)
    if "hints_dismissed" in limits:
        headline["hints_dismissed"] = None
        why["hints_dismissed"] = limits["hints_dismissed"]
        for week in week_rows:
            week["hints_dismissed"] = None
    matrix_why = _matrix_why(configured, len(targets), unmeasured)
    if matrix_why:
        why["skills_below_target"] = matrix_why
    else:
        headline["skills_below_target"] = len(gaps)
        headline["skills_with_target"] = len(targets) - len(unmeasured)
    result.update(
        skills=list(distributions.values()),
        weeks=week_rows,
        gaps=gaps[:TOP_GAPS],
        unmeasured=unmeasured,
        recurrence=recurring,
        time_to_mastery=mastery,
    )
    return result
