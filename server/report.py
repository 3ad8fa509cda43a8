"""The team report: one self-contained HTML file a team lead reads, with charts drawn inline.

Self-contained means nothing is fetched when the file is opened: CSS is inline, charts are SVG
written here, and there are no scripts at all. Lesson links point to their documentation; a reader
follows them by choice, and the page draws the same with no network.

Privacy: the report is built from aggregates only. No developer pseudonym reaches the data dict,
no value describes one person, and anything computed over fewer developers than the minimum group
size is replaced by ``None`` and shown as suppressed. Nothing is ranked by developer.

The renderer takes a plain dict so that it does not care where the numbers came from (the local
store through :func:`build_report_data`, the team aggregation, or an LRS). Its shape::

    {
      "title": str,
      "generated": float,              # unix seconds
      "min_group_size": int,
      "developers": int,               # head-count of the whole team
      "suppressed": str | None,        # set when the whole team is below the minimum
      "headline": {
        "recurrence_before": float | None,   # anti-patterns per 1,000 opportunities
        "recurrence_after": float | None,
        "median_days_to_mastery": float | None,
        "lessons_opened": int,
        "hints_dismissed": int,
        "skills_below_target": int,
        "skills_with_target": int,
      },
      "skills": [{                     # the heatmap's rows
        "id": str, "name": str, "target": float | None, "priority": str,
        "developers": int | None,      # None when suppressed
        "mean": float | None,
        "bands": [int, int, int, int, int] | None,   # developers per 20% mastery band
        "suppressed": str | None,
      }],
      "weeks": [{                      # oldest first
        "start": float,
        "mean_mastery": float | None,  # None when fewer developers than the minimum had evidence
        "lessons_opened": int, "hints_dismissed": int,
      }],
      "gaps": [{                       # largest weighted gap first
        "skill_id": str, "name": str, "target": float, "mean": float, "gap": float,
        "weighted": float, "lessons": [{"id": str, "title": str, "url": str}],
      }],
      "recurrence": [{                 # per rule (anti-pattern)
        "rule_id": str, "skill_id": str, "before": float | None, "after": float | None,
      }],
      "limits": {                      # optional: what the source cannot give, and why
        "recurrence": str, "hints_dismissed": str,   # shown as unavailable, never as zero
        "mastery": str,                # estimates shown, but from part of the evidence
      },
    }
"""

from __future__ import annotations

import datetime as dt
import html
import statistics
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from typing import Any

from lessonlens.lessons.catalog import Catalog
from lessonlens.server.learner import Learner, estimate, is_mastered, params_for
from lessonlens.server.progress import Event, EventKind, ProgressStore

DEFAULT_MIN_GROUP_SIZE = 5
BANDS = tuple(f"{low}\u2013{low + 20}%" for low in range(0, 100, 20))
_WEEK = 7 * 24 * 3600.0
_DAY = 24 * 3600.0
MAX_WEEKS = 26
TOP_GAPS = 5
_PRIORITY_WEIGHT = {"high": 3.0, "medium": 2.0, "low": 1.0, "none": 0.0}
# Kinds that are an opportunity to use a skill: the recurrence rate's denominator. The store has
# no changed-lines count, so "per 1,000 opportunities" stands in for "per 1,000 changed lines".
_OPPORTUNITY = frozenset(
    {
        EventKind.SKILL_EVIDENCE,
        EventKind.ANTIPATTERN_INTRODUCED,
        EventKind.ANTIPATTERN_FIXED,
        EventKind.FIX_APPLIED,
    }
)


def _suppressed_reason(minimum: int) -> str:
    return f"fewer than {minimum} developers"


def _week_start(t: float) -> float:
    """Monday 00:00 UTC of ``t``'s week: weeks that read the same in every time zone's report."""
    day = dt.datetime.fromtimestamp(t, dt.UTC).date()
    monday = day - dt.timedelta(days=day.weekday())
    return dt.datetime.combine(monday, dt.time(), dt.UTC).timestamp()


