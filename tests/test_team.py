"""Team views: the skill matrix, minimum group sizes, gap analysis, and exports.

Stores are synthetic: each test records events for N pseudonymous developers and reads the
aggregate back. The privacy tests plant recognisable pseudonyms and check that no team output
(JSON or CSV) contains any of them.
"""

from __future__ import annotations

import csv
import io
import json
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from lessonlens.lessons.catalog import load_catalog
from lessonlens.server.cli import main
from lessonlens.server.learner.progress import Event, EventKind, SqliteProgressStore
from lessonlens.server.learner.pseudonym import developer_pseudonym
from lessonlens.server.team.figures import gap_analysis, team_report
from lessonlens.server.team.matrix import Matrix, SkillTarget, parse_matrix
from lessonlens.server.workspace.config import ConfigError, find_config

CATALOG = load_catalog()
NOW = time.time()
DAY = 24 * 3600.0
SKILL = "python.comprehensions"
OTHER = "python.loops"
PSEUDONYM = "devpseudo{}"


def _lesson_and_rule(skill_id: str) -> tuple[str, str]:
    lesson = next(x for x in CATALOG.lessons.values() if x.skill_id == skill_id and x.rules)
    return lesson.id, lesson.rules[0]


def _developer_events(
    name: str, skill_id: str, *, correct: int, wrong: int, start: float
) -> list[Event]:
    """Wrong attempts, then the lesson, then correct ones: a learning developer."""
    lesson, rule = _lesson_and_rule(skill_id)
    events: list[Event] = []
    t = start
    for _ in range(wrong):
        t += 3600
        events.append(Event(EventKind.ANTIPATTERN_INTRODUCED, name, skill_id, t, rule_id=rule))
    t += 3600
    events.append(Event(EventKind.LESSON_OPENED, name, skill_id, t, rule, lesson))
    for index in range(correct):
        t += 3600
        kind = EventKind.ANTIPATTERN_INTRODUCED if index == 1 else EventKind.SKILL_EVIDENCE
        events.append(Event(kind, name, skill_id, t, rule_id=rule))
    return events


def _fill(store: SqliteProgressStore, developers: int, skill_id: str = SKILL) -> None:
    for index in range(developers):
        store.record(
            _developer_events(
                PSEUDONYM.format(index),
                skill_id,
                correct=6 + index,
                wrong=2,
                start=NOW - 30 * DAY,
            )
        )


@pytest.fixture
def store(tmp_path: Path) -> SqliteProgressStore:
    return SqliteProgressStore(tmp_path / "progress.sqlite3")


# ---- matrix ------------------------------------------------------------------------------------


def _config(tmp_path: Path, text: str) -> Path:
    (tmp_path / ".git").mkdir(exist_ok=True)
    path = tmp_path / "pyproject.toml"
    path.write_text(text, "utf-8")
    return path


def test_matrix_from_pyproject(tmp_path: Path) -> None:
    _config(
        tmp_path,
        """
[tool.lessonlens.matrix]
min-group-size = 6
"python.comprehensions" = { target = 0.9, priority = "high" }
"python.async" = { priority = "none" }
"python.loops" = {}

[tool.lessonlens.matrix.roles.backend]
"python.comprehensions" = 0.95
""",
    )
    matrix = find_config(tmp_path).matrix
    assert matrix is not None
    assert matrix.min_group_size == 6
    assert matrix.roles == ("backend",)
    comprehensions = matrix.skills["python.comprehensions"]
    assert (comprehensions.target, comprehensions.priority) == (0.9, "high")
    assert comprehensions.target_for("backend") == 0.95
    assert comprehensions.target_for("frontend") == 0.9
    assert matrix.skills["python.loops"].priority == "medium"
    assert [s.skill_id for s in matrix.prioritised()] == ["python.comprehensions", "python.loops"]


