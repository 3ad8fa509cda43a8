"""Each developer's history, replayed once through the learner, for the team figures.

:func:`load_histories` reads every developer's events from the store, in time order, and
:func:`replay` replays each history once, collecting what ``figures.py`` aggregates: each one's
mastery estimates at the end of the period, the days from their first opportunity on a skill to
mastery, and their mean estimate at the end of each week (Monday to Monday, UTC). Which events
and weeks make the period is decided in ``figures.py`` (``period``). One developer's data stays
here and in ``figures.py``; only aggregates leave.
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from lessonlens.lessons.catalog import Catalog
from lessonlens.server.learner.mastery import (
    BktParams,
    Learner,
    SkillEstimate,
    is_mastered,
    params_for,
)
from lessonlens.server.learner.progress import Event, EventKind, ProgressStore

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


def read_day(text: str, *, end: bool = False) -> float:
    """A ``--since``/``--until`` value as unix seconds; ValueError when it is not a date.

    ``YYYY-MM-DD`` is a day in UTC: its first instant, or with ``end`` the first instant after it
    (so ``--until 2026-04-06`` includes all of 6 April). A date with a time is that instant (UTC
    unless it names its offset).
    """
    text = text.strip()
    try:
        day = dt.date.fromisoformat(text)
    except ValueError:
        moment = dt.datetime.fromisoformat(text)
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=dt.UTC)
        return moment.timestamp()
    start = dt.datetime.combine(day, dt.time(), dt.UTC)
    return (start + dt.timedelta(days=1) if end else start).timestamp()


def utc_day(t: float) -> str:
    """The UTC day of ``t``, as YYYY-MM-DD."""
    return dt.datetime.fromtimestamp(t, dt.UTC).strftime("%Y-%m-%d")


def weeks_between(start: float, end: float) -> list[float]:
    """The first days (Mondays, UTC) of the weeks from ``start`` to ``end`` (exclusive).

    At least one: ``start``'s week.
    """
    first = week_start(start)
    last = week_start(max(start, end - 1e-3))
    count = round((last - first) / _WEEK) + 1
    return [first + i * _WEEK for i in range(max(count, 1))]


def _replay(
    events: list[Event],
    catalog: Catalog,
    now: float,
    weeks: Sequence[float],
    fitted: Mapping[str, BktParams] | None = None,
) -> Developer:
    """Replay one developer's events through the learner, once, collecting what the figures need.

    Mastery is the learner's own judgement (``is_mastered``) at each event's time, not the stored
    ``MASTERED`` events: those are written only where an editor happened to be running.
    """
    found = Developer(events)
    learner = Learner(params_for(catalog.skills, fitted))
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
        if event.kind not in OPPORTUNITIES and event.kind not in (
            EventKind.REVIEW_ANSWERED,
            EventKind.PRACTICE_CHECKED,
        ):
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


def load_histories(
    store: ProgressStore, since: float | None, until: float | None
) -> list[list[Event]]:
    """Each developer's events from ``since`` (inclusive) to ``until`` (exclusive), in order.

    Developers with none are left out. The order of the list says nothing about anyone.
    """
    histories = []
    for developer in store.developers():
        events = sorted(store.events(developer, since=since), key=lambda e: e.time)
        if until is not None:
            events = [event for event in events if event.time < until]
        if events:
            histories.append(events)
    return histories


def replay(
    histories: Sequence[list[Event]],
    catalog: Catalog,
    end: float,
    weeks: Sequence[float],
    fitted: Mapping[str, BktParams] | None = None,
) -> list[Developer]:
    """Every history replayed once: estimates at ``end``, and the mean at each week's end.

    ``fitted`` are the parameters fitted to the team's history (``fitted.py``), where known.
    """
    return [_replay(events, catalog, end, weeks, fitted) for events in histories]
