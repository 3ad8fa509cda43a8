"""The progress store: round trip, schema migrations, pseudonyms, and that it loses nothing.

The loss tests run real processes: four writing at once, a writer killed with SIGKILL over and
over, and damaged database files.
"""

from __future__ import annotations

import dataclasses
import os
import random
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from lessonlens.server.learner.progress import (
    DATABASE_NAME,
    Event,
    EventKind,
    ProgressStoreError,
    SqliteProgressStore,
    default_data_dir,
)
from lessonlens.server.learner.pseudonym import (
    developer_pseudonym,
    local_salt,
    pseudonym,
    repository_id,
)
from lessonlens.server.learner.schema import SCHEMA_VERSION

DEV = "0123456789abcdef0123456789abcdef"
OTHER = "fedcba9876543210fedcba9876543210"
REPO = "abcdefabcdefabcdefabcdefabcdefab"
T0 = 1_700_000_000.0


def event(kind: EventKind = EventKind.HINT_SHOWN, **changes: Any) -> Event:
    values: dict[str, Any] = {
        "kind": kind,
        "developer": DEV,
        "skill_id": "python.loops",
        "time": T0,
        "rule_id": "PY001",
        "lesson_id": "set-membership",
        "repository": REPO,
    }
    values.update(changes)
    return Event(**values)


def open_store(path: Path, notices: list[str] | None = None) -> SqliteProgressStore:
    return SqliteProgressStore(path, on_notice=None if notices is None else notices.append)


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / DATABASE_NAME


def stored_ids(path: Path) -> list[str]:
    with sqlite3.connect(path) as connection:
        return [row[0] for row in connection.execute("SELECT id FROM events")]


def integrity(path: Path) -> list[str]:
    with sqlite3.connect(path) as connection:
        return [row[0] for row in connection.execute("PRAGMA integrity_check")]


# --- round trip -----------------------------------------------------------------------------


def test_round_trip_keeps_every_field_and_orders_by_time(db: Path) -> None:
    recorded = [
        event(EventKind.REVIEW_ANSWERED, time=T0 + 20, correct=False, language="python"),
        event(EventKind.LESSON_OPENED, time=T0, rule_id=None, repository=None),
        event(EventKind.SKILL_EVIDENCE, time=T0 + 10, skill_id="python.strings"),
        event(EventKind.REVIEW_ANSWERED, time=T0 + 30, correct=True),
        event(EventKind.ANTIPATTERN_INTRODUCED, developer=OTHER, time=T0 + 5),
    ]
    with open_store(db) as store:
        store.record(recorded)
        mine = store.events(DEV)
        assert mine == sorted((e for e in recorded if e.developer == DEV), key=lambda e: e.time)
        assert [e.correct for e in mine] == [None, None, False, True]
        assert store.events(DEV, skill_id="python.strings") == [recorded[2]]
        # `since` is inclusive.
        assert store.events(DEV, since=T0 + 20) == [recorded[0], recorded[3]]
        assert store.events(DEV, skill_id="python.loops", since=T0 + 1) == [
            recorded[0],
            recorded[3],
        ]
        assert store.developers() == sorted([DEV, OTHER])
    # Another process (here: another store) sees the same data.
    with open_store(db) as again:
        assert again.events(OTHER) == [recorded[4]]


def test_equal_times_keep_the_order_of_recording(db: Path) -> None:
    batch = [event(time=T0, lesson_id=f"lesson-{i}") for i in range(50)]
    with open_store(db) as store:
        store.record(batch[:25])
        store.record(batch[25:])
        assert store.events(DEV) == batch


def test_recording_an_event_twice_stores_it_once(db: Path) -> None:
    # A batch retried after an error whose outcome was unknown must not double-count.
    first = event()
    with open_store(db) as store:
        store.record([first])
        store.record([first, event(time=T0 + 1)])
        assert [e.id for e in store.events(DEV)].count(first.id) == 1
        assert len(store.events(DEV)) == 2


def test_a_batch_with_an_email_for_a_developer_writes_nothing(db: Path) -> None:
    with open_store(db) as store:
        with pytest.raises(ValueError, match="pseudonym"):
            store.record([event(), event(developer="alice@example.com")])
        assert store.events(DEV) == []
        assert store.developers() == []
        store.record([])  # nothing to do, no error


