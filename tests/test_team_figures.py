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
DAY = 24 * 3600.0


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


def _day(day: str) -> str:
    """A period's day as the page writes it: 2026-01-05 is "5 Jan 2026"."""
    return dt.datetime.strptime(day, "%Y-%m-%d").strftime("%-d %b %Y")


def _withheld(row: dict[str, Any]) -> tuple[str, str] | None:
    """(figure, text) of a figure the export withholds: a small group, or no one behind it."""
    if "suppressed" in row:
        return "suppressed", f"suppressed: {row['suppressed']}"
    if "no_data" in row:
        return "no_data", row["no_data"]
    return None


# A headline figure shown beside another in one card: None with it, said once by its partner.
_PARTNER = {"recurrence_after": "recurrence_before", "skills_with_target": "skills_below_target"}


def _expected(data: dict[str, Any]) -> dict[Key, str]:
    """Every figure of the JSON export, as the page must show it."""
    want: dict[Key, str] = {}

    def put(section: str, key: str, figure: str, text: str) -> None:
        want[(section, key, figure)] = text

    developers = data["developers"]
    team = f"{developers} developers" if developers is not None else data["suppressed"]
    put("team", "", "developers", team)
    put("team", "", "min_group_size", str(data["min_group_size"]))
    period = data["period"]
    for name in ("since", "until"):
        if period[name] is not None:
            put("period", "", name, _day(period[name]))
    if period["weeks"] is not None:
        put("period", "", "weeks", f"{period['weeks']} week{'s' if period['weeks'] != 1 else ''}")
    head = data["headline"]
    why = data["headline_why"]
    shown = {
        "recurrence_before": _rate,
        "recurrence_after": _rate,
        "median_days_to_mastery": _days,
        "lessons_opened": _count,
        "hints_dismissed": _count,
        "skills_below_target": _count,
        "skills_with_target": _count,
    }
    assert set(shown) == set(head)
    if not developers:
        # A hidden team, or none in the period: its reason stands for every headline figure.
        assert why == {} and set(head.values()) == {None}
        shown = {}
    for name, written in shown.items():
        # A headline figure is a number, or in its place the line that says why it is none.
        card = _PARTNER.get(name, name)
        if card in why:
            assert head[name] is None, name
            if card == name:
                put("headline_why", "", name, why[name])
            continue
        assert head[name] is not None, name
        put("headline", "", name, written(head[name]))
    matrix = {entry["skill"]: entry for entry in data["matrix"]}
    for row in data["skills"]:
        skill = row["skill"]
        entry = matrix.get(skill, {})
        put("skills", skill, "priority", entry.get("priority", "—"))
        put("skills", skill, "target", _pct(entry.get("target")))
        hidden = _withheld(row)
        if hidden:
            put("skills", skill, *hidden)
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
        figure, text = _withheld(row) or ("", "")
        put("unmeasured", skill, figure, f"not measured, {text}")
    for row in data["recurrence"]:
        rule = row["rule"]
        hidden = _withheld(row)
        if hidden:
            put("recurrence", rule, *hidden)
            continue
        put("recurrence", rule, "developers", _count(row["developers"]))
        for side in ("before", "after"):
            put("recurrence", rule, f"{side}_introduced", _count(row[side]["introduced"]))
            put("recurrence", rule, f"{side}_opportunities", _count(row[side]["opportunities"]))
            put("recurrence", rule, f"{side}_per_1000", _rate(row[side]["per_1000"]))
    for row in data["time_to_mastery"]:
        skill = row["skill"]
        hidden = _withheld(row)
        if hidden:
            put("time_to_mastery", skill, *hidden)
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
    # Nobody has evidence on generators: no data, which is not a small group being hidden.
    assert skills["python.generators"] == {
        "skill": "python.generators",
        "name": skills["python.generators"]["name"],
        "no_data": "no developers with evidence",
    }
    assert "python.pathlib" not in skills  # priority "none": not a target
    recurrence = {row["rule"]: row for row in exported["recurrence"]}
    assert "suppressed" in recurrence[RARE[1]] and "before" in recurrence["PY002"]
    assert exported["gaps"] and exported["unmeasured"]
    assert {row["skill"] for row in exported["unmeasured"]} == {RARE[0], "python.generators"}
    assert any("median_days" in row for row in exported["time_to_mastery"])
    assert any("suppressed" in row for row in exported["time_to_mastery"])
    assert sum(w["mean_mastery"] is not None for w in exported["weeks"]) >= 8
    assert all(value is not None for value in exported["headline"].values())
    assert exported["headline_why"] == {}


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
    assert exported["suppressed"] == "fewer than 8 developers with events in the period"
    # The days a handful of people worked on would say something about them: not given.
    assert exported["period"] == {"since": None, "until": None, "weeks": None}
    _assert_same_figures(exported, as_csv, page)
    assert "suppressed to protect individuals" in page
    # Every section says why it is empty, never that there is nothing yet.
    assert page.count("Not shown: the team has fewer than 8 developers") == 7
    assert "No skill evidence recorded yet" not in page and "No week to draw" not in page


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


def test_both_cover_the_period_chosen(project: Path) -> None:
    whole = json.loads(_run("export", "--team", "--format", "json"))
    since, until = _date(whole["weeks"][2]["start"]), _date(whole["weeks"][6]["start"] + 6 * DAY)
    exported, as_csv, page = _both("--since", since, "--until", until)
    _assert_same_figures(exported, as_csv, page)
    assert exported["period"] == {"since": since, "until": until, "weeks": 5}
    assert [_date(week["start"]) for week in exported["weeks"]] == [
        _date(week["start"]) for week in whole["weeks"][2:7]
    ]
    # Only the period's events count, in the headline as in the weeks.
    opened = sum(week["lessons_opened"] for week in whole["weeks"][2:7])
    assert exported["headline"]["lessons_opened"] == opened < whole["headline"]["lessons_opened"]
    assert f"{_day(since)}</span> \u2013 " in page and ">5 weeks</span>" in page
    rows = list(csv.DictReader(io.StringIO(as_csv)))
    assert {r["metric"]: r["value"] for r in rows if r["section"] == "period"} == {
        "since": since,
        "until": until,
        "weeks": "5",
    }


def test_without_dates_the_period_ends_at_the_last_event(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Run 40 weeks after the history stopped: the same figures, not 26 empty weeks."""
    then = json.loads(_run("export", "--team", "--format", "json"))
    monkeypatch.setattr(time, "time", lambda: NOW + 40 * 7 * DAY)
    exported, as_csv, page = _both()
    _assert_same_figures(exported, as_csv, page)
    last = max(event.time for event in _team_events())
    assert exported["period"]["until"] == _date(last)
    assert {**exported, "generated": None} == {**then, "generated": None}


@pytest.mark.parametrize(
    ("command", "options", "hint"),
    [
        ("report", ("--until", "yesterday"), "--until"),
        ("report", ("--since", "2026-13-01"), "--since"),
        ("report", ("--since", "2026-02-01", "--until", "2026-01-31"), "--until"),
        ("export", ("--team", "--until", "next week"), "--until"),
        ("export", ("--until", "31/01/2026"), "--until"),
        ("export", ("--since", "2026-02-01", "--until", "2026-01-01"), "--until"),
    ],
)
def test_a_bad_date_is_a_usage_error(
    project: Path, command: str, options: tuple[str, ...], hint: str
) -> None:
    args = [command, *options] + (["--html", "team.html"] if command == "report" else [])
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 2, result.output
    assert f"Invalid value for {hint}" in result.output
    assert not Path("team.html").exists()
