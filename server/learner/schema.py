"""The progress database's schema: its migrations, in order, and the columns of an event.

PRAGMA user_version records the schema version a database file has reached. When the store opens
a file it applies the migrations the file lacks, in one transaction, and refuses a file that a
newer lessonlens wrote (``progress.py``).
"""

from __future__ import annotations

import sqlite3

# Ordered migrations: entry N (0-based) takes a database from schema version N to N + 1, and
# PRAGMA user_version records the version reached. Only ever append: a released migration is
# history that existing files have already gone through.
MIGRATIONS: tuple[tuple[str, ...], ...] = (
    # v1: the events. `seq` (the rowid) keeps insertion order for events with equal times; `id`
    # is UNIQUE so that a retried batch does not duplicate.
    (
        """
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
        )
        """,
        "CREATE INDEX events_by_skill ON events (developer, skill_id, time)",
    ),
    # v2: the learner reads all of a developer's events in time order; without this index SQLite
    # sorts them in a temporary b-tree on every read.
    ("CREATE INDEX events_by_time ON events (developer, time)",),
)
SCHEMA_VERSION = len(MIGRATIONS)

COLUMNS = "id, kind, developer, skill_id, time, rule_id, lesson_id, language, repository, correct"
INSERT = f"INSERT OR IGNORE INTO events ({COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"


def user_version(connection: sqlite3.Connection) -> int:
    """The schema version the database file has reached (0 for a new file)."""
    version: int = connection.execute("PRAGMA user_version").fetchone()[0]
    return version