def test_forget_deletes_one_skill_or_everything_and_counts_rows(db: Path) -> None:
    with open_store(db) as store:
        store.record(
            [
                event(skill_id="python.loops"),
                event(skill_id="python.loops", time=T0 + 1),
                event(skill_id="python.strings"),
                event(developer=OTHER),
            ]
        )
        assert store.forget(DEV, "python.loops") == 2
        assert [e.skill_id for e in store.events(DEV)] == ["python.strings"]
        assert store.forget(DEV) == 1
        assert store.forget(DEV) == 0
        assert store.events(DEV) == []
        assert store.developers() == [OTHER]
        assert len(store.events(OTHER)) == 1


def test_events_carry_ids_only_never_code(db: Path) -> None:
    # Privacy by construction: no field could hold source text, identifiers or paths.
    assert {f.name for f in dataclasses.fields(Event)} == {
        "kind",
        "developer",
        "skill_id",
        "time",
        "rule_id",
        "lesson_id",
        "language",
        "repository",
        "correct",
        "id",
    }


def test_a_closed_store_says_so(db: Path) -> None:
    store = open_store(db)
    store.close()
    store.close()  # idempotent
    with pytest.raises(ProgressStoreError, match="closed"):
        store.events(DEV)


def test_threads_can_share_one_store(db: Path) -> None:
    # The language server records from worker threads.
    with open_store(db) as store:

        def write(worker: int) -> None:
            for batch in range(25):
                store.record([event(lesson_id=f"{worker}-{batch}-{i}") for i in range(10)])

        threads = [threading.Thread(target=write, args=(n,)) for n in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert len(store.events(DEV)) == 1000


def test_the_default_path_is_in_the_data_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LESSONLENS_DATA_DIR", str(tmp_path / "data"))
    assert default_data_dir() == tmp_path / "data"
    with SqliteProgressStore() as store:
        assert store.path == tmp_path / "data" / DATABASE_NAME
        store.record([event()])
    assert (tmp_path / "data" / DATABASE_NAME).is_file()


def test_a_store_whose_file_was_moved_away_writes_to_the_new_file(db: Path) -> None:
    # Another process moved a damaged file aside (or the developer deleted it): writes must land
    # in the file that everyone now reads, not in the old one.
    with open_store(db) as store:
        store.record([event()])
        db.rename(db.with_name("elsewhere.sqlite3"))
        for suffix in ("-wal", "-shm"):
            if db.with_name(db.name + suffix).exists():
                db.with_name(db.name + suffix).rename(db.with_name("elsewhere.sqlite3" + suffix))
        later = event(time=T0 + 1)
        store.record([later])
        assert store.events(DEV) == [later]
    with open_store(db) as fresh:
        assert fresh.events(DEV) == [later]


# --- schema ---------------------------------------------------------------------------------

# Schema version 1 exactly as released; the migration test opens a file made with it.
V1_SCHEMA = """
CREATE TABLE events (
    seq INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    developer TEXT NOT NULL,
    skill_id TEXT NOT NULL,
    time REAL NOT NULL,
    rule_id TEXT,
    lesson_id TEXT,
    language TEXT NOT NULL,
    repository TEXT,
    correct INTEGER
);
CREATE INDEX events_by_skill ON events (developer, skill_id, time);
PRAGMA user_version = 1;
"""


def test_a_new_store_is_wal_at_the_current_schema_version(db: Path) -> None:
    open_store(db).close()
    with sqlite3.connect(db) as connection:
        assert connection.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_a_version_1_file_is_migrated_and_keeps_its_events(db: Path) -> None:
    connection = sqlite3.connect(db)
    connection.executescript(V1_SCHEMA)
    connection.execute(
        "INSERT INTO events (id, kind, developer, skill_id, time, rule_id, lesson_id, language,"
        " repository, correct) VALUES ('old', 'review_answered', ?, 'python.loops', ?, NULL,"
        " 'set-membership', 'python', NULL, 1)",
        [DEV, T0],
    )
    connection.commit()
    connection.close()

    notices: list[str] = []
    with open_store(db, notices) as store:
        assert store.events(DEV) == [
            Event(
                EventKind.REVIEW_ANSWERED,
                DEV,
                "python.loops",
                T0,
                lesson_id="set-membership",
                correct=True,
                id="old",
            )
        ]
        store.record([event(time=T0 + 1)])
    assert notices == []
    with sqlite3.connect(db) as connection:
        assert connection.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        indexes = {row[0] for row in connection.execute("SELECT name FROM sqlite_master")}
        assert {"events_by_skill", "events_by_time"} <= indexes
    assert integrity(db) == ["ok"]


def test_a_file_from_a_newer_version_is_refused_not_moved(db: Path) -> None:
    with sqlite3.connect(db) as connection:
        connection.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 5}")
    notices: list[str] = []
    with pytest.raises(ProgressStoreError, match="newer lessonlens"):
        open_store(db, notices)
    assert notices == []
    assert list(db.parent.glob("*.corrupt-*")) == []


