"""The progress store: skill-progress events per developer, in SQLite on this machine.

Several editor windows (several language-server processes) and the command line write to one
database file at once. SQLite in WAL mode gives that for free as long as every write is one short
``BEGIN IMMEDIATE`` transaction: writers queue on the database lock (``busy_timeout``) instead of
failing, and readers never wait. ``synchronous=NORMAL`` skips the fsync at each commit; in WAL
mode that can roll back the last transactions on a power cut or an OS crash, never corrupt the
file, and a killed process loses nothing that it committed.

A database that cannot be read (not a database, or failing ``PRAGMA quick_check``) is moved aside,
never deleted: the developer is told where it went, and a fresh store starts.

Privacy: an event holds ids only (kind, skill, rule, lesson, language), a developer pseudonym and a
hashed repository id (both from ``pseudonym.py``). There is no field for source text, identifiers
or file paths, so none can reach the database. The tables and their migrations are ``schema.py``.
"""

from __future__ import annotations

import contextlib
import enum
import logging
import math
import os
import sqlite3
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import platformdirs

from lessonlens.server.learner.schema import (
    COLUMNS,
    INSERT,
    MIGRATIONS,
    SCHEMA_VERSION,
    user_version,
)

log = logging.getLogger(__name__)

DATABASE_NAME = "progress.sqlite3"
# How long a writer waits for another process's transaction before giving up. Our transactions
# last milliseconds, so reaching this means something else holds the database.
BUSY_TIMEOUT_S = 10.0
# How long opening the store waits for another process that is opening it (checking, moving a
# damaged file aside, migrating: milliseconds). A process stopped while holding the lock file
# (a debugger, SIGSTOP) would otherwise hang every other lessonlens.
LOCK_WAIT_S = 5.0


class EventKind(enum.Enum):
    HINT_SHOWN = "hint_shown"
    LESSON_OPENED = "lesson_opened"
    FIX_APPLIED = "fix_applied"
    HINT_DISMISSED = "hint_dismissed"
    RULE_MUTED = "rule_muted"
    SKILL_EVIDENCE = "skill_evidence"
    ANTIPATTERN_INTRODUCED = "antipattern_introduced"
    ANTIPATTERN_FIXED = "antipattern_fixed"
    REVIEW_ANSWERED = "review_answered"
    MASTERED = "mastered"
    I_KNOW_THIS = "i_know_this"
    # The model saw the skill exercised in code the developer changed: practice, with no
    # judgement of right or wrong (a learning opportunity in the learner model).
    SKILL_PRACTICED = "skill_practiced"
    # A practice challenge (``lessonlens practice``): written (``correct`` None: attempted), or
    # its check run on the developer's code (passed: True, failed: False).
    PRACTICE_CHECKED = "practice_checked"


def _new_id() -> str:
    return uuid.uuid4().hex


# What a record that names no language is: lessonlens read Python only before it recorded the
# language of each event (xAPI statements from then have no language extension). The coach
# always passes the language of the document, rule or lesson; only old records take this.
LEGACY_LANGUAGE = "python"


@dataclass(frozen=True)
class Event:
    """One skill-progress signal.

    ``id`` is unique and chosen by the writer, so recording the same event twice (a retry after an
    error whose outcome was unknown) stores it once.
    """

    kind: EventKind
    developer: str  # pseudonym, never an email
    skill_id: str
    time: float  # unix seconds
    rule_id: str | None = None
    lesson_id: str | None = None
    # The language of the document, rule or lesson the event is about (``LanguageSpec.id``).
    language: str = LEGACY_LANGUAGE
    repository: str | None = None  # hashed repository id
    correct: bool | None = None  # for REVIEW_ANSWERED and PRACTICE_CHECKED
    id: str = field(default_factory=_new_id)


class ProgressStore(Protocol):
    def record(self, events: Sequence[Event]) -> None:
        """Store all of ``events`` in one transaction: all or none."""
        ...

    def events(
        self, developer: str, *, skill_id: str | None = None, since: float | None = None
    ) -> list[Event]:
        """The developer's events in time order; ``since`` is inclusive."""
        ...

    def developers(self) -> list[str]: ...

    def forget(self, developer: str, skill_id: str | None = None) -> int:
        """Delete the developer's events (one skill's, or all); the number deleted."""
        ...

    def close(self) -> None: ...


class ProgressStoreError(Exception):
    """The store cannot be used; the message names the file.

    Closed, unusable (a folder, a newer or foreign schema), locked too long by another process,
    or a damaged salt.
    """


