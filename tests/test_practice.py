"""``lessonlens practice``: a challenge written, checked by running, and recorded as evidence.

A passed check is an observation of the skill (the estimate moves) and an xAPI ``passed``
statement that a real Ralph LRS accepts; writing the challenge is ``attempted``.
"""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from test_xapi import HOME, PASSWORD, USER, VERBS, Ralph, ralph  # noqa: F401 (the fixture)

from lessonlens.lessons.catalog import load_catalog
from lessonlens.lessons.skills import load_skills
from lessonlens.server.cli import main
from lessonlens.server.learner.mastery import estimate, params_for
from lessonlens.server.learner.practice import choose_challenge
from lessonlens.server.learner.progress import EventKind, SqliteProgressStore
from lessonlens.server.learner.pseudonym import developer_pseudonym
from lessonlens.server.team.lrs import sync
from lessonlens.server.team.statements import event_of, statement

CATALOG = load_catalog()
LESSON = CATALOG.lessons["set-membership"]


@pytest.fixture
def workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "repo"
    root.mkdir()
    subprocess.run(["git", "init", "-q"], cwd=root, check=True)
    monkeypatch.chdir(root)
    monkeypatch.setenv("LESSONLENS_DATA_DIR", str(tmp_path / "data"))
    return root


def practice(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["practice", *args], catch_exceptions=False)
    return result.exit_code, result.output


def events(data: Path) -> list:
    with SqliteProgressStore(data / "progress.sqlite3") as store:
        developer = developer_pseudonym(Path.cwd(), None, data)
        return store.events(developer)


def test_a_challenge_is_written_checked_and_recorded(workspace: Path, tmp_path: Path) -> None:
    folder = tmp_path / "exercise"
    code, output = practice("set-membership", "--dir", str(folder))
    assert code == 0, output
    assert "count_known" in output and "--check" in output
    assert {p.name for p in folder.iterdir()} >= {"TASK.md", "challenge.py", "check_challenge.py"}
    # The starting code fails its check: exit 1, "Not yet", and a failed attempt recorded.
    code, output = practice("--check", "--dir", str(folder))
    assert code == 1 and "Not yet" in output
    assert LESSON.practice is not None
    (folder / "challenge.py").write_text(LESSON.practice.solution)
    code, output = practice("--check", "--dir", str(folder))
    assert code == 0 and "Passed" in output, output
    recorded = [(e.kind, e.lesson_id, e.correct) for e in events(tmp_path / "data")]
    assert recorded == [
        (EventKind.PRACTICE_CHECKED, "set-membership", None),
        (EventKind.PRACTICE_CHECKED, "set-membership", False),
        (EventKind.PRACTICE_CHECKED, "set-membership", True),
    ]


def test_a_passed_check_moves_the_estimate(workspace: Path, tmp_path: Path) -> None:
    folder = tmp_path / "exercise"
    practice("set-membership", "--dir", str(folder))
    parameters = params_for(load_skills())
    before = estimate(events(tmp_path / "data"), parameters, time.time())
    assert LESSON.practice is not None
    (folder / "challenge.py").write_text(LESSON.practice.solution)
    assert practice("--check", "--dir", str(folder))[0] == 0
    after = estimate(events(tmp_path / "data"), parameters, time.time())
    skill = LESSON.skill_id
    assert skill not in before or before[skill].opportunities == 0
    assert after[skill].correct == 1 and after[skill].p_known > parameters(skill).prior


def test_an_edited_check_in_the_folder_does_not_count(workspace: Path, tmp_path: Path) -> None:
    """The lesson's own check runs, not the folder's copy: rewriting it passes nothing."""
    folder = tmp_path / "exercise"
    practice("set-membership", "--dir", str(folder))
    (folder / "check_challenge.py").write_text("print('all good')\n")
    code, _ = practice("--check", "--dir", str(folder))
    assert code == 1


def test_check_without_a_challenge_says_so(workspace: Path, tmp_path: Path) -> None:
    code, output = practice("--check", "--dir", str(tmp_path / "empty"))
    assert code != 0 and "no practice challenge here" in output


def test_without_a_lesson_the_weakest_priority_skill_is_chosen() -> None:
    rows = [
        {
            "id": "python.collections",
            "name": "Collections",
            "p_known": 0.2,
            "status": "learning",
            "priority": "medium",
        },
        {
            "id": "python.data-structures",
            "name": "Data structures",
            "p_known": 0.2,
            "status": "learning",
            "priority": "high",
        },
        {
            "id": "python.strings",
            "name": "Strings",
            "p_known": 0.1,
            "status": "learning",
            "priority": "none",
        },
    ]
    chosen = choose_challenge(CATALOG, rows, {})
    assert chosen is not None
    lesson, reason = chosen
    # Equal estimates: the higher team priority first; a skill that is no priority never.
    assert lesson.skill_id == "python.data-structures"
    assert "lowest estimate" in reason
    # No history at all: a challenge of the team's highest-priority skill.
    lesson, reason = choose_challenge(CATALOG, [], {"python.data-structures": "high"}) or (
        None,
        "",
    )
    assert lesson is not None and "no skill has evidence yet" in reason


def test_practice_results_reach_a_real_lrs(ralph: Ralph, tmp_path: Path) -> None:  # noqa: F811
    from lessonlens.server.learner.practice import practice_event

    with SqliteProgressStore(tmp_path / "p.sqlite3") as store:
        made = [
            practice_event("dev-1", LESSON, None, now=1_700_000_000.0),
            practice_event("dev-1", LESSON, False, now=1_700_000_100.0),
            practice_event("dev-1", LESSON, True, now=1_700_000_200.0),
        ]
        store.record(made)
        result = sync(
            store,
            "dev-1",
            ralph.url,
            username=USER,
            password=PASSWORD,
            cursor_path=tmp_path / "cursor.json",
            homepage=HOME,
        )
    assert result.sent == 3
    stored = {s["verb"]["id"].removeprefix(VERBS): s for s in ralph.statements()}
    assert set(stored) == {"attempted", "failed", "passed"}
    passed = stored["passed"]
    assert passed["object"]["id"].endswith("/lessons/set-membership/practice")
    assert passed["result"]["success"] is True
    # And back: the LRS's statement reads as the event it came from.
    back = event_of(passed)
    assert back is not None and back.kind is EventKind.PRACTICE_CHECKED and back.correct is True
    assert statement(made[2], homepage=HOME)["id"] == passed["id"]  # type: ignore[index]
