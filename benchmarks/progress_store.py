"""The progress store's costs: writes, one event's cost on a request, mastery query, size.

Prints, for a store in a temporary folder:

- events/s written by one process, and by four processes writing at once (batches of 100);
- the cost of recording ONE event (``store.record([event])``, p50/p95/p99/max), which is what an
  editor request pays (the issue's budget: 1 ms), alone and while three other processes (other
  editor windows) each record a batch of 10, then 100, events every 50 ms: far busier than real
  editors, to show what waiting for the write lock costs;
- the latency of a developer's mastery (reading their 100,000 events and running
  ``lessonlens.server.learner.mastery.estimate``; reading alone if the learner is not importable);
- the database size per 100,000 events, and the time to open such a store (``quick_check``).

    python benchmarks/progress_store.py [--events N] [--singles N] [--seed N]
"""

from __future__ import annotations

import argparse
import multiprocessing
import random
import tempfile
import time
import uuid
from collections.abc import Callable
from multiprocessing.synchronize import Event as Signal
from pathlib import Path

from lessonlens.server.learner.progress import (
    DATABASE_NAME,
    Event,
    EventKind,
    SqliteProgressStore,
)

BATCH = 100
SKILLS = [f"python.skill-{n}" for n in range(20)]
KINDS = [  # roughly what an editor records: mostly hints shown and evidence
    (EventKind.HINT_SHOWN, 40),
    (EventKind.SKILL_EVIDENCE, 25),
    (EventKind.ANTIPATTERN_INTRODUCED, 12),
    (EventKind.ANTIPATTERN_FIXED, 6),
    (EventKind.FIX_APPLIED, 6),
    (EventKind.LESSON_OPENED, 5),
    (EventKind.HINT_DISMISSED, 3),
    (EventKind.REVIEW_ANSWERED, 3),
]
YEAR = 365 * 24 * 3600.0


def synthetic_events(developer: str, count: int, seed: int, start: float) -> list[Event]:
    chance = random.Random(seed)
    kinds = chance.choices([k for k, _ in KINDS], [w for _, w in KINDS], k=count)
    repository = uuid.UUID(int=chance.getrandbits(128)).hex
    step = YEAR / count
    return [
        Event(
            kind,
            developer,
            chance.choice(SKILLS),
            start + n * step,
            rule_id=f"PY{chance.randint(1, 30):03d}",
            lesson_id=f"lesson-{chance.randint(1, 22)}",
            repository=repository,
            correct=chance.random() < 0.7 if kind is EventKind.REVIEW_ANSWERED else None,
        )
        for n, kind in enumerate(kinds)
    ]


def write_all(path: Path, events: list[Event]) -> float:
    with SqliteProgressStore(path) as store:
        began = time.perf_counter()
        for start in range(0, len(events), BATCH):
            store.record(events[start : start + BATCH])
        return time.perf_counter() - began


def _writer(path: Path, worker: int, count: int, ready: Signal, go: Signal) -> None:
    events = synthetic_events(f"{worker:032x}", count, worker, time.time() - YEAR)
    with SqliteProgressStore(path) as store:
        ready.set()
        go.wait()
        for start in range(0, count, BATCH):
            store.record(events[start : start + BATCH])


def _background(path: Path, worker: int, size: int, stop: Signal) -> None:
    """Another editor window: a batch of ``size`` events every 50 ms until told to stop."""
    with SqliteProgressStore(path) as store:
        number = 0
        while not stop.is_set():
            store.record(synthetic_events(f"{worker:032x}", size, number, time.time()))
            number += 1
            time.sleep(0.05)


def concurrent_write(path: Path, workers: int, per_worker: int) -> float:
    context = multiprocessing.get_context("spawn")
    go = context.Event()
    readies = [context.Event() for _ in range(workers)]
    processes = [
        context.Process(target=_writer, args=(path, n, per_worker, readies[n], go))
        for n in range(workers)
    ]
    SqliteProgressStore(path).close()  # the schema exists before the race
    for process in processes:
        process.start()
    for ready in readies:
        ready.wait()
    began = time.perf_counter()
    go.set()
    for process in processes:
        process.join()
        assert process.exitcode == 0
    return time.perf_counter() - began


def single_event_costs(path: Path, count: int, developer: str) -> list[float]:
    """Each ``record([event])`` call, in seconds, spaced like events in an editor session."""
    costs = []
    with SqliteProgressStore(path) as store:
        for n in range(count):
            event = Event(EventKind.HINT_SHOWN, developer, SKILLS[n % 20], time.time(), "PY001")
            began = time.perf_counter()
            store.record([event])
            costs.append(time.perf_counter() - began)
            time.sleep(0.0005)
    return costs


