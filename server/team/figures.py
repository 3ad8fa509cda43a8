"""Team figures: the one definition of every number a team lead is shown.

``lessonlens export --team`` (JSON and CSV, ``exports.py``) and ``lessonlens report --html`` both
show what :func:`team_report` returns; ``report.py`` only draws it. Each developer's events are
replayed once through the learner by ``history.py``; every figure is aggregated here. The export
and the page used to compute their figures separately and disagreed; where they did, the
definition kept is the one a lead can act on:

- **Minimum group.** The matrix's ``min-group-size`` (default 5, ``matrix.DEFAULT_MIN_GROUP_SIZE``)
  is the team's privacy policy. A command's ``--min-group`` can only raise it
  (:func:`minimum_group`); the HTML report's used to lower it. Every figure is hidden, with its
  reason, by one rule, :func:`suppression`: fewer developers behind it than the minimum.
- **Mastery by skill.** Per skill, the estimates (at ``now``) of the developers with at least one
  opportunity: mean, quartiles and developers per 20% band. A developer who only opened a lesson
  is at the prior, which says nothing about the team. Every skill of the matrix is listed, with
  "no developers with evidence" where none has any.
- **Gap.** ``target - team mean`` for a measured matrix skill below its target, ranked by ``score =
  gap * PRIORITY_WEIGHTS[priority] * head count`` (developers with evidence): a gap many people
  share costs more than the same gap in one corner. The top ``TOP_GAPS`` (10; the HTML showed 5,
  and hid gaps the export listed), each with every lesson that teaches the skill or one of its
  sub-skills, easiest first (the HTML listed only lessons of the skill itself, none for a parent
  skill). ``headline.skills_below_target`` counts every gap, not only the top ones.
- **Recurrence.** Per rule, anti-patterns introduced per 1,000 opportunities of its skill, before
  and after each developer's first opening of a lesson that teaches the rule, over the *same*
  developers: those with opportunities on both sides. Counting each side over whoever had
  opportunities there (the HTML's way) let a change in who was measured pass for a change in
  what people write. A rule is shown whole or suppressed whole. The headline pools the shown
  rules.
- **Time to mastery.** Days from a developer's first opportunity on a skill to the first event
  after which the learner judged it mastered, judged at that event's time (the export judged it
  at "now"); per skill the median over those who reached mastery, and in the headline the median
  over every skill mastered, shown once enough developers reached any.
- **Weeks.** The team's mean mastery at the end of each week (the mean over developers of each
  one's mean estimate, so every developer weighs the same), and the lessons opened and hints
  dismissed, over at most the last ``history.MAX_WEEKS`` weeks to ``now``.

Everything is aggregate: the result never holds a pseudonym, one developer's row, or an order of
developers. It is plain JSON-able data; its shape::

    {"developers": int | None,          # None when the whole team is below the minimum
     "min_group_size": int,
     "suppressed": str | None,          # why the whole team is hidden
     "generated": float,                # "now": estimates are taken at this time (unix seconds)
     "headline": {"recurrence_before", "recurrence_after", "median_days_to_mastery",
                  "lessons_opened", "hints_dismissed", "skills_below_target",
                  "skills_with_target"},   # None where hidden or unavailable
     "matrix": [{"skill", "name", "priority", "target"}],
     "skills": [{"skill", "name", "count", "mean", "q1", "median", "q3", "bands"}
                | {"skill", "name", "suppressed"}],
     "weeks": [{"start", "mean_mastery", "lessons_opened", "hints_dismissed"}],
     "gaps": [{"skill", "name", "priority", "target", "mean", "gap", "head_count", "score",
               "lessons": [{"id", "title", "url"}]}],
     "unmeasured": [{"skill", "name", "priority", "target", "suppressed"}],
     "recurrence": [{"rule", "skill", "developers", "before": {"introduced", "opportunities",
                     "per_1000"}, "after": {...}} | {"rule", "skill", "suppressed"}],
     "time_to_mastery": [{"skill", "name", "developers", "median_days"} | {..., "suppressed"}],
     "limits": {"recurrence" | "hints_dismissed" | "mastery": str}}   # what the source lacks
"""

from __future__ import annotations

import statistics
from collections.abc import Collection, Iterable, Mapping, Sequence
from typing import Any

