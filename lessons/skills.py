"""The skill taxonomy: ``skills.toml`` plus each lesson language's own skills, validated.

A skill is what a lesson teaches and what the learner model tracks; its knowledge-tracing
parameters, when a skill sets them, are checked here so that the learner model cannot degenerate.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

from lessonlens.lessons.languages import lesson_languages
from lessonlens.lessons.lesson import ID_PATTERN

PRIORITIES = ("high", "medium", "low", "none")
BKT_PARAMETERS = ("prior", "learn", "guess", "slip")


@dataclass(frozen=True)
class Skill:
    id: str
    name: str
    description: str
    parent: str | None
    priority: str
    # Knowledge-tracing parameters that differ from the learner model's defaults, by name
    # ("prior", "learn", "guess", "slip"); empty means the defaults. Left out of the hash so that a
    # Skill stays hashable although a dict is not.
    bkt: Mapping[str, float] = field(default_factory=dict, hash=False)


def load_skills(text: str | None = None, path: str = "skills.toml") -> dict[str, Skill]:
    """Parse the skill taxonomy; raises ``ValueError`` naming the file and skill on bad data."""
    if text is None:
        text = resources.files("lessonlens.lessons").joinpath("skills.toml").read_text("utf-8")
        # Each registered language's own skills (a plugin's ``LessonLanguage.skills``).
        text = "\n".join([text, *(language.skills for language in lesson_languages())])
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"{path}: {exc}") from exc
    skills: dict[str, Skill] = {}
    for skill_id, entry in data.get("skill", {}).items():
        where = f"{path}: skill {skill_id!r}"
        if not ID_PATTERN.match(skill_id.replace(".", "-")):
            raise ValueError(f"{where}: ids are lowercase words joined by '.' and '-'")
        if not isinstance(entry.get("name"), str) or not isinstance(entry.get("description"), str):
            raise ValueError(f"{where}: needs a 'name' and a 'description'")
        priority = entry.get("priority", "medium")
        if priority not in PRIORITIES:
            raise ValueError(f"{where}: priority must be one of {', '.join(PRIORITIES)}")
        skills[skill_id] = Skill(
            skill_id,
            entry["name"],
            entry["description"],
            entry.get("parent"),
            priority,
            _bkt_params(entry, where),
        )
    for skill in skills.values():
        if skill.parent is not None and skill.parent not in skills:
            raise ValueError(f"{path}: skill {skill.id!r}: unknown parent {skill.parent!r}")
    return skills


def _bkt_params(entry: Mapping[str, Any], where: str) -> dict[str, float]:
    """The ``bkt-*`` keys of one skill, checked so that the learner model cannot degenerate.

    Each is a probability strictly between 0 and 1 (0 or 1 would make one observation decide
    mastery for ever), and guess + slip < 1: otherwise a correct answer would be likelier from
    someone who does not know the skill than from someone who does, and evidence would count
    backwards. The sum is checked here only when both are given; the learner checks it again
    against its defaults.
    """
    params: dict[str, float] = {}
    for key, value in entry.items():
        if not key.startswith("bkt-"):
            continue
        name = key.removeprefix("bkt-")
        if name not in BKT_PARAMETERS:
            known = ", ".join(f"bkt-{p}" for p in BKT_PARAMETERS)
            raise ValueError(f"{where}: unknown key {key!r} (use {known})")
        # bool is an int; "bkt-learn = true" is a mistake, not 1.0.
        if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value < 1:
            raise ValueError(f"{where}: {key} must be a number strictly between 0 and 1")
        params[name] = float(value)
    if params.get("guess", 0.0) + params.get("slip", 0.0) >= 1:
        raise ValueError(f"{where}: bkt-guess + bkt-slip must be below 1")
    return params
