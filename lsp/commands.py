"""The ``lessonlens.*`` commands (workspace/executeCommand) and the ``lessonlens/progress`` request.

The commands come from the code actions and lenses of ``lsp/features.py``; their arguments come
from the client, so each is checked before it reaches the session. ``register_commands`` adds
them to a server.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from lsprotocol import types
from pygls.exceptions import JsonRpcInternalError, JsonRpcInvalidParams

# Imported when the module runs, not only for type checking: pygls reads a command handler's
# annotations (``typing.get_type_hints``) to convert its arguments.
from lessonlens.lsp.language_server import LessonLensServer
from lessonlens.lsp.protocol import (
    ANSWER_REFRESHER,
    DISMISS,
    FIX_APPLIED,
    I_KNOW_THIS,
    MUTE_RULE,
    PRACTICE,
    PROGRESS_REQUEST,
    SHOW_LESSON,
)

log = logging.getLogger(__name__)

# The progress view's answer, at the latest: reading waits for the coach's writer at most a try.
PROGRESS_WAIT_S = 5.0


def register_commands(server: LessonLensServer) -> None:
    """Register the commands and the progress request (statically, by name)."""
    server.command(SHOW_LESSON)(show_lesson)
    server.command(DISMISS)(dismiss)
    server.command(MUTE_RULE)(mute_rule)
    server.command(I_KNOW_THIS)(i_know_this)
    server.command(ANSWER_REFRESHER)(answer_refresher)
    server.command(FIX_APPLIED)(fix_applied)
    server.command(PRACTICE)(practice)
    server.feature(PROGRESS_REQUEST)(progress)


def show_lesson(ls: LessonLensServer, target: Any) -> Any:
    ids = target if isinstance(target, list) else [target]
    if not ids or not all(isinstance(i, str) for i in ids):
        raise JsonRpcInvalidParams("lessonlens.showLesson takes a lesson id or a list of ids")
    lessons = [ls.session.show_lesson(i) for i in ids]
    missing = [i for i, lesson in zip(ids, lessons, strict=True) if lesson is None]
    if missing:
        raise JsonRpcInvalidParams(f"unknown lesson: {', '.join(missing)}")
    return lessons if isinstance(target, list) else lessons[0]


async def practice(ls: LessonLensServer, lesson_id: Any) -> Any:
    """Write the lesson's practice challenge into a folder and open its code in the editor.

    Returns where it is and how to check it; a client that cannot open documents
    (window/showDocument) gets the path in a message instead.
    """
    if not isinstance(lesson_id, str):
        raise JsonRpcInvalidParams("lessonlens.practice takes a lesson id")
    loop = asyncio.get_running_loop()
    written = await loop.run_in_executor(None, ls.session.practice, lesson_id)
    if written is None:
        raise JsonRpcInvalidParams(f"no practice challenge for lesson: {lesson_id}")
    shown = False
    try:
        result = await asyncio.wait_for(
            ls.window_show_document_async(
                types.ShowDocumentParams(uri=written["uri"], take_focus=True)
            ),
            timeout=5,
        )
        shown = bool(result and result.success)
    except Exception:  # a client without showDocument, or one that refuses
        shown = False
    if not shown:
        ls.window_show_message(
            types.ShowMessageParams(
                type=types.MessageType.Info,
                message=f"Practice written to {written['folder']}; check it with: "
                f"{written['check']}",
            )
        )
    return written


def _is_line(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _known_rule(ls: LessonLensServer, rule_id: Any, command: str) -> str:
    if not isinstance(rule_id, str):
        raise JsonRpcInvalidParams(f"{command}: the rule id must be a string")
    if rule_id not in ls.session.rules:
        raise JsonRpcInvalidParams(f"{command}: unknown rule {rule_id[:80]!r}")
    return rule_id


def dismiss(ls: LessonLensServer, uri: Any, rule_id: Any, line: Any) -> None:
    if not isinstance(uri, str) or not _is_line(line):
        raise JsonRpcInvalidParams("lessonlens.dismiss takes [uri, ruleId, line >= 0]")
    rule_id = _known_rule(ls, rule_id, DISMISS)
    ls.visibility_changed(ls.session.dismiss(uri, rule_id, line))


def mute_rule(ls: LessonLensServer, rule_id: Any) -> None:
    rule_id = _known_rule(ls, rule_id, MUTE_RULE)
    ls.visibility_changed(ls.session.mute(rule_id))


def i_know_this(ls: LessonLensServer, skill_id: Any) -> None:
    if not isinstance(skill_id, str):
        raise JsonRpcInvalidParams("lessonlens.iKnowThis takes [skillId]")
    if skill_id not in ls.session.skills:
        # Stored, an unknown id would be a skill in the developer's record that no lesson has.
        raise JsonRpcInvalidParams(f"lessonlens.iKnowThis: unknown skill {skill_id[:80]!r}")
    ls.visibility_changed(ls.session.i_know_this(skill_id))


def answer_refresher(ls: LessonLensServer, lesson_id: Any, index: Any) -> Any:
    if not isinstance(lesson_id, str) or not _is_line(index):
        raise JsonRpcInvalidParams("lessonlens.answerRefresher takes [lessonId, optionIndex >= 0]")
    answered = ls.session.answer_refresher(lesson_id, index)
    if answered is None:
        raise JsonRpcInvalidParams(f"no refresher for lesson {lesson_id}")
    correct, right = answered
    message = "Correct." if correct else f'Not quite: the answer is "{right}".'
    ls.window_show_message(
        types.ShowMessageParams(type=types.MessageType.Info, message=f"lessonlens: {message}")
    )
    return {"correct": correct, "answer": right}


def fix_applied(ls: LessonLensServer, uri: Any, rule_id: Any, line: Any) -> None:
    if not isinstance(uri, str) or not _is_line(line):
        raise JsonRpcInvalidParams("lessonlens.fixApplied takes [uri, ruleId, line >= 0]")
    rule_id = _known_rule(ls, rule_id, FIX_APPLIED)
    ls.session.fix_applied(uri, rule_id, line)


async def progress(ls: LessonLensServer, params: Any) -> Any:
    try:
        await asyncio.wait_for(ls.coach_ready.wait(), timeout=30)
    except TimeoutError:
        log.warning("progress requested before the history loaded")
    # Off the event loop, and bounded: another process may hold the store.
    loop = asyncio.get_running_loop()
    try:
        return await asyncio.wait_for(
            loop.run_in_executor(None, ls.session.profile), timeout=PROGRESS_WAIT_S
        )
    except TimeoutError:
        raise JsonRpcInternalError(
            "lessonlens: the progress store is busy (another program is using it); try again"
        ) from None