def build_report_data(
    store: ProgressStore,
    catalog: Catalog,
    matrix_targets: Mapping[str, float],
    min_group_size: int = DEFAULT_MIN_GROUP_SIZE,
    now: float = 0.0,
    *,
    priorities: Mapping[str, str] | None = None,
    title: str = "lessonlens team report",
    missing: Collection[EventKind] = frozenset(),
    source: str = "this source",
) -> dict[str, Any]:
    """The report's dict (see the module docstring) from every developer in ``store``.

    ``matrix_targets`` maps skill ids to target mastery (0..1); a gap is weighted by the skill's
    priority (``priorities``, the matrix's, else the taxonomy's; "none" is never a gap) and by the
    team's head-count with evidence of the skill. The weekly mean
    mastery is the mean over developers of each one's mean estimate across the skills they had
    evidence of by the end of that week, so that every developer weighs the same.

    ``missing`` names the event kinds ``store`` cannot hold (an LRS holds no anti-patterns
    introduced): the figures built on them become unavailable, with a reason naming ``source``,
    rather than zeros that would read as a perfect team.
    """
    if min_group_size < 1:
        raise ValueError(f"the minimum group size must be at least 1, not {min_group_size}")
    lookup = params_for(catalog.skills)
    developers = store.developers()
    per_skill: dict[str, list[float]] = {}
    weeks: dict[float, dict[str, Any]] = {}
    first_time = min((e.time for d in developers for e in store.events(d)[:1]), default=now)
    week_starts = _weeks(first_time, now)
    weekly_means: dict[float, list[float]] = {w: [] for w in week_starts}
    for start in week_starts:
        weeks[start] = {"start": start, "lessons_opened": 0, "hints_dismissed": 0}
    lessons_opened = hints_dismissed = 0
    # rule -> developer -> [introduced before, opportunities before, introduced after, after]
    recurrence: dict[str, dict[int, list[int]]] = {}
    rule_skill: dict[str, str] = {}
    days_to_mastery: dict[int, list[float]] = {}  # developer index -> days per skill mastered

    for index, developer in enumerate(developers):
        events = sorted(store.events(developer), key=lambda e: e.time)
        for skill_id, found in estimate(events, lookup, now).items():
            if found.opportunities:
                per_skill.setdefault(skill_id, []).append(found.p_known)
        _replay_weeks(events, lookup, week_starts, weekly_means)
        for event in events:
            bucket = weeks.get(_week_start(event.time))
            if event.kind is EventKind.LESSON_OPENED:
                lessons_opened += 1
                if bucket is not None:
                    bucket["lessons_opened"] += 1
            elif event.kind is EventKind.HINT_DISMISSED:
                hints_dismissed += 1
                if bucket is not None:
                    bucket["hints_dismissed"] += 1
        _tally_recurrence(index, events, recurrence, rule_skill)
        mastered = _days_to_mastery(events, lookup)
        if mastered:
            days_to_mastery[index] = mastered

    minimum = min_group_size
    team_ok = len(developers) >= minimum
    skills = _skill_rows(catalog, matrix_targets, priorities or {}, per_skill, minimum)
    gaps = _gaps(catalog, skills, per_skill)
    rows, before, after = _recurrence_rows(recurrence, rule_skill, minimum)
    days = [d for values in days_to_mastery.values() for d in values]
    week_rows = []
    for start in week_starts:
        means = weekly_means[start]
        row = dict(weeks[start])
        row["mean_mastery"] = statistics.fmean(means) if len(means) >= minimum else None
        if not team_ok:
            row["lessons_opened"] = row["hints_dismissed"] = 0
        week_rows.append(row)
    targeted = [s for s in skills if s["target"] is not None and s["mean"] is not None]
    limits = _limits(frozenset(missing), source)
    if "recurrence" in limits:
        rows, before, after = [], None, None
    hints: int | None = hints_dismissed if team_ok else 0
    if "hints_dismissed" in limits:
        hints = None
        for row in week_rows:
            row["hints_dismissed"] = None
    return {
        "title": title,
        "generated": now,
        "min_group_size": minimum,
        "developers": len(developers),
        "suppressed": None if team_ok else _suppressed_reason(minimum),
        "headline": {
            "recurrence_before": before,
            "recurrence_after": after,
            "median_days_to_mastery": (
                statistics.median(days) if len(days_to_mastery) >= minimum else None
            ),
            "lessons_opened": lessons_opened if team_ok else 0,
            "hints_dismissed": hints,
            "skills_below_target": sum(1 for s in targeted if s["mean"] < s["target"]),
            "skills_with_target": len(targeted),
        },
        "skills": skills,
        "weeks": week_rows,
        "gaps": gaps,
        "recurrence": rows,
        "limits": limits,
    }


def _limits(missing: frozenset[EventKind], source: str) -> dict[str, str]:
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


