"""A repository's history as ``baseline`` reads it: commits, their changes, blobs.

Every non-merge commit reachable from a tip (``non_merge_commits``), each one's changes against
its first parent from one ``git diff-tree --stdin`` (``changes_by_commit``), and the bytes of a
blob from one long-lived ``git cat-file --batch`` (``Blobs``).
"""

from __future__ import annotations

import contextlib
import subprocess
from dataclasses import dataclass
from pathlib import Path

from lessonlens.server.learner.pseudonym import UNKNOWN_EMAIL
from lessonlens.server.workspace.git import GitError, git

_EMPTY_TREE_PARENT = ""
_REGULAR = ("100644", "100755")
_NO_BLOB = "0" * 40


class BaselineError(Exception):
    """The repository or branch cannot be walked."""


@dataclass(frozen=True)
class Commit:
    sha: str
    parent: str
    email: str
    author_time: float


@dataclass(frozen=True)
class Change:
    status: str
    old_blob: str | None
    new_blob: str
    old_path: str | None
    path: str


def _git(repo: Path, *args: str, input: bytes | None = None) -> bytes:
    try:
        return git(args, repo, input=input)
    except GitError as exc:
        raise BaselineError(str(exc)) from exc


def repository_root(path: Path) -> Path:
    out = _git(path, "rev-parse", "--show-toplevel").decode("utf-8", "surrogateescape").strip()
    return Path(out)


def resolve_tip(repo: Path, branch: str) -> str:
    try:
        out = _git(repo, "rev-parse", "--verify", "--end-of-options", f"{branch}^{{commit}}")
    except BaselineError as exc:
        raise BaselineError(f"no such branch or revision: {branch} ({exc})") from exc
    return out.decode("ascii").strip()


def non_merge_commits(repo: Path, tip: str, walked: str | None, since: str | None) -> list[Commit]:
    """Every non-merge commit reachable from ``tip`` and not from ``walked``, oldest first."""
    args = ["rev-list", "--reverse", "--topo-order", "--no-merges"]
    args.append("--format=%x00%P%x00%ae%x00%at")
    if since:
        args.append(f"--since={since}")
    revisions = [tip] if walked is None else [tip, f"^{walked}"]
    # "--" ends the revisions: a branch named like a file is still a branch.
    out = _git(repo, *args, *revisions, "--")
    commits: list[Commit] = []
    lines = out.split(b"\n")
    for header, data in zip(lines[0::2], lines[1::2], strict=False):
        if not header.startswith(b"commit "):
            continue
        _, parents, email, at = data.decode("utf-8", "replace").split("\x00")
        commits.append(
            Commit(
                header[7:].decode("ascii"),
                parents.split(" ")[0] if parents else _EMPTY_TREE_PARENT,
                email.strip() or UNKNOWN_EMAIL,
                float(at or 0),
            )
        )
    return commits


def changes_by_commit(
    repo: Path, commits: list[Commit], unreadable: list[str]
) -> dict[str, list[Change]]:
    """Each commit's changes against its first parent, from one ``git diff-tree --stdin``.

    A history may lack objects (a partial clone, a damaged or trimmed copy): git then fails the
    whole listing. The commits it cannot list are found by halving, left out, and their ids
    added to ``unreadable``.
    """
    if not commits:
        return {}
    try:
        return _changes(repo, commits)
    except BaselineError:
        if len(commits) == 1:
            unreadable.append(commits[0].sha)
            return {}
        middle = len(commits) // 2
        found = changes_by_commit(repo, commits[:middle], unreadable)
        found.update(changes_by_commit(repo, commits[middle:], unreadable))
        return found


def _changes(repo: Path, commits: list[Commit]) -> dict[str, list[Change]]:
    out = _git(
        repo,
        *("diff-tree", "--stdin", "-r", "--raw", "-z", "-M", "--root"),
        input="".join(f"{c.sha}\n" for c in commits).encode("ascii"),
    )
    changes: dict[str, list[Change]] = {}
    current: list[Change] = []
    fields = out.split(b"\x00")
    index = 0
    while index < len(fields):
        field_ = fields[index]
        if not field_.startswith(b":"):
            # A commit's id starts its changes (a commit without any has no line at all).
            if field_:
                current = changes.setdefault(field_.decode("ascii").strip(), [])
            index += 1
            continue
        old_mode, new_mode, old_blob, new_blob, status = field_[1:].decode("ascii").split(" ")
        kind = status[0]
        paths = 2 if kind in "RC" else 1
        names = [
            f.decode("utf-8", "surrogateescape") for f in fields[index + 1 : index + 1 + paths]
        ]
        index += 1 + paths
        if new_mode not in _REGULAR:
            continue  # a symlink's blob is a path, a submodule's a commit: no code of ours
        if old_mode not in _REGULAR:
            old_blob = _NO_BLOB
        if kind in "RC":
            current.append(Change(kind, old_blob, new_blob, names[0], names[1]))
        elif kind in "MT":
            current.append(Change(kind, old_blob, new_blob, names[0], names[0]))
        elif kind == "A":
            current.append(Change(kind, None, new_blob, None, names[0]))
        # D: a deleted file is no evidence about anyone's idioms.
    return changes


class Blobs:
    """One long-lived ``git cat-file --batch``: a blob's bytes by id, without a process each."""

    def __init__(self, repo: Path) -> None:
        try:
            self._process = subprocess.Popen(
                ["git", "cat-file", "--batch"],
                cwd=repo,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
            )
        except OSError as exc:
            raise BaselineError(f"cannot run git: {exc}") from exc

    def read(self, blob: str, max_size: int) -> bytes | None:
        """The blob's bytes, or None when it is missing or over ``max_size`` (read and dropped)."""
        stdin, stdout = self._process.stdin, self._process.stdout
        assert stdin is not None and stdout is not None
        stdin.write(blob.encode("ascii") + b"\n")
        stdin.flush()
        header = stdout.readline().split()
        if len(header) != 3:
            if not header:
                raise BaselineError("git cat-file stopped unexpectedly")
            return None  # "<id> missing"
        size = int(header[2])
        # The protocol sends the whole object whatever we want of it; a huge one is drained in
        # chunks rather than held in memory.
        if size > max_size:
            left = size + 1
            while left:
                left -= len(stdout.read(min(left, 1 << 20)) or b"\0" * left)
            return None
        data = stdout.read(size + 1)
        return data[:size]

    def close(self) -> None:
        process = self._process
        with contextlib.suppress(OSError):
            if process.stdin is not None:
                process.stdin.close()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if process.stdout is not None:
            process.stdout.close()


__all__ = [
    "BaselineError",
    "Blobs",
    "Change",
    "Commit",
    "changes_by_commit",
    "non_merge_commits",
    "repository_root",
    "resolve_tip",
]
