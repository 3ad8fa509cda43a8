"""``lessonlens progress``: the developer's own profile in the terminal, as JSON, and --forget.

Every test points LESSONLENS_DATA_DIR at ``tmp_path`` and runs in a throwaway git repository
with its own ``user.email`` (and no global git config), so that no test reads or writes the real
progress store or depends on who runs it. Events are recorded through the store, as the
language server records them, then read back through the command.
"""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from lessonlens.lessons.catalog import load_catalog
from lessonlens.server.cli import main
from lessonlens.server.learner.profile import build_profile
from lessonlens.server.learner.progress import (
    Event,
    EventKind,
    SqliteProgressStore,
    default_data_dir,
)
from lessonlens.server.learner.pseudonym import developer_pseudonym

CATALOG = load_catalog()
NOW = time.time()
DAY = 24 * 3600.0
# Planted in the analysed repository's path and git identity: none may reach the output.
CANARY = "canary_f00d"


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "data"
    monkeypatch.setenv("LESSONLENS_DATA_DIR", str(folder))
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(tmp_path / "no-global-gitconfig"))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    # --forget deletes the caches: these tests' own, never the machine's.
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    # Wide enough that rich never wraps a skill name across lines in these assertions.
    monkeypatch.setenv("COLUMNS", "200")
    monkeypatch.delenv("NO_COLOR", raising=False)
    repo = tmp_path / f"repo_{CANARY}"
    repo.mkdir()
    subprocess.run(["git", "init", "-q"], cwd=repo, check=True)
    subprocess.run(["git", "config", "user.email", f"{CANARY}@example.com"], cwd=repo, check=True)
    monkeypatch.chdir(repo)
    return folder


@pytest.fixture
def developer(data_dir: Path) -> str:
    """The pseudonym the command computes for the repository's git identity."""
    return developer_pseudonym(Path.cwd(), None, data_dir)


def record(developer: str, *events: tuple[EventKind, str, float, dict[str, Any]]) -> None:
    with SqliteProgressStore(default_data_dir() / "progress.sqlite3") as store:
        store.record(
            [Event(kind, developer, skill, at, **extra) for kind, skill, at, extra in events]
        )


def good(skill: str, at: float, **extra: Any) -> tuple[EventKind, str, float, dict[str, Any]]:
    return (EventKind.SKILL_EVIDENCE, skill, at, extra)


def bad(skill: str, at: float, **extra: Any) -> tuple[EventKind, str, float, dict[str, Any]]:
    return (EventKind.ANTIPATTERN_INTRODUCED, skill, at, extra)


def opened(skill: str, lesson: str, at: float) -> tuple[EventKind, str, float, dict[str, Any]]:
    return (EventKind.LESSON_OPENED, skill, at, {"lesson_id": lesson})


def progress(*args: str, input: str | None = None) -> Result:
    return CliRunner().invoke(main, ["progress", *args], input=input, catch_exceptions=False)


def profile() -> dict[str, Any]:
    result = progress("--json")
    assert result.exit_code == 0, result.output
    payload: dict[str, Any] = json.loads(result.stdout)
    return payload