def _weeks(first: float, now: float) -> list[float]:
    last = _week_start(now)
    start = max(_week_start(first), last - (MAX_WEEKS - 1) * _WEEK)
    count = round((last - start) / _WEEK) + 1
    return [start + i * _WEEK for i in range(max(count, 1))]


def _replay_weeks(
    events: Sequence[Event],
    lookup: Callable[[str], Any],
    week_starts: Sequence[float],
    weekly_means: dict[float, list[float]],
) -> None:
    """Add this developer's mean estimate at the end of each week, once they have evidence."""
    learner = Learner(lookup)
    position = 0
    for start in week_starts:
        end = start + _WEEK
        while position < len(events) and events[position].time < end:
            learner.apply(events[position])
            position += 1
        known = [s.p_known for s in learner.snapshots(end).values() if s.opportunities]
        if known:
            weekly_means[start].append(statistics.fmean(known))


def _tally_recurrence(
    index: int,
    events: Sequence[Event],
    recurrence: dict[str, dict[int, list[int]]],
    rule_skill: dict[str, str],
) -> None:
    """Anti-patterns introduced per rule, before and after the first lesson of its skill.

    The denominator is the skill's opportunities (any rule of the skill), on either side of the
    developer's first ``LESSON_OPENED`` for that skill; a developer who never opened one has only
    a "before".
    """
    exposed: dict[str, float] = {}
    opportunities: dict[str, list[float]] = {}
    for event in events:
        if event.kind is EventKind.LESSON_OPENED:
            exposed.setdefault(event.skill_id, event.time)
        elif event.kind in _OPPORTUNITY:
            opportunities.setdefault(event.skill_id, []).append(event.time)
        if event.kind is EventKind.ANTIPATTERN_INTRODUCED and event.rule_id:
            rule_skill.setdefault(event.rule_id, event.skill_id)
    for rule_id, skill_id in rule_skill.items():
        times = opportunities.get(skill_id)
        if not times:
            continue
        cut = exposed.get(skill_id, float("inf"))
        tally = recurrence.setdefault(rule_id, {}).setdefault(index, [0, 0, 0, 0])
        tally[1] = sum(1 for t in times if t < cut)
        tally[3] = len(times) - tally[1]
        for event in events:
            if event.kind is EventKind.ANTIPATTERN_INTRODUCED and event.rule_id == rule_id:
                tally[0 if event.time < cut else 2] += 1


def _days_to_mastery(events: Sequence[Event], lookup: Callable[[str], Any]) -> list[float]:
    """Days from each skill's first opportunity to the moment the model first judged it mastered."""
    learner = Learner(lookup)
    first: dict[str, float] = {}
    done: dict[str, float] = {}
    for event in events:
        learner.apply(event)
        if event.kind not in _OPPORTUNITY and event.kind is not EventKind.REVIEW_ANSWERED:
            continue
        skill = event.skill_id
        first.setdefault(skill, event.time)
        if skill not in done and is_mastered(learner.snapshot(skill, event.time)):
            done[skill] = (event.time - first[skill]) / _DAY
    return list(done.values())


def _skill_rows(
    catalog: Catalog,
    targets: Mapping[str, float],
    priorities: Mapping[str, str],
    per_skill: Mapping[str, list[float]],
    minimum: int,
) -> list[dict[str, Any]]:
    rows = []
    for skill_id in sorted(set(per_skill) | set(targets)):
        skill = catalog.skill(skill_id)
        values = per_skill.get(skill_id, [])
        shown = len(values) >= minimum
        bands = [0] * len(BANDS)
        for value in values:
            bands[min(int(value * len(BANDS)), len(BANDS) - 1)] += 1
        rows.append(
            {
                "id": skill_id,
                "name": skill.name if skill is not None else skill_id,
                "target": targets.get(skill_id),
                "priority": priorities.get(
                    skill_id, skill.priority if skill is not None else "medium"
                ),
                "developers": len(values) if shown else None,
                "mean": statistics.fmean(values) if shown else None,
                "bands": bands if shown else None,
                "suppressed": None if shown else _suppressed_reason(minimum),
            }
        )
    return rows