def test_matrix_in_dotfile(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    (tmp_path / ".lessonlens.toml").write_text(
        '[matrix]\n"python.loops" = { target = 0.7, priority = "low" }\n', "utf-8"
    )
    matrix = find_config(tmp_path).matrix
    assert matrix is not None and matrix.skills["python.loops"].target == 0.7


@pytest.mark.parametrize(
    ("body", "key", "message"),
    [
        ('"python.comprehension" = { target = 0.5 }', '"python.comprehension"', "did you mean"),
        ('"python.loops" = { target = 1.5 }', '"python.loops".target', "between 0 and 1"),
        ('"python.loops" = { target = true }', '"python.loops".target', "between 0 and 1"),
        ('"python.loops" = { priority = "urgent" }', '"python.loops".priority', "one of"),
        ('"python.loops" = { tagret = 0.5 }', '"python.loops".tagret', "did you mean 'target'"),
        ('"python.loops" = 0.5', '"python.loops"', "expected a table"),
        ('"python.loops" = { priority = "none", target = 0.5 }', "target", "takes no target"),
        ("min-group-size = 1", "min-group-size", "at least 2"),
        ('roles.backend = { "python.loops" = 0.5 }', "roles.backend", "in the matrix"),
        ("roles = 3", "roles", "expected a table"),
    ],
)
def test_matrix_errors_name_file_and_key(tmp_path: Path, body: str, key: str, message: str) -> None:
    path = _config(tmp_path, f"[tool.lessonlens.matrix]\n{body}\n")
    with pytest.raises(ConfigError) as caught:
        find_config(tmp_path)
    text = str(caught.value)
    assert text.startswith(f"{path}: tool.lessonlens.matrix")
    assert key in caught.value.key
    assert message in text


def test_matrix_not_a_table(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="expected a table"):
        parse_matrix(tmp_path / "x.toml", "matrix", [1, 2])


# ---- aggregation and privacy -------------------------------------------------------------------


def _skill_row(report: dict[str, Any], skill_id: str) -> dict[str, Any]:
    return next(row for row in report["skills"] if row["skill"] == skill_id)


def test_four_developers_are_suppressed(store: SqliteProgressStore) -> None:
    _fill(store, 4)
    report = team_report(store, CATALOG, None, NOW)
    assert report["developers"] is None
    assert "fewer than 5" in report["suppressed"]
    assert report["skills"] == [] and report["recurrence"] == []


def test_five_developers_are_shown(store: SqliteProgressStore) -> None:
    _fill(store, 5)
    report = team_report(store, CATALOG, None, NOW)
    assert report["developers"] == 5
    row = _skill_row(report, SKILL)
    assert row["count"] == 5
    assert 0 < row["q1"] <= row["median"] <= row["q3"] <= 1
    assert "suppressed" not in row


def test_small_skill_group_is_suppressed_inside_a_big_team(store: SqliteProgressStore) -> None:
    _fill(store, 5)
    for index in range(4):  # only four of them ever touched loops
        store.record(
            _developer_events(PSEUDONYM.format(index), OTHER, correct=3, wrong=1, start=NOW)
        )
    report = team_report(store, CATALOG, None, NOW + DAY)
    row = _skill_row(report, OTHER)
    assert set(row) == {"skill", "name", "suppressed"}
    assert "fewer than 5" in row["suppressed"]


def test_min_group_size_can_be_raised(store: SqliteProgressStore) -> None:
    _fill(store, 5)
    assert team_report(store, CATALOG, None, NOW, min_group_size=6)["developers"] is None
    # ...but not lowered below the configured policy by a caller.
    assert (
        team_report(store, CATALOG, Matrix(min_group_size=6), NOW, min_group_size=2)["developers"]
        is None
    )


def test_recurrence_before_and_after_lessons(store: SqliteProgressStore) -> None:
    _fill(store, 5)
    report = team_report(store, CATALOG, None, NOW)
    _, rule = _lesson_and_rule(SKILL)
    row = next(r for r in report["recurrence"] if r["rule"] == rule)
    # Every developer wrote the anti-pattern twice in two opportunities before the lesson, and
    # once in 6+ opportunities after it.
    assert row["developers"] == 5
    assert row["before"]["per_1000"] == 1000.0
    assert row["after"]["per_1000"] < 200
    assert row["after"]["opportunities"] == sum(6 + i for i in range(5))


def test_time_to_mastery_is_a_median_over_enough_people(store: SqliteProgressStore) -> None:
    _fill(store, 5)
    report = team_report(store, CATALOG, None, NOW)
    rows = {r["skill"]: r for r in report["time_to_mastery"]}
    assert SKILL in rows
    # Two wrong attempts, the lesson, then correct ones an hour apart: mastery within a day.
    assert rows[SKILL]["developers"] == 5
    assert 0 < rows[SKILL]["median_days"] < 1
    _fill(store, 4, OTHER)  # four who mastered loops: too few for a median
    rows = {r["skill"]: r for r in team_report(store, CATALOG, None, NOW)["time_to_mastery"]}
    assert "suppressed" in rows[OTHER] and "median_days" not in rows[OTHER]


def test_gap_ordering_by_priority_weight_and_head_count() -> None:
    distributions = {
        "python.loops": {"skill": "python.loops", "count": 10, "mean": 0.5},
        "python.comprehensions": {"skill": "python.comprehensions", "count": 5, "mean": 0.5},
        "python.builtins": {"skill": "python.builtins", "count": 10, "mean": 0.7},
        "python.generators": {"skill": "python.generators", "count": 10, "mean": 0.95},
        "python.async": {"skill": "python.async", "suppressed": "fewer than 5"},
    }
    matrix = Matrix(
        skills={
            # score = gap * weight * head count
            "python.loops": SkillTarget("python.loops", 0.8, "medium"),  # 0.3 * 2 * 10 = 6
            "python.comprehensions": SkillTarget("python.comprehensions", 0.8, "high"),  # 4.5
            "python.builtins": SkillTarget("python.builtins", 0.8, "high"),  # 0.1 * 3 * 10 = 3
            "python.generators": SkillTarget("python.generators", 0.8, "high"),  # met: no gap
            "python.async": SkillTarget("python.async", 0.8, "high"),  # unmeasurable
            "python.regex": SkillTarget("python.regex", 0.0, "none"),  # not a priority
        }
    )
    gaps, unmeasured = gap_analysis(distributions, matrix, CATALOG)
    assert [g["skill"] for g in gaps] == [
        "python.loops",
        "python.comprehensions",
        "python.builtins",
    ]
    assert gaps[0]["score"] == pytest.approx(6.0)
    assert [u["skill"] for u in unmeasured] == ["python.async"]
    # The top gaps come with lessons that teach them.
    assert gaps[1]["lessons"] and all(
        CATALOG.lessons[x["id"]].skill_id.startswith("python.comprehensions")
        for x in gaps[1]["lessons"]
    )


def test_role_targets_change_the_gap() -> None:
    distributions = {"python.loops": {"skill": "python.loops", "count": 5, "mean": 0.85}}
    matrix = Matrix(
        skills={"python.loops": SkillTarget("python.loops", 0.8, "high", {"backend": 0.9})}
    )
    assert gap_analysis(distributions, matrix, CATALOG)[0] == []
    gaps, _ = gap_analysis(distributions, matrix, CATALOG, role="backend")
    assert gaps[0]["gap"] == pytest.approx(0.05)


# ---- exports -----------------------------------------------------------------------------------


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    data = tmp_path / "data"
    monkeypatch.setenv("LESSONLENS_DATA_DIR", str(data))
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(tmp_path / "no-global-gitconfig"))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    folder = tmp_path / "repo"
    folder.mkdir()
    subprocess.run(["git", "init", "-q"], cwd=folder, check=True)
    subprocess.run(["git", "config", "user.email", "me@example.com"], cwd=folder, check=True)
    monkeypatch.chdir(folder)
    return data