def skills(payload: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {row["id"]: row for row in payload["skills"]}


@pytest.fixture
def history(developer: str) -> str:
    """A developer who keeps writing membership tests against lists (PY001) and once looked up
    a key through .keys() (PY011), who writes enumerate/zip well every day, and who said they
    know regular expressions."""
    record(
        developer,
        *(bad("python.data-structures", NOW - DAY * i, rule_id="PY001") for i in range(3)),
        bad("python.data-structures", NOW - 600, rule_id="PY011"),
        opened("python.data-structures", "key-in-dict", NOW - 500),
        opened("python.data-structures", "key-in-dict", NOW - 400),
        *(good("python.iteration", NOW - DAY * 12 + 3600 * i, rule_id="PY003") for i in range(12)),
        (EventKind.I_KNOW_THIS, "python.regex", NOW - 100, {}),
        (EventKind.HINT_SHOWN, "python.regex", NOW - 90, {"rule_id": "PY006"}),
    )
    return developer


def test_table_shows_mastery_trend_lessons_status_and_the_next_lesson(history: str) -> None:
    result = progress()
    assert result.exit_code == 0, result.output
    out = result.stdout
    for header in ("Skill", "Mastery", "Trend", "Lessons seen", "Status"):
        assert header in out
    lines = out.splitlines()
    structures = next(line for line in lines if "Choosing data structures" in line)
    iteration = next(line for line in lines if line.startswith("Iteration"))
    regex = next(line for line in lines if "Regular expressions" in line)
    assert "learning" in structures
    assert "█" in structures and "░" in structures  # a bar, partly filled
    assert structures.split()[-2] == "1", "one distinct lesson seen, although opened twice"
    assert "mastered" in iteration and "100%" in iteration
    assert "known (you said)" in regex
    # The weakest skill first.
    assert lines.index(structures) < lines.index(iteration)
    # The suggestion is a lesson of the weakest skill that the developer has not opened:
    # key-in-dict was opened, so set-membership (behind PY001, which fired most) comes next.
    membership = CATALOG.lesson("set-membership")
    assert membership is not None
    assert f"Next suggested lesson: {membership.title}" in out
    assert "lessonlens explain set-membership" in out
    assert membership.url in out
    assert CANARY not in out


def test_json_has_every_field_and_matches_the_table(history: str) -> None:
    payload = profile()
    assert payload["sharing"] is False, "sharing is off until the developer turns it on"
    assert payload["developer"] == history
    assert payload["mastery_threshold"] == 0.95
    rows = skills(payload)
    assert set(rows) == {"python.data-structures", "python.iteration", "python.regex"}
    structures = rows["python.data-structures"]
    assert structures["name"] == "Choosing data structures"
    assert structures["status"] == "learning"
    assert structures["treatment"] == "full"
    assert structures["priority"] == "high"
    assert (structures["opportunities"], structures["correct"], structures["incorrect"]) == (
        4,
        0,
        4,
    )
    assert structures["lessons_seen"] == ["key-in-dict"]
    assert structures["lessons_opened"] == 2
    assert structures["claimed"] is False
    assert 0 <= structures["p_known"] < 0.6
    iteration = rows["python.iteration"]
    assert iteration["status"] == "mastered" and iteration["treatment"] == "silent"
    assert iteration["p_known"] >= 0.95
    regex = rows["python.regex"]
    assert regex["claimed"] is True and regex["status"] == "claimed"
    assert regex["opportunities"] == 0
    # What needs attention first: learning, then silent because mastered, then only claimed.
    assert [row["id"] for row in payload["skills"]] == [
        "python.data-structures",
        "python.iteration",
        "python.regex",
    ]
    for row in payload["skills"]:
        assert row["trend_direction"] in ("up", "down", "flat")
    suggestion = payload["next_lesson"]
    assert suggestion["id"] == "set-membership"
    assert suggestion["skill"] == "python.data-structures"
    assert {"title", "url", "summary", "reason"} <= set(suggestion)
    assert CANARY not in json.dumps(payload)


def test_a_skill_learned_over_the_last_week_trends_up(developer: str) -> None:
    record(
        developer,
        *(bad("python.strings", NOW - DAY * 10 - i, rule_id="PY002") for i in range(3)),
        *(good("python.strings", NOW - DAY * 2 + i) for i in range(3)),
    )
    row = skills(profile())["python.strings"]
    assert row["trend"] > 0.3 and row["trend_direction"] == "up"
    assert any("↑" in line for line in progress().stdout.splitlines() if "strings" in line)


def test_team_priorities_turn_a_skill_off_and_out_of_the_suggestions(developer: str) -> None:
    Path("pyproject.toml").write_text(
        '[tool.lessonlens]\nskill-priorities = { "python.data-structures" = "none" }\n'
    )
    record(developer, bad("python.data-structures", NOW, rule_id="PY001"), bad("python.io", NOW))
    payload = profile()
    rows = skills(payload)
    assert rows["python.data-structures"]["status"] == "off"
    assert rows["python.data-structures"]["treatment"] == "silent"
    assert payload["next_lesson"]["skill"] == "python.io"
    assert "not a team priority" in progress().stdout


def test_no_suggestion_once_every_skill_in_progress_is_mastered(developer: str) -> None:
    record(developer, *(good("python.iteration", NOW - 100 + i) for i in range(12)))
    payload = profile()
    assert payload["next_lesson"] is None
    assert "Next suggested lesson: none" in progress().stdout


def test_nothing_recorded_yet(data_dir: Path) -> None:
    payload = profile()
    assert payload["skills"] == [] and payload["next_lesson"] is None and payload["events"] == 0
    result = progress()
    assert result.exit_code == 0
    assert "No progress recorded yet" in result.stdout
    assert str(data_dir / "progress.sqlite3") in result.stdout.replace("\n", "")


def test_the_store_lives_under_lessonlens_data_dir(data_dir: Path, history: str) -> None:
    assert (data_dir / "progress.sqlite3").is_file()
    assert progress().exit_code == 0
    assert sorted(p.name for p in data_dir.iterdir() if p.suffix == ".sqlite3") == [
        "progress.sqlite3"
    ]


def test_forget_everything_deletes_only_this_developer(history: str) -> None:
    other = "0" * 32
    record(other, good("python.iteration", NOW))
    result = progress("--forget", "--yes")
    assert result.exit_code == 0, result.output
    assert "Deleted 20 events." in result.stdout
    assert profile()["skills"] == []
    with SqliteProgressStore(default_data_dir() / "progress.sqlite3") as store:
        assert len(store.events(other)) == 1, "another developer's data stays"
        assert store.events(history) == []


def test_forget_one_skill(history: str) -> None:
    result = progress("--forget", "--skill", "python.data-structures", "--yes")
    assert result.exit_code == 0, result.output
    assert "Deleted 6 events." in result.stdout
    assert set(skills(profile())) == {"python.iteration", "python.regex"}
    assert "Deleted 0 events." in progress("--forget", "--skill", "python.nothing", "-y").stdout


def test_forget_asks_first(history: str) -> None:
    declined = progress("--forget", "--skill", "python.regex", input="n\n")
    assert declined.exit_code == 1
    assert "Delete your progress for python.regex" in declined.output
    assert "python.regex" in skills(profile())
    accepted = progress("--forget", "--skill", "python.regex", input="y\n")
    assert accepted.exit_code == 0
    assert "Deleted 2 events." in accepted.stdout
    assert "python.regex" not in skills(profile())


def test_the_developer_is_the_one_the_team_salt_names(data_dir: Path, developer: str) -> None:
    Path("pyproject.toml").write_text('[tool.lessonlens]\nteam-salt = "our team"\n')
    team_developer = developer_pseudonym(Path.cwd(), "our team", data_dir)
    assert team_developer != developer
    record(developer, bad("python.io", NOW))
    record(team_developer, bad("python.strings", NOW))
    assert set(skills(profile())) == {"python.strings"}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--skill", "python.regex"], "--skill only applies with --forget"),
        (["--forget", "--json"], "do not go together"),
    ],
)
def test_option_mistakes_are_usage_errors(data_dir: Path, args: list[str], message: str) -> None:
    result = progress(*args)
    assert result.exit_code == 2
    assert message in result.output


