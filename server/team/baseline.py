"""The baseline: a starting profile for each developer from the code they already committed.

``lessonlens baseline`` walks a branch's first-parent history, oldest first, analyses the old and
new versions of every changed Python file, and turns the difference into the same events the
coach records while someone edits (server/coach.py): a finding that appears is an anti-pattern
introduced, one that disappears is fixed, new good usage is skill evidence, and each skill counts
at most once per commit. Each commit is credited to its author (pseudonymised as in the store) at
its author time.

Speed: one ``git cat-file --batch`` process serves every blob, and analyses are cached by blob
id, because the new version of a file in one commit is the old version in the next change to it.
The per-commit ``git diff-tree`` uses ``--raw`` (``--name-status`` plus the blob ids) for that
cache.

Resuming: events are written in batches of whole commits, each batch followed by the cursor (the
last commit written, per repository id). Event ids are derived from commit, path, kind and key,
so a run that stops between the two (or a re-run over the same history) stores nothing twice.

Deleted files are no evidence: removing a module says nothing about its idioms.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import time
import uuid
from collections import Counter, OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

from lessonlens.analyzers import AnalysisOptions, LanguageSpec, analyze, language_for_path
from lessonlens.analyzers.languages import is_test_path
from lessonlens.server.learner.coach import occurrence_keys, opportunities
from lessonlens.server.learner.progress import (
    UNKNOWN_EMAIL,
    Event,
    EventKind,
    ProgressStore,
    local_salt,
    pseudonym,
    repository_id,
)
from lessonlens.server.workspace.config import Config

CURSOR_NAME = "baseline-cursors.json"
# Event ids are uuid5 in this namespace: the same commit, file, kind and key always give the
# same id, and the store ignores ids it already holds.
EVENT_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://lessonlens.dev/baseline")
# Commits per store transaction (and cursor write): large enough that SQLite's commit cost
# vanishes, small enough that an interrupt loses seconds of work at most.
BATCH_COMMITS = 200
# Analyses kept by blob id. A blob is usually needed again soon (the next change to the file),
# so a modest cache catches nearly every repeat.
CACHE_BLOBS = 4096
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


def _git(repo: Path, *args: str) -> bytes:
    try:
        done = subprocess.run(["git", *args], cwd=repo, capture_output=True, check=False)
    except OSError as exc:
        raise BaselineError(f"cannot run git: {exc}") from exc
    if done.returncode != 0:
        message = done.stderr.decode("utf-8", "replace").strip()
        raise BaselineError(f"git {args[0]} failed: {message}")
    return done.stdout


def repository_root(path: Path) -> Path:
    out = _git(path, "rev-parse", "--show-toplevel").decode("utf-8", "surrogateescape").strip()
    return Path(out)


def _commits(repo: Path, branch: str, since: str | None) -> list[_Commit]:
    args = ["rev-list", "--reverse", "--first-parent", "--format=%x00%P%x00%ae%x00%at"]
    if since:
        args.append(f"--since={since}")
    # "--" ends the revisions: a branch named like a file is still a branch.
    out = _git(repo, *args, branch, "--")
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


def _changes(repo: Path, commit: _Commit) -> list[_Change]:
    base = ["diff-tree", "--no-commit-id", "-r", "--raw", "-z", "-M"]
    if commit.parent:
        out = _git(repo, *base, commit.parent, commit.sha)
    else:
        out = _git(repo, *base, "--root", commit.sha)
    fields = out.split(b"\x00")
    changes: list[_Change] = []
    index = 0
    while index < len(fields) and fields[index].startswith(b":"):
        old_mode, new_mode, old_blob, new_blob, status = (
            fields[index][1:].decode("ascii").split(" ")
        )
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
            changes.append(_Change(kind, old_blob, new_blob, names[0], names[1]))
        elif kind in "MT":
            changes.append(_Change(kind, old_blob, new_blob, names[0], names[0]))
        elif kind == "A":
            changes.append(_Change(kind, None, new_blob, None, names[0]))
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


def _source(raw: bytes, spec: LanguageSpec) -> bytes | None:
    """UTF-8 text to analyse, or None for a binary or undecodable blob (as ``check`` skips)."""
    if b"\x00" in raw[:8192]:
        return None
    text, notice = spec.decode(raw)
    if notice is not None:
        return None
    if text.startswith("\ufeff"):
        text = text[1:]
    return text.encode("utf-8", "surrogatepass")


class _Analyser:
    def __init__(self, blobs: _Blobs, config: Config) -> None:
        self._blobs = blobs
        self._max_size = config.max_file_size
        self._options = AnalysisOptions(language_options=config.language_options)
        self._cache: OrderedDict[tuple[str, str, bool], _Keys | None] = OrderedDict()

    def keys(self, blob: str | None, spec: LanguageSpec, test_code: bool = False) -> _Keys | None:
        """The blob's analysis keys; None when it must be skipped (binary, huge, undecodable)."""
        if blob is None or set(blob) == {"0"}:
            return _NO_KEYS
        cache_key = (blob, spec.id, test_code)
        if cache_key in self._cache:
            self._cache.move_to_end(cache_key)
            return self._cache[cache_key]
        raw = self._blobs.read(blob, self._max_size)
        data = None if raw is None else _source(raw, spec)
        keys = None if data is None else self._analyse(data, spec, test_code)
        self._cache[cache_key] = keys
        if len(self._cache) > CACHE_BLOBS:
            self._cache.popitem(last=False)
        return keys

    def _analyse(self, data: bytes, spec: LanguageSpec, test_code: bool) -> _Keys:
        analysis = analyze(data, spec, replace(self._options, test_code=test_code))
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
        spec = language_for_path(Path(change.path))
        if spec is None:
            continue
        language = spec.id
        old_spec = language_for_path(Path(change.old_path)) if change.old_path else None
        # A file renamed into this language had no code of it before.
        # Paths in history are relative to the repository's root.
        test_code = is_test_path(change.path)
        before = analyser.keys(change.old_blob if old_spec == spec else None, spec, test_code)
        after = analyser.keys(change.new_blob, spec, test_code)
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


