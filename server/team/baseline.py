"""The baseline: a starting profile for each developer from the code they already committed.

``lessonlens baseline`` walks every commit reachable from a branch that is not a merge, oldest
first, diffs each against its first parent, analyses the old and new versions of every changed
file in a registered language, and turns the difference into the same events the coach records
while someone edits (server/learner/coach.py): a finding that appears is an anti-pattern
introduced, one that disappears is fixed, new good usage is skill evidence, and each skill
counts at most once per commit. Each commit is credited to its author (pseudonymised as in the
store) at its author time. Merges are skipped: a merge's diff against its first parent is the
merged branch's work, whose own commits are walked and credited to their authors.

Speed: commits are analysed in chunks of consecutive commits on worker processes, one per core;
in each worker one ``git diff-tree --stdin`` lists a chunk's changes and one ``git cat-file
--batch`` process serves every blob, and analyses are cached by blob id, because the new version
of a file in one commit is the old version in the next change to it.

Resuming: events are written in batches of whole commits, in the walk's order, each batch
followed by the cursor: the tip of the last complete walk per repository id (a later run walks
only what that tip does not reach) and the commits an unfinished walk has done. Event ids are
derived from commit, path, kind and key, so a run that stops between the two (or a re-run over
the same history) stores nothing twice.

Deleted files are no evidence: removing a module says nothing about its idioms. At the end, the
learner's parameters are fitted to the repository's history (``server/learner/fitting.py``).
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import time
import uuid
from collections import Counter, OrderedDict
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path, PurePath
from typing import Any

from lessonlens.analyzers import AnalysisOptions, LanguageSpec, language_for_path, parsing
from lessonlens.analyzers.engine import UnitCache, valid_utf8
from lessonlens.analyzers.facade import Selection, Skipped, analyse, edit_to, prepare
from lessonlens.analyzers.languages import is_test_path
from lessonlens.server.learner.coach import occurrence_keys, opportunities
from lessonlens.server.learner.progress import Event, EventKind, ProgressStore
from lessonlens.server.learner.pseudonym import UNKNOWN_EMAIL, local_salt, pseudonym, repository_id
from lessonlens.server.workspace.config import Config
from lessonlens.server.workspace.git import GitError, git
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
# Files whose pieces' analyses are kept (a ``UnitCache`` each), most recently changed first.
CACHE_PATHS = 256
_EMPTY_TREE_PARENT = ""
_REGULAR = ("100644", "100755")
_NO_BLOB = "0" * 40


class BaselineError(Exception):
    """The repository or branch cannot be walked."""


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


@dataclass(frozen=True)
class _Keys:
    """What one blob's analysis contained, in the coach's diffable form."""

    findings: Counter[tuple[str, bytes]]
    evidence: Counter[tuple[str, bytes]]
    rule_skill: dict[str, tuple[str, str]]
    evidence_skill: dict[str, str]


_NO_KEYS = _Keys(Counter(), Counter(), {}, {})


@dataclass(frozen=True)
class _Commit:
    sha: str
    parent: str
    email: str
    author_time: float


@dataclass(frozen=True)
class _Change:
    status: str
    old_blob: str | None
    new_blob: str
    old_path: str | None
    path: str


def _git(repo: Path, *args: str, input: bytes | None = None) -> bytes:
    try:
        return git(args, repo, input=input)
    except GitError as exc:
        raise BaselineError(str(exc)) from exc


def repository_root(path: Path) -> Path:
    out = _git(path, "rev-parse", "--show-toplevel").decode("utf-8", "surrogateescape").strip()
    return Path(out)


def _tip(repo: Path, branch: str) -> str:
    try:
        out = _git(repo, "rev-parse", "--verify", "--end-of-options", f"{branch}^{{commit}}")
    except BaselineError as exc:
        raise BaselineError(f"no such branch or revision: {branch} ({exc})") from exc
    return out.decode("ascii").strip()


def _commits(repo: Path, tip: str, walked: str | None, since: str | None) -> list[_Commit]:
    """Every non-merge commit reachable from ``tip`` and not from ``walked``, oldest first."""
    args = ["rev-list", "--reverse", "--topo-order", "--no-merges"]
    args.append("--format=%x00%P%x00%ae%x00%at")
    if since:
        args.append(f"--since={since}")
    revisions = [tip] if walked is None else [tip, f"^{walked}"]
    # "--" ends the revisions: a branch named like a file is still a branch.
    out = _git(repo, *args, *revisions, "--")
    commits: list[_Commit] = []
    lines = out.split(b"\n")
    for header, data in zip(lines[0::2], lines[1::2], strict=False):
        if not header.startswith(b"commit "):
            continue
        _, parents, email, at = data.decode("utf-8", "replace").split("\x00")
        commits.append(
            _Commit(
                header[7:].decode("ascii"),
                parents.split(" ")[0] if parents else _EMPTY_TREE_PARENT,
                email.strip() or UNKNOWN_EMAIL,
                float(at or 0),
            )
        )
    return commits


def _diffs(repo: Path, commits: list[_Commit]) -> dict[str, list[_Change]]:
    """Each commit's changes against its first parent, from one ``git diff-tree --stdin``."""
    if not commits:
        return {}
    out = _git(
        repo,
        *("diff-tree", "--stdin", "-r", "--raw", "-z", "-M", "--root"),
        input="".join(f"{c.sha}\n" for c in commits).encode("ascii"),
    )
    changes: dict[str, list[_Change]] = {}
    current: list[_Change] = []
    fields = out.split(b"\x00")
    index = 0
    while index < len(fields):
        field_ = fields[index]
        if not field_.startswith(b":"):
            # A commit's id starts its changes (a commit without any has no line at all).
            if field_:
                current = changes.setdefault(field_.decode("ascii").strip(), [])
            index += 1
            continue
        old_mode, new_mode, old_blob, new_blob, status = field_[1:].decode("ascii").split(" ")
        kind = status[0]
        paths = 2 if kind in "RC" else 1
        names = [
            f.decode("utf-8", "surrogateescape") for f in fields[index + 1 : index + 1 + paths]
        ]
        index += 1 + paths
        if new_mode not in _REGULAR:
            continue  # a symlink's blob is a path, a submodule's a commit: no code of ours
        if old_mode not in _REGULAR:
            old_blob = _NO_BLOB
        if kind in "RC":
            current.append(_Change(kind, old_blob, new_blob, names[0], names[1]))
        elif kind in "MT":
            current.append(_Change(kind, old_blob, new_blob, names[0], names[0]))
        elif kind == "A":
            current.append(_Change(kind, None, new_blob, None, names[0]))
        # D: a deleted file is no evidence about anyone's idioms.
    return changes


