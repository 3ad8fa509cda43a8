"""The issue's evaluation of the learner model, on synthetic developers whose true skill changes.

Each synthetic developer meets one skill at a series of opportunities. Their TRUE state is
"unknown" until a random opportunity at which they learn it (some know it from the start, some
never learn); what they write is a noisy observation of that state, with their own guess and slip
rates, which differ from the model's defaults on purpose (the model is never told the truth).
Correct work becomes SKILL_EVIDENCE or ANTIPATTERN_FIXED events, mistakes ANTIPATTERN_INTRODUCED,
sometimes followed by the tool's quick fix (FIX_APPLIED) or an opened lesson.

Every prediction is made for an opportunity the model has not seen: the estimate comes from the
events before it only (next-step prediction, the usual held-out evaluation of knowledge tracing),
with the taxonomy's default parameters, nothing fitted on this data.

Run with ``pytest -s`` to see the figures.
"""

from __future__ import annotations

import random
import statistics
from collections.abc import Sequence
from dataclasses import dataclass

import pytest

from lessonlens.lessons.skills import load_skills
from lessonlens.server.learner.mastery import (
    MASTERY,
    Treatment,
    estimate,
    params_for,
    predict_correct,
    treatment,
)
from lessonlens.server.learner.progress import Event, EventKind

SKILL = "python.data-structures"  # default parameters, priority "high" in the taxonomy
PRIORITY = "medium"  # the standard thresholds (0.6 / 0.95) are what the issue specifies
OPPORTUNITIES = 60
DEVELOPERS = 400
WINDOW = 10
START = 1_700_000_000.0
PARAMS_FOR = params_for(load_skills())
PARAMS = PARAMS_FOR(SKILL)


@dataclass(frozen=True)
class Developer:
    name: str
    learns_at: int | None  # the opportunity from which the skill is truly known; None: never
    guess: float
    slip: float


@dataclass
class Trace:
    developer: Developer
    outcomes: list[bool]  # what they actually wrote at each opportunity
    predicted: list[float]  # the model's predicted correctness, from the events before it
    treatments: list[Treatment]  # what the editor would show at that opportunity
    p_after: list[float]  # the estimate after the opportunity's events


def _population(rng: random.Random) -> list[Developer]:
    developers = []
    for i in range(DEVELOPERS):
        kind = rng.random()
        learns_at: int | None
        if kind < 0.1:
            learns_at = 0  # knew it already
        elif kind < 0.3:
            learns_at = None  # never learns
        else:
            # Learning at each opportunity with a rate of their own: a geometric wait.
            rate = rng.uniform(0.04, 0.25)
            learns_at = 1
            while rng.random() >= rate:
                learns_at += 1
            if learns_at >= OPPORTUNITIES:
                learns_at = None
        developers.append(
            Developer(f"dev{i:03d}", learns_at, rng.uniform(0.1, 0.3), rng.uniform(0.03, 0.15))
        )
    return developers


def _knows(developer: Developer, opportunity: int) -> bool:
    return developer.learns_at is not None and opportunity >= developer.learns_at


def _simulate(developer: Developer, rng: random.Random) -> Trace:
    events: list[Event] = []
    trace = Trace(developer, [], [], [], [])

    def add(kind: EventKind, time: float) -> None:
        events.append(Event(kind=kind, developer=developer.name, skill_id=SKILL, time=time))

    for t in range(OPPORTUNITIES):
        now = START + t * 3600.0
        before = estimate(events, PARAMS_FOR, now).get(SKILL)
        trace.predicted.append(predict_correct(before.p_known if before else PARAMS.prior, PARAMS))
        trace.treatments.append(treatment(before, PRIORITY))
        knows = _knows(developer, t)
        correct = rng.random() < (1 - developer.slip if knows else developer.guess)
        trace.outcomes.append(correct)
        if correct:
            fixed = rng.random() < 0.2
            add(EventKind.ANTIPATTERN_FIXED if fixed else EventKind.SKILL_EVIDENCE, now)
        else:
            add(EventKind.ANTIPATTERN_INTRODUCED, now)
            add(EventKind.HINT_SHOWN, now + 1)
            if rng.random() < 0.15:
                add(EventKind.LESSON_OPENED, now + 2)
            if rng.random() < 0.3:
                add(EventKind.FIX_APPLIED, now + 3)
        after = estimate(events, PARAMS_FOR, now + 10)[SKILL]
        trace.p_after.append(after.p_known)
    return trace