def under_contention(path: Path, count: int, developer: str, size: int) -> list[float]:
    context = multiprocessing.get_context("spawn")
    stop = context.Event()
    others = [
        context.Process(target=_background, args=(path, 100 + n, size, stop)) for n in range(3)
    ]
    for process in others:
        process.start()
    time.sleep(1.0)  # let them start and get going
    try:
        return single_event_costs(path, count, developer)
    finally:
        stop.set()
        for process in others:
            process.join()


def percentiles(costs: list[float]) -> str:
    ordered = sorted(costs)

    def at(q: float) -> float:
        return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))] * 1000

    return (
        f"p50 {at(0.5):6.3f} ms   p95 {at(0.95):6.3f} ms   p99 {at(0.99):6.3f} ms   "
        f"max {ordered[-1] * 1000:6.2f} ms"
    )


def best_of(repeat: int, action: Callable[[], object]) -> float:
    timings = []
    for _ in range(repeat):
        began = time.perf_counter()
        action()
        timings.append(time.perf_counter() - began)
    return min(timings)


def database_bytes(path: Path) -> int:
    return sum(
        candidate.stat().st_size
        for candidate in (path, path.with_name(path.name + "-wal"))
        if candidate.exists()
    )


def learner_estimate() -> Callable[[list[Event]], object] | None:
    """The learner's mastery estimate over a developer's events, if the learner is importable."""
    try:
        from lessonlens.server.learner.mastery import BktParams, estimate
    except ImportError:
        return None
    params, now = BktParams(), time.time()
    return lambda found: estimate(found, lambda _: params, now)


def coach_record_costs(path: Path, count: int, developer: str) -> list[float]:
    """What recording one event adds to an editor request: the coach's own work."""
    from lessonlens.lessons.skills import load_skills
    from lessonlens.server.learner.coach import Coach

    costs = []
    with SqliteProgressStore(path) as store:
        coach = Coach(store, developer, load_skills())
        for n in range(count):
            event = Event(EventKind.SKILL_EVIDENCE, developer, SKILLS[n % len(SKILLS)], time.time())
            start = time.perf_counter()
            coach.record([event])
            costs.append(time.perf_counter() - start)
        coach.close()
    return costs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=100_000, help="events for one developer")
    parser.add_argument("--singles", type=int, default=2_000, help="single-event records timed")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    mastery_of = learner_estimate()
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        developer = uuid.UUID(int=args.seed).hex
        events = synthetic_events(developer, args.events, args.seed, time.time() - YEAR)
        big = root / "one" / DATABASE_NAME
        single = write_all(big, events)
        four = concurrent_write(root / "four" / DATABASE_NAME, 4, args.events // 4)

        with SqliteProgressStore(big) as store:
            assert len(store.events(developer)) == args.events
            read = best_of(3, lambda: store.events(developer))
            mastery = None
            if mastery_of is not None:
                mastery = best_of(3, lambda: mastery_of(store.events(developer)))
        size = database_bytes(big)  # closing the last connection checkpointed the WAL
        opening = best_of(3, lambda: SqliteProgressStore(big).close())

        alone = single_event_costs(big, args.singles, developer)
        busy = {n: under_contention(big, args.singles, developer, n) for n in (10, 100)}
        on_request = coach_record_costs(big, args.singles, developer)

    per = 100_000 / args.events
    print(f"events                       {args.events:,} (one developer, {len(SKILLS)} skills)")
    print(
        f"write, 1 process             {args.events / single:10,.0f} events/s (batches of {BATCH})"
    )
    print(
        f"write, 4 processes at once   {args.events // 4 * 4 / four:10,.0f} events/s in all "
        f"(batches of {BATCH})"
    )
    print(f"record ONE event, alone      {percentiles(alone)}")
    for batch, costs in busy.items():
        print(f"  while 3 other processes each record {batch} events / 50 ms:")
        print(f"                             {percentiles(costs)}")
    if mastery is not None:
        print(
            f"mastery, {args.events:,} events    {mastery * 1000:8.1f} ms "
            f"(read {read * 1000:.1f} ms, learner.estimate {(mastery - read) * 1000:.1f} ms)"
        )
    else:
        print(
            f"read {args.events:,} events        {read * 1000:8.1f} ms "
            "(lessonlens.server.learner.mastery not importable: reading only, no estimate)"
        )
    print(
        "on a request: Coach.record   "
        f"{percentiles(on_request)}  (history of {args.events:,} loaded; the store write is "
        "queued for a writer thread)"
    )
    print(f"size per 100,000 events      {size * per / 1e6:8.1f} MB")
    print(f"open (quick_check), this db  {opening * 1000:8.1f} ms")


if __name__ == "__main__":
    main()