class _Blobs:
    """One long-lived ``git cat-file --batch``: a blob's bytes by id, without a process each."""

    def __init__(self, repo: Path) -> None:
        try:
            self._process = subprocess.Popen(
                ["git", "cat-file", "--batch"],
                cwd=repo,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
            )
        except OSError as exc:
            raise BaselineError(f"cannot run git: {exc}") from exc

    def read(self, blob: str, max_size: int) -> bytes | None:
        """The blob's bytes, or None when it is missing or over ``max_size`` (read and dropped)."""
        stdin, stdout = self._process.stdin, self._process.stdout
        assert stdin is not None and stdout is not None
        stdin.write(blob.encode("ascii") + b"\n")
        stdin.flush()
        header = stdout.readline().split()
        if len(header) != 3:
            if not header:
                raise BaselineError("git cat-file stopped unexpectedly")
            return None  # "<id> missing"
        size = int(header[2])
        # The protocol sends the whole object whatever we want of it; a huge one is drained in
        # chunks rather than held in memory.
        if size > max_size:
            left = size + 1
            while left:
                left -= len(stdout.read(min(left, 1 << 20)) or b"\0" * left)
            return None
        data = stdout.read(size + 1)
        return data[:size]

    def close(self) -> None:
        process = self._process
        with contextlib.suppress(OSError):
            if process.stdin is not None:
                process.stdin.close()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if process.stdout is not None:
            process.stdout.close()


def _source(raw: bytes, spec: LanguageSpec, path: str) -> bytes | None:
    """UTF-8 text to analyse, or None for a binary, generated or undecodable blob (as ``check``)."""
    read = prepare(raw, spec, path.rsplit("/", 1)[-1])
    if isinstance(read, Skipped) or read.notice is not None:
        return None
    return read.data


class _Analyser:
    def __init__(self, blobs: _Blobs, config: Config) -> None:
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