from lessonlens.lessons.catalog import Catalog
from lessonlens.server.learner.progress import EventKind, ProgressStore
from lessonlens.server.team.history import OPPORTUNITIES, Developer, load_developers, week_start
from lessonlens.server.team.matrix import Matrix

# How much a gap counts per priority; "none" never reaches the gap list.
PRIORITY_WEIGHTS: Mapping[str, float] = {"high": 3.0, "medium": 2.0, "low": 1.0}
TOP_GAPS = 10
BAND_COUNT = 5  # 20% mastery bands


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
    return f"fewer than {minimum} {what}" if count else f"no {what}"


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
        reason = suppression(len(seen), minimum, "developers with evidence")
        if reason:
            row["suppressed"] = reason
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
        reason = suppression(people, minimum, what)
        if reason:
            row["suppressed"] = reason
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
        reason = suppression(len(days), minimum, "developers who reached mastery")
        if reason:
            row["suppressed"] = reason
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
    shown = [row[side] for row in rows if "suppressed" not in row]
    return _rate(sum(s["introduced"] for s in shown), sum(s["opportunities"] for s in shown))


def team_report(
    store: ProgressStore,
    catalog: Catalog,
    matrix: Matrix | None,
    now: float,
    *,
    min_group_size: int | None = None,
    since: float | None = None,
    role: str | None = None,
    missing: Collection[EventKind] = frozenset(),
    source: str = "the progress store",
) -> dict[str, Any]:
    """Every team figure (shape and definitions in the module docstring).

    ``missing`` names the event kinds ``store`` cannot hold (an LRS holds no anti-patterns
    introduced): the figures built on them become unavailable, with a reason naming ``source``,
    rather than zeros that would read as a perfect team.
    """
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
    weeks, developers = load_developers(store, catalog, now, since)
    headline: dict[str, Any] = dict.fromkeys(
        (
            "recurrence_before",
            "recurrence_after",
            "median_days_to_mastery",
            "lessons_opened",
            "hints_dismissed",
            "skills_below_target",
            "skills_with_target",
        )
    )
    team_hidden = suppression(len(developers), minimum, "developers in the store")
    if team_hidden:
        # Below the minimum even skill-level aggregates would describe a handful of people.
        return {
            "developers": None,
            "min_group_size": minimum,
            "suppressed": team_hidden,
            "generated": now,
            "headline": headline,
            "matrix": targets,
            "skills": [],
            "weeks": [],
            "gaps": [],
            "unmeasured": [],
            "recurrence": [],
            "time_to_mastery": [],
            "limits": limits,
        }
    distributions = _distributions(developers, catalog, matrix, minimum)
    gaps, unmeasured = gap_analysis(distributions, matrix, catalog, role=role, top=None)
    recurring = [] if "recurrence" in limits else recurrence(developers, catalog, minimum)
    mastery = time_to_mastery(developers, catalog, minimum)
    week_rows = _week_rows(developers, weeks, minimum)
    masters = [d for d in developers if d.mastered_after]
    if suppression(len(masters), minimum, "developers who reached mastery") is None:
        days = [value for d in masters for value in d.mastered_after.values()]
        headline["median_days_to_mastery"] = round(statistics.median(days), 2)
    if recurring:
        headline["recurrence_before"] = _pooled(recurring, "before")
        headline["recurrence_after"] = _pooled(recurring, "after")
    # Over the whole period, not only the weeks drawn: the window holds at most MAX_WEEKS.
    kinds = [e.kind for d in developers for e in d.events]
    headline["lessons_opened"] = kinds.count(EventKind.LESSON_OPENED)
    headline["hints_dismissed"] = kinds.count(EventKind.HINT_DISMISSED)
    if "hints_dismissed" in limits:
        headline["hints_dismissed"] = None
        for week in week_rows:
            week["hints_dismissed"] = None
    headline["skills_below_target"] = len(gaps)
    headline["skills_with_target"] = len(targets) - len(unmeasured)
    return {
        "developers": len(developers),
        "min_group_size": minimum,
        "suppressed": None,
        "generated": now,
        "headline": headline,
        "matrix": targets,
        "skills": list(distributions.values()),
        "weeks": week_rows,
        "gaps": gaps[:TOP_GAPS],
        "unmeasured": unmeasured,
        "recurrence": recurring,
        "time_to_mastery": mastery,
        "limits": limits,
    }
