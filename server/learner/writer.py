"""The progress writer: events reach the store from one thread, never from a request.

With several editor windows writing, SQLite's lock can take milliseconds, which no request
should wait for; and another process may hold it for long, or the disk fill up, and then the
writer keeps the events and tries again. Batches go in order, one at a time.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable

from lessonlens.server.learner.progress import Event, ProgressStore, ProgressStoreError

log = logging.getLogger(__name__)

# The writer retries a write until it is stored, so one try need not wait long for another
# process's lock; and requests that read the store, which take turns with the writer on its one
# connection, then wait at most about this long. For the store's ``busy_timeout_s``.
WRITE_TRY_S = 1.0
# Between tries: from the first to the most, doubling.
RETRY_FIRST_S, RETRY_MOST_S = 0.05, 2.0
# How long a request (the progress view, a sync) waits for queued events to reach the store
# before reading it, and how long closing waits for the writer: bounded, as every wait.
FLUSH_WAIT_S = 1.0
CLOSE_WAIT_S = 3.0


class EventWriter:
    """A thread that stores queued batches of events, retrying each until it is stored."""

    def __init__(self, store: ProgressStore, on_notice: Callable[[str], None]) -> None:
        self.store = store
        self.on_notice = on_notice
        self._queue: queue.Queue[list[Event] | None] = queue.Queue()
        # Events queued but not yet stored.
        self._unwritten = 0
        self._written = threading.Condition()
        self._stopping = threading.Event()
        self._thread = threading.Thread(
            target=self._write_loop, name="lessonlens-progress", daemon=True
        )
        self._thread.start()

    def submit(self, events: list[Event]) -> None:
        with self._written:
            self._unwritten += len(events)
        self._queue.put(list(events))

    def _write_loop(self) -> None:
        while (batch := self._queue.get()) is not None:
            self._write(batch)

    def _write(self, batch: list[Event]) -> None:
        """Store one batch, trying again until it is stored or the coach closes.

        Batches go in order, one at a time, so a later one never overtakes a waiting one. A
        failure other than a busy database (disk full, a read-only or vanished file) is told to
        the developer once per outage: their progress waits in memory meanwhile.
        """
        delay, told = RETRY_FIRST_S, False
        while True:
            try:
                self.store.record(batch)
                break
            except ProgressStoreError as exc:
                busy = getattr(exc, "busy", False)
                log.log(
                    logging.INFO if busy else logging.WARNING, "progress not stored yet: %s", exc
                )
                if not busy and not told:
                    told = True
                    self.on_notice(
                        f"lessonlens: your progress cannot be saved right now ({exc}). It is "
                        "kept and saved as soon as it can be; lost only if the editor closes first."
                    )
            except Exception:  # events that can never be stored: retrying would not help
                log.exception("progress events dropped: %d", len(batch))
                break
            if self._stopping.wait(delay):
                return  # closing: close() says how many events were not written
            delay = min(delay * 2, RETRY_MOST_S)
        if told:
            log.warning("progress stored again after the failure")
        with self._written:
            self._unwritten -= len(batch)
            self._written.notify_all()

    def flush(self, timeout: float = FLUSH_WAIT_S) -> bool:
        """Wait, at most ``timeout`` seconds, until every recorded event is in the store.

        False if some are still waiting (another process holds the database, the disk is full):
        a reader then sees the store without them.
        """
        with self._written:
            return self._written.wait_for(lambda: self._unwritten == 0, timeout)

    def close(self) -> None:
        """Write what is queued, waiting at most ``CLOSE_WAIT_S``; then close the store.

        Says how many events were not written (to the log, which goes to stderr: the editor's
        output panel).
        """
        stopped = True
        if self._thread.is_alive():
            self._queue.put(None)
            self._thread.join(timeout=CLOSE_WAIT_S)
            self._stopping.set()
            stopped = not self._thread.is_alive()
        with self._written:
            unwritten = self._unwritten
        if unwritten:
            where = getattr(self.store, "path", "the progress store")
            log.warning(
                "%d progress events were not written to %s (it stayed busy or failing): lost",
                unwritten,
                where,
            )
        # A writer still inside a try holds the store; the process is ending anyway, and SQLite
        # keeps the file consistent whatever happens to an open connection.
        if stopped:
            self.store.close()
