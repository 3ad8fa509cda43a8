"""Project configuration: ``[tool.lessonlens]`` in pyproject.toml, or ``.lessonlens.toml``.

Found by walking up from the checked path; in one folder ``.lessonlens.toml`` wins over
``pyproject.toml``. The target Python version comes from ``target-python`` or, failing that,
the lower bound of ``project.requires-python`` in the nearest pyproject.toml.
"""

from __future__ import annotations

import difflib
import re
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lessonlens.lessons.catalog import PRIORITIES

if TYPE_CHECKING:
    from lessonlens.server.matrix import Matrix

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
    target_python: tuple[int, int] | None = None
    max_file_size: int = DEFAULT_MAX_FILE_SIZE
    exclude: tuple[str, ...] = ()
    fail_on: tuple[str, ...] = ()
    # Shared by a team so that one developer's pseudonym is the same on every machine.
    team_salt: str | None = None
    # The team skill matrix (server/matrix.py); None when the project has none.
    matrix: Matrix | None = None


_VERSION = re.compile(r"^\s*(\d+)\.(\d+)")
_REQUIRES_LOWER = re.compile(r">=?\s*(\d+)\.(\d+)|~=\s*(\d+)\.(\d+)|==\s*(\d+)\.(\d+)")


def _string_list(path: Path, prefix: str, key: str, value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(path, f"{prefix}{key}", "expected a list of strings")
    return tuple(value)


def _version(path: Path, key: str, value: Any) -> tuple[int, int]:
    found = _VERSION.match(str(value))
    if not isinstance(value, str) or found is None:
        raise ConfigError(path, key, f'expected a version such as "3.11", got {value!r}')
    return int(found[1]), int(found[2])


def requires_python_floor(spec: str) -> tuple[int, int] | None:
    found = _REQUIRES_LOWER.search(spec)
    if found is None:
        return None
    groups = [g for g in found.groups() if g is not None]
    return int(groups[0]), int(groups[1])


def _parse(path: Path, table: dict[str, Any], prefix: str) -> dict[str, Any]:
    known: dict[str, Callable[[str, Any], Any]] = {
        "select": lambda k, v: _string_list(path, prefix, k, v),
        "ignore": lambda k, v: _string_list(path, prefix, k, v),
        "fail-on": lambda k, v: _string_list(path, prefix, k, v),
        "exclude": lambda k, v: _string_list(path, prefix, k, v),
        "lesson-dirs": lambda k, v: tuple(
            (path.parent / d).resolve() for d in _string_list(path, prefix, k, v)
        ),
        "target-python": lambda k, v: _version(path, f"{prefix}{k}", v),
        "max-file-size": lambda k, v: _positive_int(path, f"{prefix}{k}", v),
        "skill-priorities": lambda k, v: _priorities(path, f"{prefix}{k}", v),
        "team-salt": lambda k, v: _non_empty(path, f"{prefix}{k}", v),
        "matrix": lambda k, v: _matrix(path, f"{prefix}{k}", v),
    }
    values: dict[str, Any] = {}
    for key, value in table.items():
        if key not in known:
            close = difflib.get_close_matches(key, known, n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            raise ConfigError(path, f"{prefix}{key}", f"unknown key{hint}")
        values[key.replace("-", "_")] = known[key](key, value)
    return values


def _matrix(path: Path, key: str, value: Any) -> Matrix:
    # Imported here: server/matrix.py imports ConfigError from this module.
    from lessonlens.server.matrix import parse_matrix

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


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(path, "(file)", f"not valid TOML: {exc}") from exc
    except OSError as exc:
        raise ConfigError(path, "(file)", f"cannot read: {exc.strerror}") from exc


def find_config(start: Path) -> Config:
    """The configuration that applies to ``start`` (a file or folder)."""
    start = start.resolve()
    folder = start if start.is_dir() else start.parent
    target_from_project: tuple[int, int] | None = None
    for candidate in (folder, *folder.parents):
        dotfile = candidate / ".lessonlens.toml"
        pyproject = candidate / "pyproject.toml"
        project_data = _read_toml(pyproject) if pyproject.is_file() else None
        if project_data is not None and target_from_project is None:
            requires = project_data.get("project", {}).get("requires-python")
            if isinstance(requires, str):
                target_from_project = requires_python_floor(requires)
        values: dict[str, Any] | None = None
        source: Path | None = None
        if dotfile.is_file():
            source = dotfile
            values = _parse(dotfile, _read_toml(dotfile), "")
        elif project_data is not None and "lessonlens" in project_data.get("tool", {}):
            table = project_data["tool"]["lessonlens"]
            if not isinstance(table, dict):
                raise ConfigError(pyproject, "tool.lessonlens", "expected a table")
            source = pyproject
            values = _parse(pyproject, table, "tool.lessonlens.")
        if values is not None and source is not None:
            values.setdefault("target_python", target_from_project)
            return Config(root=candidate, source=source, **values)
        if (candidate / ".git").exists():
            break
    return Config(root=folder, target_python=target_from_project)