def test_build_profile_prefers_the_lesson_behind_the_rules_that_fired(tmp_path: Path) -> None:
    developer = "f" * 32
    with SqliteProgressStore(tmp_path / "progress.sqlite3") as store:
        store.record(
            [
                Event(
                    EventKind.ANTIPATTERN_INTRODUCED,
                    developer,
                    "python.data-structures",
                    NOW,
                    rule_id=rule,
                )
                for rule in ("PY021", "PY021", "PY001")
            ]
        )
        payload = build_profile(store, developer, CATALOG, NOW, sharing=True)
    assert payload["sharing"] is True
    assert payload["next_lesson"]["id"] == "list-extend"
    json.dumps(payload)  # plain data all the way down


def test_forget_everything_leaves_no_trace_of_the_code_in_the_caches(
    data_dir: Path, tmp_path: Path
) -> None:
    Path("slow_module.py").write_text(
        "def canary_function_name(items):\n"
        "    out = ''\n"
        "    for item in items:\n"
        "        out += str(item)\n"
        "    return out\n"
    )
    checked = CliRunner().invoke(main, ["check", "slow_module.py"])
    assert checked.exit_code == 0, checked.output
    cache = tmp_path / "cache"
    assert any(p.is_file() for p in cache.rglob("*")), "check keeps an analysis cache"
    result = progress("--forget", "--yes")
    assert result.exit_code == 0, result.output
    assert "Deleted the cache" in result.stdout
    assert not [p for p in cache.rglob("*") if p.is_file()]
    # One skill's forgetting keeps the caches: they are not kept per skill.
    CliRunner().invoke(main, ["check", "slow_module.py"])
    progress("--forget", "--skill", "python.regex", "--yes")
    assert any(p.is_file() for p in cache.rglob("*"))