def _read_cursors(path: Path) -> dict[str, str]:
    try:
        loaded = json.loads(path.read_text("utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(loaded, dict):
        return {}
    return {k: v for k, v in loaded.items() if isinstance(k, str) and isinstance(v, str)}


def _write_cursor(path: Path, repository: str, commit: str) -> None:
    cursors = _read_cursors(path)
    cursors[repository] = commit
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    temporary.write_text(json.dumps(cursors, indent=2, sort_keys=True), "utf-8")
    temporary.replace(path)  # atomic: a reader sees the old cursors or the new, never half


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
) -> BaselineSummary:
    """Walk ``branch`` (default HEAD) of ``repo`` and record each author's evidence in ``store``.

    Continues after the last commit an earlier run recorded for this repository.
    ``max_commits`` stops after that many new commits (as an interrupt would).
    ``on_progress(done, total)`` is called after each commit.
    """
    started = time.perf_counter()
    root = repository_root(repo)
    salt = config.team_salt.encode("utf-8") if config.team_salt else local_salt(data_dir)
    repository = repository_id(root, salt)
    assert repository is not None
    cursor_path = data_dir / CURSOR_NAME
    commits = _commits(root, branch or "HEAD", since)
    cursor = _read_cursors(cursor_path).get(repository)
    shas = [c.sha for c in commits]
    start = shas.index(cursor) + 1 if cursor in shas else 0
    summary = BaselineSummary(resumed=start)
    todo = commits[start:]
    if max_commits is not None:
        todo = todo[:max_commits]
    pending: list[Event] = []
    last_done: str | None = None
    pseudonyms: dict[str, str] = {}

    def flush() -> None:
        nonlocal pending, last_done
        if last_done is None:
            return
        store.record(pending)  # the events first, then the cursor: a stop between repeats work
        _write_cursor(cursor_path, repository, last_done)
        pending, last_done = [], None

    blobs = _Blobs(root)
    try:
        analyser = _Analyser(blobs, config)
        for done, commit in enumerate(todo, 1):
            developer = pseudonyms.get(commit.email.lower())
            if developer is None:
                developer = pseudonyms[commit.email.lower()] = pseudonym(commit.email, salt)
            events, files = _commit_events(
                commit, _changes(root, commit), analyser, developer, repository
            )
            # Only whole commits reach the batch, so an interrupt never leaves half of one.
            pending.extend(events)
            last_done = commit.sha
            summary.commits += 1
            summary.files += files
            summary.events += len(events)
            if events:
                summary.developers.add(developer)
            if done % BATCH_COMMITS == 0:
                flush()
            if on_progress is not None:
                on_progress(start + done, len(commits))
        summary.complete = start + len(todo) == len(commits)
    finally:
        try:
            flush()
        finally:
            blobs.close()
            summary.seconds = time.perf_counter() - started
    return summary


__all__ = ["BaselineError", "BaselineSummary", "run_baseline"]
