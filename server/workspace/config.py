"""Project configuration: ``[tool.lessonlens]`` in pyproject.toml, or ``.lessonlens.toml``.

Found by walking up from the checked path; in one folder ``.lessonlens.toml`` wins over
``pyproject.toml``. A language's own keys (``target-python``) are declared by its
``LanguageSpec.options``, which may also read a default from the nearest pyproject.toml (for
Python, the lower bound of ``project.requires-python``); they reach rules as
``Config.language_options``.
"""

from __future__ import annotations

import difflib
import os
import stat
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lessonlens.analyzers.languages import LanguageOption, OptionError, languages
from lessonlens.lessons.skills import PRIORITIES

if TYPE_CHECKING:
    from lessonlens.server.team.matrix import Matrix

DEFAULT_MAX_FILE_SIZE = 1_000_000
DEFAULT_EXCLUDE = (
    ".git",
    ".hg",
    ".svn",
    ".venv",
    "venv",
    ".tox",
    ".nox",
    "__pycache__",
    "node_modules",
    "site-packages",
    ".mypy_cache",
    ".ruff_cache",
    ".pytest_cache",
    # JavaScript and Go: dependencies, build output and caches nobody edits by hand.
    "vendor",
    "vendors",
    "third_party",
    "third-party",
    "bower_components",
    "jspm_packages",
    "dist",
    "build",
    "out",
    "coverage",
    "storybook-static",
    ".next",
    ".nuxt",
    ".svelte-kit",
    ".output",
    ".turbo",
    ".vercel",
    ".cache",
    ".parcel-cache",
    ".yarn",
    ".pnpm-store",
)


class ConfigError(Exception):
    """An invalid configuration value; the message names the file and the key."""

    def __init__(self, path: Path, key: str, message: str) -> None:
        super().__init__(f"{path}: {key}: {message}")
        self.path = path
        self.key = key


@dataclass(frozen=True)
class Config:
    root: Path
    source: Path | None = None
    select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    lesson_dirs: tuple[Path, ...] = ()
    skill_priorities: dict[str, str] = field(default_factory=dict)
    # Options that one language reads, by key (``target-python``): ``LanguageSpec.options``.
    language_options: dict[str, Any] = field(default_factory=dict)
    max_file_size: int = DEFAULT_MAX_FILE_SIZE
    exclude: tuple[str, ...] = ()
    fail_on: tuple[str, ...] = ()
    # Shared by a team so that one developer's pseudonym is the same on every machine.
    team_salt: str | None = None
    # The team skill matrix (server/matrix.py); None when the project has none.
    matrix: Matrix | None = None


