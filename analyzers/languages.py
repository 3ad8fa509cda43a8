"""The language registry, keyed by file extension and by LSP ``languageId``.

A new language is one ``LanguageSpec`` plus a package of rules (its ``rules`` subpackage and
``queries/`` data): everything that differs between languages (decoding, the statements the
editor's cache splits a file into, the nodes a lens attaches to, version options, suppression
comments, code units for the model) is a field of the spec, and the core reads only the spec.

Languages come from two places, and only these two: the built-in ones (``_BUILTIN``, each
defined in its own package) and plugins. A plugin is a Python entry point in the group
``lessonlens.languages`` (``[project.entry-points."lessonlens.languages"]`` in the plugin's
pyproject.toml: ``lua = "lessonlens_lua"``) naming a module whose import registers the language
through ``register_language`` (and, for its lessons, the lessons layer's
``register_lesson_language``). Plugins load once, on the first look-up, in every process that
looks a language up (the CLI, the language server, tests); a plugin that fails to load is logged
and skipped, and costs that plugin only.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable, Hashable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import PurePath
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from lessonlens.analyzers.model import CodeUnit
    from lessonlens.analyzers.parsing import Node

log = logging.getLogger(__name__)

PLUGIN_GROUP = "lessonlens.languages"

# A piece of a file for the editor's unit cache: start byte, end byte, start row, start column.
Piece = tuple[int, int, int, int]


@dataclass(frozen=True)
class ScopedFingerprint:
    """A file's fingerprint in two parts, for a finer unit cache (``engine.UnitCache``).

    ``whole``: what any unit may read (a change re-walks every unit). ``names``: what each name
    means in the file (for Python, the import it binds), sorted by name, and read by a unit only
    where the name is written in it: a change to a name's entry re-walks the units whose bytes
    contain the name, and no other.
    """

    whole: Hashable
    names: tuple[tuple[str, Hashable], ...]
    # Whether a name's entry is a tuple of pairs, one per declaration: what declares it, and
    # the part of that a rule may follow to other names (bytes; JavaScript's ``const b =
    # a.map(...)`` mentions ``a``): then a change to ``a`` changes what ``b`` means too.
    chained: bool = False
    # Whether a unit reads a name only where it stands alone in its bytes (JavaScript's
    # predicates); otherwise anywhere the name's bytes occur (Python's PY018 fix reads
    # `load` in a unit that writes `loads`).
    whole_words: bool = False

    def changed_names(self, earlier: object) -> set[str] | None:
        """The names whose meaning differs from ``earlier``'s; None when ``whole`` differs."""
        if not isinstance(earlier, ScopedFingerprint) or earlier.whole != self.whole:
            return None
        before, after = dict(earlier.names), dict(self.names)
        changed = {n for n in before.keys() | after.keys() if before.get(n) != after.get(n)}
        if self.chained:
            entries = [(n, v) for n, v in (*before.items(), *after.items()) if n not in changed]
            new = set(changed)
            while new:
                words, mention = [n.encode() for n in new], mention_of(new)
                new = {
                    name
                    for name, entry in entries
                    if name not in changed
                    and isinstance(entry, tuple)
                    and any(
                        any(word in leads for word in words) and mention.search(leads)
                        for _text, leads in entry
                    )
                }
                changed |= new
        return changed


def mention_of(names: Iterable[str]) -> re.Pattern[bytes]:
    """Where code mentions one of ``names``: the name standing alone.

    Not part of a longer identifier (``fs`` is not mentioned in ``refs``). A non-ASCII
    neighbour counts as a boundary: an identifier that merely ends or starts with the name
    counts as a mention too, which only ever walks a unit more.
    """
    return re.compile(
        rb"(?<![\w$])(?:" + b"|".join(re.escape(n.encode()) for n in names) + rb")(?![\w$])"
    )


