"""The baseline: a starting profile for each developer from the code they already committed.

``lessonlens baseline`` walks every commit reachable from a branch that is not a merge, oldest
first, diffs each against its first parent, analyses the old and new versions of every changed
file in a registered language, and turns the difference into the same events the coach records
while someone edits (server/learner/coach.py): a finding that appears is an anti-pattern
introduced, one that disappears is fixed, new good usage is skill evidence, and each skill
counts at most once per commit. Each commit is credited to its author (pseudonymised as in the
store) at its author time. Merges are skipped: a merge's diff against its first parent is the
merged branch's work, whose own commits are walked and credited to their authors.

Speed: the main process lists a chunk of consecutive commits' changes with one ``git diff-tree
--stdin``, a few chunks ahead of the one it writes (memory stays flat whatever the history's
length). Each worker process (one per core) owns a share of the changed paths: a path goes,
when first seen, to the worker with the fewest changes so far. A worker analyses every change
to its paths oldest first, with one ``git cat-file --batch`` process serving its blobs.
Analyses are cached by blob id, because the new version of a file in one commit is the old
version in the next change to it, and each file's last tree and unit cache are kept, so that
the next version is parsed incrementally and only its changed definitions are walked. The main
process puts each commit's files back together in the commit's order (``_commit_events``).

Resuming: events are written in batches of whole commits, in the walk's order, each batch
followed by the cursor: the tip of the last complete walk per repository id (a later run walks
only what that tip does not reach) and the commits an unfinished walk has done. Event ids are
derived from commit, path, kind and key, so a run that stops between the two (or a re-run over
the same history) stores nothing twice.

Deleted files are no evidence: removing a module says nothing about its idioms. At the end, the
learner's parameters are fitted to the repository's history (``server/learner/fitting.py``).
"""

from __future__ import annotations

import json
import os
import time
import uuid
from collections import Counter, OrderedDict, deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path, PurePath
from typing import Any

from lessonlens.analyzers import AnalysisOptions, LanguageSpec, language_for_path, parsing
from lessonlens.analyzers.engine import UnitCache, valid_utf8
from lessonlens.analyzers.facade import Selection, Skipped, analyse, edit_to, prepare
from lessonlens.analyzers.languages import is_test_path
from lessonlens.server.learner.coach import Opportunity, occurrence_keys, opportunities
from lessonlens.server.learner.progress import Event, EventKind, ProgressStore
from lessonlens.server.learner.pseudonym import local_salt, pseudonym, repository_id
from lessonlens.server.team.commits import (
    BaselineError,
    Blobs,
    Change,
    Commit,
    changes_by_commit,
    non_merge_commits,
    repository_root,
    resolve_tip,
)
from lessonlens.server.workspace.config import Config
from lessonlens.server.workspace.sources import source_language

CURSOR_NAME = "baseline-cursors.json"
# Event ids are uuid5 in this namespace: the same commit, file, kind and key always give the
# same id, and the store ignores ids it already holds.
EVENT_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://lessonlens.dev/baseline")
# Commits per store transaction (and cursor write): large enough that SQLite's commit cost
# vanishes, small enough that an interrupt loses seconds of work at most.
BATCH_COMMITS = 200
# Consecutive commits per worker task (see ``_chunks``).
CHUNK_MIN, CHUNK_MAX = 16, 256
# Analyses kept by blob id. A blob is usually needed again soon (the next change to the file),
# so a modest cache catches nearly every repeat.
CACHE_BLOBS = 4096
# Chunks listed and queued to the workers ahead of the one being written.
QUEUED_CHUNKS = 4
# Files whose pieces' analyses are kept (a ``UnitCache`` each), most recently changed first.
CACHE_PATHS = 256


@dataclass
class BaselineSummary:
    commits: int = 0
    files: int = 0
    events: int = 0
    developers: set[str] = field(default_factory=set)
    seconds: float = 0.0
    # Whether the walk reached the branch's tip (False after max_commits or an interrupt).
    complete: bool = False
    # Commits already processed by an earlier run and skipped.
    resumed: int = 0
    # Distinct authors (by email) of the commits in the walk, with events or not.
    authors: int = 0
    # Of those, the authors whose walked commits changed a file in a registered language.
    coders: int = 0
    # Skills whose BKT parameters were fitted to the repository's history at the end.
    fitted: int = 0
    # Commits left out because git could not read them (objects missing from the clone).
    unreadable: int = 0