def _string_list(path: Path, prefix: str, key: str, value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(path, f"{prefix}{key}", "expected a list of strings")
    return tuple(value)


def _language_options() -> dict[str, LanguageOption]:
    return {option.key: option for spec in languages() for option in spec.options}


def _language_option(path: Path, key: str, option: LanguageOption, value: Any) -> Any:
    try:
        return option.parse(value)
    except OptionError as exc:
        raise ConfigError(path, exc.key or key, str(exc)) from None


def _parse(path: Path, table: dict[str, Any], prefix: str) -> dict[str, Any]:
    known: dict[str, Callable[[str, Any], Any]] = {
        "select": lambda k, v: _string_list(path, prefix, k, v),
        "ignore": lambda k, v: _string_list(path, prefix, k, v),
        "fail-on": lambda k, v: _string_list(path, prefix, k, v),
        "exclude": lambda k, v: _string_list(path, prefix, k, v),
        "lesson-dirs": lambda k, v: _folders(path, k, v, prefix),
        "max-file-size": lambda k, v: _positive_int(path, f"{prefix}{k}", v),
        "skill-priorities": lambda k, v: _priorities(path, f"{prefix}{k}", v),
        "team-salt": lambda k, v: _non_empty(path, f"{prefix}{k}", v),
        "matrix": lambda k, v: _matrix(path, f"{prefix}{k}", v),
    }
    options = _language_options()
    values: dict[str, Any] = {}
    language_values: dict[str, Any] = {}
    for key, value in table.items():
        if key in options:
            language_values[key] = _language_option(path, f"{prefix}{key}", options[key], value)
            continue
        if key not in known and key not in options:
            close = difflib.get_close_matches(key, [*known, *options], n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            raise ConfigError(path, f"{prefix}{key}", f"unknown key{hint}")
        values[key.replace("-", "_")] = known[key](key, value)
    values["language_options"] = language_values
    return values


def _matrix(path: Path, key: str, value: Any) -> Matrix:
    # Imported here: server/matrix.py imports ConfigError from this module.
    from lessonlens.server.team.matrix import parse_matrix

    return parse_matrix(path, key, value)


def _non_empty(path: Path, key: str, value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(path, key, "expected a non-empty string")
    return value


def _positive_int(path: Path, key: str, value: Any) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
        raise ConfigError(path, key, "expected a positive integer")
    return value


def _priorities(path: Path, key: str, value: Any) -> dict[str, str]:
    if not isinstance(value, dict):
        raise ConfigError(path, key, "expected a table of skill id = priority")
    for skill, priority in value.items():
        if priority not in PRIORITIES:
            raise ConfigError(
                path, f"{key}.{skill}", f"priority must be one of {', '.join(PRIORITIES)}"
            )
    return dict(value)


# A project's config is a few hundred bytes; a file far larger is not a config anyone wrote.
MAX_CONFIG_BYTES = 1 << 20


def _read_toml(path: Path) -> dict[str, Any]:
    """The file's TOML table; every way it can be unreadable is a ConfigError naming the file.

    The file comes with the repository, so it is input like any other: bounded in size, decoded
    strictly, and nesting too deep for the parser is a message, not a RecursionError.
    """
    try:
        # A named pipe would block the open until a writer came, a device never ends: stat,
        # open without blocking, and check what was opened.
        regular = stat.S_ISREG(os.stat(path).st_mode)
        if regular:
            flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
            with os.fdopen(os.open(path, flags), "rb") as handle:
                regular = stat.S_ISREG(os.fstat(handle.fileno()).st_mode)
                data = handle.read(MAX_CONFIG_BYTES + 1) if regular else b""
        if not regular:
            raise ConfigError(path, "(file)", "not a regular file (a named pipe or a device)")
    except OSError as exc:
        raise ConfigError(path, "(file)", f"cannot read: {exc.strerror or exc}") from exc
    if len(data) > MAX_CONFIG_BYTES:
        raise ConfigError(path, "(file)", f"larger than {MAX_CONFIG_BYTES} bytes")
    try:
        return tomllib.loads(data.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise ConfigError(path, "(file)", f"not UTF-8 text (byte {exc.start})") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(path, "(file)", f"not valid TOML: {exc}") from exc
    except RecursionError as exc:
        raise ConfigError(path, "(file)", "not valid TOML: nested too deeply") from exc


def _table(path: Path, key: str, value: Any) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ConfigError(path, key, "expected a table")
    return value


def _folders(path: Path, key: str, value: Any, prefix: str) -> tuple[Path, ...]:
    folders = []
    for name in _string_list(path, prefix, key, value):
        try:
            folders.append((path.parent / name).resolve())
        except (OSError, ValueError, RuntimeError) as exc:  # a NUL byte, a symlink loop
            raise ConfigError(path, f"{prefix}{key}", f"not a usable folder: {name!r}") from exc
    return tuple(folders)


# A manifest other than pyproject.toml (``go.mod``) is read as text, at most this many bytes.
MAX_MANIFEST = 256 * 1024


def _project_defaults(path: Path, data: dict[str, Any], found: dict[str, Any]) -> None:
    """Add the language options a project manifest implies to ``found``, unless already there."""
    for option in _language_options().values():
        if option.project_default is None or option.manifest != path.name:
            continue
        try:
            value = option.project_default(data)
        except OptionError as exc:
            raise ConfigError(path, exc.key or "project", str(exc)) from None
        if value is not None:
            found.setdefault(option.key, value)


def _text_manifests() -> set[str]:
    return {
        option.manifest
        for option in _language_options().values()
        if option.manifest != "pyproject.toml" and option.project_default is not None
    }


def _read_manifest(path: Path) -> str | None:
    """A text manifest's content, or None when it is absent, not a regular file, or too big."""
    try:
        if not path.is_file() or path.stat().st_size > MAX_MANIFEST:
            return None
        return path.read_bytes()[:MAX_MANIFEST].decode("utf-8", "replace")
    except OSError:
        return None


def find_config(start: Path) -> Config:
    """The configuration that applies to ``start`` (a file or folder)."""
    start = start.resolve()
    folder = start if start.is_dir() else start.parent
    # Language options a project's own manifest sets (``requires-python``), nearest first.
    from_project: dict[str, Any] = {}
    for candidate in (folder, *folder.parents):
        dotfile = candidate / ".lessonlens.toml"
        pyproject = candidate / "pyproject.toml"
        project_data = _read_toml(pyproject) if pyproject.is_file() else None
        tool: dict[str, Any] = {}
        if project_data is not None:
            project = _table(pyproject, "project", project_data.get("project"))
            tool = _table(pyproject, "tool", project_data.get("tool"))
            _project_defaults(pyproject, {"project": project}, from_project)
        for manifest in _text_manifests():
            text = _read_manifest(candidate / manifest)
            if text is not None:
                _project_defaults(candidate / manifest, {"text": text}, from_project)
        values: dict[str, Any] | None = None
        source: Path | None = None
        if dotfile.is_file():
            source = dotfile
            values = _parse(dotfile, _read_toml(dotfile), "")
        elif "lessonlens" in tool:
            source = pyproject
            table = _table(pyproject, "tool.lessonlens", tool["lessonlens"])
            values = _parse(pyproject, table, "tool.lessonlens.")
        if values is not None and source is not None:
            values["language_options"] = {**from_project, **values["language_options"]}
            return Config(root=candidate, source=source, **values)
        if (candidate / ".git").exists():
            break
    return Config(root=folder, language_options=from_project)
