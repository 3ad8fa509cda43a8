"""What every output format needs: a finding's lesson and rule, resolved once."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from lessonlens.analyzers.model import Fix, Rule
from lessonlens.lessons.catalog import Catalog
from lessonlens.lessons.lesson import Lesson
from lessonlens.lessons.skills import Skill
from lessonlens.server.check.run import CheckReport, FileReport, Reported


@dataclass(frozen=True)
class Context:
    """The catalog and rules a report refers to."""

    catalog: Catalog
    rules: dict[str, Rule]

    def lesson(self, reported: Reported) -> Lesson | None:
        return self.catalog.lesson(reported.finding.lesson_id)

    def skill(self, skill_id: str) -> Skill | None:
        return self.catalog.skill(skill_id)

    def skill_name(self, skill_id: str) -> str:
        skill = self.catalog.skill(skill_id)
        return skill.name if skill else skill_id


def fix_safety(fix: Fix) -> str:
    """``safe``, or ``unsafe: <reason>``: how every format says how far a fix can be trusted."""
    return "safe" if fix.safe else f"unsafe: {fix.reason}"


def by_skill(
    report: CheckReport,
) -> dict[str, dict[str, list[tuple[FileReport, Reported]]]]:
    """Skill id -> lesson id -> findings, in a stable order (most findings first)."""
    grouped: dict[str, dict[str, list[tuple[FileReport, Reported]]]] = defaultdict(
        lambda: defaultdict(list)
    )
    for file, reported in report.findings:
        finding = reported.finding
        grouped[finding.skill_id][finding.lesson_id].append((file, reported))
    return {
        skill: dict(sorted(lessons.items(), key=lambda kv: (-len(kv[1]), kv[0])))
        for skill, lessons in sorted(
            grouped.items(), key=lambda kv: (-sum(len(v) for v in kv[1].values()), kv[0])
        )
    }