def _gaps(
    catalog: Catalog, skills: Sequence[Mapping[str, Any]], per_skill: Mapping[str, list[float]]
) -> list[dict[str, Any]]:
    by_skill: dict[str, list[dict[str, str]]] = {}
    for lesson in sorted(catalog.lessons.values(), key=lambda lesson: lesson.id):
        by_skill.setdefault(lesson.skill_id, []).append(
            {"id": lesson.id, "title": lesson.title, "url": lesson.url}
        )
    gaps = []
    for row in skills:
        target, mean = row["target"], row["mean"]
        if target is None or mean is None or mean >= target:
            continue
        gap = target - mean
        weight = _PRIORITY_WEIGHT.get(row["priority"], 2.0)
        if weight == 0:
            continue
        gaps.append(
            {
                "skill_id": row["id"],
                "name": row["name"],
                "target": target,
                "mean": mean,
                "gap": gap,
                "weighted": gap * weight * len(per_skill.get(row["id"], [])),
                "lessons": by_skill.get(row["id"], [])[:3],
            }
        )
    gaps.sort(key=lambda g: (-g["weighted"], g["skill_id"]))
    return gaps[:TOP_GAPS]


def _rate(introduced: int, opportunities: int) -> float | None:
    return 1000.0 * introduced / opportunities if opportunities else None


def _recurrence_rows(
    recurrence: Mapping[str, Mapping[int, list[int]]], rule_skill: Mapping[str, str], minimum: int
) -> tuple[list[dict[str, Any]], float | None, float | None]:
    """Per-rule rates and the pooled headline rates; each side needs ``minimum`` developers."""
    rows = []
    pooled = [0, 0, 0, 0]
    before_devs: set[int] = set()
    after_devs: set[int] = set()
    for rule_id in sorted(recurrence):
        tallies = recurrence[rule_id]
        sums = [sum(t[i] for t in tallies.values()) for i in range(4)]
        n_before = sum(1 for t in tallies.values() if t[1])
        n_after = sum(1 for t in tallies.values() if t[3])
        before = _rate(sums[0], sums[1]) if n_before >= minimum else None
        after = _rate(sums[2], sums[3]) if n_after >= minimum else None
        if before is None and after is None:
            continue
        rows.append(
            {"rule_id": rule_id, "skill_id": rule_skill[rule_id], "before": before, "after": after}
        )
        for i in range(4):
            pooled[i] += sums[i]
        before_devs.update(d for d, t in tallies.items() if t[1])
        after_devs.update(d for d, t in tallies.items() if t[3])
    return (
        rows,
        _rate(pooled[0], pooled[1]) if len(before_devs) >= minimum else None,
        _rate(pooled[2], pooled[3]) if len(after_devs) >= minimum else None,
    )


# ---------------------------------------------------------------------------------------------
# Rendering

_E = html.escape
_BLUE = "#1f5fa8"
_ORANGE = "#c2570c"
_GREY = "#6b7280"

_CSS = """
:root { color-scheme: light; }
* { box-sizing: border-box; }
body { font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1f2328;
  margin: 0 auto; max-width: 1100px; padding: 24px 32px 48px; background: #fff; }
h1 { font-size: 26px; margin: 0 0 4px; }
h2 { font-size: 19px; margin: 36px 0 8px; border-bottom: 1px solid #d0d7de; padding-bottom: 4px; }
p.meta, p.note, figcaption { color: #57606a; font-size: 13px; }
.cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(150px, 1fr)); gap: 12px;
  margin: 20px 0 8px; }
.card { border: 1px solid #d0d7de; border-radius: 8px; padding: 12px 14px; }
.card .value { font-size: 26px; font-weight: 650; display: block; }
.card .label { color: #57606a; font-size: 13px; }
.good { color: #1a7f37; } .bad { color: #b42318; }
figure { margin: 8px 0 0; }
svg { max-width: 100%; height: auto; font-family: inherit; }
svg text { fill: #1f2328; font-size: 12px; }
svg text.muted { fill: #57606a; }
table { border-collapse: collapse; margin-top: 8px; font-size: 14px; }
th, td { text-align: left; padding: 4px 10px; border-bottom: 1px solid #eaeef2; }
ul.lessons { margin: 2px 0 10px; padding-left: 20px; }
.banner { background: #fff8c5; border: 1px solid #d4a72c; border-radius: 6px; padding: 8px 12px; }
section { break-inside: avoid; page-break-inside: avoid; }
@media print {
  body { padding: 0; max-width: none; font-size: 12px; }
  h2 { margin-top: 20px; }
  a { color: inherit; }
}
"""


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value:.0%}"


def _num(value: float | None, digits: int = 1) -> str:
    return "—" if value is None else f"{value:.{digits}f}"


