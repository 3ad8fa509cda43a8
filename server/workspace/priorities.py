"""Team skill priorities: a skill's own setting, else its nearest ancestor's, else the default."""

from __future__ import annotations

from collections.abc import Mapping

from lessonlens.lessons.skills import Skill


def effective_priority(
    skill_id: str, overrides: Mapping[str, str], skills: Mapping[str, Skill]
) -> str:
    """The priority that applies to ``skill_id``.

    A team that marks ``python.performance`` as ``none`` silences every skill below it, unless a
    child skill is given its own priority.
    """
    current: str | None = skill_id
    seen: set[str] = set()
    while current is not None and current not in seen:
        seen.add(current)
        if current in overrides:
            return overrides[current]
        skill = skills.get(current)
        current = skill.parent if skill else None
    skill = skills.get(skill_id)
    return skill.priority if skill else "medium"


def silenced_skills(overrides: Mapping[str, str], skills: Mapping[str, Skill]) -> frozenset[str]:
    """Skills whose findings a team has asked not to see (priority ``none``)."""
    if not overrides:
        return frozenset()
    return frozenset(s for s in skills if effective_priority(s, overrides, skills) == "none")
