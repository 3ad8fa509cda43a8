"""A pull-request-ready Markdown summary: suggested lessons grouped by skill."""

from __future__ import annotations

from lessonlens.server.check.formats.common import Context, by_skill, fix_safety
from lessonlens.server.check.run import CheckReport

# Keep PR comments readable: long lists of places collapse, and stop after this many.
MAX_PLACES = 10


def _related(report: CheckReport, context: Context, lines: list[str]) -> None:
    """Lessons the model relates to code where no rule fired."""
    if not report.related:
        return
    lines.append("### Related lessons")
    lines.append("")
    for file, note in report.related[:MAX_PLACES]:
        lesson = context.catalog.lesson(note.lesson_id)
        link = f"[{lesson.title}]({lesson.url})" if lesson else note.lesson_id
        lines.append(f"- `{file.path}:{note.line}` {note.kind} `{note.unit}`: {link}")
    if len(report.related) > MAX_PLACES:
        lines.append(f"- ... and {len(report.related) - MAX_PLACES} more")
    lines.append("")


def render(report: CheckReport, context: Context) -> str:
    count = len(report.findings)
    lines = ["## lessonlens: lessons for this change", ""]
    if not count and not report.related:
        lines.append("No suggestions: nothing in this change matches a lesson. :sparkles:")
        return "\n".join(lines) + "\n"
    if not count:
        lines.append("No rule suggestions in this change.")
        lines.append("")
        _related(report, context, lines)
        return "\n".join(lines) + "\n"
    skills = by_skill(report)
    lines.append(
        f"{count} suggestion{'s' if count != 1 else ''} across {len(skills)} "
        f"skill{'s' if len(skills) != 1 else ''}. These are learning suggestions, not failures."
    )
    lines.append("")
    for skill_id, lessons in skills.items():
        lines.append(f"### {context.skill_name(skill_id)}")
        lines.append("")
        for lesson_id, places in lessons.items():
            lesson = context.catalog.lesson(lesson_id)
            title = lesson.title if lesson else lesson_id
            link = f"[{title}]({lesson.url})" if lesson else title
            summary = f": {lesson.summary}" if lesson else ""
            lines.append(f"- **{link}** ({len(places)}){summary}")
            lines.append("  <details><summary>Where</summary>")
            lines.append("")
            for file, reported in places[:MAX_PLACES]:
                where = reported.location
                fix = reported.finding.fix
                note = f" (fix, {fix_safety(fix)}: {fix.title})" if fix is not None else ""
                lines.append(
                    f"  - `{file.path}:{where.line}` {reported.finding.rule_id}: "
                    f"{reported.finding.message}{note}"
                )
            if len(places) > MAX_PLACES:
                lines.append(f"  - ... and {len(places) - MAX_PLACES} more")
            lines.append("")
            lines.append("  </details>")
        lines.append("")
    _related(report, context, lines)
    fixes = [r.finding.fix for _, r in report.findings if r.finding.fix is not None]
    safe = sum(fix.safe for fix in fixes)
    if fixes:
        lines.append(
            f"Fixes offered: {safe} safe (`lessonlens check --fix` applies them), "
            f"{len(fixes) - safe} unsafe (they may change behaviour, each says why; "
            "`--unsafe-fixes` applies them too)."
        )
        lines.append("")
    lines.append("<sub>Run `lessonlens explain RULE` locally to read a lesson.</sub>")
    return "\n".join(lines) + "\n"