def _date(t: float) -> str:
    return dt.datetime.fromtimestamp(t, dt.UTC).strftime("%Y-%m-%d")


def _svg(width: int, height: int, label_id: str, title: str, body: Iterable[str]) -> str:
    # role="img" with a <title> is what screen readers announce for an inline SVG chart.
    return (
        f'<svg viewBox="0 0 {width} {height}" width="{width}" '
        f'height="{height}" role="img" aria-labelledby="{label_id}">'
        f'<title id="{label_id}">{_E(title)}</title>{"".join(body)}</svg>'
    )


def _heat_colour(share: float) -> str:
    # White to dark blue; the text colour flips on dark cells to keep contrast.
    share = max(0.0, min(1.0, share))
    r = round(255 + (31 - 255) * share)
    g = round(255 + (95 - 255) * share)
    b = round(255 + (168 - 255) * share)
    return f"rgb({r},{g},{b})"


def _heatmap(skills: Sequence[Mapping[str, Any]], minimum: int) -> str:
    if not skills:
        return '<p class="note">No skill evidence recorded yet.</p>'
    label_w, cell_w, cell_h, top = 230, 92, 30, 40
    extra_w = 170
    width = label_w + cell_w * len(BANDS) + extra_w
    height = top + cell_h * len(skills) + 10
    parts = [
        '<defs><pattern id="hatch" width="6" height="6" patternUnits="userSpaceOnUse" '
        'patternTransform="rotate(45)"><rect width="6" height="6" fill="#f3f4f6"/>'
        '<line x1="0" y1="0" x2="0" y2="6" stroke="#d1d5db" stroke-width="3"/></pattern></defs>'
    ]
    for i, band in enumerate(BANDS):
        x = label_w + i * cell_w + cell_w / 2
        parts.append(f'<text x="{x}" y="{top - 22}" text-anchor="middle">{_E(band)}</text>')
    parts.append(
        f'<text x="{label_w + cell_w * len(BANDS) / 2}" y="{top - 6}" text-anchor="middle" '
        'class="muted">developers per mastery band</text>'
    )
    parts.append(
        f'<text x="{label_w + cell_w * len(BANDS) + 12}" y="{top - 14}">mean / target</text>'
    )
    for row_index, row in enumerate(skills):
        y = top + row_index * cell_h
        name = _E(row["name"])
        parts.append(
            f'<text x="{label_w - 10}" y="{y + cell_h / 2 + 4}" text-anchor="end">{name}</text>'
        )
        bands = row["bands"]
        if bands is None:
            parts.append(
                f'<rect x="{label_w}" y="{y + 1}" width="{cell_w * len(BANDS)}" '
                f'height="{cell_h - 2}" fill="url(#hatch)"><title>{name}: suppressed, '
                f"{_E(row['suppressed'] or '')}</title></rect>"
            )
            parts.append(
                f'<text x="{label_w + cell_w * len(BANDS) / 2}" y="{y + cell_h / 2 + 4}" '
                f'text-anchor="middle" class="muted">suppressed: {_E(row["suppressed"] or "")}'
                "</text>"
            )
        else:
            total = sum(bands) or 1
            for i, count in enumerate(bands):
                share = count / total
                x = label_w + i * cell_w
                colour = "#fff" if share > 0.55 else "#1f2328"
                parts.append(
                    f'<rect x="{x + 1}" y="{y + 1}" width="{cell_w - 2}" height="{cell_h - 2}" '
                    f'fill="{_heat_colour(share)}" stroke="#d0d7de"><title>{name}, '
                    f"{BANDS[i]}: {count} of {total} developers</title></rect>"
                )
                parts.append(
                    f'<text x="{x + cell_w / 2}" y="{y + cell_h / 2 + 4}" text-anchor="middle" '
                    f'style="fill:{colour}">{count}</text>'
                )
        target = row["target"]
        summary = f"{_pct(row['mean'])} / {_pct(target) if target is not None else 'no target'}"
        below = row["mean"] is not None and target is not None and row["mean"] < target
        style = ' style="fill:#b42318"' if below else ""
        parts.append(
            f'<text x="{label_w + cell_w * len(BANDS) + 12}" y="{y + cell_h / 2 + 4}"'
            f"{style}>{_E(summary)}</text>"
        )
    title = (
        "Team mastery heatmap: developers per mastery band for each skill; skills with fewer "
        f"than {minimum} developers are suppressed"
    )
    return _svg(width, height, "heatmap-title", title, parts)