def auc(scores: Sequence[float], labels: Sequence[bool]) -> float:
    """The area under the ROC curve by the rank-sum (Mann-Whitney U), ties given mean ranks."""
    order = sorted(range(len(scores)), key=lambda i: scores[i])
    ranks = [0.0] * len(scores)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and scores[order[j + 1]] == scores[order[i]]:
            j += 1
        for k in range(i, j + 1):
            ranks[order[k]] = (i + j) / 2 + 1
        i = j + 1
    positives = sum(labels)
    negatives = len(labels) - positives
    rank_sum = sum(r for r, label in zip(ranks, labels, strict=True) if label)
    return (rank_sum - positives * (positives + 1) / 2) / (positives * negatives)


def test_auc_helper() -> None:
    assert auc([0.1, 0.2, 0.3, 0.4], [False, False, True, True]) == 1.0
    assert auc([0.4, 0.3, 0.2, 0.1], [False, False, True, True]) == 0.0
    assert auc([0.5, 0.5, 0.5, 0.5], [False, True, False, True]) == 0.5
    assert auc([0.1, 0.4, 0.35, 0.8], [False, False, True, True]) == 0.75


@pytest.fixture(scope="module")
def traces() -> list[Trace]:
    rng = random.Random(20240604)
    return [_simulate(developer, rng) for developer in _population(rng)]


def _non_silent(treatments: Sequence[Treatment]) -> int:
    return sum(t is not Treatment.SILENT for t in treatments)


def test_predicted_correctness_on_held_out_opportunities(traces: list[Trace]) -> None:
    scores = [p for trace in traces for p in trace.predicted]
    labels = [o for trace in traces for o in trace.outcomes]
    model = auc(scores, labels)
    # For scale: the share of correct work so far (Laplace-smoothed), and an oracle that knows
    # each developer's true state and own guess and slip (the ceiling for any model).
    baseline_scores = []
    oracle_scores = []
    for trace in traces:
        right = 0
        for t, outcome in enumerate(trace.outcomes):
            baseline_scores.append((right + 1) / (t + 2))
            right += outcome
            d = trace.developer
            oracle_scores.append(1 - d.slip if _knows(d, t) else d.guess)
    baseline = auc(baseline_scores, labels)
    oracle = auc(oracle_scores, labels)
    print(
        f"\n[learner simulation] {len(traces)} developers x {OPPORTUNITIES} opportunities, "
        f"{len(labels)} held-out predictions ({sum(labels) / len(labels):.0%} correct)"
        f"\n  AUC of predicted correctness: BKT {model:.3f}; running share correct {baseline:.3f}; "
        f"oracle (true state) {oracle:.3f}"
    )
    assert model >= 0.75
    assert model >= oracle - 0.06


