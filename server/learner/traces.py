"""What this machine keeps that came from a developer's code, besides the progress store.

The analysis cache (``check``'s findings by file content, whose messages can name identifiers)
and the embedding cache (vectors of code units the model read, keyed by a hash of their text).
``lessonlens progress --forget`` deletes both with the events: forgetting someone's progress
leaves nothing of their code behind.
"""

from __future__ import annotations

import shutil
from pathlib import Path


def trace_folders() -> list[Path]:
    """The folders that hold traces of code, whether or not they exist yet."""
    from lessonlens.model_runtime.related import embedding_cache_dir
    from lessonlens.server.check.run import default_cache_dir

    return [default_cache_dir(), embedding_cache_dir()]


def forget_traces(folders: list[Path] | None = None) -> list[Path]:
    """Delete the trace folders; the ones that were there. A symlink is unlinked, never followed."""
    removed = []
    for folder in trace_folders() if folders is None else folders:
        if folder.is_symlink():
            folder.unlink()
        elif folder.is_dir():
            shutil.rmtree(folder)
        else:
            continue
        removed.append(folder)
    return removed
