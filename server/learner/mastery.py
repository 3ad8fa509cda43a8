"""The learner model: Bayesian Knowledge Tracing per developer and skill, and hint fading.

Each skill is a hidden two-state variable, known or not. An *opportunity* is an edit where the
skill applies; what the developer wrote there is a noisy observation of that state (``guess``:
right without knowing, ``slip``: wrong although known), and after each opportunity an unknown
skill becomes known with probability ``learn`` (Corbett and Anderson's BKT, with no forgetting, as
in pyBKT's defaults). Spaced refreshers (``server/refreshers.py``) deal with forgetting instead.

The estimate is recomputed from the event history rather than stored: the history is the truth,
so that a change of parameters, or ``progress --forget``, needs no migration of derived state.

Reading a lesson is deliberately *not* evidence: the product measures capability, not
attendance, so only code the developer writes (and review answers) moves the estimate.
"""

from __future__ import annotations

import enum
from bisect import bisect_right
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, fields
from typing import Literal

from lessonlens.lessons.skills import Skill
from lessonlens.server.learner.progress import Event, EventKind

MASTERY = 0.95
"""pyBKT Roster's default mastery threshold: at and above it a skill's hints fall silent."""

# (quiet from, silent from) per team priority: a high-priority skill keeps the full lesson longer
# and needs more certainty before it goes silent.
_THRESHOLDS: Mapping[str, tuple[float, float]] = {
    "high": (0.7, 0.98),
    "medium": (0.6, MASTERY),
    "low": (0.5, 0.9),
}
_WEEK = 7 * 24 * 3600.0

_CORRECT = frozenset({EventKind.SKILL_EVIDENCE, EventKind.ANTIPATTERN_FIXED})
# Observed outcomes when ``correct`` is set, nothing otherwise.
_ANSWERED = frozenset({EventKind.REVIEW_ANSWERED, EventKind.PRACTICE_CHECKED})


@dataclass(frozen=True)
class BktParams:
    """The four BKT probabilities of one skill.

    All strictly between 0 and 1, and ``guess + slip < 1``: at the bounds one observation would
    settle the estimate for ever, and past the sum a correct answer would be evidence of *not*
    knowing the skill.
    """

    prior: float = 0.2
    learn: float = 0.15
    guess: float = 0.2
    slip: float = 0.1

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if not 0 < value < 1:
                raise ValueError(f"BKT {f.name} must be strictly between 0 and 1, not {value}")
        if self.guess + self.slip >= 1:
            raise ValueError(f"BKT guess + slip must be below 1, not {self.guess + self.slip}")


@dataclass(frozen=True)
class SkillEstimate:
    skill_id: str
    p_known: float
    # Opportunities that moved the estimate: correct + incorrect + quick fixes applied.
    opportunities: int
    correct: int
    incorrect: int
    lessons_opened: int
    last_seen: float | None  # time of the last opportunity; None if only hints or lessons so far
    claimed: bool  # the developer said "I know this"
    trend: float  # p_known now minus p_known 7 days ago; 0 if nothing was known of it then

    @property
    def fixes_applied(self) -> int:
        return self.opportunities - self.correct - self.incorrect


class Treatment(enum.Enum):
    FULL = "full"  # diagnostic, lesson on hover, code lens
    QUIET = "quiet"  # a quiet hint with a "Show lesson" action
    SILENT = "silent"  # nothing unless asked for


def bkt_update(p_known: float, params: BktParams, correct: bool) -> float:
    """The probability the skill is known after observing one opportunity, then learning.

    The posterior comes first (Bayes on the observation), the learning transition second: the
    opportunity itself is a chance to learn, whatever its outcome.
    """
    if correct:
        seen_if_known = p_known * (1 - params.slip)
        seen = seen_if_known + (1 - p_known) * params.guess
    else:
        seen_if_known = p_known * params.slip
        seen = seen_if_known + (1 - p_known) * (1 - params.guess)
    posterior = seen_if_known / seen
    return bkt_learning_only(posterior, params)


def bkt_learning_only(p_known: float, params: BktParams) -> float:
    """A learning opportunity without an observation: the tool's quick fix wrote the code.

    Applying it shows the developer the right form (a chance to learn) but says nothing about
    whether they could have written it, so there is no Bayes step.
    """
    return p_known + (1 - p_known) * params.learn