@dataclass(frozen=True)
class _Keys:
    """What one blob's analysis contained, in the coach's diffable form."""

    findings: Counter[tuple[str, bytes]]
    evidence: Counter[tuple[str, bytes]]
    rule_skill: dict[str, tuple[str, str]]
    evidence_skill: dict[str, str]


_NO_KEYS = _Keys(Counter(), Counter(), {}, {})


def _source(raw: bytes, spec: LanguageSpec, path: str) -> bytes | None:
    """UTF-8 text to analyse, or None for a binary, generated or undecodable blob (as ``check``)."""
    read = prepare(raw, spec, path.rsplit("/", 1)[-1])
    if isinstance(read, Skipped) or read.notice is not None:
        return None
    return read.data


class _Analyser:
    def __init__(self, blobs: Blobs, config: Config) -> None:
        self._blobs = blobs
        self._max_size = config.max_file_size
        self._options = AnalysisOptions(language_options=config.language_options)
        # The project's own selection, as ``check`` and the editor apply it.
        self._selection = Selection.layered((config.select, config.ignore))
        self._cache: OrderedDict[tuple[str, str, bool], _Keys | None] = OrderedDict()
        # Per path, as the editor keeps per document: a commit that changes one function of a
        # long module re-walks that function only (the result is a fresh analysis's).
        # With the last version's bytes and tree: the next version is parsed incrementally.
        self._units: OrderedDict[
            tuple[str, str, bool], tuple[UnitCache, tuple[bytes, parsing.Tree] | None]
        ] = OrderedDict()

    def keys(
        self, blob: str | None, spec: LanguageSpec, path: str, test_code: bool = False
    ) -> _Keys | None:
        """The blob's analysis keys; None when it must be skipped (binary, huge, undecodable)."""
        if blob is None or set(blob) == {"0"}:
            return _NO_KEYS
        cache_key = (blob, spec.id, test_code)
        if cache_key in self._cache:
            self._cache.move_to_end(cache_key)
            return self._cache[cache_key]
        raw = self._blobs.read(blob, self._max_size)
        data = None if raw is None else _source(raw, spec, path)
        keys = None if data is None else self._analyse(data, spec, path, test_code)
        self._cache[cache_key] = keys
        if len(self._cache) > CACHE_BLOBS:
            self._cache.popitem(last=False)
        return keys

    def _analyse(self, data: bytes, spec: LanguageSpec, path: str, test_code: bool) -> _Keys:
        where = (path, spec.id, test_code)
        units, last = self._units.pop(where) if where in self._units else (UnitCache(), None)
        previous = None if last is None else edit_to(last[1], last[0], valid_utf8(data))
        options = replace(self._options, test_code=test_code)
        analysed = analyse(data, spec, options, previous=previous, units=units)
        self._units[where] = (units, (analysed.data, analysed.tree))
        if len(self._units) > CACHE_PATHS:
            self._units.popitem(last=False)
        analysis = analysed.selected(self._selection)
        lines = data.split(b"\n")
        return _Keys(
            occurrence_keys(((f.rule_id, f.span.start_row) for f in analysis.findings), lines),
            occurrence_keys(((e.detector_id, e.span.start_row) for e in analysis.evidence), lines),
            {f.rule_id: (f.skill_id, f.lesson_id) for f in analysis.findings},
            {e.detector_id: e.skill_id for e in analysis.evidence},
        )


def _event_id(commit: str, path: str, kind: EventKind, key: str) -> str:
    return uuid.uuid5(EVENT_NAMESPACE, f"{commit}:{path}:{kind.value}:{key}").hex


@dataclass(frozen=True)
class _Analysed:
    """One changed file of a commit, analysed on both sides: its language and what it did.

    ``found`` counts each skill at most once within the file; ``_commit_events`` then counts
    each skill once across the commit's files, in the commit's order of changes (the same
    events as one ``opportunities`` call sharing its ``counted`` across the files).
    """

    index: int  # the change's place in the commit's changes
    language: str
    found: list[Opportunity]


