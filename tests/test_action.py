"""The GitHub Action (action.yml), its steps run as a runner would, with a fake GITHUB_* setting.

A pull request's branch adds a list scanned in a loop to a repository whose ``origin`` has the
base branch; the action's check step runs with the environment GitHub gives it. The install step
is not run (the package is installed here already); that it installs from the action's own
checkout is checked in the YAML.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
ACTION = yaml.safe_load((ROOT / "action.yml").read_text())

OLD = "def total(values):\n    return sum(values)\n"
NEW = OLD + (
    "\n\ndef keep(words):\n"
    "    out = []\n"
    "    for w in words:\n"
    '        if w in ["a", "an", "the", "of"]:\n'
    "            continue\n"
    "        out.append(w)\n"
    "    return out\n"
)


def _git(cwd: Path, *args: str) -> None:
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "dev",
        "GIT_AUTHOR_EMAIL": "dev@example.com",
        "GIT_COMMITTER_NAME": "dev",
        "GIT_COMMITTER_EMAIL": "dev@example.com",
    }
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, env=env)


@pytest.fixture
def pull_request(tmp_path: Path) -> Path:
    """A clone whose origin has ``main``; HEAD is a branch that changed one file."""
    upstream = tmp_path / "upstream"
    upstream.mkdir()
    _git(upstream, "init", "-q", "-b", "main")
    (upstream / "app.py").write_text(OLD.replace("sum(values)", "sum(v for v in values)"))
    (upstream / "legacy.py").write_text("def keep(x, seen=[]):\n    seen.append(x)\n")
    _git(upstream, "add", "-A")
    _git(upstream, "commit", "-q", "-m", "base")
    work = tmp_path / "work"
    _git(tmp_path, "clone", "-q", str(upstream), str(work))
    _git(work, "checkout", "-q", "-b", "feature")
    (work / "app.py").write_text(NEW)
    _git(work, "commit", "-q", "-am", "a report")
    return work


def _run_check_step(work: Path, tmp_path: Path, **inputs: str) -> subprocess.CompletedProcess[str]:
    step = next(s for s in ACTION["runs"]["steps"] if s.get("id") == "check")
    values = {name: spec.get("default", "") for name, spec in ACTION["inputs"].items()}
    values.update({k.replace("_", "-"): v for k, v in inputs.items()})

    def expand(text: str) -> str:
        text = text.replace("${{ github.action_path }}", str(ROOT))
        return re.sub(r"\$\{\{ inputs\.([\w-]+) \}\}", lambda m: values[m.group(1)], text)

    env = {
        **os.environ,
        **{name: expand(value) for name, value in step.get("env", {}).items()},
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        "GITHUB_ACTIONS": "true",
        "GITHUB_BASE_REF": "main",
        "GITHUB_HEAD_REF": "feature",
        "GITHUB_WORKSPACE": str(work),
        "GITHUB_STEP_SUMMARY": str(tmp_path / "summary.md"),
        "GITHUB_OUTPUT": str(tmp_path / "output.txt"),
        "LESSONLENS_DATA_DIR": str(tmp_path / "data"),
        "XDG_CACHE_HOME": str(tmp_path / "cache"),
    }
    assert step["shell"] == "bash"
    return subprocess.run(
        ["bash", "-c", expand(step["run"])],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_action_installs_from_its_own_checkout() -> None:
    install = next(s for s in ACTION["runs"]["steps"] if s.get("id") == "install")
    assert '"${{ github.action_path }}"' in install["run"]
    assert "pip install" in install["run"]
    assert ACTION["outputs"]["sarif"]["value"] == "${{ steps.check.outputs.sarif }}"


def test_a_pull_request_gets_annotations_on_its_changes_a_summary_and_sarif(
    pull_request: Path, tmp_path: Path
) -> None:
    done = _run_check_step(pull_request, tmp_path)
    assert done.returncode == 0, done.stderr
    notices = [line for line in done.stdout.splitlines() if line.startswith("::notice ")]
    assert notices, done.stdout
    # Only the lines the pull request changed: the base's mutable default is not reported.
    assert all("file=app.py" in line for line in notices)
    assert any("PY001" in line and "line=8" in line for line in notices)
    summary = (tmp_path / "summary.md").read_text()
    assert "PY001" in summary and "legacy.py" not in summary
    sarif = json.loads((pull_request / "lessonlens.sarif").read_text())
    results = sarif["runs"][0]["results"]
    assert {r["ruleId"] for r in results} == {"PY001"}
    assert "sarif=lessonlens.sarif" in (tmp_path / "output.txt").read_text()


def test_it_fails_the_job_only_for_the_rules_named(pull_request: Path, tmp_path: Path) -> None:
    assert _run_check_step(pull_request, tmp_path, fail_on="PY015").returncode == 0
    gated = _run_check_step(pull_request, tmp_path, fail_on="PY003 py001")
    assert gated.returncode == 1
    assert "::notice " in gated.stdout


def test_a_shallow_checkout_fetches_the_base_branch(pull_request: Path, tmp_path: Path) -> None:
    _git(pull_request, "update-ref", "-d", "refs/remotes/origin/main")
    done = _run_check_step(pull_request, tmp_path)
    assert done.returncode == 0, done.stderr
    assert "file=app.py" in done.stdout and "legacy.py" not in done.stdout
