"""Every mapping between core types and lsprotocol types, position encodings included.

Tree-sitter gives rows and byte columns; LSP positions count a line's characters in the
negotiated encoding: UTF-16 code units by default, or UTF-8 bytes, or UTF-32 code points.
"""

from __future__ import annotations

from lsprotocol import types

from lessonlens.analyzers.model import Finding, Severity, Span
from lessonlens.lessons.lesson import Lesson
from lessonlens.server.editor.documents import Document, line_starts

UTF8 = types.PositionEncodingKind.Utf8
UTF16 = types.PositionEncodingKind.Utf16
UTF32 = types.PositionEncodingKind.Utf32


def _units(text: str, encoding: str) -> int:
    if encoding == UTF32:
        return len(text)
    if encoding == UTF8:
        return len(text.encode("utf-8", "surrogatepass"))
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def column_to_units(line: bytes, byte_column: int, encoding: str) -> int:
    """A byte column on ``line`` in the client's units."""
    if encoding == UTF8:
        return byte_column
    return _units(line[:byte_column].decode("utf-8", "replace"), encoding)


def units_to_column(line: bytes, units: int, encoding: str) -> int:
    """The byte column of ``units`` characters into ``line``; past the end clamps to the end.

    A position inside a character (half a surrogate pair, the middle of a UTF-8 sequence)
    moves to that character's end, so an edit never splits one.
    """
    if units <= 0:
        return 0
    if encoding == UTF8:
        column = min(units, len(line))
        while column < len(line) and (line[column] & 0xC0) == 0x80:
            column += 1
        return column
    text = line.decode("utf-8", "replace")
    count = 0
    for index, char in enumerate(text):
        if count >= units:
            return len(text[:index].encode("utf-8", "surrogatepass"))
        count += 2 if encoding == UTF16 and ord(char) > 0xFFFF else 1
    return len(line)


def offset_of(document: Document, position: types.Position, encoding: str) -> int:
    """The byte offset of an LSP position in ``document`` (clamped to the document)."""
    lines = document.lines
    if position.line >= len(lines):
        return len(document.data)
    line = document.line_bytes(position.line)
    return lines[position.line] + units_to_column(line, position.character, encoding)


class Lines:
    """Line access over a snapshot of bytes (an analysed revision, not the live text)."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.starts = line_starts(data)

    def line(self, row: int) -> bytes:
        if row >= len(self.starts):
            return b""
        end = self.starts[row + 1] - 1 if row + 1 < len(self.starts) else len(self.data)
        return self.data[self.starts[row] : end]


def position(lines: Lines, row: int, byte_column: int, encoding: str) -> types.Position:
    return types.Position(row, column_to_units(lines.line(row), byte_column, encoding))


def span_range(lines: Lines, span: Span, encoding: str) -> types.Range:
    return types.Range(
        position(lines, span.start_row, span.start_col, encoding),
        position(lines, span.end_row, span.end_col, encoding),
    )


def diagnostic(
    finding: Finding, lesson: Lesson | None, lines: Lines, encoding: str, *, quiet: bool = False
) -> types.Diagnostic:
    """A hint as a diagnostic; a quiet hint (a skill nearly mastered) always at Hint level."""
    message = finding.message + (f" Lesson: {lesson.title}" if lesson else "")
    return types.Diagnostic(
        range=span_range(lines, finding.span, encoding),
        message=message,
        severity=types.DiagnosticSeverity.Hint
        if quiet or finding.severity is Severity.HINT
        else types.DiagnosticSeverity.Information,
        code=finding.rule_id,
        code_description=types.CodeDescription(href=lesson.url) if lesson else None,
        source="lessonlens",
        data=finding.lesson_id,
    )


def workspace_edit(
    uri: str,
    version: int,
    finding: Finding,
    lines: Lines,
    encoding: str,
    *,
    document_changes: bool = True,
) -> types.WorkspaceEdit:
    """The fix as an edit; versioned ``documentChanges`` only for clients that support them."""
    assert finding.fix is not None
    plain = [
        types.TextEdit(span_range(lines, edit.span, encoding), edit.new_text)
        for edit in finding.fix.edits
    ]
    if not document_changes:
        return types.WorkspaceEdit(changes={uri: plain})
    edits: list[types.TextEdit | types.AnnotatedTextEdit | types.SnippetTextEdit] = list(plain)
    return types.WorkspaceEdit(
        document_changes=[
            types.TextDocumentEdit(
                text_document=types.OptionalVersionedTextDocumentIdentifier(uri, version),
                edits=edits,
            )
        ]
    )


def offset_in(lines: Lines, where: types.Position, encoding: str) -> int:
    """A byte offset in a snapshot (the analysed revision), clamped to it."""
    if where.line >= len(lines.starts):
        return len(lines.data)
    return lines.starts[where.line] + units_to_column(
        lines.line(where.line), where.character, encoding
    )