def predict_correct(p_known: float, params: BktParams) -> float:
    """The probability that the next opportunity is handled correctly."""
    return p_known * (1 - params.slip) + (1 - p_known) * params.guess


def outcome(event: Event) -> bool | Literal["practice"] | None:
    """What the event shows as an opportunity, as ``Learner.apply`` reads it.

    True or False for an observed outcome, ``"practice"`` for a learning opportunity without an
    observation (a quick fix applied), None for no opportunity at all (a hint shown, a lesson
    opened). The parameter fitting (``fitting.py``) reads the history through this.
    """
    kind = event.kind
    if kind in (EventKind.FIX_APPLIED, EventKind.SKILL_PRACTICED):
        return "practice"
    if kind is EventKind.ANTIPATTERN_INTRODUCED:
        return False
    if kind in _CORRECT:
        return True
    if kind in _ANSWERED:
        return event.correct
    return None


@dataclass
class _Tally:
    params: BktParams
    p_known: float
    opportunities: int = 0
    correct: int = 0
    incorrect: int = 0
    lessons_opened: int = 0
    last_seen: float | None = None
    claimed: bool = False
    # The estimate as it stood at the start of the trend window, once an opportunity preceded it.
    p_week_ago: float | None = None


class Learner:
    """One developer's estimates, updated one event at a time.

    Events must arrive in time order (``estimate`` sorts them first); each costs O(1), so an
    editor can record an event without replaying the developer's history.
    """

    def __init__(self, params_for: Callable[[str], BktParams]) -> None:
        self._params_for = params_for
        self._tallies: dict[str, _Tally] = {}
        # (time, p_known after that opportunity), per skill: the trend's memory.
        self._history: dict[str, tuple[list[float], list[float]]] = {}

    def apply(self, event: Event) -> None:
        tally = self._tallies.get(event.skill_id)
        if tally is None:
            params = self._params_for(event.skill_id)
            tally = self._tallies[event.skill_id] = _Tally(params, params.prior)
        kind = event.kind
        if kind is EventKind.LESSON_OPENED:
            tally.lessons_opened += 1
            return
        if kind is EventKind.I_KNOW_THIS:
            tally.claimed = True
            return
        correct: bool | None  # None: a learning opportunity without an observation
        if kind in (EventKind.FIX_APPLIED, EventKind.SKILL_PRACTICED):
            correct = None
        elif kind is EventKind.ANTIPATTERN_INTRODUCED:
            correct = False
        elif kind in _CORRECT:
            correct = True
        elif kind is EventKind.REVIEW_ANSWERED and event.correct is not None:
            correct = event.correct
        elif kind is EventKind.PRACTICE_CHECKED and event.correct is not None:
            # Code the developer wrote to a check: capability shown (or not), like an answer.
            correct = event.correct
        else:
            return
        if correct is None:
            tally.p_known = bkt_learning_only(tally.p_known, tally.params)
        else:
            tally.p_known = bkt_update(tally.p_known, tally.params, correct)
            if correct:
                tally.correct += 1
            else:
                tally.incorrect += 1
        tally.opportunities += 1
        tally.last_seen = event.time
        times, values = self._history.setdefault(event.skill_id, ([], []))
        times.append(event.time)
        values.append(tally.p_known)

    def snapshot(self, skill_id: str, now: float) -> SkillEstimate | None:
        tally = self._tallies.get(skill_id)
        if tally is None:
            return None
        times, values = self._history.get(skill_id, ([], []))
        # The estimate as it stood a week ago: after the last opportunity before the window.
        index = bisect_right(times, now - _WEEK) - 1
        then = values[index] if index >= 0 else None
        return SkillEstimate(
            skill_id=skill_id,
            p_known=tally.p_known,
            opportunities=tally.opportunities,
            correct=tally.correct,
            incorrect=tally.incorrect,
            lessons_opened=tally.lessons_opened,
            last_seen=tally.last_seen,
            claimed=tally.claimed,
            trend=0.0 if then is None else tally.p_known - then,
        )

    def snapshots(self, now: float) -> dict[str, SkillEstimate]:
        found = (self.snapshot(skill_id, now) for skill_id in self._tallies)
        return {e.skill_id: e for e in found if e is not None}