def _progress(weeks: Sequence[Mapping[str, Any]], minimum: int) -> str:
    points = [(i, w["mean_mastery"]) for i, w in enumerate(weeks)]
    if not any(value is not None for _, value in points):
        return (
            f'<p class="note">Not enough data yet: a week is shown once at least {minimum} '
            "developers have evidence.</p>"
        )
    width, height, left, right, top, bottom = 900, 280, 56, 50, 16, 46
    plot_w, plot_h = width - left - right, height - top - bottom
    step = plot_w / max(len(weeks) - 1, 1)

    def xy(i: int, value: float) -> tuple[float, float]:
        return left + i * step, top + plot_h * (1 - value)

    parts = []
    for tick in (0.0, 0.25, 0.5, 0.75, 1.0):
        y = top + plot_h * (1 - tick)
        parts.append(
            f'<line x1="{left}" x2="{width - right}" y1="{y}" y2="{y}" stroke="#eaeef2"/>'
            f'<text x="{left - 8}" y="{y + 4}" text-anchor="end" class="muted">{tick:.0%}</text>'
        )
    label_every = max(1, len(weeks) // 8)
    for i, week in enumerate(weeks):
        if i % label_every == 0 or i == len(weeks) - 1:
            x = left + i * step
            parts.append(
                f'<text x="{x}" y="{height - bottom + 18}" text-anchor="middle" '
                f'class="muted">{_date(week["start"])}</text>'
            )
    # One polyline per run of shown weeks: a suppressed week is a gap, not a drop to zero.
    run: list[str] = []
    runs: list[list[str]] = []
    for i, value in points:
        if value is None:
            if run:
                runs.append(run)
            run = []
        else:
            x, y = xy(i, value)
            run.append(f"{x:.1f},{y:.1f}")
    if run:
        runs.append(run)
    for segment in runs:
        parts.append(
            f'<polyline points="{" ".join(segment)}" fill="none" stroke="{_BLUE}" '
            'stroke-width="2.5"/>'
        )
    for i, value in points:
        if value is not None:
            x, y = xy(i, value)
            parts.append(
                f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3.5" fill="{_BLUE}"><title>week of '
                f"{_date(weeks[i]['start'])}: mean mastery {value:.0%}</title></circle>"
            )
    parts.append(
        f'<text x="{left + plot_w / 2}" y="{height - 6}" text-anchor="middle" class="muted">'
        "week starting (UTC)</text>"
    )
    title = "Progress over time: the team's mean mastery estimate at the end of each week"
    return _svg(width, height, "progress-title", title, parts)


def _bar_pairs(
    chart_id: str,
    title: str,
    rows: Sequence[tuple[str, float | None, float | None]],
    names: tuple[str, str],
    fmt: Callable[[float | None], str],
    none_text: str = "suppressed",
) -> str:
    """Horizontal paired bars (before/after, opened/dismissed), one pair per row label."""
    label_w, bar_h, gap, top, right = 230, 14, 12, 34, 90
    width = 900
    plot_w = width - label_w - right
    peak = max((v for _, a, b in rows for v in (a, b) if v is not None), default=0.0) or 1.0
    height = top + len(rows) * (2 * bar_h + gap) + 8
    parts = [
        f'<rect x="{label_w}" y="6" width="12" height="12" fill="{_BLUE}"/>'
        f'<text x="{label_w + 18}" y="16">{_E(names[0])}</text>'
        f'<rect x="{label_w + 170}" y="6" width="12" height="12" fill="{_ORANGE}"/>'
        f'<text x="{label_w + 188}" y="16">{_E(names[1])}</text>'
    ]
    for index, (label, first, second) in enumerate(rows):
        y = top + index * (2 * bar_h + gap)
        parts.append(
            f'<text x="{label_w - 10}" y="{y + bar_h + 4}" text-anchor="end">{_E(label)}</text>'
        )
        for offset, value, colour, name in (
            (0, first, _BLUE, names[0]),
            (bar_h, second, _ORANGE, names[1]),
        ):
            if value is None:
                parts.append(
                    f'<text x="{label_w + 4}" y="{y + offset + bar_h - 3}" class="muted">'
                    f"{_E(name)}: {_E(none_text)}</text>"
                )
                continue
            w = plot_w * value / peak
            parts.append(
                f'<rect x="{label_w}" y="{y + offset}" width="{w:.1f}" height="{bar_h - 1}" '
                f'fill="{colour}"><title>{_E(label)}, {_E(name)}: {_E(fmt(value))}</title></rect>'
                f'<text x="{label_w + w + 6:.1f}" y="{y + offset + bar_h - 3}">'
                f"{_E(fmt(value))}</text>"
            )
    return _svg(width, height, f"{chart_id}-title", title, parts)


def _gap_chart(gaps: Sequence[Mapping[str, Any]]) -> str:
    if not gaps:
        return (
            '<p class="note">No gaps: every skill with a target in the matrix and enough '
            "developers is at or above it.</p>"
        )
    label_w, row_h, top, width, right = 230, 30, 24, 900, 120
    plot_w = width - label_w - right
    height = top + row_h * len(gaps) + 8
    parts = [
        f'<text x="{label_w}" y="14" class="muted">0%</text>'
        f'<text x="{label_w + plot_w}" y="14" text-anchor="end" class="muted">100%</text>'
    ]
    for index, gap in enumerate(gaps):
        y = top + index * row_h
        mean_x = label_w + plot_w * gap["mean"]
        target_x = label_w + plot_w * gap["target"]
        name = _E(gap["name"])
        parts.append(
            f'<text x="{label_w - 10}" y="{y + 16}" text-anchor="end">{name}</text>'
            f'<rect x="{label_w}" y="{y + 6}" width="{plot_w}" height="14" fill="#f3f4f6"/>'
            f'<rect x="{label_w}" y="{y + 6}" width="{mean_x - label_w:.1f}" height="14" '
            f'fill="{_BLUE}"><title>{name}: team mean {gap["mean"]:.0%}</title></rect>'
            f'<rect x="{mean_x:.1f}" y="{y + 6}" width="{target_x - mean_x:.1f}" height="14" '
            f'fill="{_ORANGE}" fill-opacity="0.35"><title>{name}: gap of {gap["gap"]:.0%} to the '
            f"target {gap['target']:.0%}</title></rect>"
            f'<line x1="{target_x:.1f}" x2="{target_x:.1f}" y1="{y + 2}" y2="{y + 24}" '
            'stroke="#1f2328" stroke-width="2"/>'
            f'<text x="{label_w + plot_w + 8}" y="{y + 17}">{gap["mean"]:.0%} → '
            f"{gap['target']:.0%}</text>"
        )
    title = "Top gaps: team mean mastery (blue) against the matrix target (black line)"
    return _svg(width, height, "gaps-title", title, parts)


def _card(value: str, label: str, css: str = "") -> str:
    klass = f' class="value {css}"' if css else ' class="value"'
    return (
        f'<div class="card"><span{klass}>{_E(value)}</span>'
        f'<span class="label">{_E(label)}</span></div>'
    )


def render_html(report: Mapping[str, Any]) -> str:
    """The report as one self-contained HTML document (see the module docstring for its input)."""
    minimum = int(report["min_group_size"])
    head = report["headline"]
    before, after = head["recurrence_before"], head["recurrence_after"]
    trend = ""
    if before is not None and after is not None:
        trend = "good" if after < before else "bad" if after > before else ""
    days = head["median_days_to_mastery"]
    limits: Mapping[str, str] = report.get("limits") or {}
    unavailable = "n/a"
    no_recurrence = "recurrence" in limits
    no_hints = "hints_dismissed" in limits
    cards = [
        _card(
            unavailable if no_recurrence else _num(before),
            "anti-patterns per 1,000 opportunities before the first lesson",
        ),
        _card(
            unavailable if no_recurrence else _num(after),
            "anti-patterns per 1,000 opportunities after it",
            trend,
        ),
        _card(_num(days), "median days to mastery of a skill"),
        _card(
            f"{head['skills_below_target']} of {head['skills_with_target']}",
            "skills below their matrix target",
        ),
        _card(str(head["lessons_opened"]), "lessons opened"),
        _card(unavailable if no_hints else str(head["hints_dismissed"]), "hints dismissed"),
    ]
    weeks = report["weeks"]
    banner = ""
    if report["suppressed"]:
        banner = (
            f'<p class="banner">This team has {_E(str(report["suppressed"]))}: most figures are '
            "suppressed to protect individuals.</p>"
        )
    gaps_html = [_gap_chart(report["gaps"])]
    for gap in report["gaps"]:
        gaps_html.append(f"<h3>{_E(gap['name'])}</h3>")
        if gap["lessons"]:
            items = "".join(
                f'<li><a href="{_E(lesson["url"])}">{_E(lesson["title"])}</a> '
                f'<span class="note">(<code>lessonlens explain {_E(lesson["id"])}</code>)</span>'
                "</li>"
                for lesson in gap["lessons"]
            )
            gaps_html.append(f'<ul class="lessons">{items}</ul>')
        else:
            gaps_html.append('<p class="note">No lesson in the catalog teaches this skill yet.</p>')
    if limits:
        items = "".join(f"<li>{_E(limits[key])}</li>" for key in sorted(limits))
        banner += (
            f'<div class="banner"><p>Limits of this report\'s source:</p><ul>{items}</ul></div>'
        )
    recurrence = report["recurrence"]
    if no_recurrence:
        recurrence_html = f'<p class="note">Recurrence is {_E(limits["recurrence"])}.</p>'
    elif recurrence:
        recurrence_html = _bar_pairs(
            "recurrence",
            "Recurrence of each anti-pattern per 1,000 opportunities, before and after the "
            "developer's first lesson on its skill",
            [(f"{r['rule_id']} ({r['skill_id']})", r["before"], r["after"]) for r in recurrence],
            ("before the first lesson", "after it"),
            lambda v: _num(v),
        )
    else:
        recurrence_html = (
            f'<p class="note">Not enough data: a rate is shown once at least {minimum} '
            "developers contribute to it.</p>"
        )
    shown_weeks = [w for w in weeks if w["lessons_opened"] or w["hints_dismissed"]]
    if shown_weeks and not report["suppressed"]:
        engagement_html = _bar_pairs(
            "engagement",
            "Engagement per week: lessons opened and hints dismissed by the whole team",
            [(_date(w["start"]), w["lessons_opened"], w["hints_dismissed"]) for w in shown_weeks],
            ("lessons opened", "hints dismissed"),
            lambda v: "—" if v is None else f"{v:.0f}",
            "not available" if no_hints else "suppressed",
        )
    else:
        engagement_html = '<p class="note">No engagement recorded yet.</p>'
    period = f"{_date(weeks[0]['start'])} to {_date(report['generated'])}" if weeks else ""
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{_E(report["title"])}</title>
<style>{_CSS}</style>
</head>
<body>
<header>
<h1>{_E(report["title"])}</h1>
<p class="meta">Generated {_date(report["generated"])} (UTC) · period {_E(period)} ·
{report["developers"]} developers · groups smaller than {minimum} are never shown ·
no individual is named or ranked</p>
{banner}
</header>
<main>
<section aria-labelledby="h-headline">
<h2 id="h-headline">Headline: capability, not completion</h2>
<div class="cards">{"".join(cards)}</div>
<p class="note">Opportunities are edits where a skill applied (the store counts no changed
lines, so they stand in for them). A lower rate after the first lesson means the lesson changed
the code people write.</p>
</section>
<section aria-labelledby="h-heatmap">
<h2 id="h-heatmap">Team mastery by skill</h2>
<figure>{_heatmap(report["skills"], minimum)}
<figcaption>Each cell counts developers whose mastery estimate falls in the band; the darker, the
larger the share of the skill's developers. Hatched rows have fewer than {minimum} developers
with evidence and are suppressed.</figcaption></figure>
</section>
<section aria-labelledby="h-progress">
<h2 id="h-progress">Progress over time</h2>
<figure>{_progress(weeks, minimum)}
<figcaption>The mean over developers of each one's mean mastery estimate at the end of the week.
Weeks with fewer than {minimum} developers with evidence are left out (gaps in the line).
</figcaption></figure>
</section>
<section aria-labelledby="h-gaps">
<h2 id="h-gaps">Top gaps against the skill matrix</h2>
<p class="note">Target minus team mean, weighted by priority and head-count; the lessons listed
teach the skill.</p>
<figure>{"".join(gaps_html)}</figure>
</section>
<section aria-labelledby="h-recurrence">
<h2 id="h-recurrence">Recurrence before and after lessons</h2>
<figure>{recurrence_html}</figure>
</section>
<section aria-labelledby="h-engagement">
<h2 id="h-engagement">Engagement</h2>
<figure>{engagement_html}</figure>
</section>
</main>
</body>
</html>
"""


__all__ = ["DEFAULT_MIN_GROUP_SIZE", "build_report_data", "render_html"]
