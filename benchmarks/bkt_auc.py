"""How well the learner model predicts a developer's next outcome, on a real history.

Takes a repository (a path to a git repository, bare or not; cloned without a checkout into a
temporary folder, nothing of it committed) and runs ``lessonlens baseline`` into a temporary
store, or takes ``--store DATA_DIR``, a data folder that a baseline already filled. Then:

- splits time at the moment by which 70% (``--train``) of the commits with an opportunity were
  authored; the earlier part is the training period;
- fits the per-skill BKT parameters (``server/learner/fitting.py``) on the training period only;
- replays every developer's whole history through the learner (``mastery.Learner``) and, at each
  opportunity of the later period, predicts its outcome before seeing it, then updates;
- prints the area under the ROC curve of those predictions (with a 95% interval, Hanley and
  McNeil's, which the few incorrect outcomes of a real history make wide) and their log loss,
  for the shipped defaults (``lessons/skills.toml``), the fitted parameters as the product uses
  them, the skills' own fits alone (taxonomy defaults elsewhere), and the running share of
  correct outcomes per developer and skill (one pseudo-observation at the training period's
  share correct, so a first opportunity gets that share; and, a stronger baseline, at the
  training period's share for that skill), with the counts and the repository.

The baseline run of the first form also writes its own fit (over the whole history) into the
temporary folder, as ``lessonlens baseline`` does; the figures use only the training period's.

    python benchmarks/bkt_auc.py REPO [--jobs N] [--train 0.7]
    python benchmarks/bkt_auc.py --store DATA_DIR [--label NAME] [--train 0.7]
"""

from __future__ import annotations

import argparse
import math
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from lessonlens.lessons.catalog import load_catalog
from lessonlens.server.learner.fitting import fit_events
from lessonlens.server.learner.mastery import (
    BktParams,
    Learner,
    outcome,
    params_for,
    predict_correct,
)
from lessonlens.server.learner.progress import DATABASE_NAME, Event, SqliteProgressStore
from lessonlens.server.team.baseline import run_baseline
from lessonlens.server.workspace.config import Config

Scores = list[tuple[float, bool]]


def auc(scores: Sequence[tuple[float, bool]]) -> float:
    """The area under the ROC curve: the chance that a correct outcome outranks an incorrect one.

    Ties count one half (Mann-Whitney, with average ranks).
    """
    ordered = sorted(scores, key=lambda pair: pair[0])
    rank_sum, positives, index = 0.0, 0, 0
    while index < len(ordered):
        end = index
        while end < len(ordered) and ordered[end][0] == ordered[index][0]:
            end += 1
        average = (index + 1 + end) / 2  # ranks index+1 .. end
        hits = sum(1 for _, correct in ordered[index:end] if correct)
        rank_sum += hits * average
        positives += hits
        index = end
    negatives = len(ordered) - positives
    if not positives or not negatives:
        return float("nan")
    return (rank_sum - positives * (positives + 1) / 2) / (positives * negatives)


def split_time(events: Sequence[Event], share: float) -> float:
    """The first moment of the later period: after ``share`` of the opportunities' commits."""
    times = sorted({e.time for e in events if outcome(e) is not None})
    return times[min(int(len(times) * share), len(times) - 1)]


def score_bkt(
    histories: Sequence[list[Event]], params: Callable[[str], BktParams], cut: float
) -> Scores:
    """Each later observed opportunity's predicted chance of a correct outcome, and the outcome."""
    scores: Scores = []
    for events in histories:
        learner = Learner(params)
        for event in events:
            seen = outcome(event)
            if event.time >= cut and isinstance(seen, bool):
                known = learner.snapshot(event.skill_id, event.time)
                skill = params(event.skill_id)
                p_known = skill.prior if known is None else known.p_known
                scores.append((predict_correct(p_known, skill), seen))
            learner.apply(event)
    return scores


def score_share(
    histories: Sequence[list[Event]], first: Callable[[str], float], cut: float
) -> Scores:
    """The running share of correct outcomes per developer and skill, ``first`` counted once.

    ``first(skill)`` is the share a first opportunity gets: one pseudo-observation.
    """
    scores: Scores = []
    for events in histories:
        tally: dict[str, tuple[int, int]] = {}
        for event in events:
            seen = outcome(event)
            if not isinstance(seen, bool):
                continue
            correct, count = tally.get(event.skill_id, (0, 0))
            if event.time >= cut:
                scores.append(((correct + first(event.skill_id)) / (count + 1), seen))
            tally[event.skill_id] = (correct + seen, count + 1)
    return scores


@contextmanager
def _baselined(repo: Path, jobs: int) -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="ll-bkt-") as scratch:
        clone = Path(scratch) / "clone"
        subprocess.run(
            ["git", "clone", "-q", "--no-checkout", str(repo.resolve()), str(clone)], check=True
        )
        data = Path(scratch) / "data"
        started = time.perf_counter()
        with SqliteProgressStore(data / DATABASE_NAME) as store:
            summary = run_baseline(
                clone, store, Config(root=clone, team_salt="benchmark-salt"), data, jobs=jobs
            )
        print(
            f"baseline:          {summary.commits:,} commits, {summary.events:,} events, "
            f"{time.perf_counter() - started:.0f} s",
            file=sys.stderr,
        )
        yield data


