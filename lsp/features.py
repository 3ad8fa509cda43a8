"""What the editor asks about a document: diagnostics (pull), hover, code actions, code lenses.

Thin handlers: each unpacks its params, asks the session and converts the answer back
(``lsp/convert.py``). ``register_features`` adds them to a server.
"""

from __future__ import annotations

from lsprotocol import types
from pygls.exceptions import JsonRpcInternalError

from lessonlens.lsp import convert
from lessonlens.lsp.language_server import LessonLensServer
from lessonlens.lsp.protocol import (
    ANSWER_REFRESHER,
    DISMISS,
    FIX_APPLIED,
    I_KNOW_THIS,
    MUTE_RULE,
    PRACTICE,
    SHOW_LESSON,
)
from lessonlens.server.editor.session import AnalysisFailed


def register_features(server: LessonLensServer) -> None:
    """Register the document features (statically, by method name)."""
    server.feature(
        types.TEXT_DOCUMENT_DIAGNOSTIC,
        types.DiagnosticOptions(
            identifier="lessonlens", inter_file_dependencies=False, workspace_diagnostics=False
        ),
    )(diagnostic)
    server.feature(types.TEXT_DOCUMENT_HOVER)(hover)
    server.feature(
        types.TEXT_DOCUMENT_CODE_ACTION,
        types.CodeActionOptions(code_action_kinds=[types.CodeActionKind.QuickFix]),
    )(code_action)
    server.feature(types.TEXT_DOCUMENT_CODE_LENS, types.CodeLensOptions(resolve_provider=True))(
        code_lens
    )
    server.feature(types.CODE_LENS_RESOLVE)(code_lens_resolve)


async def diagnostic(
    ls: LessonLensServer, params: types.DocumentDiagnosticParams
) -> types.DocumentDiagnosticReport:
    try:
        result = await ls.session.analysis(params.text_document.uri)
    except AnalysisFailed as exc:
        # Answered with the error (the client keeps its last report), and said in the log.
        ls.window_log_message(
            types.LogMessageParams(type=types.MessageType.Error, message=f"lessonlens: {exc}")
        )
        raise JsonRpcInternalError(str(exc)) from exc
    if result is None:
        return types.RelatedFullDocumentDiagnosticReport(items=[])
    result_id = ls.result_id(result)
    if params.previous_result_id == result_id:
        return types.RelatedUnchangedDocumentDiagnosticReport(result_id=result_id)
    return types.RelatedFullDocumentDiagnosticReport(
        items=ls.diagnostics(result), result_id=result_id
    )


def hover(ls: LessonLensServer, params: types.HoverParams) -> types.Hover | None:
    result = ls.session.result(params.text_document.uri)
    if result is None:
        return None
    lines = convert.Lines(result.data)
    offset = convert.offset_in(lines, params.position, ls.encoding)
    markdown = ls.session.hover(result.uri, offset)
    if markdown is None:
        return None
    return types.Hover(contents=types.MarkupContent(kind=types.MarkupKind.Markdown, value=markdown))


def code_action(
    ls: LessonLensServer, params: types.CodeActionParams
) -> list[types.CodeAction] | None:
    uri = params.text_document.uri
    result = ls.session.result(uri)
    if result is None:
        return None
    lines = convert.Lines(result.data)
    start = convert.offset_in(lines, params.range.start, ls.encoding)
    end = convert.offset_in(lines, params.range.end, ls.encoding)
    mentioned = [
        (str(d.code), d.range.start.line)
        for d in params.context.diagnostics
        if d.source == "lessonlens" and d.code is not None
    ]
    actions = []
    for action in ls.session.actions(uri, start, end, mentioned):
        finding = action.finding
        diagnostic_ = convert.diagnostic(
            finding, ls.session.lesson(finding.lesson_id), lines, ls.encoding
        )
        if action.kind == "fix":
            actions.append(
                types.CodeAction(
                    title=action.title,
                    kind=types.CodeActionKind.QuickFix,
                    diagnostics=[diagnostic_],
                    is_preferred=action.preferred,
                    # Run by the client right after it applies the edit: the hint's removal is
                    # then the tool's fix, a learning opportunity, not the developer's own.
                    command=types.Command(
                        title=action.title, command=FIX_APPLIED, arguments=list(action.arguments)
                    ),
                    edit=convert.workspace_edit(
                        uri,
                        result.version,
                        finding,
                        lines,
                        ls.encoding,
                        document_changes=ls.document_changes,
                    ),
                )
            )
        else:
            command = {
                "lesson": SHOW_LESSON,
                "dismiss": DISMISS,
                "mute": MUTE_RULE,
                "know": I_KNOW_THIS,
                "answer": ANSWER_REFRESHER,
                "practice": PRACTICE,
            }[action.kind]
            actions.append(
                types.CodeAction(
                    title=action.title,
                    kind=types.CodeActionKind.QuickFix,
                    diagnostics=[diagnostic_],
                    command=types.Command(
                        title=action.title, command=command, arguments=list(action.arguments)
                    ),
                )
            )
    return actions


async def code_lens(ls: LessonLensServer, params: types.CodeLensParams) -> list[types.CodeLens]:
    # Asked right after didOpen (Neovim does), the lenses wait for the first analysis rather
    # than answer an empty list that the client keeps until its next refresh.
    try:
        await ls.session.analysis(params.text_document.uri)
    except AnalysisFailed:
        return []
    lenses = []
    for lens in ls.session.lenses(params.text_document.uri):
        where = types.Range(types.Position(lens.row, 0), types.Position(lens.row, 0))
        lenses.append(
            types.CodeLens(
                range=where,
                command=types.Command(
                    title=lens.title, command=SHOW_LESSON, arguments=[list(lens.lesson_ids)]
                ),
            )
        )
    return lenses


def code_lens_resolve(ls: LessonLensServer, params: types.CodeLens) -> types.CodeLens:
    return params