def estimate(
    events: Iterable[Event], params_for: Callable[[str], BktParams], now: float
) -> dict[str, SkillEstimate]:
    """Each skill's estimate from ONE developer's events (the caller filters by developer).

    Events are replayed in time order (a stable sort, so that events recorded in the same second
    keep their recorded order, and batches written out of order by several editor windows still
    replay correctly). Hints shown, dismissals, mutes and ``MASTERED`` events do not move the
    estimate; the last is this model's own output, and feeding it back would count twice.
    """
    learner = Learner(params_for)
    for event in sorted(events, key=lambda e: e.time):
        learner.apply(event)
    return learner.snapshots(now)


def _thresholds(priority: str) -> tuple[float, float]:
    try:
        return _THRESHOLDS[priority]
    except KeyError:
        raise ValueError(f"unknown priority {priority!r}") from None


# Three lucky guesses in a row can lift BKT past 0.95 (the simulation test showed 41% of
# never-learners judged mastered at least once): silence needs this much evidence as well.
MIN_CORRECT_FOR_MASTERY = 3


def is_mastered(estimate: SkillEstimate | None) -> bool:
    return (
        estimate is not None
        and estimate.p_known >= MASTERY
        and estimate.correct >= MIN_CORRECT_FOR_MASTERY
    )


def treatment(estimate: SkillEstimate | None, priority: str) -> Treatment:
    """How loudly to show a finding of this skill, given its estimate and team priority.

    No estimate means no evidence yet: the full treatment (per-skill priors are kept below the
    quiet threshold in skills.toml, so this agrees with what an estimate at the prior would give).
    """
    if priority == "none":
        return Treatment.SILENT
    quiet_from, silent_from = _thresholds(priority)
    if estimate is None:
        return Treatment.FULL
    if estimate.claimed or (
        estimate.p_known >= silent_from and estimate.correct >= MIN_CORRECT_FOR_MASTERY
    ):
        return Treatment.SILENT
    if estimate.p_known >= quiet_from:
        return Treatment.QUIET
    return Treatment.FULL


def _count(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


def why(
    estimate: SkillEstimate | None, treatment: Treatment, *, priority: str | None = None
) -> str:
    """One line for a hover: why this treatment, with the estimate and the evidence behind it.

    Pass ``priority`` when known: without it a silence cannot be told apart from a team's
    "not a priority" when the estimate is below mastery.
    """
    if treatment is Treatment.FULL:
        lead = "Full lesson"
    elif treatment is Treatment.QUIET:
        lead = "Quiet hint"
    elif priority == "none":
        lead = "Shown on request; not a team priority"
    elif estimate is not None and estimate.claimed:
        lead = "Shown on request; you said you know this"
    else:
        lead = "Shown on request; mastered"
    if estimate is None:
        return f"{lead}: no evidence yet of this skill in your code."
    evidence = [f"{estimate.correct} correct", f"{estimate.incorrect} incorrect"]
    if estimate.fixes_applied:
        evidence.append(_count(estimate.fixes_applied, "quick fix", "quick fixes"))
    detail = ", ".join(evidence)
    if estimate.lessons_opened:
        detail += f"; {_count(estimate.lessons_opened, 'lesson', 'lessons')} opened"
    return f"{lead}: mastery estimate {estimate.p_known:.0%} (evidence: {detail})."


def params_for(
    skills: Mapping[str, Skill], fitted: Mapping[str, BktParams] | None = None
) -> Callable[[str], BktParams]:
    """Per-skill parameters: fitted to the team's history, else the taxonomy's, else defaults.

    ``fitted`` holds what ``baseline`` fitted (``fitting.py``, read back by ``fitted.py``); a
    skill it does not name keeps the taxonomy's parameters. There, each parameter a skill does
    not set comes from its nearest ancestor that does, as team priorities do, then from
    ``BktParams``' defaults. Everything is resolved and checked here, once, so that a bad
    combination (a child's guess with an ancestor's slip) fails at start-up naming the skill,
    not in the middle of an estimate.
    """
    table: dict[str, BktParams] = {}
    for skill_id in skills:
        merged: dict[str, float] = {}
        current: str | None = skill_id
        seen: set[str] = set()
        while current is not None and current not in seen and current in skills:
            seen.add(current)
            for name, value in skills[current].bkt.items():
                merged.setdefault(name, value)
            current = skills[current].parent
        try:
            table[skill_id] = BktParams(**merged)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"skill {skill_id!r}: {exc}") from exc
    default = BktParams()
    table.update(fitted or {})

    def lookup(skill_id: str) -> BktParams:
        return table.get(skill_id, default)

    return lookup