def decode_utf8(raw: bytes) -> tuple[str, str | None]:
    """UTF-8 with a BOM allowed; undecodable bytes become U+FFFD and the notice says where.

    The decoding of every language that declares no other: one bad byte costs a hint or two
    on its line, never the file.
    """
    try:
        return raw.decode("utf-8"), None
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        text = raw.decode("utf-8", "replace")
        return text, f"invalid utf-8 at line {line}; decoded with replacement characters"


class OptionError(ValueError):
    """A language option's value is wrong; ``key`` names it when it is not the option's own."""

    def __init__(self, message: str, key: str | None = None) -> None:
        super().__init__(message)
        self.key = key


@dataclass(frozen=True)
class LanguageOption:
    """A configuration key that only one language reads (``target-python``).

    ``parse`` turns the TOML value into what rules read from ``AnalysisOptions.language_options``
    under ``key``, raising ``OptionError`` with a message for the user. ``project_default`` reads
    the value from a project's own ``manifest`` when the lessonlens configuration does not set
    it: for ``pyproject.toml`` its parsed data, for any other file (``go.mod``) ``{"text": ...}``,
    its text; it raises ``OptionError`` naming the manifest's key.
    """

    key: str
    parse: Callable[[Any], Any]
    project_default: Callable[[Mapping[str, Any]], Any] | None = None
    manifest: str = "pyproject.toml"


@dataclass(frozen=True)
class LanguageSpec:
    id: str
    extensions: tuple[str, ...]
    language_ids: tuple[str, ...]
    grammar: Callable[[], Any]
    # The package holding this language's ``rules`` subpackage and ``queries/`` data.
    package: str
    # Source bytes -> (text, notice): Python honours PEP 263 cookies; the default is UTF-8.
    decode: Callable[[bytes], tuple[str, str | None]] = decode_utf8
    # Splits a parsed file into units (whose findings depend only on their own bytes and on
    # ``fingerprint`` of the file) and the glue between them: an editor re-analyses only the
    # units that changed (see engine.UnitCache). Without both, every edit walks the whole file.
    pieces: Callable[[Node], tuple[list[Piece], list[Piece]]] | None = None
    fingerprint: Callable[[Any, bytes], Hashable] | None = None
    # Node types a code lens attaches to: the innermost one holding a hint carries its lessons.
    lens_nodes: tuple[str, ...] = ()
    # Whether a node lies where a lesson gate's ``within`` says (``loop``: in the body of a
    # loop; ``async-function``: in an async function's), searching up to the unit's first byte.
    within: Callable[[Node, str, int], bool] | None = None
    # Functions, methods, classes and top-level blocks as the model reads them.
    code_units: Callable[[Any, bytes], list[CodeUnit]] | None = None
    # Prefixes of a whole-line comment, skipped when the model reads code as line pairs.
    line_comments: tuple[str, ...] = ()
    # Configuration keys this language reads (``target-python``), passed to rules through
    # ``AnalysisOptions.language_options``.
    options: tuple[LanguageOption, ...] = ()
    # Whether a suppression comment silences a rule on a line: (the line's bytes, the previous
    # line's bytes, the rule's id, name and equivalent codes) -> silenced. The previous line is
    # for comments that name the next line (``// eslint-disable-next-line``, ``//nolint`` above).
    suppressed: Callable[[bytes, bytes, tuple[str, ...]], bool] | None = None
    # Whether a file's own content says it is a test (it imports a test framework): with its
    # path (``is_test_path``), what makes rules marked ``quiet_in_tests`` stay silent.
    test_source: Callable[[Any, bytes], bool] | None = None
    # Whether a file is generated or minified, from its name and its bytes (Go's "Code generated
    # ... DO NOT EDIT." line, a ``.min.js``): nobody edits it, so it is skipped, never analysed.
    generated: Callable[[str, bytes], bool] | None = None
    # The lesson language whose lessons serve this language's code, when it is not ``id``: the
    # TypeScript specs read lessons written for JavaScript.
    lesson_language: str = ""

    @property
    def lessons(self) -> str:
        """The id of the lesson language this language's lessons are written in."""
        return self.lesson_language or self.id