# --- pseudonyms -----------------------------------------------------------------------------


def test_pseudonyms_are_stable_salted_hex_and_hide_the_email() -> None:
    email = "Alice.Smith@example.com"
    first = pseudonym(email, b"team-salt")
    assert first == pseudonym(email, b"team-salt")
    # The same person whose git configs spell the address differently.
    assert first == pseudonym("  alice.smith@EXAMPLE.com\n", b"team-salt")
    assert first != pseudonym(email, b"other-salt")
    assert first != pseudonym("bob@example.com", b"team-salt")
    assert len(first) == 32
    assert all(c in "0123456789abcdef" for c in first)
    for part in ("alice", "smith", "example", "@"):
        assert part not in first.lower()


def test_the_local_salt_is_random_private_and_created_once(tmp_path: Path) -> None:
    salts: list[bytes] = []
    # Several processes start at once on a fresh machine; all must agree on one salt.
    threads = [
        threading.Thread(target=lambda: salts.append(local_salt(tmp_path / "data")))
        for _ in range(8)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(salts)) == 1
    assert len(salts[0]) == 32
    assert local_salt(tmp_path / "data") == salts[0]
    assert local_salt(tmp_path / "elsewhere") != salts[0]
    files = list((tmp_path / "data").iterdir())
    assert len(files) == 1  # no temporary file left behind
    if os.name == "posix":
        assert files[0].stat().st_mode & 0o777 == 0o600


@pytest.fixture
def git_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A git whose global config is ours (empty) and which reads no system config."""
    config = tmp_path / "gitconfig"
    config.write_text("")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(config))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.setenv("HOME", str(tmp_path))
    return config


def git(folder: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=folder, check=True, capture_output=True)


def test_developer_pseudonym_from_the_repository_email(tmp_path: Path, git_home: Path) -> None:
    data = tmp_path / "data"
    repo, other_repo = tmp_path / "repo", tmp_path / "other"
    for folder in (repo, other_repo):
        folder.mkdir()
        git(folder, "init", "-q")
        git(folder, "config", "user.email", "a@b.c")
    mine = developer_pseudonym(repo, None, data)
    assert mine == pseudonym("a@b.c", local_salt(data))
    # Stable across repositories.
    assert developer_pseudonym(other_repo, None, data) == mine
    # A team salt makes it the same on every machine of the team, and differs from the local one.
    assert developer_pseudonym(repo, "team", data) == pseudonym("a@b.c", b"team")
    assert developer_pseudonym(repo, "team", data) != mine


def test_developer_pseudonym_falls_back_to_global_then_unknown(
    tmp_path: Path, git_home: Path
) -> None:
    data = tmp_path / "data"
    plain = tmp_path / "plain"  # not a repository
    plain.mkdir()
    salt = local_salt(data)
    assert developer_pseudonym(plain, None, data) == pseudonym("unknown@localhost", salt)
    assert developer_pseudonym(None, None, data) == pseudonym("unknown@localhost", salt)
    git_home.write_text("[user]\n\temail = global@example.com\n")
    expected = pseudonym("global@example.com", salt)
    assert developer_pseudonym(plain, None, data) == expected
    assert developer_pseudonym(None, None, data) == expected
    assert developer_pseudonym(tmp_path / "missing", None, data) == expected


def test_repository_ids_tell_repositories_apart_without_naming_them(tmp_path: Path) -> None:
    a, b = tmp_path / "secret-project", tmp_path / "other"
    a.mkdir()
    b.mkdir()
    assert repository_id(None, b"salt") is None
    first = repository_id(a, b"salt")
    assert first is not None and len(first) == 32
    assert repository_id(a / ".." / a.name, b"salt") == first  # resolved
    assert repository_id(b, b"salt") != first
    assert repository_id(a, b"pepper") != first
    assert "secret" not in first


# --- losing nothing -------------------------------------------------------------------------

# A writer process: opens the store, says "ready", waits for "go" on stdin, then records
# `count` events in batches of `batch`, ids "<worker>-<n>".
CONCURRENT_WRITER = """
import sys, time
from pathlib import Path
from lessonlens.server.learner.progress import Event, EventKind, SqliteProgressStore

