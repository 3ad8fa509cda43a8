"""LSP base-protocol framing that survives a broken or hostile client.

pygls 2.1's loop (``pygls.io_.run_async``) trusts every ``Content-Length``: it reads exactly
that many bytes (a terabyte length is a ``MemoryError`` that ends the server), matches a header
only at the start of a line (after a short body, the tail of that body runs into the next
header and the server never finds a header again), and reads header lines without a bound.

Here a frame is found by searching, not by trusting: the header block is whatever precedes the
next blank line (CR LF CR LF), and its *last* ``Content-Length`` counts. A valid JSON body
cannot contain a line that ends in ``Content-Length: <digits>`` (raw line breaks are only
whitespace between tokens, never inside a string, and ``Content-Length`` is not a JSON token),
so bytes left over from a broken frame are skipped up to the next real header and nothing in a
well-formed body is ever mistaken for one. Buffers stay bounded: header blocks by
``MAX_HEADER_BYTES``, bodies by ``MAX_MESSAGE_BYTES``; a larger body is refused without being
held and read past like any other junk.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

log = logging.getLogger(__name__)

# The largest message body accepted (64 MiB: a 10 MB file opened with every character escaped
# fits, with room to spare). Larger bodies are refused with an error, and skipped.
MAX_MESSAGE_BYTES = 64 * 1024 * 1024
# A header block (the lines before the blank line) longer than this is junk.
MAX_HEADER_BYTES = 64 * 1024
CHUNK_BYTES = 64 * 1024

PARSE_ERROR = -32700
INVALID_REQUEST = -32600

_HEADER_END = b"\r\n\r\n"
# Ends where its line ends, so that `"Content-Length: 5"` inside a JSON string never matches.
_LENGTH = re.compile(rb"Content-Length:[ \t]*(\d{1,20})[ \t]*(?=\r\n|\Z)", re.IGNORECASE)
# Enough to keep a header that straddles two reads while skipping junk.
_TAIL = 64


@dataclass(frozen=True)
class Refused:
    """A frame that is not a message: answered with this JSON-RPC error, with ``id: null``."""

    code: int
    message: str


class FrameReader:
    """Message bodies from a byte stream; ``read`` returns the next bytes, ``b""`` at its end."""

    def __init__(self, read: Callable[[], Awaitable[bytes]]) -> None:
        self._read = read
        self._buffer = bytearray()
        self._skipped = 0

    async def _fill(self) -> bool:
        chunk = await self._read()
        self._buffer += chunk
        return bool(chunk)

    async def next(self) -> bytes | Refused | None:
        """The next body, a refusal to answer, or None once the stream has ended."""
        buffer = self._buffer
        while True:
            end = buffer.find(_HEADER_END)
            if end < 0:
                if len(buffer) > MAX_HEADER_BYTES:
                    self._skipped += len(buffer) - _TAIL
                    del buffer[:-_TAIL]
                if not await self._fill():
                    return None
                continue
            lengths = list(_LENGTH.finditer(buffer, 0, end))
            if not lengths:
                self._skipped += end + len(_HEADER_END)
                del buffer[: end + len(_HEADER_END)]
                continue
            length = int(lengths[-1].group(1))
            del buffer[: end + len(_HEADER_END)]
            if self._skipped:
                log.warning("skipped %d bytes that were not a message", self._skipped)
                self._skipped = 0
            if length > MAX_MESSAGE_BYTES:
                # Not read into memory: its bytes are skipped as junk up to the next header.
                log.error("refused a message of %d bytes (limit %d)", length, MAX_MESSAGE_BYTES)
                return Refused(
                    INVALID_REQUEST,
                    f"message of {length:,} bytes is over the {MAX_MESSAGE_BYTES:,}-byte limit; "
                    "skipped",
                )
            while len(buffer) < length:
                if not await self._fill():
                    return None
            body = bytes(buffer[:length])
            del buffer[:length]
            return body

    def resync(self, body: bytes) -> None:
        """``body`` was no message: search it again for the next header, as junk.

        A ``Content-Length`` too long makes the body run into the next frame, perhaps to the
        middle of its header; given back, that header joins its other half in the buffer.
        The search starts again inside ``body`` but only ever yields a frame after a header
        found there, so every pass moves on.
        """
        self._buffer[:0] = body


def _is_id(value: Any) -> bool:
    return isinstance(value, str) or (isinstance(value, int) and not isinstance(value, bool))


def envelope_problem(message: Any) -> str | None:
    """Why ``message`` is not a JSON-RPC 2.0 request, notification or response, or None."""
    if not isinstance(message, dict):
        return f"a message must be a JSON object, not {type(message).__name__}"
    if message.get("jsonrpc") != "2.0":
        return '"jsonrpc" must be "2.0"'
    if "method" in message:
        if not isinstance(message["method"], str):
            return '"method" must be a string'
        if "id" in message and not _is_id(message["id"]):
            return '"id" must be an integer or a string'
        return None
    if "id" not in message:
        return 'a message needs a "method"'
    if "result" not in message and "error" not in message:
        return 'a request needs a "method", a response a "result" or an "error"'
    if not _is_id(message["id"]) and not (message["id"] is None and "error" in message):
        return '"id" must be an integer or a string'
    return None