def _export(*args: str) -> str:
    result = CliRunner().invoke(main, ["export", *args])
    assert result.exit_code == 0, result.output
    return result.stdout  # what a tool parses; notes for people go to stderr


def _own_events(data: Path) -> str:
    me = developer_pseudonym(Path.cwd(), None, data)
    with SqliteProgressStore(data / "progress.sqlite3") as store:
        _fill(store, 6)
        store.record(_developer_events(me, OTHER, correct=2, wrong=1, start=NOW - 2 * DAY))
        store.record([Event(EventKind.HINT_SHOWN, me, OTHER, NOW - 40 * DAY, rule_id="PY001")])
    return me


def test_self_export_json(repo: Path) -> None:
    me = _own_events(repo)
    data = json.loads(_export("--format", "json"))
    assert data["scope"] == "self"
    assert len(data["events"]) == 5  # only mine: 1 hint + 1 wrong + lesson + 2 correct
    assert set(data["events"][0]) == {
        "time",
        "kind",
        "skill",
        "rule",
        "lesson",
        "language",
        "correct",
    }
    assert {e["skill"] for e in data["events"]} == {OTHER}
    assert me not in json.dumps(data)
    since = (time.strftime("%Y-%m-%d", time.gmtime(NOW - 10 * DAY)),)
    assert len(json.loads(_export("--format", "json", "--since", *since))["events"]) == 4
    # --until includes its whole day (UTC), and nothing after it: only the hint 40 days ago.
    until = ("--until", time.strftime("%Y-%m-%d", time.gmtime(NOW - 40 * DAY)))
    assert [e["kind"] for e in json.loads(_export("--format", "json", *until))["events"]] == [
        "hint_shown"
    ]
    before = ("--since", time.strftime("%Y-%m-%d", time.gmtime(NOW - 39 * DAY)))
    assert json.loads(_export("--format", "json", *before, "--until", since[0]))["events"] == []