def _commit_events(
    commit: _Commit,
    changes: list[_Change],
    analyser: _Analyser,
    developer: str,
    repository: str | None,
) -> tuple[list[Event], int]:
    """The commit's events (at most one per skill, as in Coach.observe) and files analysed."""
    events: list[Event] = []
    counted: set[str] = set()
    files = 0
    language = ""

    def add(kind: EventKind, skill: str, path: str, key: str, **fields: str) -> None:
        events.append(
            Event(
                kind=kind,
                developer=developer,
                skill_id=skill,
                time=commit.author_time,
                language=language,
                repository=repository,
                id=_event_id(commit.sha, path, kind, key),
                **fields,  # type: ignore[arg-type]
            )
        )

    for change in changes:
        # Vendored dependencies, build output and generated files are nobody's own code.
        spec = source_language(PurePath(change.path))
        if spec is None:
            continue
        language = spec.id
        old_spec = language_for_path(Path(change.old_path)) if change.old_path else None
        # A file renamed into this language had no code of it before.
        # Paths in history are relative to the repository's root.
        test_code = is_test_path(change.path)
        old_blob = change.old_blob if old_spec == spec else None
        before = analyser.keys(old_blob, spec, change.old_path or change.path, test_code)
        after = analyser.keys(change.new_blob, spec, change.path, test_code)
        if before is None or after is None:
            continue  # one side unreadable: a diff against nothing would invent events
        files += 1
        found = opportunities(
            before.findings,
            after.findings,
            before.evidence,
            after.evidence,
            {**before.rule_skill, **after.rule_skill},
            after.evidence_skill,
            counted,
        )
        for seen in found:
            add(
                seen.kind,
                seen.skill_id,
                change.path,
                seen.key[0],
                **(
                    {}
                    if seen.rule_id is None
                    else {"rule_id": seen.rule_id, "lesson_id": seen.lesson_id or ""}
                ),
            )
    return events, files


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


# A worker's own git processes and blob cache (one per process; the walk's order decides
# nothing in a worker, which only analyses the chunks it is given).
_WORKER: dict[str, Any] = {}


def _start_worker(root: Path, config: Config, salt: bytes, repository: str) -> None:
    blobs = _Blobs(root)
    _WORKER.update(
        root=root,
        blobs=blobs,
        analyser=_Analyser(blobs, config),
        salt=salt,
        repository=repository,
        pseudonyms={},
    )


def _chunk_events(commits: list[_Commit]) -> list[tuple[str, list[Event], int]]:
    """(commit, its events, files analysed) for consecutive commits, in order."""
    diffs = _diffs(_WORKER["root"], commits)
    pseudonyms: dict[str, str] = _WORKER["pseudonyms"]
    found = []
    for commit in commits:
        email = commit.email.lower()
        developer = pseudonyms.get(email)
        if developer is None:
            developer = pseudonyms[email] = pseudonym(commit.email, _WORKER["salt"])
        events, files = _commit_events(
            commit, diffs.get(commit.sha, []), _WORKER["analyser"], developer, _WORKER["repository"]
        )
        found.append((commit.sha, events, files))
    return found


def _chunks(todo: list[_Commit], jobs: int) -> list[list[_Commit]]:
    """Runs of consecutive commits for the workers.

    Long enough that a worker's blob cache pays (the next change to a file is often a few
    commits on), short enough to keep every worker busy.
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
    tip = _tip(root, branch or "HEAD")
    cursor = _read_cursors(cursor_path).get(repository, _Cursor())
    commits = _commits(root, tip, cursor.walked, since)
    todo = [c for c in commits if c.sha not in cursor.done]
    summary = BaselineSummary(resumed=len(commits) - len(todo))
    summary.authors = len({c.email.lower() for c in commits})
    emails = {c.sha: c.email.lower() for c in commits}
    coders: set[str] = set()
    if max_commits is not None:
        todo = todo[:max_commits]
    jobs = max(1, jobs or os.cpu_count() or 1)
    chunks = _chunks(todo, jobs)
    done = set(cursor.done)
    pending: list[Event] = []
    unwritten = 0

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

    pool: ProcessPoolExecutor | None = None
    try:
        results: Iterator[list[tuple[str, list[Event], int]]]
        if jobs > 1 and len(chunks) > 1:
            pool = ProcessPoolExecutor(
                max_workers=min(jobs, len(chunks)),
                initializer=_start_worker,
                initargs=(root, config, salt, repository),
            )
            results = pool.map(_chunk_events, chunks)
        else:
            _start_worker(root, config, salt, repository)
            results = map(_chunk_events, chunks)
        for chunk in results:
            # Only whole commits reach the batch, so an interrupt never leaves half of one.
            for sha, events, files in chunk:
                pending.extend(events)
                done.add(sha)
                unwritten += 1
                summary.commits += 1
                summary.files += files
                summary.events += len(events)
                summary.developers.update(e.developer for e in events)
                if files:
                    coders.add(emails[sha])
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
            if pool is not None:
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
