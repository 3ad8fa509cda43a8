"""What the catalog needs to know about a lesson's programming language.

A lesson names its language in its front matter (``language: python``, the default). The
language says which fenced blocks hold the example (```` ```python before ````), how a snippet
is checked for syntax when the lesson loads, and how the example runs in the tests. Python's is
built in; another language registers its own with ``register_lesson_language``, from the same
plugin that registers its ``LanguageSpec`` (``analyzers/languages.py``: entry points in the
group ``lessonlens.languages``). This module imports nothing from the other layers.
"""

from __future__ import annotations

import ast
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass

log = logging.getLogger(__name__)

# The first syntax error in a snippet: (its 1-based line, a message), or None when it is valid.
SyntaxCheck = Callable[[str], "tuple[int, str] | None"]


class ExampleError(Exception):
    """An example that cannot show its point: it fails, or computes no ``result``."""


@dataclass(frozen=True)
class LessonLanguage:
    id: str
    # The first word of the info string of the example's blocks: ```python before.
    fence: str
    # Checks the example's blocks when the lesson loads: they must be able to run.
    compile_error: SyntaxCheck
    # Checks ``situations`` (snippets read by the model, never run): they must parse.
    parse_error: SyntaxCheck | None = None
    # Runs an example: (setup, before, after, a name for messages) -> the ``result`` that the
    # before and the after compute from the same setup. ``None``: examples are checked, not run.
    run: Callable[[str, str, str, str], tuple[object, object]] | None = None
    # Times an example: (setup, before, after, name, repeat) -> best seconds per run of before
    # and of after (``benchmarks/lesson_examples.py``). ``None``: the benchmark times Python.
    time: Callable[[str, str, str, str, int], tuple[float, float]] | None = None
    # The language's skills, TOML in the form of skills.toml, added to the taxonomy.
    skills: str = ""


def _python_compile_error(code: str) -> tuple[int, str] | None:
    try:
        compile(code, "<example>", "exec")
    except SyntaxError as exc:
        return exc.lineno or 1, exc.msg
    return None


def _python_parse_error(code: str) -> tuple[int, str] | None:
    try:
        ast.parse(code)
    except SyntaxError as exc:
        return exc.lineno or 1, exc.msg
    return None


def _python_run(setup: str, before: str, after: str, name: str) -> tuple[object, object]:
    """Run setup once per side, then before and after, each in its own namespace."""
    namespace: dict[str, object] = {"__name__": f"lesson_{name.replace('-', '_')}"}
    exec(compile(setup, f"{name}:setup", "exec"), namespace)
    results = []
    for role, code in (("before", before), ("after", after)):
        side = dict(namespace)
        exec(compile(code, f"{name}:{role}", "exec"), side)
        if "result" not in side:
            raise ExampleError(f"{name}: the {role} example must assign `result`")
        results.append(side["result"])
    return results[0], results[1]


PYTHON = LessonLanguage(
    id="python",
    fence="python",
    compile_error=_python_compile_error,
    parse_error=_python_parse_error,
    run=_python_run,
)

# A lesson that names no language is a Python lesson: every lesson written before the field.
DEFAULT_LANGUAGE = PYTHON.id

# The entry-point group of language plugins, the same as ``analyzers.languages.PLUGIN_GROUP``
# (this layer imports nothing from the analyzers).
PLUGIN_GROUP = "lessonlens.languages"

_lock = threading.RLock()
_languages: dict[str, LessonLanguage] = {PYTHON.id: PYTHON}
_plugins_loaded = False


def _load_plugins() -> None:
    """Import every language plugin once: importing one registers its lesson language.

    The analyzers load the same plugins for their ``LanguageSpec``; whichever layer looks a
    language up first imports them, and the import system makes the second a no-op.
    """
    global _plugins_loaded
    if _plugins_loaded:
        return
    with _lock:
        if _plugins_loaded:
            return
        _plugins_loaded = True
        from importlib.metadata import entry_points

        for entry in entry_points(group=PLUGIN_GROUP):
            try:
                entry.load()
            except Exception:
                log.exception("language plugin %s (%s) failed to load", entry.name, entry.value)


def register_lesson_language(language: LessonLanguage) -> LessonLanguage:
    """Register a lesson language (a plugin's or a test's); the same one twice is a no-op."""
    with _lock:
        known = _languages.get(language.id)
        if known is not None and known is not language:
            raise ValueError(f"lesson language {language.id!r} is already registered")
        _languages[language.id] = language
    return language


def lesson_language(language_id: str) -> LessonLanguage | None:
    _load_plugins()
    return _languages.get(language_id)


def lesson_languages() -> tuple[LessonLanguage, ...]:
    _load_plugins()
    return tuple(_languages.values())
