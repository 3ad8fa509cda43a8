"""Reading files to analyse: regular files only, size limits. Never raises on bad input.

What the bytes become (decoding by language, binary files) is the analysis façade's
``prepare``, shared with ``baseline``, which reads blobs from git instead of files.
"""

from __future__ import annotations

import stat
from pathlib import Path, PurePath

from lessonlens.analyzers.facade import Skipped, Source, prepare
from lessonlens.analyzers.languages import LanguageSpec, language_for_path
from lessonlens.server.workspace.config import DEFAULT_EXCLUDE

# Folders that hold build output in a working tree but hand-written code in a repository's
# history: build output is not committed, while build scripts and documentation sources are
# (SQLAlchemy's ``doc/build/conf.py``, jQuery's ``build/tasks/``).
_COMMITTED_SOURCE_FOLDERS = frozenset({"build"})


def source_language(
    path: PurePath, *, within: bool = True, committed: bool = False
) -> LanguageSpec | None:
    """The language of a file found in a project, or None when it is not a source to analyse.

    Not one when no language reads its extension, when its name says it is generated or
    minified (a ``.d.ts``, a ``.min.js``, a ``.pb.go``: skipped silently, as nobody edits them),
    or, for a path inside a project (``within``), when a folder on its way is one of
    ``DEFAULT_EXCLUDE`` (``node_modules``, ``vendor``, build output). A ``committed`` path (one
    from a repository's history) in a ``build`` folder is a source.
    """
    spec = language_for_path(path)
    if spec is None:
        return None
    if spec.generated is not None and spec.generated(path.name, b""):
        return None
    if within and any(
        part in DEFAULT_EXCLUDE and not (committed and part in _COMMITTED_SOURCE_FOLDERS)
        for part in path.parts[:-1]
    ):
        return None
    return spec


def read_source(path: Path, max_size: int, spec: LanguageSpec) -> Source | Skipped:
    """The file's text as UTF-8 bytes, decoded by its language (``LanguageSpec.decode``)."""
    try:
        info = path.stat()
        # A FIFO or device named like source would block the read forever or never end.
        if not stat.S_ISREG(info.st_mode):
            return Skipped("skipped: not a regular file")
        size = info.st_size
        if size > max_size:
            return Skipped(f"skipped: {size:,} bytes is over the {max_size:,}-byte limit")
        raw = path.read_bytes()
    except OSError as exc:
        return Skipped(f"cannot read: {exc.strerror or exc}")
    return prepare(raw, spec, path.name)
