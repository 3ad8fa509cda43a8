"""The wheel carries everything the package reads at run time."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.slow
def test_wheel_contains_package_data_and_nothing_generic(tmp_path):
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(tmp_path),
            str(ROOT),
        ],
        check=True,
    )
    (wheel,) = tmp_path.glob("lessonlens-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "lessonlens/lessons/skills.toml" in names
    assert "lessonlens/py.typed" in names
    lessons = [
        n for n in names if n.startswith("lessonlens/lessons/builtin/") and n.endswith(".md")
    ]
    queries = [n for n in names if n.startswith("lessonlens/analyzers/python/queries/")]
    assert len(lessons) >= 20
    assert len(queries) >= 20
    top_level = {n.split("/")[0] for n in names}
    assert top_level <= {
        "lessonlens",
        wheel.name.split("-")[0] + "-" + wheel.name.split("-")[1] + ".dist-info",
    }, top_level
    assert not any(n.startswith("lessonlens/tests/") for n in names)
