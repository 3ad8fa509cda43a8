"""Test-wide setup: progress data never lands in the real user's data folder."""

from __future__ import annotations

import os
import tempfile


def pytest_configure(config: object) -> None:
    # Servers started by the tests inherit this; each test that needs its own store sets its own.
    if "LESSONLENS_DATA_DIR" not in os.environ:
        os.environ["LESSONLENS_DATA_DIR"] = tempfile.mkdtemp(prefix="lessonlens-test-data-")