def test_self_export_csv(repo: Path) -> None:
    _own_events(repo)
    rows = list(csv.DictReader(io.StringIO(_export("--format", "csv"))))
    assert len(rows) == 5
    assert rows[0]["kind"] == "hint_shown" and rows[0]["rule"] == "PY001"
    assert rows[0]["lesson"] == ""


def test_team_export_json_and_csv_hold_no_pseudonym(repo: Path) -> None:
    me = _own_events(repo)
    pseudonyms = [me, *(PSEUDONYM.format(i) for i in range(6))]
    as_json = _export("--team", "--format", "json")
    data = json.loads(as_json)
    assert data["scope"] == "team" and data["developers"] == 7
    assert _skill_row(data, SKILL)["count"] == 6
    assert "suppressed" in _skill_row(data, OTHER)  # only I worked on loops
    as_csv = _export("--team", "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(as_csv)))
    assert {"section", "skill", "rule", "metric", "value"} == set(rows[0])
    assert any(r["section"] == "skills" and r["metric"] == "mean" for r in rows)
    for text in (as_json, as_csv):
        for name in pseudonyms:
            assert name not in text
        assert "devpseudo" not in text


def test_team_export_honours_min_group(repo: Path) -> None:
    _own_events(repo)
    data = json.loads(_export("--team", "--min-group", "8"))
    assert data["developers"] is None and data["min_group_size"] == 8


def test_export_rejects_bad_options(repo: Path) -> None:
    runner = CliRunner()
    assert runner.invoke(main, ["export", "--min-group", "6"]).exit_code != 0
    assert runner.invoke(main, ["export", "--team", "--min-group", "1"]).exit_code != 0
    assert runner.invoke(main, ["export", "--since", "yesterday"]).exit_code != 0


def test_self_export_xapi(repo: Path) -> None:
    me = _own_events(repo)
    statements = json.loads(_export("--format", "xapi"))
    # The lesson opened and the one correct attempt; hints and mistakes are not statements.
    assert len(statements) == 2
    assert {s["actor"]["account"]["name"] for s in statements} == {me}
    assert len({s["id"] for s in statements}) == 2
    assert statements == json.loads(_export("--format", "xapi"))  # deterministic ids
    assert CliRunner().invoke(main, ["export", "--team", "--format", "xapi"]).exit_code != 0
