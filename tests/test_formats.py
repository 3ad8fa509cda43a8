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

from lessonlens.analyzers import AnalysisOptions, analyze, language_for_id
from lessonlens.analyzers.model import Applicability, Finding, Fix, Span, TextEdit
from lessonlens.lessons.catalog import load_catalog
from lessonlens.server.check.formats import github, json_format, markdown, sarif, text
from lessonlens.server.check.formats.common import Context
from lessonlens.server.check.run import CheckReport, FileReport, Location, Reported
from lessonlens.server.cli import main
from lessonlens.server.cli.common import all_rules

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


# ---------------------------------------------------------------------------- fix applicability

UNSAFE_REASON = "a class's `__eq__` may treat None specially (ORM columns, arrays)"


def report_with_fixes() -> tuple[CheckReport, Context]:
    """One file with a safe fix (PY001) and an unsafe one (PY022), whatever the rules do today.

    Built by hand: which rule's fix is unsafe is the rules' business; how every format shows
    either kind is the formats'.
    """
    source = b"def f(w, x):\n    return w in [1, 2, 3, 4] and x == None\n"

    def span(text: bytes) -> Span:
        start = source.index(text)
        column = start - source.rindex(b"\n", 0, start) - 1
        return Span(1, column, 1, column + len(text), start, start + len(text))

    def finding(rule_id: str, text: bytes, fix: Fix) -> Reported:
        rule = all_rules()[rule_id]
        where = span(text)
        found = Finding(
            rule_id, where, rule.message, rule.severity, rule.skill_id, rule.lesson_id, fix
        )
        column = where.start_col + 1
        return Reported(found, Location(2, column, 2, column + len(text)))

    safe = Fix("Use a set literal", (TextEdit(span(b"[1, 2, 3, 4]"), "{1, 2, 3, 4}"),))
    unsafe = Fix(
        "Use `x is None`",
        (TextEdit(span(b"x == None"), "x is None"),),
        Applicability.UNSAFE,
        UNSAFE_REASON,
    )
    file = FileReport(
        "app/mixed.py",
        findings=(
            finding("PY001", b"w in [1, 2, 3, 4]", safe),
            finding("PY022", b"x == None", unsafe),
        ),
    )
    return CheckReport(files=[file]), Context(CATALOG, all_rules())


def membership_fix() -> Fix:
    """PY001's fix on ``MEMBERSHIP``, as the rule gives it today (safe or not)."""
    python = language_for_id("python")
    assert python is not None
    options = AnalysisOptions(select=("PY001",))
    (finding,) = analyze(MEMBERSHIP.encode(), python, options).findings
    assert finding.fix is not None
    return finding.fix


def test_text_says_whether_each_fix_is_safe(project: Path) -> None:
    fix = membership_fix()
    label = "safe" if fix.safe else f"unsafe: {fix.reason}"
    assert (
        f"    fix ({label}): Use a set literal" in run_format("text", "app/words.py").splitlines()
    )
    report, context = report_with_fixes()
    lines = text.render(report, context, color=False).splitlines()
    assert "    fix (safe): Use a set literal" in lines
    assert f"    fix (unsafe: {UNSAFE_REASON}): Use `x is None`" in lines


def test_json_fix_carries_its_applicability(project: Path) -> None:
    payload = json.loads(run_format("json", "app/words.py"))
    (finding,) = payload["files"][0]["findings"]
    fix = membership_fix()
    assert finding["fix"]["applicability"] == fix.applicability.value
    assert finding["fix"]["reason"] == (None if fix.safe else fix.reason)
    assert finding["fix"]["title"] and finding["fix"]["edits"], "the existing keys stay"
    report, context = report_with_fixes()
    safe, unsafe = json.loads(json_format.render(report, context))["files"][0]["findings"]
    assert (safe["fix"]["applicability"], safe["fix"]["reason"]) == ("safe", None)
    assert (unsafe["fix"]["applicability"], unsafe["fix"]["reason"]) == ("unsafe", UNSAFE_REASON)
    assert unsafe["fix"]["edits"][0]["new_text"] == "x is None"


def test_sarif_offers_only_safe_fixes(project: Path) -> None:
    report, context = report_with_fixes()
    log = json.loads(sarif.render(report, context))
    validate_sarif(log)
    safe, unsafe = log["runs"][0]["results"]
    (fix,) = safe["fixes"]
    assert fix["description"]["text"] == "Use a set literal"
    # A code-scanning tool applies `fixes` without asking: the unsafe one is only described.
    assert "fixes" not in unsafe
    assert unsafe["properties"]["unsafeFix"] == {
        "description": "Use `x is None`",
        "reason": UNSAFE_REASON,
    }


def test_github_and_markdown_say_whether_a_fix_is_safe(project: Path) -> None:
    report, context = report_with_fixes()
    safe, unsafe = github.render(report, context).splitlines()
    assert "%0AFix (safe): Use a set literal (lessonlens check --fix)" in safe
    assert (
        f"%0AFix (unsafe: {UNSAFE_REASON}): Use `x is None` "
        "(lessonlens check --fix --unsafe-fixes)" in unsafe
    )
    out = markdown.render(report, context)
    assert "(fix, safe: Use a set literal)" in out
    assert f"(fix, unsafe: {UNSAFE_REASON}: Use `x is None`)" in out
    assert "Fixes offered: 1 safe (`lessonlens check --fix` applies them), 1 unsafe" in out


def test_json_output_matches_its_published_schema(tmp_path: Path) -> None:
    """docs/check-output.schema.json, linked from the README, describes what check prints."""
    schema = json.loads((REPO / "docs" / "check-output.schema.json").read_text("utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)
    (tmp_path / "blob.py").write_bytes(b"\x00\x01binary")
    (tmp_path / "words.py").write_text(NON_ASCII, "utf-8")
    for target in (REPO / "examples" / "sample_project", tmp_path):
        result = CliRunner().invoke(
            main, ["check", "--no-cache", "--format", "json", str(target)], catch_exceptions=False
        )
        payload = json.loads(result.stdout)
        assert payload["summary"]["findings"] > 0
        assert list(validator.iter_errors(payload)) == []
    # A schema that accepted anything would prove nothing: a 0-based line is refused.
    payload["files"][-1]["findings"][0]["line"] = 0
    assert list(validator.iter_errors(payload))
