"""The fitted BKT parameters, kept with the team's data: one small JSON file in the data folder.

``baseline`` fits each skill's parameters to the repository's history (``fitting.py``) and
writes them here, per hashed repository id, beside its cursors. The learner prefers them to the
taxonomy's defaults (``mastery.params_for``) wherever it runs for that repository: the editor,
``progress`` and the team figures.

The file is read as untrusted input: at most ``MAX_BYTES``, JSON only (never unpickled), and
every entry checked, so that a skill whose entry is malformed, out of bounds or names too much
keeps its defaults; a file that cannot be read at all costs the fitted parameters only.
"""

from __future__ import annotations

import json
import math
import os
import stat
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from lessonlens.server.learner.mastery import BktParams
from lessonlens.server.learner.progress import ProgressStoreError
from lessonlens.server.learner.pseudonym import SALT_NAME, local_salt, repository_id

FITTED_NAME = "bkt-fitted.json"
FORMAT = 1
MAX_BYTES = 256 * 1024
# Enough for every skill of every language many times over; a file claiming more is not ours.
MAX_REPOSITORIES = 32
MAX_SKILLS = 500
_MAX_ID = 200
# The highest prior a fitted skill may have (lessons/skills.toml: below 0.6, so that a skill
# never seen still gets the full treatment).
MAX_PRIOR = 0.6
_NAMES = ("prior", "learn", "guess", "slip")


def read_fitted(data_dir: Path, repository: str | None) -> dict[str, BktParams]:
    """The repository's fitted parameters by skill id; empty when there are none or unreadable."""
    if repository is None:
        return {}
    entry = _read(data_dir / FITTED_NAME).get(repository)
    skills = entry.get("skills") if isinstance(entry, dict) else None
    if not isinstance(skills, dict) or len(skills) > MAX_SKILLS:
        return {}
    found: dict[str, BktParams] = {}
    for skill_id, values in skills.items():
        params = _params(values)
        if isinstance(skill_id, str) and 0 < len(skill_id) <= _MAX_ID and params is not None:
            found[skill_id] = params
    return found


def fitted_for(root: Path | None, team_salt: str | None, data_dir: Path) -> dict[str, BktParams]:
    """The fitted parameters of the repository at ``root``, as ``baseline`` identified it.

    Without a team salt, ``baseline`` used this machine's: where there is none yet, nothing was
    fitted here (and none is created just to look).
    """
    if root is None or (not team_salt and not (data_dir / SALT_NAME).exists()):
        return {}
    try:
        salt = team_salt.encode("utf-8") if team_salt else local_salt(data_dir)
    except ProgressStoreError:  # a damaged salt: said where the store is used, not here
        return {}
    return read_fitted(data_dir, repository_id(root, salt))


def write_fitted(
    data_dir: Path,
    repository: str,
    fitted: Mapping[str, BktParams],
    about: Mapping[str, Mapping[str, int | str]] | None = None,
) -> Path:
    """Replace the repository's entry (other repositories' stay); atomic, as the cursors are.

    ``about`` adds what is known of each skill's fit (the observations behind it, its source)
    for a reader's information; reading ignores it. The oldest repositories' entries go when
    there are too many.
    """
    path = data_dir / FITTED_NAME
    kept = {r: e for r, e in _read(path).items() if isinstance(e, dict)}
    kept[repository] = {
        "fitted": time.time(),
        "skills": {
            skill_id: {
                **(about or {}).get(skill_id, {}),
                **{name: round(getattr(params, name), 6) for name in _NAMES},
            }
            for skill_id, params in sorted(fitted.items())[:MAX_SKILLS]
        },
    }
    newest = sorted(kept, key=lambda r: _when(kept[r]), reverse=True)[:MAX_REPOSITORIES]
    text = json.dumps(
        {"format": FORMAT, "repositories": {r: kept[r] for r in sorted(newest)}},
        indent=1,
        sort_keys=True,
    )
    data_dir.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    temporary.write_text(text, "utf-8")
    temporary.replace(path)
    return path


def _read(path: Path) -> dict[str, Any]:
    """The file's repositories, or nothing when it is missing, too large or not ours."""
    try:
        # Without blocking, and regular files only: a named pipe put there would hang the editor.
        descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
        with os.fdopen(descriptor, "rb") as handle:
            if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
                return {}
            raw = handle.read(MAX_BYTES + 1)
        if len(raw) > MAX_BYTES:
            return {}
        loaded = json.loads(raw.decode("utf-8"))
    except (OSError, ValueError, RecursionError):
        return {}
    if not isinstance(loaded, dict) or loaded.get("format") != FORMAT:
        return {}
    repositories = loaded.get("repositories")
    if not isinstance(repositories, dict) or len(repositories) > MAX_REPOSITORIES:
        return {}
    return {r: e for r, e in repositories.items() if isinstance(r, str) and len(r) <= _MAX_ID}


def _when(entry: Mapping[str, Any]) -> float:
    value = entry.get("fitted")
    return float(value) if isinstance(value, int | float) and _is_number(value) else 0.0


def _is_number(value: object) -> bool:
    if not isinstance(value, int | float) or isinstance(value, bool):
        return False
    try:
        return math.isfinite(value)
    except OverflowError:  # an integer too large for a float
        return False


def _params(values: object) -> BktParams | None:
    if not isinstance(values, dict) or not all(_is_number(values.get(n)) for n in _NAMES):
        return None
    if values["prior"] >= MAX_PRIOR:
        return None
    try:
        return BktParams(**{name: float(values[name]) for name in _NAMES})
    except ValueError:
        return None
