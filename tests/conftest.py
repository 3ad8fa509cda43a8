"""Test-wide setup: progress data never lands in the real user's data folder, and no test sees
another test's history (a mute, a mastered skill) through a shared store.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest


def pytest_configure(config: object) -> None:
    # For anything started outside a test function (module-level servers, subprocesses).
    if "LESSONLENS_DATA_DIR" not in os.environ:
        os.environ["LESSONLENS_DATA_DIR"] = tempfile.mkdtemp(prefix="lessonlens-test-data-")


@pytest.fixture(autouse=True)
def own_progress_store(
    monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    """Each test (and every server it starts, which inherits the environment) gets a new store."""
    folder = tmp_path_factory.mktemp("progress")
    monkeypatch.setenv("LESSONLENS_DATA_DIR", str(folder))
    return folder
