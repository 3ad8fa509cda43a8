"""Lua, registered only by the tests: proof that a language is a plugin, not a core change.

Importing this module registers Lua through the public registration points only: its
``LanguageSpec`` (grammar, rules in ``rules/``, queries in ``queries/``) with
``register_language``, and its lessons' language (examples checked by the grammar, skills) with
``register_lesson_language``. A real plugin is reached the same way: an entry point in the group
``lessonlens.languages`` naming this module (``tests/test_new_language.py`` installs one).
"""

from __future__ import annotations

from typing import Any

import tree_sitter_lua

from lessonlens.analyzers import parsing
from lessonlens.analyzers.languages import LanguageSpec, register_language
from lessonlens.lessons.languages import LessonLanguage, register_lesson_language


def _grammar() -> Any:
    return tree_sitter_lua.language()


def _syntax_error(code: str) -> tuple[int, str] | None:
    """The first ERROR or MISSING node of a snippet, as (1-based line, message)."""
    data = code.encode("utf-8")
    root = parsing.parse(parsing.new_parser(parsing.language(_grammar)), data).root_node
    errors = parsing.error_ranges(root)
    if not errors:
        return None
    start = min(a for a, _ in errors)
    return data.count(b"\n", 0, start) + 1, "syntax error"


SKILLS = """
[skill."lua"]
name = "Lua"
description = "Writing Lua that is fast and idiomatic."
priority = "medium"

[skill."lua.strings"]
name = "Building strings"
description = "Building strings in pieces without copying them again and again."
parent = "lua"
priority = "high"
"""

LUA = register_language(
    LanguageSpec(
        id="lua",
        extensions=(".lua",),
        language_ids=("lua",),
        grammar=_grammar,
        package="lang_lua",
        lens_nodes=("function_declaration", "function_definition"),
        line_comments=("--",),
    )
)

LESSONS = register_lesson_language(
    LessonLanguage(id="lua", fence="lua", compile_error=_syntax_error, skills=SKILLS)
)
