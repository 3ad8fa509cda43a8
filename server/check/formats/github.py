"""GitHub Actions workflow commands: one ``::notice`` per finding."""

from __future__ import annotations

from lessonlens.server.check.formats.common import Context, fix_safety
from lessonlens.server.check.run import CheckReport


def _data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _property(text: str) -> str:
    return _data(text).replace(":", "%3A").replace(",", "%2C")


def render(report: CheckReport, context: Context) -> str:
    lines = []
    for file, reported in report.findings:
        finding, where = reported.finding, reported.location
        lesson = context.lesson(reported)
        title = f"{finding.rule_id} {lesson.title}" if lesson else finding.rule_id
        message = finding.message + (f"\nLesson: {lesson.title} {lesson.url}" if lesson else "")
        if finding.fix is not None:
            how = "lessonlens check --fix" + ("" if finding.fix.safe else " --unsafe-fixes")
            message += f"\nFix ({fix_safety(finding.fix)}): {finding.fix.title} ({how})"
        lines.append(
            f"::notice file={_property(file.path)},line={where.line},col={where.column},"
            f"endLine={where.end_line},endColumn={where.end_column},"
            f"title={_property(title)}::{_data(message)}"
        )
    for file, note in report.related:
        lesson = context.catalog.lesson(note.lesson_id)
        title = f"Related lesson: {lesson.title if lesson else note.lesson_id}"
        message = f"A lesson related to {note.kind} {note.unit}" + (
            f": {lesson.summary}\n{lesson.url}" if lesson else ""
        )
        lines.append(
            f"::notice file={_property(file.path)},line={note.line},endLine={note.end_line},"
            f"title={_property(title)}::{_data(message)}"
        )
    for file in report.files:
        if file.skipped:
            lines.append(f"::warning file={_property(file.path)}::{_data(file.skipped)}")
    return "\n".join(lines) + ("\n" if lines else "")
