"""Per-skill BKT parameters fitted to a team's own history, by expectation-maximisation.

Each developer's opportunities of a skill, in time order, are one sequence of a two-state hidden
Markov model: unknown or known, ``prior`` the chance of starting known, ``learn`` the chance of
moving from unknown to known after each opportunity, and each observation correct with chance
``guess`` when unknown and ``1 - slip`` when known. There is no forgetting, as in the learner
(``mastery.py``). Baum-Welch (forward-backward, then the expected counts' ratios) climbs the
likelihood of every sequence of a skill at once; all skills are fitted together, one step of
their sequences at a time.

A skill with too little history of its own (a few developers, a few dozen outcomes) takes the
fit to every skill's history pooled: what this team's opportunities look like in general says
more about it than the taxonomy's hand-set defaults, which describe no team's history (on
SQLAlchemy's and aiohttp's, about 98% of opportunities are correct, where the defaults start at
a third). A skill the history never shows keeps the taxonomy's defaults.

The bounds keep the answer a sane ``BktParams``: a prior below 0.6 (``lessons/skills.toml``: a
skill never seen keeps the full treatment), every probability away from 0 and 1, and
``guess + slip`` well below 1 (past 1 a correct answer would be evidence of *not* knowing). The
fit is deterministic: it starts from the skill's defaults and from a fixed spread of other
points, and keeps the likeliest.

numpy loads here only: this module runs at the end of ``baseline``, never in the editor, which
reads the fitted parameters from ``fitted.py``.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from lessonlens.lessons.skills import load_skills
from lessonlens.server.learner.fitted import read_fitted, write_fitted
from lessonlens.server.learner.mastery import BktParams, outcome, params_for
from lessonlens.server.learner.progress import Event, ProgressStore

log = logging.getLogger(__name__)

# Bounds, inclusive, per parameter; and the most guess + slip may reach.
BOUNDS: Mapping[str, tuple[float, float]] = {
    "prior": (0.01, 0.59),
    "learn": (0.001, 0.5),
    "guess": (0.01, 0.9),
    "slip": (0.01, 0.4),
}
MAX_GUESS_PLUS_SLIP = 0.95
# Below either, a skill keeps its defaults: a handful of developers or outcomes is noise.
MIN_SEQUENCES = 5
MIN_OBSERVATIONS = 30
MAX_ITERATIONS = 200
# Stop when an iteration gains less log-likelihood than this per observation.
TOLERANCE = 1e-7
# Starting points besides the skill's defaults: (prior, learn, guess, slip). EM finds a local
# maximum; starting from each of these and keeping the likeliest makes a poor one unlikely.
STARTS: Sequence[tuple[float, float, float, float]] = (
    (0.5, 0.1, 0.3, 0.05),
    (0.2, 0.3, 0.6, 0.1),
    (0.05, 0.05, 0.8, 0.02),
)

_CORRECT, _INCORRECT, _PRACTICE = 1, 0, 2
_Floats = NDArray[np.float64]


@dataclass(frozen=True)
class SkillFit:
    """One skill's fitted parameters and the evidence behind them.

    ``source`` is ``"skill"`` for a fit to the skill's own history, ``"team"`` for the fit to
    every skill's history pooled, which a skill with too little history of its own takes.
    """

    params: BktParams
    sequences: int
    observations: int
    log_likelihood: float
    source: str = "skill"


def sequences(events: Iterable[Event]) -> dict[str, list[list[int]]]:
    """Per skill, each developer's outcomes in time order (1 correct, 0 incorrect, 2 practice).

    The events are sorted by time, as the learner replays them, then by id, so that the fit
    depends on the events alone and not on the order a store holds those of one second in
    (``baseline``'s ids derive from commit, path and kind). Events that are no opportunity
    (``mastery.outcome`` None) are left out.
    """
    found: dict[tuple[str, str], list[int]] = {}
    for event in sorted(events, key=lambda e: (e.time, e.id)):
        seen = outcome(event)
        if seen is None:
            continue
        code = _PRACTICE if seen == "practice" else _CORRECT if seen else _INCORRECT
        found.setdefault((event.skill_id, event.developer), []).append(code)
    by_skill: dict[str, list[list[int]]] = {}
    for (skill, _developer), codes in sorted(found.items()):
        by_skill.setdefault(skill, []).append(codes)
    return by_skill


def fit(
    by_skill: Mapping[str, Sequence[Sequence[int]]], defaults: Callable[[str], BktParams]
) -> dict[str, SkillFit]:
    """Each skill's fit from its sequences (``sequences``), for every skill with an observation.

    A skill with at least ``MIN_SEQUENCES`` sequences and ``MIN_OBSERVATIONS`` observed outcomes
    gets its own fit; one with less takes the fit to every skill's sequences pooled (the team's
    own default, when the pooled history is itself large enough), and is otherwise left out, to
    keep the taxonomy's defaults.
    """
    observed = {skill: _observed(seqs) for skill, seqs in by_skill.items()}
    own = sorted(
        skill
        for skill, seqs in by_skill.items()
        if len(seqs) >= MIN_SEQUENCES and observed[skill] >= MIN_OBSERVATIONS
    )
    fits = _fit_groups(
        {skill: by_skill[skill] for skill in own}, [_as_tuple(defaults(s)) for s in own], "skill"
    )
    rest = sorted(skill for skill in by_skill if skill not in fits and observed[skill])
    pooled = [seq for skill in sorted(by_skill) for seq in by_skill[skill]]
    if rest and len(pooled) >= MIN_SEQUENCES and _observed(pooled) >= MIN_OBSERVATIONS:
        team = _fit_groups({"": pooled}, [_as_tuple(BktParams())], "team")[""]
        for skill in rest:
            seqs = by_skill[skill]
            fits[skill] = SkillFit(team.params, len(seqs), observed[skill], math.nan, "team")
    return fits


def fit_events(
    events: Iterable[Event], defaults: Callable[[str], BktParams]
) -> dict[str, SkillFit]:
    """``fit`` over the opportunities among ``events`` (every developer's)."""
    return fit(sequences(events), defaults)


def _observed(seqs: Sequence[Sequence[int]]) -> int:
    return sum(1 for seq in seqs for code in seq if code != _PRACTICE)


def _fit_groups(
    groups: Mapping[str, Sequence[Sequence[int]]],
    first: Sequence[tuple[float, float, float, float]],
    source: str,
) -> dict[str, SkillFit]:
    """Each group's likeliest fit, from ``first`` (one start per group) and from ``STARTS``."""
    names = list(groups)
    if not names:
        return {}
    batch = _Batch([groups[name] for name in names])
    best: dict[str, SkillFit] = {}
    for start in [list(first), *([point] * len(names) for point in STARTS)]:
        params, likelihood = batch.em(_bounded(np.array(start, dtype=np.float64)))
        for index, name in enumerate(names):
            found = best.get(name)
            if found is None or likelihood[index] > found.log_likelihood + 1e-9:
                prior, learn, guess, slip = (float(v) for v in params[index])
                best[name] = SkillFit(
                    BktParams(prior=prior, learn=learn, guess=guess, slip=slip),
                    sequences=len(groups[name]),
                    observations=int(batch.observed[index]),
                    log_likelihood=float(likelihood[index]),
                    source=source,
                )
    return best


def _as_tuple(params: BktParams) -> tuple[float, float, float, float]:
    return (params.prior, params.learn, params.guess, params.slip)


def _bounded(rows: _Floats) -> _Floats:
    """Rows of (prior, learn, guess, slip) clipped into the bounds.

    Where guess + slip passes its maximum, guess gives way: the slip is what a known skill's
    outcomes are read by. Slip's bound leaves guess above its own lower one.
    """
    low = np.array([bound[0] for bound in BOUNDS.values()])
    high = np.array([bound[1] for bound in BOUNDS.values()])
    out = np.clip(rows, low, high)
    out[:, 2] = np.minimum(out[:, 2], MAX_GUESS_PLUS_SLIP - out[:, 3])
    return out


class _Batch:
    """Every sequence of every skill, laid out so that one step of all of them is one slice.

    Sequences are sorted by length, longest first, so that the sequences still running at step
    ``t`` are the first ``count[t]``; step ``t`` of sequence ``i`` is at ``start[t] + i`` in the
    flat arrays.
    """

    def __init__(self, groups: Sequence[Sequence[Sequence[int]]]) -> None:
        flat_groups = [(g, list(seq)) for g, seqs in enumerate(groups) for seq in seqs if seq]
        flat_groups.sort(key=lambda item: -len(item[1]))  # stable: ties keep the skill order
        self.skills = len(groups)
        self.seq_skill = np.array([g for g, _ in flat_groups], dtype=np.intp)
        lengths = np.array([len(seq) for _, seq in flat_groups], dtype=np.intp)
        steps = int(lengths[0]) if len(lengths) else 0
        self.count = np.array([int(np.sum(lengths > t)) for t in range(steps)], dtype=np.intp)
        self.start = np.concatenate(([0], np.cumsum(self.count)[:-1])).astype(np.intp)
        total = int(lengths.sum())
        self.obs = np.empty(total, dtype=np.int8)
        self.seq_of = np.empty(total, dtype=np.intp)
        for index, (_, seq) in enumerate(flat_groups):
            where = self.start[: len(seq)] + index
            self.obs[where] = seq
            self.seq_of[where] = index
        # Whether a step has a next one in its sequence (the learning transitions).
        self.has_next = np.zeros(total, dtype=bool)
        for t in range(steps - 1):
            self.has_next[self.start[t] : self.start[t] + self.count[t + 1]] = True
        self.skill_of = self.seq_skill[self.seq_of]
        observed = self.obs != _PRACTICE
        self.observed = np.bincount(self.skill_of[observed], minlength=self.skills)

    def _sum(self, weights: _Floats, mask: NDArray[np.bool_] | None = None) -> _Floats:
        if mask is None:
            found = np.bincount(self.skill_of, weights=weights, minlength=self.skills)
        else:
            found = np.bincount(self.skill_of[mask], weights=weights[mask], minlength=self.skills)
        return found.astype(np.float64)

    def em(self, params: _Floats) -> tuple[_Floats, _Floats]:
        """Baum-Welch from ``params`` (one row per skill); the fitted rows and log-likelihoods."""
        observations = max(int(self.observed.sum()), 1)
        previous = -np.inf
        likelihood = np.zeros(self.skills)
        for _ in range(MAX_ITERATIONS):
            expected, likelihood = self._expectations(params)
            params = self._maximise(params, expected)
            total = float(likelihood.sum())
            if total - previous < TOLERANCE * observations:
                break
            previous = total
        # The likelihood of the parameters returned, not of the step before them.
        _, likelihood = self._expectations(params)
        return params, likelihood

    def _expectations(self, params: _Floats) -> tuple[dict[str, _Floats], _Floats]:
        per_seq = params[self.seq_skill]
        prior, learn, guess, slip = (per_seq[:, k] for k in range(4))
        obs, seq_of = self.obs, self.seq_of
        flat_guess, flat_slip = guess[seq_of], slip[seq_of]
        correct, incorrect = obs == _CORRECT, obs == _INCORRECT
        e_known = np.where(correct, 1 - flat_slip, np.where(incorrect, flat_slip, 1.0))
        e_unknown = np.where(correct, flat_guess, np.where(incorrect, 1 - flat_guess, 1.0))
        total = len(obs)
        a_known, scale = np.empty(total), np.empty(total)
        # Forward: the chance of being known at each step given the steps up to it.
        for t, (first, n) in enumerate(zip(self.start, self.count, strict=True)):
            here = slice(first, first + n)
            if t == 0:
                before = prior[:n]
            else:
                last = self.start[t - 1]
                known = a_known[last : last + n]
                before = known + (1 - known) * learn[:n]
            k = before * e_known[here]
            z = k + (1 - before) * e_unknown[here]
            a_known[here] = k / z
            scale[here] = z
        # Backward, scaled by the forward pass's normalisers.
        b_known, b_unknown = np.ones(total), np.ones(total)
        xi = np.zeros(total)  # the chance of learning between this step and the next
        for t in range(len(self.count) - 2, -1, -1):
            first, n = self.start[t], self.count[t + 1]
            here, after = slice(first, first + n), slice(self.start[t + 1], self.start[t + 1] + n)
            next_known = e_known[after] * b_known[after] / scale[after]
            next_unknown = e_unknown[after] * b_unknown[after] / scale[after]
            b_known[here] = next_known
            b_unknown[here] = learn[:n] * next_known + (1 - learn[:n]) * next_unknown
            xi[here] = (1 - a_known[here]) * learn[:n] * next_known
        g_known = a_known * b_known
        g_unknown = (1 - a_known) * b_unknown
        norm = g_known + g_unknown  # 1 up to rounding
        g_known, g_unknown = g_known / norm, g_unknown / norm
        first_steps = slice(0, int(self.count[0])) if len(self.count) else slice(0, 0)
        expected = {
            "prior": self._sum_first(g_known[first_steps]),
            "sequences": self._sum_first(np.ones(first_steps.stop)),
            "learned": self._sum(xi, self.has_next),
            "unknown_before": self._sum(g_unknown, self.has_next),
            "unknown_correct": self._sum(g_unknown, correct),
            "unknown_observed": self._sum(g_unknown, obs != _PRACTICE),
            "known_incorrect": self._sum(g_known, incorrect),
            "known_observed": self._sum(g_known, obs != _PRACTICE),
        }
        return expected, self._sum(np.log(scale))

    def _sum_first(self, weights: _Floats) -> _Floats:
        found = np.bincount(self.seq_skill[: len(weights)], weights=weights, minlength=self.skills)
        return found.astype(np.float64)

    def _maximise(self, params: _Floats, expected: Mapping[str, _Floats]) -> _Floats:
        ratios = (
            ("prior", "sequences"),
            ("learned", "unknown_before"),
            ("unknown_correct", "unknown_observed"),
            ("known_incorrect", "known_observed"),
        )
        updated = params.copy()
        for column, (top, bottom) in enumerate(ratios):
            denominator = expected[bottom]
            has = denominator > 1e-12
            updated[has, column] = expected[top][has] / denominator[has]
        return _bounded(updated)


def refit(store: ProgressStore, repository: str, data_dir: Path, *, walked: int) -> int:
    """After a ``baseline`` run: fit the repository's skills again; the number of skills fitted.

    Only when the run walked new commits, or no fit is kept yet: a run that finds nothing new
    stays instant. Every developer's events of that repository count, from ``baseline`` or the
    editor: the learner replays them alike. A file that cannot be written costs the fit only.
    """
    kept = read_fitted(data_dir, repository)
    if not walked and kept:
        return len(kept)
    events = [
        event
        for developer in store.developers()
        for event in store.events(developer)
        if event.repository == repository
    ]
    fits = fit_events(events, params_for(load_skills()))
    try:
        write_fitted(
            data_dir,
            repository,
            {skill: found.params for skill, found in fits.items()},
            {s: {"observations": f.observations, "source": f.source} for s, f in fits.items()},
        )
    except OSError as exc:
        log.warning("could not keep the fitted BKT parameters in %s: %s", data_dir, exc)
        return 0
    return len(fits)