def _change_found(change: Change, index: int, analyser: _Analyser) -> _Analysed | None:
    """The change's opportunities; None when it is not analysed (no language, one side unread)."""
    # Vendored dependencies, build output and generated files are nobody's own code.
    spec = source_language(PurePath(change.path), committed=True)
    if spec is None:
        return None
    old_spec = language_for_path(Path(change.old_path)) if change.old_path else None
    # A file renamed into this language had no code of it before.
    # Paths in history are relative to the repository's root.
    test_code = is_test_path(change.path)
    old_blob = change.old_blob if old_spec == spec else None
    before = analyser.keys(old_blob, spec, change.old_path or change.path, test_code)
    after = analyser.keys(change.new_blob, spec, change.path, test_code)
    if before is None or after is None:
        return None  # one side unreadable: a diff against nothing would invent events
    found = opportunities(
        before.findings,
        after.findings,
        before.evidence,
        after.evidence,
        {**before.rule_skill, **after.rule_skill},
        after.evidence_skill,
        set(),
    )
    return _Analysed(index, spec.id, found)


def _commit_events(
    commit: Commit,
    changes: list[Change],
    analysed: list[_Analysed],
    developer: str,
    repository: str | None,
) -> list[Event]:
    """The commit's events from its analysed files: at most one per skill, as in Coach.observe."""
    events: list[Event] = []
    counted: set[str] = set()
    for item in sorted(analysed, key=lambda a: a.index):
        path = changes[item.index].path
        for seen in item.found:
            if seen.skill_id in counted:
                continue
            counted.add(seen.skill_id)
            events.append(
                Event(
                    kind=seen.kind,
                    developer=developer,
                    skill_id=seen.skill_id,
                    time=commit.author_time,
                    language=item.language,
                    repository=repository,
                    id=_event_id(commit.sha, path, seen.kind, seen.key[0]),
                    rule_id=seen.rule_id,
                    lesson_id=None if seen.rule_id is None else seen.lesson_id or "",
                )
            )
    return events


@dataclass(frozen=True)
class _Cursor:
    """Where a repository's walks stand.

    The tip of the last complete walk, and what an unfinished walk has done since.
    """

    walked: str | None = None
    done: frozenset[str] = frozenset()


def _is_sha(value: object) -> bool:
    return (
        isinstance(value, str)
        and len(value) in (40, 64)
        and all(c in "0123456789abcdef" for c in value)
    )


