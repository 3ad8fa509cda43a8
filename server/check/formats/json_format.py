"""Machine-readable output, stable keys, one object per run."""

from __future__ import annotations

import json
from typing import Any

from lessonlens import __version__
from lessonlens.analyzers.model import Fix
from lessonlens.server.check.formats.common import Context
from lessonlens.server.check.run import CheckReport


def fix_to_json(fix: Fix | None) -> dict[str, Any] | None:
    if fix is None:
        return None
    return {
        "title": fix.title,
        # "safe": preserves behaviour wherever the rule fires; "unsafe": may not, says why.
        "applicability": fix.applicability.value,
        "reason": fix.reason or None,
        "edits": [
            {
                "start": {"row": e.span.start_row, "byte_column": e.span.start_col},
                "end": {"row": e.span.end_row, "byte_column": e.span.end_col},
                "start_byte": e.span.start_byte,
                "end_byte": e.span.end_byte,
                "new_text": e.new_text,
            }
            for e in fix.edits
        ],
    }


def _lesson_ref(context: Context, lesson_id: str) -> dict[str, str]:
    lesson = context.catalog.lesson(lesson_id)
    if lesson is None:
        return {"id": lesson_id}
    return {"id": lesson.id, "title": lesson.title, "url": lesson.url}


def render(report: CheckReport, context: Context) -> str:
    files = []
    for file in report.files:
        findings = []
        for reported in file.findings:
            f, where = reported.finding, reported.location
            lesson = context.lesson(reported)
            rule = context.rules.get(f.rule_id)
            findings.append(
                {
                    "rule": f.rule_id,
                    "name": rule.name if rule else None,
                    "message": f.message,
                    "severity": f.severity.value,
                    "line": where.line,
                    "column": where.column,
                    "end_line": where.end_line,
                    "end_column": where.end_column,
                    "skill": f.skill_id,
                    "lesson": None
                    if lesson is None
                    else {"id": lesson.id, "title": lesson.title, "url": lesson.url},
                    "fix": fix_to_json(f.fix),
                }
            )
        files.append(
            {
                "path": file.path,
                "skipped": file.skipped,
                "problems": [{"message": p.message, "rule": p.rule_id} for p in file.problems],
                "findings": findings,
                "related": [
                    {
                        "unit": note.unit,
                        "kind": note.kind,
                        "line": note.line,
                        "end_line": note.end_line,
                        "lesson": _lesson_ref(context, note.lesson_id),
                        "relevance": round(note.relevance, 3),
                    }
                    for note in file.related
                ],
            }
        )
    payload = {
        "tool": "lessonlens",
        "version": __version__,
        "summary": {
            "files": len(report.files),
            "findings": len(report.findings),
            "related": len(report.related),
            "cache_hits": report.cache_hits,
        },
        "files": files,
    }
    return json.dumps(payload, indent=2, ensure_ascii=False) + "\n"
