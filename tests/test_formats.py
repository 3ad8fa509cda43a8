"""The report formats of ``lessonlens check``: JSON, SARIF, GitHub annotations, Markdown."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from click.testing import CliRunner, Result
from samples import CONCAT, MEMBERSHIP

from lessonlens.lessons.catalog import load_catalog
from lessonlens.server.cli import main

REPO = Path(__file__).resolve().parents[1]
# Wide characters before the flagged comparison: CJK (3 UTF-8 bytes, 1 UTF-16 unit each) and
# an emoji (4 bytes, 2 UTF-16 units). Columns must count code points.
NON_ASCII_LINE = '        s = "日本語😀"; hit = w in ["a", "b", "c", "d"]'
NON_ASCII = f"def f(words):\n    for w in words:\n{NON_ASCII_LINE}\n"
CATALOG = load_catalog()
SELECT = ("--select", "PY001,PY002")


def lessonlens(*args: str, env: dict[str, str | None] | None = None) -> Result:
    return CliRunner().invoke(main, ["check", *args], env=env, catch_exceptions=False)


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "project"
    (root / "app").mkdir(parents=True)
    (root / "app" / "words.py").write_text(MEMBERSHIP)
    (root / "app" / "render.py").write_text(CONCAT)
    (root / "app" / "wide.py").write_text(NON_ASCII, encoding="utf-8")
    monkeypatch.chdir(root)
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    return root


def run_format(fmt: str, *paths: str, env: dict[str, str | None] | None = None) -> str:
    result = lessonlens(*(paths or ("app",)), "--format", fmt, "--no-cache", *SELECT, env=env)
    assert result.exit_code == 0, result.output
    return result.stdout


# ---------------------------------------------------------------------------- json


def test_json_locations_are_one_based_code_points(project: Path) -> None:
    payload = json.loads(run_format("json"))
    assert payload["summary"]["files"] == 3
    wide = next(f for f in payload["files"] if f["path"] == "app/wide.py")
    (finding,) = wide["findings"]
    start = NON_ASCII_LINE.index("w in")
    end = NON_ASCII_LINE.index('"d"]') + len('"d"]')
    assert (finding["line"], finding["column"]) == (3, start + 1)
    assert (finding["end_line"], finding["end_column"]) == (3, end + 1)
    assert finding["rule"] == "PY001"
    assert finding["lesson"]["title"] == CATALOG.lessons["set-membership"].title
    assert finding["lesson"]["url"] == CATALOG.lessons["set-membership"].url
    assert finding["skill"] == "python.data-structures"


def test_json_fix_edits_apply_to_the_file_bytes(project: Path) -> None:
    payload = json.loads(run_format("json", "app/wide.py"))
    (finding,) = payload["files"][0]["findings"]
    (edit,) = finding["fix"]["edits"]
    data = (project / "app" / "wide.py").read_bytes()
    fixed = data[: edit["start_byte"]] + edit["new_text"].encode() + data[edit["end_byte"] :]
    assert fixed.decode().splitlines()[2].endswith('w in {"a", "b", "c", "d"}')


# ---------------------------------------------------------------------------- sarif


def sarif_schema() -> dict[str, Any]:
    path = Path(os.environ.get("LESSONLENS_SARIF_SCHEMA", REPO / ".test-deps/sarif-2.1.0.json"))
    if not path.is_absolute():
        path = REPO / path
    assert path.is_file(), f"SARIF schema not found at {path}; run `make setup-test`"
    schema: dict[str, Any] = json.loads(path.read_text("utf-8"))
    return schema


def validate_sarif(log: dict[str, Any]) -> None:
    schema = sarif_schema()
    jsonschema.Draft4Validator.check_schema(schema)
    errors = sorted(jsonschema.Draft4Validator(schema).iter_errors(log), key=str)
    assert not errors, "\n".join(f"{list(e.absolute_path)}: {e.message}" for e in errors)


def test_sarif_validates_and_carries_the_lessons(project: Path) -> None:
    log = json.loads(run_format("sarif"))
    validate_sarif(log)
    assert log["version"] == "2.1.0"
    (run,) = log["runs"]
    assert run["columnKind"] == "unicodeCodePoints"
    descriptors = {d["id"]: d for d in run["tool"]["driver"]["rules"]}
    assert set(descriptors) == {"PY001", "PY002"}
    for rule_id, lesson_id in (("PY001", "set-membership"), ("PY002", "str-join")):
        lesson = CATALOG.lessons[lesson_id]
        assert lesson.title in descriptors[rule_id]["help"]["markdown"]
        assert lesson.summary in descriptors[rule_id]["help"]["markdown"]
        assert descriptors[rule_id]["helpUri"] == lesson.url
    for result in run["results"]:
        assert run["tool"]["driver"]["rules"][result["ruleIndex"]]["id"] == result["ruleId"]
        # SARIF 3.27.10: a result whose kind is not "fail" must have level "none".
        assert result.get("kind", "fail") == "fail" or result["level"] == "none"
    wide = next(
        r
        for r in run["results"]
        if r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "app/wide.py"
    )
    region = wide["locations"][0]["physicalLocation"]["region"]
    assert (region["startLine"], region["startColumn"]) == (3, NON_ASCII_LINE.index("w in") + 1)


def test_sarif_without_findings_validates(project: Path) -> None:
    (project / "app" / "clean.py").write_text("x = 1\n")
    log = json.loads(run_format("sarif", "app/clean.py"))
    validate_sarif(log)
    assert log["runs"][0]["results"] == []


def test_sarif_uris_are_percent_encoded(project: Path) -> None:
    folder = project / "my code"
    folder.mkdir()
    (folder / "naïve.py").write_text(MEMBERSHIP, encoding="utf-8")
    (folder / "binary.py").write_bytes(b"\x00\x01")
    log = json.loads(run_format("sarif", "my code"))
    validate_sarif(log)
    (result,) = log["runs"][0]["results"]
    location = result["locations"][0]["physicalLocation"]["artifactLocation"]
    assert location["uri"] == "my%20code/na%C3%AFve.py"
    assert location["uriBaseId"] == "%SRCROOT%"
    (notification,) = log["runs"][0]["invocations"][0]["toolExecutionNotifications"]
    assert "binary" in notification["message"]["text"]


def test_sarif_file_outside_the_working_folder(project: Path, tmp_path: Path) -> None:
    outside = tmp_path / "elsewhere" / "words.py"
    outside.parent.mkdir()
    outside.write_text(MEMBERSHIP)
    log = json.loads(run_format("sarif", str(outside)))
    validate_sarif(log)
    (result,) = log["runs"][0]["results"]
    location = result["locations"][0]["physicalLocation"]["artifactLocation"]
    assert location["uri"] == outside.resolve().as_uri()


# ---------------------------------------------------------------------------- github


def test_github_annotations(project: Path) -> None:
    out = run_format("github")
    notices = [line for line in out.splitlines() if line.startswith("::notice ")]
    assert len(notices) == 3
    words = next(n for n in notices if "file=app/words.py," in n)
    assert words.startswith("::notice file=app/words.py,line=4,col=12,")
    assert "title=PY001 " in words
    # The message may hold ':' and ',' freely; only '%', CR and LF are escaped there.
    message = words.split("::", 2)[2]
    assert CATALOG.lessons["set-membership"].title in message
    assert "\n" not in message and "%0A" in message


def test_github_writes_the_step_summary(project: Path, tmp_path: Path) -> None:
    summary = tmp_path / "summary.md"
    summary.write_text("earlier step\n")
    run_format("github", env={"GITHUB_STEP_SUMMARY": str(summary)})
    text = summary.read_text("utf-8")
    assert text.startswith("earlier step\n"), "the summary is appended, not overwritten"
    assert "### Choosing data structures" in text
    assert "### Working with strings" in text
    lesson = CATALOG.lessons["str-join"]
    assert f"[{lesson.title}]({lesson.url})" in text


def test_other_formats_leave_the_step_summary_alone(project: Path, tmp_path: Path) -> None:
    summary = tmp_path / "summary.md"
    run_format("text", env={"GITHUB_STEP_SUMMARY": str(summary)})
    assert not summary.exists()


# ---------------------------------------------------------------------------- markdown


def test_markdown_groups_by_skill_with_lesson_links(project: Path) -> None:
    out = run_format("markdown")
    assert out.startswith("## ")
    assert "3 suggestions across 2 skills" in out
    sections = out.split("\n### ")[1:]
    headings = [section.splitlines()[0] for section in sections]
    # The skill with the most findings first.
    assert headings == ["Choosing data structures", "Working with strings"]
    membership = CATALOG.lessons["set-membership"]
    assert f"[{membership.title}]({membership.url})" in sections[0]
    assert "`app/words.py:4`" in sections[0]
    assert "`app/wide.py:3`" in sections[0]
    assert "`app/render.py:4`" in sections[1]


def test_markdown_without_findings(project: Path) -> None:
    (project / "app" / "clean.py").write_text("x = 1\n")
    out = run_format("markdown", "app/clean.py")
    assert "No suggestions" in out
