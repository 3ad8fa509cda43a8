"""``lessonlens baseline`` on a real history: speed, and whether every author is counted.

Clones REPO (a path to a git repository, bare or not, such as one brought by the search tool's
``fetch``; nothing of it is committed) without a checkout into a temporary folder, runs the
baseline into a temporary store and prints:

- commits walked and the non-merge commits git counts (``git rev-list --no-merges``);
- authors walked against ``git log --no-merges --format=%ae | sort -u`` (case-folded, as the
  pseudonyms are), and developers who got at least one event;
- seconds, and seconds per 10,000 commits (the issue's budget: 120);
- with ``--resume-check``, a second run that must walk nothing.

    python benchmarks/baseline_bench.py REPO [--jobs N] [--max-commits N] [--since DATE]
        [--resume-check]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from lessonlens.analyzers.languages import languages
from lessonlens.server.learner.progress import DATABASE_NAME, SqliteProgressStore
from lessonlens.server.team.baseline import run_baseline
from lessonlens.server.workspace.config import Config


def _git(repo: Path, *args: str) -> str:
    done = subprocess.run(["git", *args], cwd=repo, capture_output=True, check=True)
    return done.stdout.decode("utf-8", "replace")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("repo", type=Path)
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--max-commits", type=int, default=None)
    parser.add_argument("--since", help="only commits after this date (git's --since), to profile")
    parser.add_argument("--resume-check", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="ll-baseline-") as scratch:
        clone = Path(scratch) / "clone"
        subprocess.run(
            ["git", "clone", "-q", "--no-checkout", str(args.repo.resolve()), str(clone)],
            check=True,
        )
        data = Path(scratch) / "data"
        git_commits = int(_git(clone, "rev-list", "--count", "--no-merges", "HEAD"))
        raw = set(_git(clone, "log", "--no-merges", "--format=%ae").splitlines())
        emails = {e.strip().lower() for e in raw}
        patterns = [f"*{ext}" for spec in languages() for ext in spec.extensions]
        # --full-history: path limiting must not prune side branches; A/M/R/C/T: a deletion is
        # no evidence (the baseline skips it), so an author who only deleted code is not counted.
        coded = _git(
            clone,
            "log",
            "--no-merges",
            "--full-history",
            "--diff-filter=AMRCT",
            "--format=%ae",
            "--",
            *patterns,
        )
        coders = {e.strip().lower() for e in coded.splitlines()}
        config = Config(root=clone, team_salt="benchmark-salt")
        started = time.perf_counter()
        last = [0.0]

        def progress(done: int, total: int) -> None:
            now = time.perf_counter()
            if now - last[0] > 15:
                last[0] = now
                print(f"  {done:,}/{total:,} commits, {now - started:.0f} s", file=sys.stderr)

        with SqliteProgressStore(data / DATABASE_NAME) as store:
            summary = run_baseline(
                clone,
                store,
                config,
                data,
                max_commits=args.max_commits,
                since=args.since,
                on_progress=progress,
                jobs=args.jobs,
            )
        seconds = time.perf_counter() - started
        print(f"repository:        {args.repo}")
        print(f"jobs:              {args.jobs} (cores: {os.cpu_count()})")
        print(f"commits walked:    {summary.commits:,} of {git_commits:,} non-merge commits")
        print(
            f"authors walked:    {summary.authors:,} (git log --no-merges: {len(emails):,}"
            f" case-folded, {len(raw):,} as written)"
        )
        print(
            f"authors of code:   {summary.coders:,} changed a file in a registered language"
            f" (git log --no-merges --full-history --diff-filter=AMRCT -- {' '.join(patterns)}:"
            f" {len(coders):,})"
        )
        print(f"developers:        {len(summary.developers):,} with at least one event")
        print(f"files analysed:    {summary.files:,}, events: {summary.events:,}")
        print(f"unreadable:        {summary.unreadable:,} commits (objects missing from the clone)")
        per = seconds / max(summary.commits, 1) * 10_000
        print(f"seconds:           {seconds:.1f} ({per:.0f} s per 10,000 commits; budget 120)")
        if args.resume_check:
            with SqliteProgressStore(data / DATABASE_NAME) as store:
                again = run_baseline(clone, store, config, data, jobs=args.jobs)
            print(f"second run:        {again.commits} commits walked, {again.events} events")


if __name__ == "__main__":
    main()