class WriteFailed(ProgressStoreError):
    """A write that did not happen now but may later: the database was busy, the disk full.

    ``busy`` is another process holding the database, which is routine and worth no notice.
    """

    def __init__(self, message: str, *, busy: bool) -> None:
        super().__init__(message)
        self.busy = busy


_KINDS = {kind.value: kind for kind in EventKind}
# SQLite's primary result codes that mean "this file is damaged", as opposed to busy, locked,
# read-only or unreadable (permissions), which are not reasons to move a file aside.
_DAMAGED = (sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB)

_Row = tuple[str, str, str, str, float, str | None, str | None, str, str | None, int | None]


def default_data_dir() -> Path:
    """Where lessonlens keeps per-developer data; ``LESSONLENS_DATA_DIR`` overrides it."""
    override = os.environ.get("LESSONLENS_DATA_DIR")
    if override:
        return Path(override).expanduser()
    return Path(platformdirs.user_data_dir("lessonlens", appauthor=False))


class SqliteProgressStore:
    """The progress store in one SQLite file, shared by every process of this developer.

    Safe to share between threads: calls take turns on one connection.
    """

    def __init__(
        self,
        path: Path | None = None,
        *,
        on_notice: Callable[[str], None] | None = None,
        busy_timeout_s: float = BUSY_TIMEOUT_S,
    ) -> None:
        self.path = path if path is not None else default_data_dir() / DATABASE_NAME
        self._on_notice = on_notice
        self._busy_timeout_s = busy_timeout_s
        self._told_skipped = False
        self._lock = threading.Lock()
        self._closed = False
        self._connection, self._file_id = self._open()

    def __enter__(self) -> SqliteProgressStore:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def record(self, events: Sequence[Event]) -> None:
        if not events:
            return
        rows = [_row(event) for event in events]  # validate all before writing any
        try:
            with self._lock, self._transaction() as connection:
                connection.executemany(INSERT, rows)
        except sqlite3.DatabaseError as error:
            # Busy, locked, full, read-only, an I/O error, damage found mid-session: nothing was
            # written, and a later try may succeed (another process may move a damaged file
            # aside). Which one it was decides only whether it is worth a notice.
            code = error.sqlite_errorcode & 0xFF
            busy = code in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)
            raise WriteFailed(f"could not write to {self.path}: {error}", busy=busy) from error

    def events(
        self, developer: str, *, skill_id: str | None = None, since: float | None = None
    ) -> list[Event]:
        where: list[str] = ["developer = ?"]
        params: list[str | float] = [developer]
        if skill_id is not None:
            where.append("skill_id = ?")
            params.append(skill_id)
        if since is not None:
            where.append("time >= ?")
            params.append(since)
        query = f"SELECT {COLUMNS} FROM events WHERE {' AND '.join(where)} ORDER BY time, seq"
        with self._lock:
            rows: list[_Row] = self._current().execute(query, params).fetchall()
        found: list[Event] = []
        skipped = 0
        for row in rows:
            if row[1] not in _KINDS:
                continue  # written by a newer lessonlens; this one has no use for it
            event = _event(row)
            if event is None:
                skipped += 1
            else:
                found.append(event)
        if skipped:
            self._skipped(skipped)
        return found

    def developers(self) -> list[str]:
        with self._lock:
            rows = self._current().execute("SELECT DISTINCT developer FROM events ORDER BY 1")
            return [developer for (developer,) in rows]

    def forget(self, developer: str, skill_id: str | None = None) -> int:
        with self._lock:
            query, params = "DELETE FROM events WHERE developer = ?", [developer]
            if skill_id is not None:
                query, params = f"{query} AND skill_id = ?", [developer, skill_id]
            with self._transaction() as connection:
                deleted = connection.execute(query, params).rowcount
            # secure_delete zeroes the freed content in the database pages, but the WAL still
            # holds copies of the old pages until a checkpoint; truncate it so that deleted data
            # is gone from disk, not merely unreachable. Best effort: a busy reader elsewhere
            # leaves it to a later checkpoint.
            with contextlib.suppress(sqlite3.OperationalError):
                self._current().execute("PRAGMA wal_checkpoint(TRUNCATE)")
        return deleted

    def close(self) -> None:
        with self._lock:
            if not self._closed:
                self._closed = True
                self._connection.close()

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        # IMMEDIATE takes the write lock up front. A deferred transaction would start as a reader
        # and, upgrading after another process committed, fail at once with SQLITE_BUSY instead of
        # waiting its turn.
        connection = self._current()
        connection.execute("BEGIN IMMEDIATE")
        try:
            yield connection
            connection.execute("COMMIT")
        except BaseException:
            if connection.in_transaction:
                connection.execute("ROLLBACK")
            raise

    def _current(self) -> sqlite3.Connection:
        """The connection, reopened if the file was moved aside or deleted under us.

        Another process moves a damaged file aside, and a developer may delete the file by hand;
        a connection to the old file would keep writing where no one reads. One stat per call is
        the cheap way to notice.
        """
        if self._closed:
            raise ProgressStoreError("the progress store is closed")
        try:
            current = _file_id(self.path)
        except FileNotFoundError:
            current = None
        if current != self._file_id:
            log.info("progress store %s was replaced; reopening it", self.path)
            self._connection.close()
            self._connection, self._file_id = self._open()
        return self._connection

    def _skipped(self, count: int) -> None:
        """One bad row (written by hand, or by a faulty tool) costs that row, never the store."""
        log.warning("skipped %d unreadable events in %s", count, self.path)
        if not self._told_skipped:
            self._told_skipped = True
            self._notice(
                f"lessonlens: {count} events in {self.path} could not be read and were skipped "
                "(changed by hand or by another tool); the rest of your progress is used."
            )

    def _open(self) -> tuple[sqlite3.Connection, tuple[int, int]]:
        try:
            return self._open_checked()
        except (sqlite3.Error, OSError) as error:
            reason = "it is a folder, not a file" if self.path.is_dir() else str(error)
            raise ProgressStoreError(
                f"lessonlens cannot use the progress database {self.path}: {reason}. Move it "
                "aside (or delete it) to start a fresh store."
            ) from error

    def _open_checked(self) -> tuple[sqlite3.Connection, tuple[int, int]]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # Check, move aside and create under one lock shared by all processes. Without it, two
        # processes that both found the file damaged would each move "it" aside, and the second
        # would move the fresh store the first had just created, with the first writing into it.
        with _exclusive(self.path.with_name(self.path.name + ".lock")):
            connection = self._connect()
            damage = _damage(connection)
            if damage is not None:
                moved = self._move_aside(connection)
                self._notice(
                    f"lessonlens: the progress database {self.path} is damaged ({damage}). "
                    f"It was moved to {moved} and a fresh one was created; your earlier progress "
                    "is in the moved file."
                )
                connection = self._connect()
            try:
                connection.execute("PRAGMA journal_mode = WAL")
                connection.execute("PRAGMA synchronous = NORMAL")
                connection.execute("PRAGMA secure_delete = ON")
                _migrate(connection, self.path)
                _check_columns(connection, self.path)
            except BaseException:
                connection.close()
                raise
            return connection, _file_id(self.path)

    def _connect(self) -> sqlite3.Connection:
        # check_same_thread=False: the language server calls from worker threads; self._lock
        # serialises the calls. isolation_level=None: transactions are explicit.
        connection = sqlite3.connect(
            self.path, timeout=self._busy_timeout_s, isolation_level=None, check_same_thread=False
        )
        connection.text_factory = _text
        return connection

    def _move_aside(self, connection: sqlite3.Connection) -> Path:
        """Move the damaged database and its companion files aside; close ``connection``.

        The files move while the connection is still open: closing the last connection makes
        SQLite delete the WAL file, which belongs to the damaged database and may hold its latest
        transactions. (Windows cannot rename an open file; there it closes first.)
        """
        stamp = time.strftime("%Y%m%dT%H%M%S")
        target = self.path.with_name(f"{self.path.name}.corrupt-{stamp}")
        serial = 1
        while target.exists():
            serial += 1
            target = self.path.with_name(f"{self.path.name}.corrupt-{stamp}-{serial}")
        try:
            try:
                self.path.replace(target)  # first: if this fails, nothing has moved
            except PermissionError:
                connection.close()
                self.path.replace(target)
            # Left behind, the old WAL would also be replayed into the fresh database.
            for suffix in ("-wal", "-shm", "-journal"):
                companion = self.path.with_name(self.path.name + suffix)
                if companion.exists():
                    companion.replace(target.with_name(target.name + suffix))
        finally:
            connection.close()
        return target

    def _notice(self, message: str) -> None:
        log.warning("%s", message)
        if self._on_notice is not None:
            self._on_notice(message)


