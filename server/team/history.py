"""Each developer's history, replayed once through the learner, for the team figures.

:func:`load_developers` reads every developer's events from the store and replays them in time
order, collecting what ``figures.py`` aggregates: each one's mastery estimates at ``now``, the
days from their first opportunity on a skill to mastery, and their mean estimate at the end of
each week (the weeks are Monday to Monday, UTC, at most ``MAX_WEEKS`` of them). One developer's
data stays here and in ``figures.py``; only aggregates leave.
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field

from lessonlens.lessons.catalog import Catalog
from lessonlens.server.learner.mastery import Learner, SkillEstimate, is_mastered, params_for
from lessonlens.server.learner.progress import Event, EventKind, ProgressStore

MAX_WEEKS = 26
_DAY = 24 * 3600.0
_WEEK = 7 * _DAY
# Events where the developer's code was checked for a skill: each is one edit opportunity. The
# store counts no changed lines (events carry ids only), so opportunities stand in for them.
OPPORTUNITIES = frozenset(
    {
        EventKind.SKILL_EVIDENCE,
        EventKind.ANTIPATTERN_INTRODUCED,
        EventKind.ANTIPATTERN_FIXED,
        EventKind.FIX_APPLIED,
    }
)


@dataclass
class Developer:
    """One developer's data, kept only while the team figures aggregate it: no figure shows it."""

    events: list[Event]
    estimates: dict[str, SkillEstimate] = field(default_factory=dict)
    mastered_after: dict[str, float] = field(default_factory=dict)  # skill -> days
    weekly: dict[float, float] = field(default_factory=dict)  # week start -> mean estimate


def week_start(t: float) -> float:
    """Monday 00:00 UTC of ``t``'s week: weeks that read the same in every time zone."""
    day = dt.datetime.fromtimestamp(t, dt.UTC).date()
    monday = day - dt.timedelta(days=day.weekday())
    return dt.datetime.combine(monday, dt.time(), dt.UTC).timestamp()


def _weeks(first: float, now: float) -> list[float]:
    last = week_start(now)
    start = max(week_start(first), last - (MAX_WEEKS - 1) * _WEEK)
    count = round((last - start) / _WEEK) + 1
    return [start + i * _WEEK for i in range(max(count, 1))]


def _replay(events: list[Event], catalog: Catalog, now: float, weeks: Sequence[float]) -> Developer:
    """Replay one developer's events through the learner, once, collecting what the figures need.

    Mastery is the learner's own judgement (``is_mastered``) at each event's time, not the stored
    ``MASTERED`` events: those are written only where an editor happened to be running.
    """
    found = Developer(events)
    learner = Learner(params_for(catalog.skills))
    first: dict[str, float] = {}
    week = 0

    def close_week() -> None:
        end = weeks[week] + _WEEK
        known = [s.p_known for s in learner.snapshots(end).values() if s.opportunities]
        if known:
            found.weekly[weeks[week]] = statistics.fmean(known)

    for event in events:
        while week < len(weeks) and event.time >= weeks[week] + _WEEK:
            close_week()
            week += 1
        learner.apply(event)
        if event.kind not in OPPORTUNITIES and event.kind is not EventKind.REVIEW_ANSWERED:
            continue
        skill = event.skill_id
        first.setdefault(skill, event.time)
        if skill not in found.mastered_after and is_mastered(learner.snapshot(skill, event.time)):
            found.mastered_after[skill] = (event.time - first[skill]) / _DAY
    while week < len(weeks):
        close_week()
        week += 1
    found.estimates = learner.snapshots(now)
    return found


def load_developers(
    store: ProgressStore, catalog: Catalog, now: float, since: float | None
) -> tuple[list[float], list[Developer]]:
    histories = []
    for developer in store.developers():
        events = sorted(store.events(developer, since=since), key=lambda e: e.time)
        if events:
            histories.append(events)
    weeks = _weeks(min((h[0].time for h in histories), default=now), now)
    return weeks, [_replay(events, catalog, now, weeks) for events in histories]
