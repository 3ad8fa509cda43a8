"""Sending xAPI statements to a Learning Record Store, and reading them back.

:func:`sync` sends a developer's events not yet in the LRS, in batches, and keeps a cursor per
LRS and developer so that an interrupted sync resumes; :func:`fetch_events` reads every
lessonlens statement back as events, for ``report --lrs``. What a statement holds, and its id,
is ``statements.py``.

Every request retries 5xx, 408, 429 and network errors with backoff, and has a deadline from
connecting to the answer's last byte. Only http and https addresses are used; a URL's
credentials never appear in a message.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import http.client
import json
import os
import socket
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lessonlens.server.learner.progress import Event, ProgressStore
from lessonlens.server.team.statements import (
    DEFAULT_BASE,
    DEFAULT_HOMEPAGE,
    XAPI_VERSION,
    event_of,
    statement,
)

_RETRIED_STATUSES = frozenset({408, 429})
_MAX_MESSAGE = 300
# The most of an answer read: a page of 500 statements is well under 2 MiB.
_MAX_BODY = 16 * 1024 * 1024
_PAGE_LIMIT = 500


class LrsError(Exception):
    """The LRS refused the statements (4xx), or stayed unreachable through every retry."""


@dataclass
class SyncResult:
    sent: int = 0  # statements the LRS acknowledged (new or already there)
    batches: int = 0
    skipped: int = 0  # events with no statement
    resent_all: bool = False  # events appeared before the cursor: everything was sent again


@dataclass
class _Cursor:
    """How far the developer's events, in (time, seq) order, have reached the LRS.

    The store gives events ordered by time, so the cursor is a time plus the ids synced at that
    exact time. Events recorded later with an earlier time (a ``baseline`` run fills in the
    past) would hide behind a plain time cursor; so the cursor also keeps a fingerprint of the
    set of ids synced (count and XOR of their hashes, updated per event). When the events before
    the cursor no longer match it, everything is sent again, which the deterministic statement
    ids make harmless.
    """

    lrs: str
    developer: str
    time: float | None = None
    ids_at_time: frozenset[str] = frozenset()
    count: int = 0
    digest: int = 0

    def covers(self, event: Event) -> bool:
        return self.time is not None and (
            event.time < self.time or (event.time == self.time and event.id in self.ids_at_time)
        )

    def advance(self, events: Sequence[Event]) -> None:
        for event in events:
            if event.time != self.time:
                self.time, self.ids_at_time = event.time, frozenset()
            self.ids_at_time = self.ids_at_time | {event.id}
            self.count += 1
            self.digest ^= _id_hash(event.id)

    def to_json(self) -> dict[str, Any]:
        return {
            "lrs": self.lrs,
            "developer": self.developer,
            "time": self.time,
            "ids_at_time": sorted(self.ids_at_time),
            "count": self.count,
            "digest": f"{self.digest:032x}",
        }


def _id_hash(event_id: str) -> int:
    return int.from_bytes(hashlib.sha256(event_id.encode()).digest()[:16], "big")


def _load_cursor(path: Path, lrs: str, developer: str) -> _Cursor:
    fresh = _Cursor(lrs, developer)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if data["lrs"] != lrs or data["developer"] != developer:
            return fresh
        return _Cursor(
            lrs,
            developer,
            None if data["time"] is None else float(data["time"]),
            frozenset(str(i) for i in data["ids_at_time"]),
            int(data["count"]),
            int(data["digest"], 16),
        )
    except (OSError, ValueError, KeyError, TypeError):
        # No cursor, or a damaged one: start over; the LRS keeps one copy of what it has.
        return fresh


def _save_cursor(path: Path, cursor: _Cursor) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    partial.write_text(json.dumps(cursor.to_json()), encoding="utf-8")
    os.replace(partial, path)  # atomic: a crash leaves the old cursor or the new one


def _pending(events: Sequence[Event], cursor: _Cursor) -> tuple[list[Event], bool]:
    """The events still to send, and whether the cursor had to be dropped."""
    covered = [event for event in events if cursor.covers(event)]
    digest = 0
    for event in covered:
        digest ^= _id_hash(event.id)
    if len(covered) == cursor.count and digest == cursor.digest:
        return [event for event in events if not cursor.covers(event)], False
    cursor.time, cursor.ids_at_time, cursor.count, cursor.digest = None, frozenset(), 0, 0
    return list(events), True


def _redacted(url: str) -> str:
    parts = urllib.parse.urlsplit(url)
    if parts.username is None and parts.password is None:
        return url
    host = parts.hostname or ""
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urllib.parse.urlunsplit(parts._replace(netloc=netloc))


def _lrs_message(body: bytes) -> str:
    text = body.decode("utf-8", "replace").strip()
    try:
        data = json.loads(text)
    except ValueError:
        return text[:_MAX_MESSAGE]
    if isinstance(data, dict):
        for key in ("detail", "message", "error"):
            if key in data:
                return str(data[key])[:_MAX_MESSAGE]
    return text[:_MAX_MESSAGE]


class _Deadline:
    """Ends one HTTP request when its time is up, whatever its socket is waiting for.

    urllib's timeout bounds each socket operation, so an LRS that sends a byte every few
    seconds would hold a request forever. When the time is up, the sockets of the request are
    shut down, which wakes the read with an end of file. (``socket.socket.shutdown`` on an SSL
    socket's descriptor: ``SSLSocket.shutdown`` would change its state under the reading thread.)
    """

    def __init__(self, seconds: float) -> None:
        self.at = time.monotonic() + seconds
        self.expired = False
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        self._timer = threading.Timer(seconds, self._expire)
        self._timer.daemon = True
        self._timer.start()

    def left(self) -> float:
        return max(0.001, self.at - time.monotonic())

    def watch(self, connected: socket.socket) -> None:
        with self._lock:
            self._sockets.append(connected)
            if self.expired:
                self._expire_locked()

    def cancel(self) -> None:
        self._timer.cancel()

    def _expire(self) -> None:
        with self._lock:
            self.expired = True
            self._expire_locked()

    def _expire_locked(self) -> None:
        for connected in self._sockets:
            with contextlib.suppress(OSError):  # already closed
                socket.socket.shutdown(connected, socket.SHUT_RDWR)


class _Watched:
    """An urllib handler whose connections answer to a ``_Deadline``."""

    def __init__(self, deadline: _Deadline) -> None:
        super().__init__()
        self.deadline = deadline

    def do_open(self, http_class: Any, req: Any, **kwargs: Any) -> Any:
        deadline = self.deadline

        class Connection(http_class):  # type: ignore[misc]
            def connect(self) -> None:
                self.timeout = deadline.left()
                super().connect()
                deadline.watch(self.sock)

        return super().do_open(Connection, req, **kwargs)  # type: ignore[misc]


class _WatchedHTTP(_Watched, urllib.request.HTTPHandler):
    pass


class _WatchedHTTPS(_Watched, urllib.request.HTTPSHandler):
    pass


def _answered_ids(body: bytes) -> set[str] | None:
    """The statement ids in an answer to POST /statements, or None if it is not a list of them.

    xAPI 1.0.3 answers with the "Array of Statement id(s)" stored; Ralph lists only those it
    stored now, and answers 204 with no body when it held them all already.
    """
    if not body.strip():
        return set()
    try:
        answer = json.loads(body)
    except ValueError:
        return None
    if not isinstance(answer, list) or not all(isinstance(i, str) for i in answer):
        return None
    return {i.lower() for i in answer}


class _Client:
    def __init__(
        self,
        lrs_url: str,
        username: str | None,
        password: str | None,
        *,
        retries: int,
        backoff_s: float,
        timeout_s: float,
        sleep: Callable[[float], None],
    ) -> None:
        self.endpoint = lrs_url.rstrip("/") + "/statements"
        self.headers = {
            "Content-Type": "application/json",
            "X-Experience-API-Version": XAPI_VERSION,
        }
        if username is not None or password is not None:
            token = base64.b64encode(f"{username or ''}:{password or ''}".encode()).decode()
            self.headers["Authorization"] = f"Basic {token}"
        self.retries, self.backoff_s, self.timeout_s, self.sleep = (
            retries,
            backoff_s,
            timeout_s,
            sleep,
        )

    def post(self, statements: Sequence[dict[str, Any]]) -> None:
        """Send one batch; returns once the LRS holds every statement in it."""
        status, message, body = self._send(statements)
        if status == 409 and len(statements) > 1:
            # An LRS rejects the whole batch when one id exists with other content (an
            # older lessonlens wrote it). Send one by one so that the others are stored.
            for one in statements:
                self.post([one])
            return
        if status == 409:
            return  # for one statement: the LRS already has one with this id
        if status < 300:
            # Only the ids back prove the LRS stored them: a proxy's or a broken LRS's "200" with
            # anything else would move the cursor past events that never arrived. An id left
            # out (the LRS had it already, as after a lost answer) is asked for by id.
            sent = {str(s["id"]).lower() for s in statements}
            answered = _answered_ids(body)
            if answered is None or not answered <= sent:
                raise LrsError(
                    f"the LRS at {_redacted(self.endpoint)} answered HTTP {status} with something "
                    f"else than the ids of the statements sent ({_lrs_message(body)}); they "
                    "count as not sent"
                )
            for missing in sorted(sent - answered):
                if not self._holds(missing):
                    raise LrsError(
                        f"the LRS at {_redacted(self.endpoint)} answered HTTP {status} but does "
                        f"not hold statement {missing}; it counts as not sent"
                    )
            return
        raise LrsError(
            f"the LRS at {_redacted(self.endpoint)} refused the statements: "
            f"HTTP {status}: {message or '(no message)'}"
        )

    def _holds(self, statement_id_: str) -> bool:
        """Whether the LRS holds the statement with this id (GET /statements?statementId=)."""
        url = f"{self.endpoint}?statementId={urllib.parse.quote(statement_id_, safe='')}"
        status, message, body = self._call("GET", url, None, "answer")
        if status == 404:
            return False
        if status >= 300:
            raise LrsError(
                f"the LRS at {_redacted(self.endpoint)} refused to show a statement: "
                f"HTTP {status}: {message or '(no message)'}"
            )
        try:
            found = json.loads(body)
        except ValueError:
            return False
        # The statement itself, as xAPI says; Ralph wraps it in a statement list.
        listed = found.get("statements") if isinstance(found, dict) else None
        candidates = listed if isinstance(listed, list) else [found]
        return any(
            isinstance(one, dict) and str(one.get("id", "")).lower() == statement_id_
            for one in candidates
        )

    def get(self, url: str) -> Any:
        """One page of statements, as JSON; same retries as a POST, any refusal raises."""
        status, message, body = self._call("GET", url, None, "answer")
        if status >= 300:
            raise LrsError(
                f"the LRS at {_redacted(self.endpoint)} refused to list the statements: "
                f"HTTP {status}: {message or '(no message)'}"
            )
        try:
            return json.loads(body)
        except ValueError as exc:
            raise LrsError(
                f"the LRS at {_redacted(self.endpoint)} answered with something not JSON"
            ) from exc

    def _send(self, statements: Sequence[dict[str, Any]]) -> tuple[int, str, bytes]:
        body = json.dumps(list(statements)).encode()
        return self._call("POST", self.endpoint, body, "take the statements")

    def _call(self, method: str, url: str, body: bytes | None, what: str) -> tuple[int, str, bytes]:
        """Status, LRS message and body; retries 5xx, 408, 429 and network errors with backoff.

        Each try has ``timeout_s`` in all, from connecting to the answer's last byte.
        """
        if urllib.parse.urlsplit(url).scheme.lower() not in ("http", "https"):
            # An LRS is a web service: never a local file or FTP, whoever names the address
            # (the settings, or a hostile LRS's "more" link).
            raise LrsError(f"the LRS address must be http or https, not {_redacted(url)!r}")
        failure = ""
        for attempt in range(self.retries + 1):
            if attempt:
                self.sleep(min(self.backoff_s * 2 ** (attempt - 1), 30.0))
            request = urllib.request.Request(url, data=body, headers=self.headers, method=method)
            deadline = _Deadline(self.timeout_s)
            opener = urllib.request.build_opener(_WatchedHTTP(deadline), _WatchedHTTPS(deadline))
            try:
                with opener.open(request, timeout=self.timeout_s) as response:
                    answer = response.read(_MAX_BODY + 1)
                    if len(answer) > _MAX_BODY:
                        raise LrsError(
                            f"the LRS at {_redacted(self.endpoint)} answered with more than "
                            f"{_MAX_BODY} bytes"
                        )
                    return int(response.status), "", answer
            except urllib.error.HTTPError as error:
                status, message = error.code, _lrs_message(error.read(_MAX_MESSAGE * 16))
                if status < 500 and status not in _RETRIED_STATUSES:
                    return status, message, b""
                failure = f"HTTP {status}: {message}"
            except (urllib.error.URLError, OSError, http.client.HTTPException) as error:
                # The reason only: the error text never holds the request headers.
                failure = str(getattr(error, "reason", error))
                if deadline.expired:
                    failure = f"no complete answer within {self.timeout_s:g} s"
            finally:
                deadline.cancel()
        raise LrsError(
            f"the LRS at {_redacted(self.endpoint)} did not {what} after "
            f"{self.retries + 1} tries: {failure}"
        )


def lrs_credentials() -> tuple[str | None, str | None]:
    """Username and password for the LRS, from the environment (never from a file or flag).

    Both or neither: one without the other is a mistake worth stopping for (LrsError).
    """
    username = os.environ.get("LESSONLENS_LRS_USERNAME")
    password = os.environ.get("LESSONLENS_LRS_PASSWORD")
    if (username is None) != (password is None):
        raise LrsError("set both LESSONLENS_LRS_USERNAME and LESSONLENS_LRS_PASSWORD, or neither")
    return username, password


def check_lrs(
    lrs_url: str,
    username: str | None,
    password: str | None,
    *,
    timeout_s: float = 10.0,
) -> list[str]:
    """Check that an xAPI LRS answers at ``lrs_url`` and takes these credentials.

    Asks its ``about`` resource (xAPI's, which needs no credentials; an LRS without one, as
    Ralph 5.1, is asked no more), then lists one statement with the credentials. Returns
    the xAPI versions it names. Raises LrsError saying what is wrong: nothing answers, not an
    xAPI endpoint, no 1.0.x version, or credentials refused.
    """
    client = _Client(
        lrs_url, username, password, retries=0, backoff_s=0.0, timeout_s=timeout_s, sleep=time.sleep
    )
    base = lrs_url.rstrip("/")
    where = _redacted(base)
    not_xapi = f"is {where} an xAPI endpoint? (For Ralph it is http://HOST:PORT/xAPI/)"
    try:
        status, message, body = client._call("GET", f"{base}/about", None, "answer")
    except LrsError as exc:
        raise LrsError(
            f"no LRS answers at {where} ({exc}). Is it running? `make lrs` starts a local one "
            "(docs/lrs.md)."
        ) from exc
    versions: list[str] = []
    if status < 300:
        try:
            about = json.loads(body)
        except ValueError:
            about = None
        named = about.get("version") if isinstance(about, dict) else None
        versions = [v for v in named if isinstance(v, str)] if isinstance(named, list) else []
        if not any(v.startswith("1.0.") for v in versions):
            raise LrsError(f"{where}/about does not name xAPI 1.0.x: {not_xapi}")
    elif status != 404:
        raise LrsError(f"{where}/about answered HTTP {status}: {not_xapi}")
    status, message, body = client._call("GET", f"{base}/statements?limit=1", None, "answer")
    if status in (401, 403):
        hint = (
            "set LESSONLENS_LRS_USERNAME and LESSONLENS_LRS_PASSWORD"
            if username is None
            else "check LESSONLENS_LRS_USERNAME and LESSONLENS_LRS_PASSWORD"
        )
        raise LrsError(
            f"the LRS at {where} refused the credentials (HTTP {status}: "
            f"{message or 'no message'}): {hint}"
        )
    if status >= 300:
        raise LrsError(f"{where}/statements answered HTTP {status}: {not_xapi}")
    try:
        listed = json.loads(body)
    except ValueError:
        listed = None
    if not (isinstance(listed, dict) and isinstance(listed.get("statements"), list)):
        raise LrsError(f"{where}/statements did not answer with a statement list: {not_xapi}")
    return versions


def sync(
    store: ProgressStore,
    developer: str,
    lrs_url: str,
    *,
    batch: int = 100,
    username: str | None,
    password: str | None,
    cursor_path: Path,
    homepage: str = DEFAULT_HOMEPAGE,
    base: str = DEFAULT_BASE,
    full: bool = False,
    retries: int = 5,
    backoff_s: float = 0.5,
    timeout_s: float = 30.0,
    sleep: Callable[[float], None] = time.sleep,
    on_batch: Callable[[SyncResult], None] | None = None,
) -> SyncResult:
    """Send the developer's events not yet in the LRS, ``batch`` statements per POST.

    The cursor is written after each batch the LRS acknowledged, so an interrupted sync resumes
    from there; a batch whose answer was lost is sent again, and the LRS keeps one copy.
    Raises LrsError on a 4xx answer or when retries run out; the cursor then holds what got
    through. ``full`` ignores the cursor and sends everything again.
    """
    if batch < 1:
        raise ValueError("batch must be at least 1")
    client = _Client(
        lrs_url,
        username,
        password,
        retries=retries,
        backoff_s=backoff_s,
        timeout_s=timeout_s,
        sleep=sleep,
    )
    lrs = lrs_url.rstrip("/")
    cursor = _Cursor(lrs, developer) if full else _load_cursor(cursor_path, lrs, developer)
    pending, resent_all = _pending(store.events(developer), cursor)
    outcome = SyncResult(resent_all=resent_all)
    consumed: list[Event] = []
    statements: list[dict[str, Any]] = []
    for position, event in enumerate(pending):
        built = statement(event, homepage=homepage, base=base)
        consumed.append(event)
        if built is None:
            outcome.skipped += 1
        else:
            statements.append(built)
        if len(statements) < batch and position < len(pending) - 1:
            continue
        if statements:
            client.post(statements)
            outcome.sent += len(statements)
            outcome.batches += 1
        cursor.advance(consumed)
        _save_cursor(cursor_path, cursor)
        consumed, statements = [], []
        if on_batch is not None:
            on_batch(outcome)
    return outcome


def cursor_file(data_dir: Path, lrs_url: str, developer: str) -> Path:
    """Where the cursor for this LRS and developer lives: one per pair."""
    key = hashlib.sha256(f"{lrs_url.rstrip('/')}\n{developer}".encode()).hexdigest()[:16]
    return data_dir / "xapi" / f"cursor-{key}.json"


# --- reading statements back ---------------------------------------------------------------------


def fetch_events(
    lrs_url: str,
    *,
    username: str | None,
    password: str | None,
    since: float | None = None,
    base: str = DEFAULT_BASE,
    page_size: int = _PAGE_LIMIT,
    retries: int = 5,
    backoff_s: float = 0.5,
    timeout_s: float = 30.0,
    sleep: Callable[[float], None] = time.sleep,
) -> list[Event]:
    """Every lessonlens event in the LRS, in time order, following its ``more`` links.

    ``since`` is an event time (inclusive, as in ``ProgressStore.events``) and is applied here:
    the xAPI ``since`` parameter filters on when the LRS *stored* a statement, which a later
    ``sync --full`` or a backfill moves. Statements of other tools are skipped. Raises LrsError
    like ``sync``.
    """
    client = _Client(
        lrs_url,
        username,
        password,
        retries=retries,
        backoff_s=backoff_s,
        timeout_s=timeout_s,
        sleep=sleep,
    )
    url: str | None = f"{client.endpoint}?limit={page_size}"
    found: dict[str, Event] = {}
    seen_pages: set[str] = set()
    while url is not None and url not in seen_pages:
        seen_pages.add(url)  # an LRS that hands back the same "more" link would loop forever
        page = client.get(url)
        if not isinstance(page, dict):
            raise LrsError(f"the LRS at {_redacted(client.endpoint)} answered no statement list")
        for made in page.get("statements") or []:
            event = event_of(made, base=base)
            if event is not None and (since is None or event.time >= since):
                found[event.id] = event
        more = page.get("more")
        # "more" is relative to the LRS's host (xAPI 1.0.3, 2.1.4); an empty string ends it.
        url = urllib.parse.urljoin(client.endpoint, str(more)) if more else None
    return sorted(found.values(), key=lambda event: (event.time, event.id))
