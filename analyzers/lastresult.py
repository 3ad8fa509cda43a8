"""One thread's last result, reused while it is asked about the same thing again.

Within one analysis several parties ask the same file-wide question (its imports, its pieces):
the fingerprint, the test-code check, the rules. A one-slot cache per thread answers the later
ones; the next file (another source object, another tree) replaces it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Generic, TypeVar

K = TypeVar("K")
V = TypeVar("V")


class LastResult(Generic[K, V]):
    def __init__(self, same: Callable[[K, K], bool]) -> None:
        # ``operator.is_`` for a source's bytes (held, so its identity is never reused),
        # ``operator.eq`` for a tree's root node.
        self._same = same
        self._local = threading.local()

    def get(self, key: K, compute: Callable[[], V]) -> V:
        """``compute()``, or the value kept for ``key``; callers must not change it."""
        last: tuple[K, V] | None = getattr(self._local, "value", None)
        if last is not None and self._same(last[0], key):
            return last[1]
        value = compute()
        self._local.value = (key, value)
        return value


class BytesMemo(Generic[K, V]):
    """Values kept by keys that hold bytes, within a bound: cleared when full.

    Bounded in entries and in the bytes of the keys kept (what is kept for a key is never
    larger). Shared by threads: a race can only miscount the bytes until the next clear.
    """

    def __init__(self, max_entries: int = 16384, max_bytes: int = 32 << 20) -> None:
        self.entries: dict[K, V] = {}
        self.kept_bytes = 0
        self.max_entries = max_entries
        self.max_bytes = max_bytes

    def get(self, key: K) -> V | None:
        return self.entries.get(key)

    def put(self, key: K, value: V, size: int) -> None:
        """Keep ``value`` for ``key``, whose bytes are ``size`` long."""
        if len(self.entries) >= self.max_entries or self.kept_bytes + size > self.max_bytes:
            self.entries.clear()
            self.kept_bytes = 0
        self.entries[key] = value
        self.kept_bytes += size
