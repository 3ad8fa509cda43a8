"""SARIF 2.1.0, for code-scanning tools. Each rule's help carries its lesson as Markdown."""

from __future__ import annotations

import json
from pathlib import Path, PurePath
from typing import Any
from urllib.parse import quote

from lessonlens import __version__
from lessonlens.analyzers.model import Fix, Rule
from lessonlens.lessons.lesson import Lesson
from lessonlens.server.check.formats.common import Context
from lessonlens.server.check.run import CheckReport, Location

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
INFORMATION_URI = "https://pypi.org/project/lessonlens/"


def lesson_markdown(lesson: Lesson) -> str:
    """The lesson as a worked example, its code labelled Given / Before / After."""
    from lessonlens.lessons.renditions import render

    return render(lesson, "worked-example") + "\n"


def _rule_descriptor(rule: Rule, lesson: Lesson | None, skill_name: str) -> dict[str, Any]:
    descriptor: dict[str, Any] = {
        "id": rule.id,
        "name": rule.name,
        "shortDescription": {"text": rule.message},
        "defaultConfiguration": {"level": "note"},
        "properties": {"tags": ["lesson", skill_name], "skill": rule.skill_id},
    }
    if lesson is not None:
        descriptor["fullDescription"] = {"text": lesson.summary}
        descriptor["help"] = {
            "text": f"{lesson.title}: {lesson.summary} ({lesson.url})",
            "markdown": lesson_markdown(lesson),
        }
        descriptor["helpUri"] = lesson.url
        descriptor["properties"]["lesson"] = lesson.id
    return descriptor


def _region(where: Location) -> dict[str, int]:
    return {
        "startLine": where.line,
        "startColumn": where.column,
        "endLine": where.end_line,
        "endColumn": where.end_column,
    }


def _artifact(path: str) -> dict[str, str]:
    """Locate an artifact by percent-encoded URI, relative to the source root where possible.

    A file outside the working folder is shown by absolute path, which only a file: URI can say.
    """
    pure = PurePath(path)
    if pure.is_absolute():
        return {"uri": Path(path).as_uri()}
    return {"uri": quote(pure.as_posix()), "uriBaseId": "%SRCROOT%"}


def _fix(fix: Fix, artifact: dict[str, str]) -> dict[str, Any]:
    # SARIF regions may be given as byte offsets, which is exactly what our edits carry.
    return {
        "description": {"text": fix.title},
        "artifactChanges": [
            {
                "artifactLocation": artifact,
                "replacements": [
                    {
                        "deletedRegion": {
                            "byteOffset": e.span.start_byte,
                            "byteLength": e.span.end_byte - e.span.start_byte,
                        },
                        "insertedContent": {"text": e.new_text},
                    }
                    for e in fix.edits
                ],
            }
        ],
    }


def render(report: CheckReport, context: Context) -> str:
    used = sorted({r.finding.rule_id for _, r in report.findings})
    rules = [context.rules[rule_id] for rule_id in used if rule_id in context.rules]
    index = {rule.id: i for i, rule in enumerate(rules)}
    descriptors = [
        _rule_descriptor(r, context.catalog.lesson(r.lesson_id), context.skill_name(r.skill_id))
        for r in rules
    ]
    related_ids = sorted({note.lesson_id for _, note in report.related})
    for lesson_id in related_ids:
        lesson = context.catalog.lesson(lesson_id)
        index[f"related/{lesson_id}"] = len(descriptors)
        title = lesson.title if lesson else lesson_id
        descriptor: dict[str, Any] = {
            "id": f"related/{lesson_id}",
            "name": "related-lesson",
            "shortDescription": {"text": f"Related lesson: {title}"},
            "defaultConfiguration": {"level": "note"},
            "properties": {"tags": ["lesson", "related"], "lesson": lesson_id},
        }
        if lesson is not None:
            descriptor["help"] = {
                "text": f"{lesson.title}: {lesson.summary} ({lesson.url})",
                "markdown": lesson_markdown(lesson),
            }
            descriptor["helpUri"] = lesson.url
        descriptors.append(descriptor)
    results = []
    for file, note in report.related:
        rule_id = f"related/{note.lesson_id}"
        lesson = context.catalog.lesson(note.lesson_id)
        results.append(
            {
                "ruleId": rule_id,
                "ruleIndex": index[rule_id],
                "level": "note",
                "message": {
                    "text": f"A lesson related to {note.kind} {note.unit}: "
                    f"{lesson.title if lesson else note.lesson_id}."
                },
                "locations": [
                    {
                        "physicalLocation": {
                            "artifactLocation": _artifact(file.path),
                            "region": {"startLine": note.line, "endLine": note.end_line},
                        }
                    }
                ],
                "properties": {"relevance": round(note.relevance, 3)},
            }
        )
    for file, reported in report.findings:
        finding = reported.finding
        artifact = _artifact(file.path)
        lesson = context.lesson(reported)
        text = finding.message + (f" Lesson: {lesson.title}." if lesson else "")
        result: dict[str, Any] = {
            "ruleId": finding.rule_id,
            "level": "note",
            "message": {"text": text},
            "locations": [
                {
                    "physicalLocation": {
                        "artifactLocation": artifact,
                        "region": _region(reported.location),
                    }
                }
            ],
        }
        if finding.rule_id in index:
            result["ruleIndex"] = index[finding.rule_id]
        if finding.fix is not None and finding.fix.safe:
            result["fixes"] = [_fix(finding.fix, artifact)]
        elif finding.fix is not None:
            # A SARIF consumer applies what ``fixes`` holds without asking: an unsafe fix is
            # only described, with its reason, in the result's property bag.
            result["properties"] = {
                "unsafeFix": {"description": finding.fix.title, "reason": finding.fix.reason}
            }
        results.append(result)
    notifications = [
        {
            "level": "warning" if file.skipped else "note",
            "message": {"text": f"{file.path}: {file.skipped or problem}"},
        }
        for file in report.files
        for problem in ([file.skipped] if file.skipped else [p.message for p in file.problems])
    ]
    log = {
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "lessonlens",
                        "version": __version__,
                        "informationUri": INFORMATION_URI,
                        "rules": descriptors,
                    }
                },
                "invocations": [
                    {
                        "executionSuccessful": True,
                        "toolExecutionNotifications": notifications,
                    }
                ],
                "columnKind": "unicodeCodePoints",
                "results": results,
            }
        ],
    }
    return json.dumps(log, indent=2, ensure_ascii=False) + "\n"