def auc_interval(value: float, positives: int, negatives: int) -> float:
    """Half the width of a 95% interval for an AUC (Hanley and McNeil's standard error)."""
    q1, q2 = value / (2 - value), 2 * value * value / (1 + value)
    variance = (
        value * (1 - value)
        + (positives - 1) * (q1 - value * value)
        + (negatives - 1) * (q2 - value * value)
    ) / (positives * negatives)
    return 1.96 * math.sqrt(max(variance, 0.0))


def log_loss(scores: Sequence[tuple[float, bool]]) -> float:
    """Mean negative log-likelihood of the outcomes: calibration as well as ranking."""
    return -sum(math.log(p if y else 1 - p) for p, y in scores) / len(scores)


def report(data: Path, label: str, share: float) -> None:
    with SqliteProgressStore(data / DATABASE_NAME) as store:
        histories = [store.events(developer) for developer in store.developers()]
    everything = [event for events in histories for event in events]
    observed = [seen for e in everything for seen in [outcome(e)] if isinstance(seen, bool)]
    if not observed:
        sys.exit(f"{label}: no opportunities in the store")
    cut = split_time(everything, share)
    training = [e for e in everything if e.time < cut]
    skills = load_catalog([]).skills
    defaults = params_for(skills)
    started = time.perf_counter()
    fits = fit_events(training, defaults)
    seconds = time.perf_counter() - started
    fitted = params_for(skills, {s: f.params for s, f in fits.items()})
    own = params_for(skills, {s: f.params for s, f in fits.items() if f.source == "skill"})
    before = [seen for e in training for seen in [outcome(e)] if isinstance(seen, bool)]
    first = sum(before) / len(before) if before else 0.5
    per_skill: dict[str, tuple[int, int]] = {}
    for event in training:
        seen = outcome(event)
        if isinstance(seen, bool):
            correct, count = per_skill.get(event.skill_id, (0, 0))
            per_skill[event.skill_id] = (correct + seen, count + 1)
    repositories = sorted({e.repository or "-" for e in everything})
    print(f"repository:        {label} (hashed id {', '.join(repositories)})")
    print(
        f"opportunities:     {len(observed):,} observed, {sum(observed) / len(observed):.1%} "
        f"correct; {len(histories):,} developers"
    )
    print(
        f"split:             {share:.0%} of the commits with opportunities before "
        f"{time.strftime('%Y-%m-%d', time.gmtime(cut))}: {len(before):,} opportunities "
        f"({first:.1%} correct) to fit on"
    )
    print(f"fitted:            {len(fits)} skills in {seconds:.1f} s (team: the pooled fit)")
    for skill, found in sorted(fits.items()):
        p = found.params
        print(
            f"  {skill:28} {found.source:5} n={found.observations:5} devs={found.sequences:4} "
            f"prior={p.prior:.3f} learn={p.learn:.3f} guess={p.guess:.3f} slip={p.slip:.3f}"
        )
    models: list[tuple[str, Scores]] = [
        ("defaults (skills.toml)", score_bkt(histories, defaults, cut)),
        ("fitted", score_bkt(histories, fitted, cut)),
        ("fitted, own fits only", score_bkt(histories, own, cut)),
        ("running share", score_share(histories, lambda _: first, cut)),
        (
            "running share, per-skill first",
            score_share(
                histories,
                lambda s: (per_skill.get(s, (0, 0))[0] + first) / (per_skill.get(s, (0, 0))[1] + 1),
                cut,
            ),
        ),
    ]
    scored = models[0][1]
    wrong = sum(1 for _, correct in scored if not correct)
    print(
        f"scored:            {len(scored):,} later opportunities, {wrong:,} incorrect "
        f"({1 - wrong / len(scored):.1%} correct)"
    )
    for name, scores in models:
        value = auc(scores)
        margin = auc_interval(value, len(scores) - wrong, wrong)
        print(f"AUC {name + ':':32}{value:.3f} ± {margin:.3f}   log loss {log_loss(scores):.4f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("repo", type=Path, nargs="?")
    parser.add_argument("--store", type=Path, help="a data folder a baseline already filled")
    parser.add_argument("--label", help="the repository's name to print with --store")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--train", type=float, default=0.7)
    args = parser.parse_args()
    if (args.repo is None) == (args.store is None):
        parser.error("give a repository or --store, not both")
    if args.store is not None:
        report(args.store, args.label or str(args.store), args.train)
        return
    with _baselined(args.repo, args.jobs) as data:
        report(data, str(args.repo), args.train)


if __name__ == "__main__":
    main()
