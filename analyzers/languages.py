"""The language registry, keyed by file extension and by LSP ``languageId``.

A new language is one ``LanguageSpec`` here plus a package of rules; the core does not change.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from dataclasses import dataclass
from pathlib import PurePath
from typing import Any

from lessonlens.analyzers.model import CodeUnit


def _python_grammar() -> Any:
    import tree_sitter_python

    return tree_sitter_python.language()


def _python_fingerprint(root: Any, source: bytes) -> Hashable:
    from lessonlens.analyzers.python.facts import file_fingerprint

    return file_fingerprint(root, source)


def _python_suppressed(line: bytes, names: tuple[str, ...]) -> bool:
    from lessonlens.analyzers.python.facts import noqa_silences

    return noqa_silences(line, names)


def _python_test_source(root: Any, source: bytes) -> bool:
    from lessonlens.analyzers.python.facts import imports_test_support

    return imports_test_support(root, source)


def _python_code_units(root: Any, source: bytes) -> list[CodeUnit]:
    from lessonlens.analyzers.python.units import code_units

    return code_units(root, source)


@dataclass(frozen=True)
class LanguageSpec:
    id: str
    extensions: tuple[str, ...]
    language_ids: tuple[str, ...]
    grammar: Callable[[], Any]
    # The package holding this language's ``rules`` subpackage and ``queries/`` data.
    package: str
    # Top-level nodes whose findings depend only on their own bytes and on ``fingerprint`` of
    # the file: an editor re-analyses only the units that changed (see engine.UnitCache).
    units: tuple[str, ...] = ()
    fingerprint: Callable[[Any, bytes], Hashable] | None = None
    # Functions, methods, classes and top-level blocks as the model reads them.
    code_units: Callable[[Any, bytes], list[CodeUnit]] | None = None
    # Whether a line's own suppression comment (`# noqa`) silences a rule there: (line bytes,
    # the rule's id, name and equivalent codes) -> silenced.
    suppressed: Callable[[bytes, tuple[str, ...]], bool] | None = None
    # Whether a file's own content says it is a test (it imports a test framework): with its
    # path (``is_test_path``), what makes rules marked ``quiet_in_tests`` stay silent.
    test_source: Callable[[Any, bytes], bool] | None = None


LANGUAGES: tuple[LanguageSpec, ...] = (
    LanguageSpec(
        id="python",
        extensions=(".py", ".pyi", ".pyw"),
        language_ids=("python",),
        grammar=_python_grammar,
        package="lessonlens.analyzers.python",
        units=("function_definition", "class_definition", "decorated_definition"),
        fingerprint=_python_fingerprint,
        code_units=_python_code_units,
        suppressed=_python_suppressed,
        test_source=_python_test_source,
    ),
)

_BY_EXTENSION = {ext: spec for spec in LANGUAGES for ext in spec.extensions}
_BY_LANGUAGE_ID = {lid: spec for spec in LANGUAGES for lid in spec.language_ids}


def language_for_path(path: str | PurePath) -> LanguageSpec | None:
    return _BY_EXTENSION.get(PurePath(path).suffix.lower())


_TEST_FOLDERS = frozenset({"test", "tests", "testing"})


def is_test_path(path: str | PurePath | None) -> bool:
    """Whether a path (relative to its project) is test code by the usual layouts.

    A ``tests``/``test``/``testing`` folder, ``test_*.py``, ``*_test.py``, ``conftest.py``.
    Performance advice stays silent there (see ``python/hotness.py``); idiom advice does not.
    """
    if path is None:
        return False
    pure = PurePath(path)
    stem = pure.stem.lower()
    if stem.startswith("test_") or stem.endswith("_test") or stem in ("conftest", "tests"):
        return True
    return any(part.lower() in _TEST_FOLDERS for part in pure.parts[:-1])


def language_for_id(language_id: str) -> LanguageSpec | None:
    return _BY_LANGUAGE_ID.get(language_id)
