"""The wire: lessonlens's own commands and requests, and pygls's protocol with its traps fixed.

``LessonLensProtocol`` reads each frame's body (``lsp/framing.py`` finds the frames), refuses
what is not a JSON-RPC 2.0 message with an error whose ``id`` is null, and answers a request
whose params do not fit its method instead of leaving it unanswered.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from typing import Any

from lsprotocol import types
from pygls.exceptions import JsonRpcException
from pygls.protocol import LanguageServerProtocol
from pygls.protocol.language_server import lsp_method

from lessonlens.lsp.framing import (
    INVALID_REQUEST,
    PARSE_ERROR,
    FrameReader,
    Refused,
    envelope_problem,
)

log = logging.getLogger(__name__)

# lessonlens's commands (workspace/executeCommand) and its own request, beside LSP's methods.
SHOW_LESSON = "lessonlens.showLesson"
DISMISS = "lessonlens.dismiss"
MUTE_RULE = "lessonlens.muteRule"
I_KNOW_THIS = "lessonlens.iKnowThis"
ANSWER_REFRESHER = "lessonlens.answerRefresher"
FIX_APPLIED = "lessonlens.fixApplied"
PRACTICE = "lessonlens.practice"
PROGRESS_REQUEST = "lessonlens/progress"


class LessonLensProtocol(LanguageServerProtocol):
    """pygls's protocol, minus two traps that the end-to-end tests found.

    - pygls's builtin didChange applies each change to its own copy of the text first, and
      clamps positions past a line's end *in place*, in ``str.splitlines()`` lines: those also
      break at form feeds and other separators, and its clamp leaves the last line one
      character short. Our handler then read the mutated ranges. The session keeps the
      documents and pygls's copy is never read, so the builtin only hands over to our handler.
    - A request whose params do not match the method's type fails inside ``json.loads`` and
      pygls never answers it: the client would wait forever. Answer it with the error.
    """

    @lsp_method(types.TEXT_DOCUMENT_DID_CHANGE)
    def lsp_text_document__did_change(
        self, params: types.DidChangeTextDocumentParams
    ) -> Iterator[Any]:
        if (handler := self.fm.features.get(types.TEXT_DOCUMENT_DID_CHANGE)) is not None:
            yield handler, (params,), None

    def _execute_handler(
        self,
        msg_id: Any,
        handler: Any,
        callback: Any,
        args: tuple[Any, ...] | None = None,
        kwargs: dict[str, Any] | None = None,
    ) -> None:
        """Run a handler as pygls does, after forgetting the futures of handlers that are done.

        pygls 2.1.1 keeps each handler's future in ``_request_futures`` until a request's
        answer removes it, so a notification's future (a coroutine's, a thread's, a
        generator's: every didChange leaves one or two, with its params) stays forever and
        memory grows ~2 KB per edit (``benchmarks/soak.py`` measures it). Pruned here, not in
        a done callback: pygls's ``shutdown`` cancels futures while iterating over the dict.
        """
        for done in [key for key, future in list(self._request_futures.items()) if future.done()]:
            self._request_futures.pop(done, None)
        super()._execute_handler(msg_id, handler, callback, args, kwargs)

    def structure_message(self, data: dict[str, Any]) -> Any:
        if data.get("method") == PROGRESS_REQUEST and "params" not in data:
            # A request without params is valid JSON-RPC; pygls cannot structure it.
            data = {**data, "params": None}
        try:
            return super().structure_message(data)
        except JsonRpcException as error:
            if "id" in data and "method" in data:
                self._send_response(data["id"], None, error.to_response_error())
            raise

    def refuse(self, refused: Refused) -> None:
        """Answer what could not be read as a request: JSON-RPC 2.0 says ``id: null`` then.

        Sent as a plain object: pygls's converter drops a None id from ``ResponseErrorMessage``.
        """
        log.warning("refused a message: %s", refused.message)
        error = {"code": refused.code, "message": refused.message}
        self._send_data({"jsonrpc": "2.0", "id": None, "error": error})

    def receive(self, body: bytes, frames: FrameReader) -> None:
        """One frame's body: parsed, its envelope checked, then handed to pygls.

        Parsed without pygls's ``object_hook``, which structured any nested object with a
        ``jsonrpc`` key as a message; only the top level is a message.
        """
        try:
            data = json.loads(body)
        except (ValueError, RecursionError) as exc:
            self.refuse(Refused(PARSE_ERROR, f"Parse error: {exc}"))
            frames.resync(body)
            return
        problem = envelope_problem(data)
        if problem is not None:
            self.refuse(Refused(INVALID_REQUEST, f"Invalid Request: {problem}"))
            return
        self.handle_message(self.structure_message(data))
