"""`export --team` and `report --html` show the same figures, from one definition.

One real SQLite progress store (the report tests' synthetic team: seven developers, and a skill
only three of them touch), a skill matrix in the project's config, and both commands run
through the CLI at one frozen "now". Every figure of the JSON export must be in the HTML, in the
cell marked with its section, skill, rule or week, and name; every group suppressed in one is
suppressed, with the same reason, in the other; and the page holds no figure the export lacks.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import subprocess
import time
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from test_report import NOW, RARE, _team_events

from lessonlens.server.cli import main
from lessonlens.server.learner.progress import SqliteProgressStore
from lessonlens.server.team.exports import team_rows

MATRIX = """
[tool.lessonlens.matrix]
"python.strings" = { target = 0.95, priority = "high" }
"python.collections" = { target = 0.9 }
"python.regex" = { target = 0.95, priority = "low" }
"python.comprehensions" = { target = 0.6 }
"python.async" = { target = 0.9, priority = "high" }      # three developers: suppressed
"python.generators" = { target = 0.8, priority = "high" } # nobody: no evidence
"python.pathlib" = { priority = "none" }                  # not a priority: never listed
"""

Key = tuple[str, str, str]  # (section, skill / rule / week, figure)


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    data = tmp_path / "data"
    monkeypatch.setenv("LESSONLENS_DATA_DIR", str(data))
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(tmp_path / "no-global-gitconfig"))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    folder = tmp_path / "repo"
    folder.mkdir()
    subprocess.run(["git", "init", "-q"], cwd=folder, check=True)
    (folder / "pyproject.toml").write_text(MATRIX, "utf-8")
    monkeypatch.chdir(folder)
    with SqliteProgressStore(data / "progress.sqlite3") as store:
        store.record(_team_events())
    # Both commands take "now" from the clock; one instant for both, and the synthetic weeks.
    monkeypatch.setattr(time, "time", lambda: NOW)
    return folder


def _run(*args: str) -> str:
    result = CliRunner().invoke(main, list(args))
    assert result.exit_code == 0, result.output
    return result.output


class _Figures(HTMLParser):
    """Every element marked ``data-figure``, keyed as the page marks it, with its text."""

    def __init__(self) -> None:
        super().__init__()
        self.found: dict[Key, str] = {}
        self._open: list[tuple[Key | None, list[str]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        marks = dict(attrs)
        key = None
        if "data-figure" in marks:
            key = (marks["data-section"] or "", marks["data-key"] or "", marks["data-figure"] or "")
        self._open.append((key, []))

    def handle_endtag(self, tag: str) -> None:
        key, text = self._open.pop()
        if key is not None:
            assert key not in self.found, f"{key} is shown twice"
            self.found[key] = "".join(text).strip()
        if self._open:
            self._open[-1][1].extend(text)

    def handle_data(self, data: str) -> None:
        if self._open:
            self._open[-1][1].append(data)


def _page_figures(page: str) -> dict[Key, str]:
    parser = _Figures()
    parser.feed(page)
    return parser.found


# How the page writes a figure: mastery as a whole percentage, rates to one decimal, days to two.
def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value:.0%}"


def _rate(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f}"


def _days(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f}"


def _count(value: int | None) -> str:
    return "—" if value is None else str(value)


def _date(t: float) -> str:
    return dt.datetime.fromtimestamp(t, dt.UTC).strftime("%Y-%m-%d")


def _expected(data: dict[str, Any]) -> dict[Key, str]:
    """Every figure of the JSON export, as the page must show it."""
    want: dict[Key, str] = {}

    def put(section: str, key: str, figure: str, text: str) -> None:
        want[(section, key, figure)] = text

    developers = data["developers"]
    put("team", "", "developers", f"{developers} developers" if developers else data["suppressed"])
    put("team", "", "min_group_size", str(data["min_group_size"]))
    head = data["headline"]
    put("headline", "", "recurrence_before", _rate(head["recurrence_before"]))
    put("headline", "", "recurrence_after", _rate(head["recurrence_after"]))
    put("headline", "", "median_days_to_mastery", _days(head["median_days_to_mastery"]))
    for name in ("lessons_opened", "hints_dismissed", "skills_below_target", "skills_with_target"):
        put("headline", "", name, _count(head[name]))
    matrix = {entry["skill"]: entry for entry in data["matrix"]}
    for row in data["skills"]:
        skill = row["skill"]
        entry = matrix.get(skill, {})
        put("skills", skill, "priority", entry.get("priority", "—"))
        put("skills", skill, "target", _pct(entry.get("target")))
        if "suppressed" in row:
            put("skills", skill, "suppressed", f"suppressed: {row['suppressed']}")
            continue
        put("skills", skill, "count", _count(row["count"]))
        for name in ("mean", "q1", "median", "q3"):
            put("skills", skill, name, _pct(row[name]))
        put("skills", skill, "bands", " / ".join(str(n) for n in row["bands"]))
    for gap in data["gaps"]:
        skill = gap["skill"]
        put("gaps", skill, "priority", gap["priority"])
        for name in ("target", "mean", "gap"):
            put("gaps", skill, name, _pct(gap[name]))
        put("gaps", skill, "head_count", _count(gap["head_count"]))
        put("gaps", skill, "score", f"{gap['score']:.2f}")
    for row in data["unmeasured"]:
        skill = row["skill"]
        put("unmeasured", skill, "priority", row["priority"])
        put("unmeasured", skill, "target", _pct(row["target"]))
        put("unmeasured", skill, "suppressed", f"not measured, {row['suppressed']}")
    for row in data["recurrence"]:
        rule = row["rule"]
        if "suppressed" in row:
            put("recurrence", rule, "suppressed", f"suppressed: {row['suppressed']}")
            continue
        put("recurrence", rule, "developers", _count(row["developers"]))
        for side in ("before", "after"):
            put("recurrence", rule, f"{side}_introduced", _count(row[side]["introduced"]))
            put("recurrence", rule, f"{side}_opportunities", _count(row[side]["opportunities"]))
            put("recurrence", rule, f"{side}_per_1000", _rate(row[side]["per_1000"]))
    for row in data["time_to_mastery"]:
        skill = row["skill"]
        if "suppressed" in row:
            put("time_to_mastery", skill, "suppressed", f"suppressed: {row['suppressed']}")
            continue
        put("time_to_mastery", skill, "developers", _count(row["developers"]))
        put("time_to_mastery", skill, "median_days", _days(row["median_days"]))
    for week in data["weeks"]:
        key = _date(week["start"])
        put("weeks", key, "mean_mastery", _pct(week["mean_mastery"]))
        put("weeks", key, "lessons_opened", _count(week["lessons_opened"]))
        put("weeks", key, "hints_dismissed", _count(week["hints_dismissed"]))
    return want


def _both(*options: str) -> tuple[dict[str, Any], str, str]:
    exported = json.loads(_run("export", "--team", "--format", "json", *options))
    as_csv = _run("export", "--team", "--format", "csv", *options)
    page = Path("team.html")
    _run("report", "--html", str(page), *options)
    return exported, as_csv, page.read_text("utf-8")


def _assert_same_figures(exported: dict[str, Any], as_csv: str, page: str) -> None:
    # Every figure of the export in the page, in its place; and nothing in the page beyond them.
    assert _page_figures(page) == _expected(exported)
    # The CSV export is the same figures, row for row.
    rows = list(csv.DictReader(io.StringIO(as_csv)))
    assert rows == [
        {k: "" if v is None else str(v) for k, v in row.items()} for row in team_rows(exported)
    ]
    assert f"Generated {_date(exported['generated'])}" in page
    for gap in exported["gaps"]:
        for lesson in gap["lessons"]:
            assert f"lessonlens explain {lesson['id']}" in page


def test_export_and_report_show_the_same_figures(project: Path) -> None:
    exported, as_csv, page = _both()
    assert exported["developers"] == 7 and exported["min_group_size"] == 5
    _assert_same_figures(exported, as_csv, page)
    # The comparison covers every kind of row: shown and suppressed alike.
    skills = {row["skill"]: row for row in exported["skills"]}
    assert "bands" in skills["python.strings"]
    assert skills[RARE[0]]["suppressed"] == "fewer than 5 developers with evidence"
    assert skills["python.generators"]["suppressed"] == "no developers with evidence"
    assert "python.pathlib" not in skills  # priority "none": not a target
    recurrence = {row["rule"]: row for row in exported["recurrence"]}
    assert "suppressed" in recurrence[RARE[1]] and "before" in recurrence["PY002"]
    assert exported["gaps"] and exported["unmeasured"]
    assert {row["skill"] for row in exported["unmeasured"]} == {RARE[0], "python.generators"}
    assert any("median_days" in row for row in exported["time_to_mastery"])
    assert any("suppressed" in row for row in exported["time_to_mastery"])
    assert sum(w["mean_mastery"] is not None for w in exported["weeks"]) >= 8
    assert all(value is not None for value in exported["headline"].values())


def test_a_raised_minimum_hides_the_same_groups_in_both(project: Path) -> None:
    exported, as_csv, page = _both("--min-group", "7")
    assert exported["developers"] == 7 and exported["min_group_size"] == 7
    _assert_same_figures(exported, as_csv, page)
    assert any("suppressed" in row for row in exported["skills"])
    assert any(w["mean_mastery"] is None for w in exported["weeks"])
    assert any(w["mean_mastery"] is not None for w in exported["weeks"])


def test_a_team_below_the_minimum_is_hidden_in_both(project: Path) -> None:
    exported, as_csv, page = _both("--min-group", "8")
    assert exported["developers"] is None
    assert exported["suppressed"] == "fewer than 8 developers in the store"
    _assert_same_figures(exported, as_csv, page)
    assert "suppressed to protect individuals" in page


def test_min_group_only_raises_the_configured_minimum(project: Path) -> None:
    """The config is the team's privacy policy: neither command's flag can loosen it."""
    pyproject = project / "pyproject.toml"
    pyproject.write_text(
        MATRIX.replace("[tool.lessonlens.matrix]", "[tool.lessonlens.matrix]\nmin-group-size = 8"),
        "utf-8",
    )
    exported, as_csv, page = _both("--min-group", "3")
    assert exported["developers"] is None and exported["min_group_size"] == 8
    _assert_same_figures(exported, as_csv, page)
