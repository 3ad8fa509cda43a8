"""Behaviour held still: `check --format json` over the standard library and the sample project.

The committed digests (tests/data/golden.json, per interpreter version, since the standard
library differs between them) say that a change which should not alter what users see did not.
A change meant to alter findings refreshes them, and its commit says why:

    LESSONLENS_GOLDEN=update .venv/bin/python -m pytest tests/test_golden.py

Each entry also keeps the findings per rule, so a failure names the rules that moved.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import sysconfig
from collections import Counter
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
GOLDEN = ROOT / "tests" / "data" / "golden.json"
CORPORA = {
    "stdlib": Path(sysconfig.get_paths()["stdlib"]),
    "sample_project": ROOT / "examples" / "sample_project",
}
INTERPRETER = "python-{}.{}.{}".format(*sys.version_info[:3])


def _check_json(folder: Path) -> dict:
    done = subprocess.run(
        [sys.executable, "-m", "lessonlens", "check", "--format", "json", "--no-cache", "."],
        cwd=folder,
        capture_output=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr.decode(errors="replace")[-2000:]
    report = json.loads(done.stdout)
    report.pop("version")  # a release changes the version, not the findings
    return report


def _figures(report: dict) -> dict:
    canonical = json.dumps(report, sort_keys=True, separators=(",", ":")).encode()
    rules = Counter(f["rule"] for file in report["files"] for f in file["findings"])
    digest = hashlib.sha256(canonical).hexdigest()
    return {"sha256": digest, "findings": dict(sorted(rules.items()))}


@pytest.mark.slow
@pytest.mark.parametrize("corpus", sorted(CORPORA))
def test_check_json_is_unchanged(corpus: str) -> None:
    figures = _figures(_check_json(CORPORA[corpus]))
    stored = json.loads(GOLDEN.read_text("utf-8")) if GOLDEN.exists() else {}
    if os.environ.get("LESSONLENS_GOLDEN") == "update":
        stored.setdefault(INTERPRETER, {})[corpus] = figures
        GOLDEN.write_text(json.dumps(stored, indent=2, sort_keys=True) + "\n", "utf-8")
        return
    expected = stored.get(INTERPRETER, {}).get(corpus)
    if expected is None:
        pytest.skip(f"no golden digest for {corpus} under {INTERPRETER}")
    moved = {
        rule: (expected["findings"].get(rule, 0), figures["findings"].get(rule, 0))
        for rule in expected["findings"].keys() | figures["findings"].keys()
        if expected["findings"].get(rule, 0) != figures["findings"].get(rule, 0)
    }
    assert figures["sha256"] == expected["sha256"], (
        f"`check --format json` over {corpus} changed; findings per rule (was, now): {moved}"
        " (same counts: a message, span, fix or lesson changed)"
    )