def test_mastery_is_detected_soon_after_true_learning(traces: list[Trace]) -> None:
    delays: list[int] = []
    undetected = 0
    early = 0
    learners = [
        trace
        for trace in traces
        # Learnt during the run, with at least 20 opportunities left to notice it.
        if trace.developer.learns_at and trace.developer.learns_at <= OPPORTUNITIES - 20
    ]
    for trace in learners:
        learns_at = trace.developer.learns_at
        assert learns_at is not None
        if any(p >= MASTERY for p in trace.p_after[:learns_at]):
            early += 1  # a run of lucky guesses looked like mastery before it was true
        detected = next(
            (t for t in range(learns_at, OPPORTUNITIES) if trace.p_after[t] >= MASTERY), None
        )
        if detected is None or detected - learns_at >= 20:
            undetected += 1
        else:
            delays.append(detected - learns_at + 1)
    never = [trace for trace in traces if trace.developer.learns_at is None]
    # Three lucky guesses in a row look like mastery to BKT with these parameters; the next
    # mistake brings the hints back. Count both how many it happens to and how long it lasts.
    false_mastery = sum(any(p >= MASTERY for p in trace.p_after) for trace in never)
    silent = [t is Treatment.SILENT for trace in never for t in trace.treatments]
    delays.sort()
    print(
        f"\n[learner simulation] {len(learners)} developers learnt during the run: mastery "
        f"(>= {MASTERY}) detected after a mean of {statistics.mean(delays):.2f} opportunities "
        f"(median {statistics.median(delays)}, 90th percentile {delays[int(0.9 * len(delays))]}, "
        f"max {delays[-1]}); not within 20: {undetected}; "
        f"estimate passed {MASTERY} before true learning: {early}/{len(learners)}"
        f"\n  never-learners ever estimated as mastered: {false_mastery}/{len(never)}, "
        f"silent at {sum(silent) / len(silent):.1%} of their opportunities"
    )
    assert undetected <= 0.02 * len(learners)
    assert statistics.mean(delays) <= 6
    assert delays[int(0.9 * len(delays))] <= 10
    assert false_mastery <= 0.5 * len(never)
    assert sum(silent) <= 0.05 * len(silent)


def test_hint_volume_falls_as_developers_learn(traces: list[Trace]) -> None:
    before: list[int] = []
    after: list[int] = []
    for trace in traces:
        learns_at = trace.developer.learns_at
        if learns_at is None or learns_at < WINDOW or learns_at + 2 * WINDOW > OPPORTUNITIES:
            continue
        before.append(_non_silent(trace.treatments[learns_at - WINDOW : learns_at]))
        # The window that starts WINDOW opportunities after learning: time to gather evidence.
        after.append(_non_silent(trace.treatments[learns_at + WINDOW : learns_at + 2 * WINDOW]))
    never = [trace for trace in traces if trace.developer.learns_at is None]
    windows = range(0, OPPORTUNITIES, WINDOW)
    never_full = [
        statistics.mean(
            sum(t is Treatment.FULL for t in trace.treatments[w : w + WINDOW]) for trace in never
        )
        for w in windows
    ]
    never_hints = [
        statistics.mean(_non_silent(trace.treatments[w : w + WINDOW]) for trace in never)
        for w in windows
    ]
    knew = [trace for trace in traces if trace.developer.learns_at == 0]
    knew_hints = [
        statistics.mean(_non_silent(trace.treatments[w : w + WINDOW]) for trace in knew)
        for w in windows
    ]
    print(
        f"\n[learner simulation] hints shown (treatment != silent) per {WINDOW} opportunities, "
        f"{len(before)} learners: {statistics.mean(before):.2f} in the window before learning, "
        f"{statistics.mean(after):.2f} in the window {WINDOW} opportunities after"
        f"\n  never-learners ({len(never)}), FULL per window: "
        + ", ".join(f"{v:.2f}" for v in never_full)
        + "; hints per window: "
        + ", ".join(f"{v:.2f}" for v in never_hints)
        + f"\n  knew it from the start ({len(knew)}), hints per window: "
        + ", ".join(f"{v:.2f}" for v in knew_hints)
    )
    assert statistics.mean(before) >= 8
    assert statistics.mean(after) <= 0.25 * statistics.mean(before)
    # A developer who never learns keeps getting the full lesson, window after window (the
    # rest are quiet hints after a lucky streak; hardly ever silence).
    assert min(never_full) >= 0.7 * WINDOW
    assert min(never_hints) >= 0.9 * WINDOW
    assert knew_hints[-1] <= 1