path, worker, count, batch = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
store = SqliteProgressStore(path)
print("ready", flush=True)
sys.stdin.readline()
for start in range(0, count, batch):
    store.record([
        Event(EventKind.SKILL_EVIDENCE, "dev" + worker, "python.loops", time.time(),
              rule_id="PY001", id=f"{worker}-{n}")
        for n in range(start, min(count, start + batch))
    ])
store.close()
"""


def run_python(
    code: str, *args: object, stdin: int | None = None, stdout: int | None = None
) -> subprocess.Popen[str]:
    command = [sys.executable, "-c", code, *map(str, args)]
    return subprocess.Popen(command, text=True, stdin=stdin, stdout=stdout)


def test_four_processes_writing_at_once_lose_nothing(db: Path) -> None:
    workers, count, batch = 4, 5_000, 50
    open_store(db).close()  # the schema exists before the race, as it will in practice
    writers = [
        run_python(
            CONCURRENT_WRITER,
            db,
            n,
            count,
            batch,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
        )
        for n in range(workers)
    ]
    for writer in writers:
        assert writer.stdout is not None
        assert writer.stdout.readline().strip() == "ready"
    for writer in writers:  # all start writing at once
        assert writer.stdin is not None
        writer.stdin.write("go\n")
        writer.stdin.close()
    for writer in writers:
        assert writer.wait(timeout=120) == 0

    ids = stored_ids(db)
    assert len(ids) == workers * count
    assert set(ids) == {f"{w}-{n}" for w in range(workers) for n in range(count)}
    with open_store(db) as store:
        assert store.developers() == [f"dev{w}" for w in range(workers)]
        assert len(store.events("dev2")) == count
    assert integrity(db) == ["ok"]


# A writer that records batches forever and, after each commit returns, appends the batch's
# ids as one line to the report file. Killed at any moment, a batch is either committed (and
# maybe reported) or absent; a partly written last line is a batch whose report was cut off.
KILLED_WRITER = """
import os, sys, time
from pathlib import Path
from lessonlens.server.learner.progress import Event, EventKind, SqliteProgressStore

path, report, round_, batch = Path(sys.argv[1]), sys.argv[2], sys.argv[3], int(sys.argv[4])
store = SqliteProgressStore(path)
out = os.open(report, os.O_WRONLY | os.O_APPEND | os.O_CREAT)
number = 0
while True:
    ids = [f"{round_}-{number}-{i}" for i in range(batch)]
    store.record([
        Event(EventKind.HINT_SHOWN, "dev", "python.loops", time.time(), rule_id="PY001",
              lesson_id="set-membership", id=event_id)
        for event_id in ids
    ])
    os.write(out, (" ".join(ids) + "\\n").encode())
    number += 1
