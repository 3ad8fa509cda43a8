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


@pytest.fixture(scope="session")
def shipped() -> Path:
    """The model in the cache folder, built here if `make model` has not built it."""
    from lessonlens.model_runtime import build
    from lessonlens.model_runtime.store import ModelUnavailable, model_dir, open_model

    folder = model_dir()
    try:
        for variant in ("fp32", "int8", "fp16"):
            open_model(folder, variant)
    except ModelUnavailable:
        sample = [p.read_text("utf-8") for p in sorted(Path(build.__file__).parent.glob("*.py"))]
        build.build(folder, sample, head=build.default_head())
    return folder
