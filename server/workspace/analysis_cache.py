"""``check``'s analysis cache: JSON in SQLite, rebuilt field by field; it can only cost speed.

A cache folder is input someone else may have written (CI restores one across pull requests),
so nothing in it is unpickled. Each value is a versioned JSON document, prefixed with a digest
of the document bound to its key: an entry that was scribbled on, moved under another key, is
of another format or fails any check when rebuilt is a miss, and the fresh analysis replaces it.
Any failure of the cache itself (a corrupt or locked file, a full disk) degrades to no cache.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import sqlite3
from pathlib import Path
from typing import Any

from lessonlens.analyzers import Analysis, Finding, Problem
from lessonlens.analyzers.model import (
    Applicability,
    Fix,
    Severity,
    SkillEvidence,
    Span,
    TextEdit,
)

FORMAT = 1
DATABASE_NAME = "analyses.db"
# Entries kept: the oldest writes beyond this are dropped when the cache is opened.
MAX_ENTRIES = 200_000


class Invalid(ValueError):
    """A cache entry that does not rebuild into a valid analysis of this file."""


def _digest(key: str, body: bytes) -> bytes:
    return hashlib.blake2b(body, key=key.encode()[:64], digest_size=16).hexdigest().encode()


# Writes per transaction: few enough that a parallel worker never waits long for the file.
BATCH = 32


class AnalysisCache:
    def __init__(self, directory: Path, batch: int = BATCH) -> None:
        self._db: sqlite3.Connection | None = None
        self._pending = 0
        self._batch = batch
        path = directory / DATABASE_NAME
        for attempt in range(2):
            try:
                directory.mkdir(parents=True, exist_ok=True)
                self._db = _open(path)
                return
            except (sqlite3.Error, OSError):
                # A damaged cache is worth nothing: start it again, once.
                if attempt == 0 and path.is_file():
                    for leftover in (path, *path.parent.glob(f"{DATABASE_NAME}-*")):
                        with contextlib.suppress(OSError):
                            leftover.unlink()
        self._db = None

    def get(self, key: str, size: int) -> Analysis | None:
        """The cached analysis of a file of ``size`` bytes, or None (a miss) if not valid."""
        if self._db is None:
            return None
        try:
            row = self._db.execute("SELECT value FROM analyses WHERE key = ?", (key,)).fetchone()
        except sqlite3.Error:
            return None
        if row is None or not isinstance(row[0], bytes):
            return None
        digest, _, body = row[0].partition(b"\n")
        if digest != _digest(key, body):
            return None
        try:
            return decode(json.loads(body), size)
        except (Invalid, ValueError, TypeError, KeyError, RecursionError):
            return None

    def set(self, key: str, analysis: Analysis) -> None:
        """Store an analysis; writes go in small batches (one transaction each).

        Parallel workers share the file, so a batch is short: ``BATCH`` writes or less (one in a
        worker process, which is never closed), and ``close`` commits what is left.
        """
        if self._db is None:
            return
        body = json.dumps(encode(analysis), separators=(",", ":")).encode()
        with contextlib.suppress(sqlite3.Error):
            if not self._db.in_transaction:
                self._db.execute("BEGIN")
            self._db.execute(
                "INSERT OR REPLACE INTO analyses (key, value) VALUES (?, ?)",
                (key, _digest(key, body) + b"\n" + body),
            )
            self._pending += 1
            if self._pending >= self._batch:
                self._commit()

    def _commit(self) -> None:
        self._pending = 0
        if self._db is not None and self._db.in_transaction:
            try:
                self._db.execute("COMMIT")
            except sqlite3.Error:
                with contextlib.suppress(sqlite3.Error):
                    self._db.execute("ROLLBACK")

    def close(self) -> None:
        if self._db is not None:
            with contextlib.suppress(sqlite3.Error):
                self._commit()
                self._db.close()
            self._db = None


def _open(path: Path) -> sqlite3.Connection:
    # Autocommit, and a short lock wait: parallel workers share the file, and a cache that is
    # busy is skipped, never waited on for long.
    db = sqlite3.connect(path, timeout=2.0, isolation_level=None)
    try:
        db.execute("PRAGMA journal_mode=WAL")
        # A cache may lose its last writes to a power cut (they are misses next time); it must
        # not sync to disk once per file analysed: that was a quarter of a cold check.
        db.execute("PRAGMA synchronous=NORMAL")
        db.execute(
            "CREATE TABLE IF NOT EXISTS analyses (key TEXT PRIMARY KEY, value BLOB NOT NULL)"
        )
        # A new write gets the highest rowid, so the lowest are the oldest writes.
        db.execute(
            "DELETE FROM analyses WHERE rowid <= (SELECT max(rowid) FROM analyses) - ?",
            (MAX_ENTRIES,),
        )
    except sqlite3.Error:
        db.close()
        raise
    return db


# ---------------------------------------------------------------------------- the format


def _span(span: Span) -> list[int]:
    return [
        span.start_row,
        span.start_col,
        span.end_row,
        span.end_col,
        span.start_byte,
        span.end_byte,
    ]


def _fix(fix: Fix) -> dict[str, Any]:
    return {
        "title": fix.title,
        "edits": [[_span(e.span), e.new_text] for e in fix.edits],
        "applicability": fix.applicability.value,
        "reason": fix.reason,
    }


def encode(analysis: Analysis) -> dict[str, Any]:
    return {
        "format": FORMAT,
        "findings": [
            {
                "rule": f.rule_id,
                "span": _span(f.span),
                "message": f.message,
                "severity": f.severity.value,
                "skill": f.skill_id,
                "lesson": f.lesson_id,
                "fix": _fix(f.fix) if f.fix is not None else None,
            }
            for f in analysis.findings
        ],
        "evidence": [
            {
                "detector": e.detector_id,
                "skill": e.skill_id,
                "span": _span(e.span),
                "positive": e.positive,
            }
            for e in analysis.evidence
        ],
        "problems": [{"message": p.message, "rule": p.rule_id} for p in analysis.problems],
        "error_ranges": [list(r) for r in analysis.error_ranges],
    }


def _check(condition: bool, what: str) -> None:
    if not condition:
        raise Invalid(what)


def _str(value: Any) -> str:
    _check(isinstance(value, str), "expected a string")
    return str(value)


def _list(value: Any) -> list[Any]:
    _check(isinstance(value, list), "expected a list")
    return list(value)


def _offset(value: Any, size: int) -> int:
    _check(type(value) is int and 0 <= value <= size, "offset out of range")
    return int(value)


def _decode_span(value: Any, size: int) -> Span:
    items = _list(value)
    _check(len(items) == 6, "a span has six numbers")
    rows_cols = [_offset(v, size) for v in items[:4]]
    start, end = _offset(items[4], size), _offset(items[5], size)
    _check(start <= end and rows_cols[0] <= rows_cols[2], "a span ends before it starts")
    return Span(rows_cols[0], rows_cols[1], rows_cols[2], rows_cols[3], start, end)


def _decode_fix(value: Any, size: int) -> Fix | None:
    if value is None:
        return None
    _check(isinstance(value, dict), "a fix is an object")
    edits = []
    for edit in _list(value["edits"]):
        span, text = _list(edit)
        edits.append(TextEdit(_decode_span(span, size), _str(text)))
    return Fix(
        _str(value["title"]),
        tuple(edits),
        Applicability(_str(value["applicability"])),
        _str(value["reason"]),
    )


def decode(data: Any, size: int) -> Analysis:
    """Rebuild an analysis of a ``size``-byte file, checking every field; raise Invalid."""
    _check(isinstance(data, dict) and data.get("format") == FORMAT, "another format")
    findings = []
    for item in _list(data["findings"]):
        _check(isinstance(item, dict), "a finding is an object")
        findings.append(
            Finding(
                _str(item["rule"]),
                _decode_span(item["span"], size),
                _str(item["message"]),
                Severity(_str(item["severity"])),
                _str(item["skill"]),
                _str(item["lesson"]),
                _decode_fix(item["fix"], size),
            )
        )
    evidence = []
    for item in _list(data["evidence"]):
        _check(isinstance(item, dict), "evidence is an object")
        _check(isinstance(item.get("positive"), bool), "positive is true or false")
        evidence.append(
            SkillEvidence(
                _str(item["detector"]),
                _str(item["skill"]),
                _decode_span(item["span"], size),
                bool(item["positive"]),
            )
        )
    problems = []
    for item in _list(data["problems"]):
        _check(isinstance(item, dict), "a problem is an object")
        rule = item["rule"]
        problems.append(Problem(_str(item["message"]), None if rule is None else _str(rule)))
    ranges = []
    for item in _list(data["error_ranges"]):
        start, end = _list(item)
        ranges.append((_offset(start, size), _offset(end, size)))
    return Analysis(tuple(findings), tuple(evidence), tuple(problems), tuple(ranges))