"""


def wait_for_a_batch(report: Path, round_: int) -> None:
    first = f"\n{round_}-0-0 "  # the start of this round's first reported batch
    deadline = time.monotonic() + 30
    while first not in "\n" + report.read_text():
        assert time.monotonic() < deadline, "the writer never committed a batch"
        time.sleep(0.005)


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="SIGKILL is POSIX-only")
def test_a_writer_killed_mid_batch_loses_no_committed_event(db: Path, tmp_path: Path) -> None:
    rounds, batch = 20, 200
    report = tmp_path / "committed.txt"
    report.touch()
    chance = random.Random(20240604)
    steady = 0
    for round_ in range(rounds):
        writer = run_python(KILLED_WRITER, db, report, round_, batch)
        if round_ % 4 == 0:
            # At any moment: while starting, opening (creating the schema, in the first round),
            # or writing.
            time.sleep(chance.uniform(0.0, 0.4))
        else:
            # Once it is writing, so that most kills land inside a batch's transaction (three
            # quarters of the writer's time is spent in `record`).
            wait_for_a_batch(report, round_)
            time.sleep(chance.uniform(0.0, 0.05))
            steady += 1
        writer.send_signal(signal.SIGKILL)
        assert writer.wait(timeout=30) == -signal.SIGKILL

    lines = report.read_text().split("\n")[:-1]  # the last is empty, or a cut-off report
    reported = {event_id for line in lines for event_id in line.split()}
    assert len(lines) >= steady

    notices: list[str] = []
    open_store(db, notices).close()
    assert notices == []  # never mistaken for a damaged file
    assert integrity(db) == ["ok"]
    stored = stored_ids(db)
    assert reported <= set(stored)
    # Each batch is one transaction: all of it or none of it.
    sizes: dict[str, int] = {}
    for event_id in stored:
        key = event_id.rsplit("-", 1)[0]
        sizes[key] = sizes.get(key, 0) + 1
    assert set(sizes.values()) == {batch}


def test_a_file_that_is_not_a_database_is_moved_aside(db: Path) -> None:
    garbage = random.Random(7).randbytes(64 * 1024)
    db.write_bytes(garbage)
    db.with_name(db.name + "-wal").write_bytes(b"stale wal")
    notices: list[str] = []
    with open_store(db, notices) as store:
        store.record([event()])
        assert len(store.events(DEV)) == 1
    [moved] = db.parent.glob(f"{DATABASE_NAME}.corrupt-*[0-9]")
    assert moved.read_bytes() == garbage  # kept, byte for byte
    assert moved.with_name(moved.name + "-wal").read_bytes() == b"stale wal"
    assert len(notices) == 1
    assert str(db) in notices[0] and str(moved) in notices[0]
    assert "moved" in notices[0]


def test_a_truncated_database_is_moved_aside(db: Path) -> None:
    with open_store(db) as store:
        store.record([event(time=T0 + i, lesson_id=f"lesson-{i}") for i in range(3_000)])
    # Closing the last connection checkpointed the WAL: everything is in the main file now.
    assert not db.with_name(db.name + "-wal").exists()
    size = db.stat().st_size
    os.truncate(db, size // 2)
    notices: list[str] = []
    with open_store(db, notices) as store:
        assert store.events(DEV) == []
        store.record([event()])
        assert len(store.events(DEV)) == 1
    [moved] = db.parent.glob(f"{DATABASE_NAME}.corrupt-*[0-9]")  # not its -wal or -shm
    assert moved.stat().st_size == size // 2
    assert len(notices) == 1
    assert str(db) in notices[0] and str(moved) in notices[0]
    # A second damaged file the same second does not overwrite the first one moved aside.
    db.unlink()
    for suffix in ("-wal", "-shm"):
        db.with_name(db.name + suffix).unlink(missing_ok=True)
    db.write_bytes(b"not a database either" * 100)
    open_store(db, notices).close()
    assert len(list(db.parent.glob(f"{DATABASE_NAME}.corrupt-*[0-9]"))) == 2
    assert moved.stat().st_size == size // 2


def test_an_empty_file_is_a_fresh_store_not_damage(db: Path) -> None:
    db.touch()
    notices: list[str] = []
    with open_store(db, notices) as store:
        store.record([event()])
    assert notices == []


def test_a_file_that_cannot_be_opened_is_an_error_not_damage(db: Path) -> None:
    # Unreadable is not damaged: nothing is moved, the error (naming the file) reaches the caller.
    db.mkdir()
    notices: list[str] = []
    with pytest.raises(ProgressStoreError, match="is a folder"):
        open_store(db, notices)
    assert db.is_dir()
    assert notices == []
    assert list(db.parent.glob("*.corrupt-*")) == []