def _damage(connection: sqlite3.Connection) -> str | None:
    """What is wrong with the database file, or None; checked before anything writes to it."""
    try:
        problems = [str(row[0]) for row in connection.execute("PRAGMA quick_check")]
    except sqlite3.DatabaseError as error:
        if error.sqlite_errorcode & 0xFF in _DAMAGED:
            return str(error)
        connection.close()
        raise
    return None if problems == ["ok"] else "; ".join(problems[:3])


def _migrate(connection: sqlite3.Connection, path: Path) -> None:
    version = user_version(connection)
    if version == SCHEMA_VERSION:
        return
    connection.execute("BEGIN IMMEDIATE")
    try:
        version = user_version(connection)  # another process may have migrated meanwhile
        if version > SCHEMA_VERSION:
            raise ProgressStoreError(
                f"{path} was written by a newer lessonlens (schema version {version}; this one "
                f"knows up to {SCHEMA_VERSION}). Upgrade lessonlens to use it."
            )
        for statements in MIGRATIONS[version:]:
            for statement in statements:
                connection.execute(statement)
        # PRAGMA takes no parameters; SCHEMA_VERSION is our own integer.
        connection.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        connection.execute("COMMIT")
    except BaseException:
        if connection.in_transaction:
            connection.execute("ROLLBACK")
        raise