def _read_cursors(path: Path) -> dict[str, _Cursor]:
    """The cursors file, read as untrusted.

    Anything malformed is no cursor (the event ids keep a walk from scratch idempotent). A
    cursor from before every commit was walked (a bare commit id) is no cursor either: that
    walk skipped merged branches' commits.
    """
    try:
        loaded = json.loads(path.read_text("utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(loaded, dict):
        return {}
    cursors = {}
    for repository, value in loaded.items():
        if not isinstance(repository, str) or not isinstance(value, dict):
            continue
        walked = value.get("walked")
        done = value.get("done")
        if (walked is None or _is_sha(walked)) and isinstance(done, list):
            cursors[repository] = _Cursor(walked, frozenset(d for d in done if _is_sha(d)))
    return cursors


def _write_cursor(path: Path, repository: str, cursor: _Cursor) -> None:
    cursors = _read_cursors(path)
    cursors[repository] = cursor
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    text = {r: {"walked": c.walked, "done": sorted(c.done)} for r, c in cursors.items()}
    temporary.write_text(json.dumps(text, indent=1, sort_keys=True), "utf-8")
    temporary.replace(path)  # atomic: a reader sees the old cursors or the new, never half


# A worker's own ``git cat-file`` process and analyses (one per process).
_WORKER: dict[str, Any] = {}

# Per commit, the changes in one worker's share of the paths, with their places in the commit.
_Task = list[tuple[str, list[tuple[int, Change]]]]
# Per commit, its analysed files.
_Found = dict[str, list["_Analysed"]]


def _start_worker(root: Path, config: Config) -> None:
    blobs = Blobs(root)
    _WORKER.update(blobs=blobs, analyser=_Analyser(blobs, config))


def _analyse_share(task: _Task) -> dict[str, list[_Analysed]]:
    """Each commit's analysed files, for the changes of one share (oldest commit first)."""
    analyser: _Analyser = _WORKER["analyser"]
    return {
        sha: [
            found
            for index, change in changes
            if (found := _change_found(change, index, analyser)) is not None
        ]
        for sha, changes in task
    }


@dataclass
class _Owners:
    """The worker that owns each changed path in a registered language.

    A worker sees every change to its paths, in order: the old version of a file is then the
    new version it analysed last, cached, and the file's last tree and units are at hand for an
    incremental parse. A path goes, when first seen, to the worker with the fewest changes so
    far, and stays there.
    """

    workers: int
    owner: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.load = [0] * self.workers  # changes given to each worker so far

    def assign(self, diffs: dict[str, list[Change]]) -> None:
        for changes in diffs.values():
            for change in changes:
                worker = self.owner.get(change.path)
                if worker is None:
                    if source_language(PurePath(change.path), committed=True) is None:
                        continue
                    worker = self.owner[change.path] = self.load.index(min(self.load))
                self.load[worker] += 1


def _tasks(
    chunk: list[Commit], diffs: dict[str, list[Change]], owner: dict[str, int], shares: int
) -> list[_Task]:
    """The chunk's changes split by the worker that owns their path."""
    tasks: list[_Task] = [[] for _ in range(shares)]
    for commit in chunk:
        split: list[list[tuple[int, Change]]] = [[] for _ in range(shares)]
        for index, change in enumerate(diffs.get(commit.sha, [])):
            worker = owner.get(change.path)
            if worker is not None:
                split[worker].append((index, change))
        for worker, changes in enumerate(split):
            if changes:
                tasks[worker].append((commit.sha, changes))
    return tasks


def _chunks(todo: list[Commit], jobs: int) -> list[list[Commit]]:
    """Runs of consecutive commits: each is analysed, then written, before the next.

    Short enough that an interrupt loses little and progress moves, long enough that the
    workers are rarely idle while the main process puts a chunk's commits together.
    """
    size = max(CHUNK_MIN, min(CHUNK_MAX, len(todo) // (jobs * 8) or 1))
    return [todo[i : i + size] for i in range(0, len(todo), size)]


def run_baseline(
    repo: Path,
    store: ProgressStore,
    config: Config,
    data_dir: Path,
    *,
    branch: str | None = None,
    since: str | None = None,
    max_commits: int | None = None,
    on_progress: Callable[[int, int], None] | None = None,
    jobs: int | None = None,
) -> BaselineSummary:
    """Record in ``store`` each author's evidence from every non-merge commit of ``branch``.

    Continues where an earlier run stopped, and walks only what an earlier complete run did not
    reach. ``max_commits`` stops after that many new commits (as an interrupt would).
    ``on_progress(done, total)`` is called after each commit. ``jobs`` worker processes analyse
    (default: one per core); 1 analyses in this process. ``branch`` defaults to HEAD.
    """
    started = time.perf_counter()
    root = repository_root(repo)
    salt = config.team_salt.encode("utf-8") if config.team_salt else local_salt(data_dir)
    repository = repository_id(root, salt)
    assert repository is not None
    cursor_path = data_dir / CURSOR_NAME
    tip = resolve_tip(root, branch or "HEAD")
    cursor = _read_cursors(cursor_path).get(repository, _Cursor())
    commits = non_merge_commits(root, tip, cursor.walked, since)
    todo = [c for c in commits if c.sha not in cursor.done]
    summary = BaselineSummary(resumed=len(commits) - len(todo))
    summary.authors = len({c.email.lower() for c in commits})
    coders: set[str] = set()
    if max_commits is not None:
        todo = todo[:max_commits]
    jobs = max(1, jobs or os.cpu_count() or 1)
    chunks = _chunks(todo, jobs)
    workers = jobs if jobs > 1 and len(chunks) > 1 else 1
    owners = _Owners(workers)
    done = set(cursor.done)
    pending: list[Event] = []
    unwritten = 0
    pseudonyms: dict[str, str] = {}

    def flush() -> None:
        nonlocal pending, unwritten
        if not unwritten:
            return
        store.record(pending)  # the events first, then the cursor: a stop between repeats work
        finished = summary.resumed + summary.commits == len(commits)
        _write_cursor(
            cursor_path,
            repository,
            _Cursor(tip) if finished else _Cursor(cursor.walked, frozenset(done)),
        )
        pending, unwritten = [], 0

    def merged(parts: Iterable[_Found]) -> _Found:
        found: _Found = {}
        for part in parts:
            for sha, analysed in part.items():
                found.setdefault(sha, []).extend(analysed)
        return found

    def listed(chunk: list[Commit]) -> tuple[list[Commit], dict[str, list[Change]]]:
        """The chunk's commits git can read, and their changes.

        Listed chunk by chunk, so that memory does not grow with the history.
        """
        unreadable: list[str] = []
        diffs = changes_by_commit(root, chunk, unreadable)
        if unreadable:
            # Left out, and not marked done: a later run (after a fetch) tries them again.
            summary.unreadable += len(unreadable)
            skipped = set(unreadable)
            chunk = [c for c in chunk if c.sha not in skipped]
        owners.assign(diffs)
        return chunk, diffs

    # One single-process pool per worker, so that a path's changes always go to the same
    # process; a few chunks are queued ahead, and each chunk's shares are put together in order.
    pools: list[ProcessPoolExecutor] = []

    def in_pools() -> Iterator[tuple[list[Commit], dict[str, list[Change]], _Found]]:
        queued: deque[tuple[list[Commit], dict[str, list[Change]], list[Future[_Found]]]]
        queued = deque()
        for chunk in chunks:
            readable, diffs = listed(chunk)
            tasks = _tasks(readable, diffs, owners.owner, workers)
            futures = [pools[w].submit(_analyse_share, t) for w, t in enumerate(tasks) if t]
            queued.append((readable, diffs, futures))
            if len(queued) > QUEUED_CHUNKS:
                readable, diffs, futures = queued.popleft()
                yield readable, diffs, merged(f.result() for f in futures)
        for readable, diffs, futures in queued:
            yield readable, diffs, merged(f.result() for f in futures)

    def in_process() -> Iterator[tuple[list[Commit], dict[str, list[Change]], _Found]]:
        _start_worker(root, config)
        for chunk in chunks:
            readable, diffs = listed(chunk)
            yield readable, diffs, _analyse_share(_tasks(readable, diffs, owners.owner, 1)[0])

    try:
        results: Iterator[tuple[list[Commit], dict[str, list[Change]], _Found]]
        if workers > 1:
            pools = [
                ProcessPoolExecutor(
                    max_workers=1, initializer=_start_worker, initargs=(root, config)
                )
                for _ in range(workers)
            ]
            results = in_pools()
        else:
            results = in_process()
        for chunk, diffs, found in results:
            # Only whole commits reach the batch, so an interrupt never leaves half of one.
            for commit in chunk:
                email = commit.email.lower()
                developer = pseudonyms.get(email)
                if developer is None:
                    developer = pseudonyms[email] = pseudonym(commit.email, salt)
                analysed = found.get(commit.sha, [])
                events = _commit_events(
                    commit, diffs.get(commit.sha, []), analysed, developer, repository
                )
                pending.extend(events)
                done.add(commit.sha)
                unwritten += 1
                summary.commits += 1
                summary.files += len(analysed)
                summary.events += len(events)
                summary.developers.update(e.developer for e in events)
                if analysed:
                    coders.add(email)
                if unwritten >= BATCH_COMMITS:
                    flush()
                if on_progress is not None:
                    on_progress(summary.resumed + summary.commits, len(commits))
        summary.complete = summary.resumed + summary.commits == len(commits)
        summary.coders = len(coders)
        if summary.complete and not unwritten and cursor.walked != tip:
            _write_cursor(cursor_path, repository, _Cursor(tip))
    finally:
        try:
            flush()
        finally:
            for pool in pools:
                pool.shutdown(wait=True, cancel_futures=True)
            blobs = _WORKER.pop("blobs", None)
            if blobs is not None:
                blobs.close()
            _WORKER.clear()
            summary.seconds = time.perf_counter() - started
    from lessonlens.server.learner.fitting import refit  # numpy, for this step only

    summary.fitted = refit(store, repository, data_dir, walked=summary.commits)
    return summary


__all__ = ["BaselineError", "BaselineSummary", "run_baseline"]
