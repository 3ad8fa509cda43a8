"""The pre-commit hook teams adopt (.pre-commit-hooks.yaml), tried as they would try it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from samples import MEMBERSHIP

REPO = Path(__file__).resolve().parents[1]
PRE_COMMIT = Path(sys.executable).parent / "pre-commit"


def test_the_hook_teaches_on_a_commit_and_does_not_block(tmp_path: Path) -> None:
    work = tmp_path / "work"
    work.mkdir()
    git = ["git", "-C", str(work)]
    subprocess.run([*git, "init", "-q"], check=True)
    (work / "words.py").write_text(MEMBERSHIP, "utf-8")
    subprocess.run([*git, "add", "words.py"], check=True)
    # pre-commit builds the hook's own environment from this checkout, as from a tag.
    env = {**os.environ, "PRE_COMMIT_HOME": str(tmp_path / "pre-commit-home")}
    done = subprocess.run(
        [str(PRE_COMMIT), "try-repo", str(REPO), "lessonlens", "--files", "words.py"],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert "Passed" in done.stdout
    assert "words.py:" in done.stdout and " PY001 " in done.stdout
    assert "lessonlens explain PY001" in done.stdout