def _check_columns(connection: sqlite3.Connection, path: Path) -> None:
    """Refuse, at open and with its path, an ``events`` table that is not ours.

    Another tool's, or one changed by hand: refused once, rather than failing every read and write.
    """
    present = {str(row[1]) for row in connection.execute("PRAGMA table_info(events)")}
    missing = sorted(set(COLUMNS.split(", ")) - present)
    if missing:
        raise ProgressStoreError(
            f"{path} is not a lessonlens progress database (its events table has no "
            f"{', '.join(missing)}). Move it aside (or delete it) to start a fresh store."
        )


def _text(data: bytes) -> str | bytes:
    # SQLite hands back whatever bytes a TEXT value holds; one value that is not UTF-8 would fail
    # the whole read. Left as bytes, it fails only its own row's check in _event.
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data


def _row(event: Event) -> _Row:
    if "@" in event.developer:
        raise ValueError("Event.developer must be a pseudonym (developer_pseudonym), not an email")
    return (
        event.id,
        event.kind.value,
        event.developer,
        event.skill_id,
        float(event.time),
        event.rule_id,
        event.lesson_id,
        event.language,
        event.repository,
        None if event.correct is None else int(event.correct),
    )


def _event(row: _Row) -> Event | None:
    """The event a row holds, or None for a row that is not one (SQLite does not enforce types)."""
    event_id, kind, developer, skill_id, at, rule_id, lesson_id, language, repository, correct = row
    texts = (event_id, developer, skill_id, language)
    optional = (rule_id, lesson_id, repository)
    if (
        not all(isinstance(value, str) for value in texts)
        or not all(value is None or isinstance(value, str) for value in optional)
        or isinstance(at, bool)
        or not isinstance(at, int | float)
        or not math.isfinite(at)
        or correct not in (None, 0, 1)
    ):
        return None
    return Event(
        _KINDS[kind],
        developer,
        skill_id,
        at,
        rule_id,
        lesson_id,
        language,
        repository,
        None if correct is None else bool(correct),
        event_id,
    )


def _file_id(path: Path) -> tuple[int, int]:
    status = path.stat()
    return status.st_dev, status.st_ino


def _held_too_long(lock_path: Path) -> str:
    return (
        f"another process has held {lock_path} for more than {LOCK_WAIT_S:g} s (opening the "
        "progress store takes milliseconds): a lessonlens that is stopped or stuck. End it, "
        "or try again."
    )


if sys.platform == "win32":
    import msvcrt

    @contextlib.contextmanager
    def _exclusive(lock_path: Path) -> Iterator[None]:
        with open(lock_path, "a+b") as handle:
            handle.seek(0)
            # LK_LOCK retries for about 10 seconds, then raises OSError.
            try:
                msvcrt.locking(handle.fileno(), msvcrt.LK_LOCK, 1)
            except OSError:
                raise ProgressStoreError(_held_too_long(lock_path)) from None
            try:
                yield
            finally:
                handle.seek(0)
                msvcrt.locking(handle.fileno(), msvcrt.LK_UNLCK, 1)

else:
    import fcntl

    @contextlib.contextmanager
    def _exclusive(lock_path: Path) -> Iterator[None]:
        # flock is released by the kernel when the process dies, so a writer killed while opening
        # cannot leave the store locked.
        with open(lock_path, "a+b") as handle:
            deadline = time.monotonic() + LOCK_WAIT_S
            while True:
                try:
                    fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() > deadline:
                        raise ProgressStoreError(_held_too_long(lock_path)) from None
                    time.sleep(0.05)
            try:
                yield
            finally:
                fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
