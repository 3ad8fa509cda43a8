"""Running git: the one wrapper that `check --diff`, `baseline`, the pseudonym and the CLI use.

Each call is one process with its output captured and, where asked, a deadline. Git missing or
hanging, and git failing, are each a ``GitError`` that says which; callers word it for their
users. (``baseline`` also keeps one long-lived ``git cat-file --batch`` of its own for blobs.)
"""

from __future__ import annotations

import subprocess
from collections.abc import Sequence
from pathlib import Path


class GitError(Exception):
    """Git could not be run (``missing``: not installed, or past the deadline), or failed."""

    def __init__(self, message: str, *, missing: bool = False, stderr: str = "") -> None:
        super().__init__(message)
        self.missing = missing
        self.stderr = stderr


def git(
    args: Sequence[str],
    cwd: Path | None,
    *,
    input: bytes | None = None,
    timeout: float | None = None,
) -> bytes:
    """``git ARGS`` in ``cwd``: its standard output, or GitError."""
    try:
        done = subprocess.run(
            ["git", *args],
            cwd=cwd,
            input=input,
            capture_output=True,
            timeout=timeout,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise GitError(f"cannot run git: {exc}", missing=True) from exc
    if done.returncode != 0:
        stderr = done.stderr.decode("utf-8", "replace").strip()
        raise GitError(f"git {args[0]} failed: {stderr}", stderr=stderr)
    return done.stdout


def toplevel(folder: Path) -> Path | None:
    """The top of the git work tree holding ``folder``, or None (not one, or no git)."""
    try:
        out = git(["rev-parse", "--show-toplevel"], folder)
    except GitError:
        return None
    found = out.decode("utf-8", "surrogateescape").strip()
    return Path(found) if found else None