def _builtin() -> tuple[LanguageSpec, ...]:
    # The registration of the built-in languages: the one place outside a language's own
    # package that names it.
    from lessonlens.analyzers.go.spec import GO
    from lessonlens.analyzers.javascript.spec import JAVASCRIPT, TSX, TYPESCRIPT
    from lessonlens.analyzers.python.spec import PYTHON

    return (PYTHON, JAVASCRIPT, TYPESCRIPT, TSX, GO)


class _Registry:
    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.loaded = False
        self.specs: dict[str, LanguageSpec] = {}
        self.by_extension: dict[str, LanguageSpec] = {}
        self.by_language_id: dict[str, LanguageSpec] = {}

    def add(self, spec: LanguageSpec) -> None:
        with self.lock:
            known = self.specs.get(spec.id)
            if known is not None and known is not spec:
                raise ValueError(f"language {spec.id!r} is already registered")
            self.specs[spec.id] = spec
            for extension in spec.extensions:
                self.by_extension[extension.lower()] = spec
            for language_id in spec.language_ids:
                self.by_language_id[language_id] = spec

    def ensure_loaded(self) -> None:
        if self.loaded:
            return
        with self.lock:
            if self.loaded:
                return
            self.loaded = True
            for spec in _builtin():
                self.add(spec)
            _load_plugins()


_REGISTRY = _Registry()


def register_language(spec: LanguageSpec) -> LanguageSpec:
    """Register a language (a plugin's, or a test's); registering the same spec twice is a no-op.

    Returns ``spec``, so that a plugin module can write ``LUA = register_language(LanguageSpec(
    ...))``. A second, different spec with a registered id is an error.
    """
    _REGISTRY.ensure_loaded()
    _REGISTRY.add(spec)
    return spec


def _load_plugins() -> None:
    """Import every language plugin (an entry point naming a module); its import registers it.

    The lessons layer imports the same modules for their lesson languages; whichever layer
    looks a language up first imports them, and the import system makes the second a no-op.
    """
    from importlib.metadata import entry_points

    for entry in entry_points(group=PLUGIN_GROUP):
        try:
            loaded = entry.load()
            if isinstance(loaded, LanguageSpec):
                _REGISTRY.add(loaded)
        except Exception:
            log.exception("language plugin %s (%s) failed to load", entry.name, entry.value)


def languages() -> tuple[LanguageSpec, ...]:
    """Every registered language, built-in ones first, then plugins in registration order."""
    _REGISTRY.ensure_loaded()
    return tuple(_REGISTRY.specs.values())


def language_for_path(path: str | PurePath) -> LanguageSpec | None:
    _REGISTRY.ensure_loaded()
    return _REGISTRY.by_extension.get(PurePath(path).suffix.lower())


def language_for_id(language_id: str) -> LanguageSpec | None:
    """The language of an LSP ``languageId`` (a language's id is one of its own)."""
    _REGISTRY.ensure_loaded()
    return _REGISTRY.by_language_id.get(language_id) or _REGISTRY.specs.get(language_id)


_TEST_FOLDERS = frozenset(
    {"test", "tests", "testing", "__tests__", "__mocks__", "e2e", "cypress", "testdata"}
)
_TEST_SUFFIXES = (".test", ".spec", ".e2e", ".stories")


def is_test_path(path: str | PurePath | None) -> bool:
    """Whether a path (relative to its project) is test code by the usual layouts.

    A ``tests``/``test``/``testing``/``__tests__``/``e2e``/``testdata`` folder, ``test_*``,
    ``*_test`` (Go's ``x_test.go`` too), ``conftest``, and ``*.test.ts``/``*.spec.js``.
    Performance advice stays silent there (see ``python/hotness.py``); idiom advice does not.
    """
    if path is None:
        return False
    pure = PurePath(path)
    stem = pure.stem.lower()
    if stem.startswith("test_") or stem.endswith("_test") or stem in ("conftest", "tests"):
        return True
    if stem.endswith(_TEST_SUFFIXES):
        return True
    return any(part.lower() in _TEST_FOLDERS for part in pure.parts[:-1])
