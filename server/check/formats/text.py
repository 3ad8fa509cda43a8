"""Terminal output: ``file:line:col: RULE message`` and the lesson to read, one per finding."""

from __future__ import annotations

import click

from lessonlens.server.check.formats.common import Context, fix_safety
from lessonlens.server.check.run import CheckReport


def render(report: CheckReport, context: Context, *, color: bool) -> str:
    def style(text: str, **kwargs: object) -> str:
        return click.style(text, **kwargs) if color else text  # type: ignore[arg-type]

    lines: list[str] = []
    for file, reported in report.findings:
        finding, where = reported.finding, reported.location
        lesson = context.lesson(reported)
        lines.append(
            f"{style(file.path, bold=True)}:{where.line}:{where.column}: "
            f"{style(finding.rule_id, fg='cyan', bold=True)} {finding.message}"
        )
        if lesson is not None:
            lines.append(
                f"    {style('lesson:', fg='green')} {lesson.title}  "
                f"{style(f'(lessonlens explain {finding.rule_id}', dim=True)}"
                f"{style(' · ' + lesson.url + ')', dim=True)}"
            )
        if finding.fix is not None:
            label = f"fix ({fix_safety(finding.fix)}):"
            lines.append(f"    {style(label, fg='yellow')} {finding.fix.title}")
    for file, note in report.related:
        lesson = context.catalog.lesson(note.lesson_id)
        lines.append(
            f"{style(file.path, bold=True)}:{note.line}:1: "
            f"{style('related', fg='cyan')} lesson for {note.kind} `{note.unit}`"
        )
        if lesson is not None:
            lines.append(
                f"    {style('lesson:', fg='green')} {lesson.title}  "
                f"{style(f'(lessonlens explain {lesson.id} · {lesson.url})', dim=True)}"
            )
    count = len(report.findings)
    files = len({f.path for f, _ in report.findings})
    lessons = len({r.finding.lesson_id for _, r in report.findings})
    if count:
        lines.append("")
        lines.append(
            f"{count} hint{'s' if count != 1 else ''} in {files} file{'s' if files != 1 else ''}, "
            f"{lessons} lesson{'s' if lessons != 1 else ''} to read. "
            "`lessonlens explain RULE` shows a lesson."
        )
    else:
        checked = sum(1 for f in report.files if f.skipped is None)
        lines.append(f"No hints in {checked} file{'s' if checked != 1 else ''}. Nice work.")
    if report.related:
        n = len(report.related)
        lines.append(
            f"{n} related lesson{'s' if n != 1 else ''} from the model, where no rule fired."
        )
    return "\n".join(lines) + "\n"
