"""Who a developer is in the progress store: a pseudonym, never an email; and a repository id.

The pseudonym is an HMAC of the developer's git email, keyed with the team's salt (the project's
``team-salt``, so that a team's machines agree) or with a random salt of this machine, kept next
to the progress database and readable by its owner only. Without the salt a pseudonym cannot be
tested against a list of known addresses. The repository id is an HMAC of the repository's
path: it tells repositories apart and never names one.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import os
import secrets
from pathlib import Path

from lessonlens.server.learner.progress import ProgressStoreError
from lessonlens.server.workspace.git import GitError, git

SALT_NAME = "pseudonym.salt"
UNKNOWN_EMAIL = "unknown@localhost"
SALT_BYTES = 32
# lessonlens writes SALT_BYTES random bytes; a shorter file was truncated or written by hand, and
# an empty or short key would let anyone with a list of emails recompute the pseudonyms.
MIN_SALT_BYTES = 16


def pseudonym(email: str, salt: bytes) -> str:
    """HMAC-SHA256 of the email (trimmed, lower-cased), hex, first 32 characters.

    Case is folded because one person's git configs often spell the same address differently.
    Without the salt the pseudonym cannot be tested against a list of known addresses.
    """
    digest = hmac.new(salt, email.strip().lower().encode("utf-8"), hashlib.sha256)
    return digest.hexdigest()[:32]


def local_salt(data_dir: Path) -> bytes:
    """The random salt of this machine, created on first use, readable by its owner only (0600).

    Processes race to create it on first start; all must end up with the same salt, so the salt
    is written completely to a temporary file and then linked into place, which fails if another
    process got there first, and then that one's salt is used.
    """
    target = data_dir / SALT_NAME
    with contextlib.suppress(FileNotFoundError):
        return _checked_salt(target, target.read_bytes())
    data_dir.mkdir(parents=True, exist_ok=True)
    temporary = data_dir / f"{SALT_NAME}.{os.getpid()}.{secrets.token_hex(4)}"
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(secrets.token_bytes(SALT_BYTES))
            handle.flush()
            os.fsync(handle.fileno())
        try:
            os.link(temporary, target)
        except FileExistsError:
            pass
        except OSError:  # a file system without hard links
            if not target.exists() or not target.read_bytes():
                temporary.replace(target)
    finally:
        with contextlib.suppress(FileNotFoundError):
            temporary.unlink()
    return _checked_salt(target, target.read_bytes())


def _checked_salt(path: Path, salt: bytes) -> bytes:
    """The salt, or an error that says how to recover: never a short key, never a silent reset.

    Replacing a damaged salt quietly would orphan the developer's history without a word; using
    it would make every pseudonym recomputable from a list of emails.
    """
    if len(salt) < MIN_SALT_BYTES:
        raise ProgressStoreError(
            f"{path} holds {len(salt)} bytes, too few for the salt of your pseudonym (lessonlens "
            f"writes {SALT_BYTES}): it was truncated or replaced. Delete it to start a new "
            "pseudonym; progress recorded under the old one stays under the old one."
        )
    return salt


def _git_email(repo_root: Path | None) -> str | None:
    # `git config user.email` in the repository sees its local config, then the global one; the
    # explicit --global read is for a folder that is not a repository git will read (missing,
    # or owned by someone else: "dubious ownership").
    attempts: list[tuple[list[str], Path | None]] = []
    if repo_root is not None and repo_root.is_dir():
        attempts.append((["config", "user.email"], repo_root))
    attempts.append((["config", "--global", "user.email"], None))
    for command, folder in attempts:
        try:
            email = git(command, folder, timeout=5).decode("utf-8", "replace").strip()
        except GitError as exc:
            if exc.missing:  # git missing or hanging
                return None
            continue
        if email:
            return email
    return None


def developer_pseudonym(repo_root: Path | None, team_salt: str | None, data_dir: Path) -> str:
    """The developer's pseudonym: their git email, HMAC'd with the team salt or the local one.

    With a team salt every machine of one developer agrees, so a team can merge shared progress;
    with the local salt the pseudonym is stable on this machine only.
    """
    if team_salt is not None and not team_salt.strip():
        raise ProgressStoreError("the project's team-salt is empty: set it to the team's secret")
    salt = team_salt.encode("utf-8") if team_salt else local_salt(data_dir)
    return pseudonym(_git_email(repo_root) or UNKNOWN_EMAIL, salt)


def repository_id(repo_root: Path | None, salt: bytes) -> str | None:
    """An HMAC of the repository's resolved path: tells repositories apart, never names one."""
    if repo_root is None:
        return None
    digest = hmac.new(salt, os.fsencode(repo_root.resolve()), hashlib.sha256)
    return digest.hexdigest()[:32]
