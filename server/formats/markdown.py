"""A pull-request-ready Markdown summary: suggested lessons grouped by skill."""

from __future__ import annotations

from lessonlens.server.check import CheckReport
from lessonlens.server.formats.common import Context, by_skill

# Keep PR comments readable: long lists of places collapse, and stop after this many.
MAX_PLACES = 10


def render(report: CheckReport, context: Context) -> str:
    count = len(report.findings)
    lines = ["## lessonlens: lessons for this change", ""]
    if not count:
        lines.append("No suggestions: nothing in this change matches a lesson. :sparkles:")
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
                lines.append(
                    f"  - `{file.path}:{where.line}` {reported.finding.rule_id}: "
                    f"{reported.finding.message}"
                )
            if len(places) > MAX_PLACES:
                lines.append(f"  - ... and {len(places) - MAX_PLACES} more")
            lines.append("")
            lines.append("  </details>")
        lines.append("")
    lines.append("<sub>Run `lessonlens explain RULE` locally to read a lesson.</sub>")
    return "\n".join(lines) + "\n"
