"""The team skill matrix: which skills matter to a team, how much, and the mastery it aims for.

Read from ``[tool.lessonlens.matrix]`` in pyproject.toml or ``[matrix]`` in ``.lessonlens.toml``::

    [tool.lessonlens.matrix]
    min-group-size = 5                      # optional; team views hide smaller groups
    "python.comprehensions" = { target = 0.8, priority = "high" }
    "python.async" = { priority = "none" }  # "not a priority": no target, never a gap

    [tool.lessonlens.matrix.roles.backend]  # optional per-role targets
    "python.comprehensions" = 0.9

Skill ids hold dots, so TOML needs them quoted. ``roles`` and ``min-group-size`` are the only
keys that are not skill ids; since every skill id must exist in the taxonomy, the two can never
clash. A role may only retarget skills that the matrix lists: a role target for a skill the team
never prioritised would have no priority to weigh its gap by.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lessonlens.lessons.skills import PRIORITIES, Skill, load_skills
from lessonlens.server.workspace.config import ConfigError

DEFAULT_MIN_GROUP_SIZE = 5
# A skill listed without a target aims at this; the learner's mastery threshold is 0.95, and a
# team target equal to it would make nearly every skill a gap, so the default is gentler.
DEFAULT_TARGET = 0.8
_RESERVED = ("roles", "min-group-size")
_SKILL_KEYS = ("target", "priority")


@dataclass(frozen=True)
class SkillTarget:
    skill_id: str
    target: float  # 0..1 mastery; meaningless (0) when priority is "none"
    priority: str
    role_targets: Mapping[str, float] = field(default_factory=dict, hash=False)

    def target_for(self, role: str | None) -> float:
        if role is None:
            return self.target
        return self.role_targets.get(role, self.target)


@dataclass(frozen=True)
class Matrix:
    skills: Mapping[str, SkillTarget] = field(default_factory=dict, hash=False)
    roles: tuple[str, ...] = ()
    min_group_size: int = DEFAULT_MIN_GROUP_SIZE

    def prioritised(self) -> list[SkillTarget]:
        """The skills with a target, in id order; "none" skills are listed but never gaps."""
        return [s for _, s in sorted(self.skills.items()) if s.priority != "none"]


def _target(path: Path, key: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
        raise ConfigError(path, key, f"expected a mastery between 0 and 1, got {value!r}")
    return float(value)


def _skill_id(path: Path, key: str, skill_id: str, known: Mapping[str, Skill]) -> None:
    if skill_id not in known:
        close = difflib.get_close_matches(skill_id, known, n=1)
        hint = f" (did you mean '{close[0]}'?)" if close else ""
        raise ConfigError(path, key, f"unknown skill{hint}")


def parse_matrix(
    path: Path, key: str, table: Any, skills: Mapping[str, Skill] | None = None
) -> Matrix:
    """Validate the matrix table found at ``key`` in ``path``; errors name the file and key."""
    known = skills if skills is not None else load_skills()
    if not isinstance(table, dict):
        raise ConfigError(path, key, "expected a table")
    min_group = table.get("min-group-size", DEFAULT_MIN_GROUP_SIZE)
    # One developer's numbers would be their own: a "group" of one is no group.
    if isinstance(min_group, bool) or not isinstance(min_group, int) or min_group < 2:
        raise ConfigError(path, f"{key}.min-group-size", "expected an integer of at least 2")
    entries: dict[str, tuple[float, str]] = {}
    for skill_id, entry in table.items():
        if skill_id in _RESERVED:
            continue
        where = f'{key}."{skill_id}"'
        _skill_id(path, where, skill_id, known)
        if not isinstance(entry, dict):
            raise ConfigError(path, where, "expected a table with target and priority")
        for name in entry:
            if name not in _SKILL_KEYS:
                close = difflib.get_close_matches(name, _SKILL_KEYS, n=1)
                hint = f" (did you mean '{close[0]}'?)" if close else ""
                raise ConfigError(path, f"{where}.{name}", f"unknown key{hint}")
        priority = entry.get("priority", "medium")
        if priority not in PRIORITIES:
            raise ConfigError(
                path, f"{where}.priority", f"priority must be one of {', '.join(PRIORITIES)}"
            )
        if priority == "none":
            if "target" in entry:
                raise ConfigError(
                    path, f"{where}.target", 'a skill of priority "none" takes no target'
                )
            entries[skill_id] = (0.0, priority)
        else:
            target = _target(path, f"{where}.target", entry.get("target", DEFAULT_TARGET))
            entries[skill_id] = (target, priority)
    role_targets: dict[str, dict[str, float]] = {}
    roles = table.get("roles", {})
    if not isinstance(roles, dict):
        raise ConfigError(path, f"{key}.roles", "expected a table of roles")
    for role, targets in roles.items():
        where = f"{key}.roles.{role}"
        if not isinstance(targets, dict):
            raise ConfigError(path, where, "expected a table of skill id = target")
        for skill_id, value in targets.items():
            at = f'{where}."{skill_id}"'
            _skill_id(path, at, skill_id, known)
            if skill_id not in entries:
                raise ConfigError(path, at, "list the skill in the matrix (with a priority) first")
            if entries[skill_id][1] == "none":
                raise ConfigError(path, at, 'the skill has priority "none"; it takes no target')
            role_targets.setdefault(skill_id, {})[role] = _target(path, at, value)
    return Matrix(
        skills={
            skill_id: SkillTarget(skill_id, target, priority, role_targets.get(skill_id, {}))
            for skill_id, (target, priority) in entries.items()
        },
        roles=tuple(sorted(roles)),
        min_group_size=min_group,
    )


def load_matrix(start: Path) -> Matrix:
    """The matrix of the project around ``start``; an empty one when none is configured."""
    from lessonlens.server.workspace.config import find_config

    found = find_config(start).matrix
    return found if found is not None else Matrix()
