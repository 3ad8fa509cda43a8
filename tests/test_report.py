"""The team report: data from a synthetic store, privacy of the HTML, and a headless Chromium draw.

The Chromium test needs Debian's ``chromium`` (``make test`` installs it); it fails, not skips,
without it, because the issue's acceptance is that the report draws in a real browser.
"""

from __future__ import annotations

import random
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from lessonlens.lessons.catalog import Catalog, load_catalog
from lessonlens.lessons.skills import load_skills
from lessonlens.server.cli import main
from lessonlens.server.learner.progress import Event, EventKind, SqliteProgressStore
from lessonlens.server.team.figures import team_report
from lessonlens.server.team.matrix import Matrix, SkillTarget
from lessonlens.server.team.report import render_html

WEEK = 7 * 24 * 3600.0
NOW = 1_780_000_000.0  # a fixed "now" so that the weeks are the same on every run
# (skill, rule, lesson) the synthetic team works on; the last skill only 3 developers touch.
WORK = [
    ("python.strings", "PY002", "str-join"),
    ("python.collections", "PY005", "deque-queue"),
    ("python.regex", "PY006", "compile-regex"),
    ("python.comprehensions", "PY004", "list-comprehension"),
]
RARE = ("python.async", "PY016", "async-blocking")
DEVELOPERS = [f"pseudo{index:02d}deadbeef{index:02d}" for index in range(7)]
TARGETS = {
    "python.strings": 0.95,
    "python.collections": 0.9,
    "python.regex": 0.95,
    "python.comprehensions": 0.6,
    "python.async": 0.9,
}
# The targets as a skill matrix, each skill at its taxonomy's priority.
MATRIX = Matrix(
    skills={
        skill: SkillTarget(skill, target, load_skills()[skill].priority)
        for skill, target in TARGETS.items()
    }
)


def _team_events(weeks: int = 10, seed: int = 7) -> list[Event]:
    """Developers who write an anti-pattern less often once they have opened its lesson."""
    rng = random.Random(seed)
    events: list[Event] = []
    start = NOW - weeks * WEEK
    for index, developer in enumerate(DEVELOPERS):
        work = [*WORK, RARE] if index < 3 else WORK
        for skill, rule, lesson in work:
            opened_at = start + rng.uniform(1, weeks - 2) * WEEK
            opened = False
            steps = rng.randint(3, 12)
            # Developers learn at different speeds: some still slip often after the lesson.
            after = 0.08 + 0.07 * ((index + len(skill)) % 5)
            for step in range(steps):
                t = start + (step + rng.random()) * weeks * WEEK / steps
                if not opened and t >= opened_at:
                    opened = True
                    events.append(
                        Event(EventKind.LESSON_OPENED, developer, skill, t - 1, lesson_id=lesson)
                    )
                bad = rng.random() < (after if opened else 0.6)
                kind = EventKind.ANTIPATTERN_INTRODUCED if bad else EventKind.SKILL_EVIDENCE
                events.append(Event(kind, developer, skill, t, rule_id=rule))
                if bad and rng.random() < 0.3:
                    events.append(
                        Event(EventKind.HINT_DISMISSED, developer, skill, t + 1, rule_id=rule)
                    )
    return events


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_catalog()


@pytest.fixture
def store(tmp_path: Path) -> SqliteProgressStore:
    store = SqliteProgressStore(tmp_path / "progress.sqlite3")
    store.record(_team_events())
    return store


def test_report_data_suppresses_small_groups_and_finds_gaps(
    store: SqliteProgressStore, catalog: Catalog
) -> None:
    data = team_report(store, catalog, MATRIX, NOW, min_group_size=5)
    assert data["developers"] == len(DEVELOPERS)
    assert data["suppressed"] is None
    rows = {row["skill"]: row for row in data["skills"]}
    # A suppressed skill holds its reason and no figure (the unified shape: figures absent).
    assert rows["python.async"]["suppressed"] and "bands" not in rows["python.async"]
    assert "mean" not in rows["python.async"] and "count" not in rows["python.async"]
    assert sum(rows["python.strings"]["bands"]) == len(DEVELOPERS)
    weighted = [gap["score"] for gap in data["gaps"]]
    assert weighted == sorted(weighted, reverse=True)
    assert all(gap["skill"] != "python.async" for gap in data["gaps"])  # suppressed: no gap
    assert all(gap["lessons"] for gap in data["gaps"])
    head = data["headline"]
    assert head["recurrence_before"] > head["recurrence_after"] > 0
    assert head["lessons_opened"] == 4 * 7 + 3
    assert head["hints_dismissed"] > 0
    # One definition of recurrence: the same developers before and after, a rule shown whole
    # or suppressed whole (the three who touched the rare rule are too few).
    shown = {row["rule"] for row in data["recurrence"] if "suppressed" not in row}
    assert shown == {rule for _, rule, _ in WORK}
    rare = next(row for row in data["recurrence"] if row["rule"] == RARE[1])
    assert "fewer than 5" in rare["suppressed"] and "before" not in rare
    shown = [week["mean_mastery"] for week in data["weeks"] if week["mean_mastery"] is not None]
    assert len(shown) >= 8 and shown[-1] > shown[0]


def test_team_below_minimum_shows_nothing_about_people(
    store: SqliteProgressStore, catalog: Catalog
) -> None:
    data = team_report(store, catalog, MATRIX, NOW, min_group_size=8)
    assert data["suppressed"]
    assert all("bands" not in row for row in data["skills"])
    assert data["gaps"] == [] and data["recurrence"] == []
    assert all(week["mean_mastery"] is None for week in data["weeks"])
    assert data["headline"]["recurrence_before"] is None
    page = render_html(data)
    assert "suppressed" in page


def _assert_self_contained(page: str) -> None:
    assert "<script" not in page.lower()
    # Nothing the browser would fetch by itself: no src/href to stylesheets, fonts or images,
    # no CSS url() or @import. Plain <a href> links to documentation are fine.
    assert not re.search(r"\bsrc\s*=", page, re.IGNORECASE)
    assert not re.search(r"url\(\s*['\"]?(https?:|//)", page, re.IGNORECASE)
    assert "@import" not in page and "<link" not in page.lower()
    assert "<iframe" not in page.lower() and "<img" not in page.lower()
    for pseudonym in DEVELOPERS:
        assert pseudonym not in page


def test_rendered_page_is_self_contained_and_private(
    store: SqliteProgressStore, catalog: Catalog
) -> None:
    page = render_html(team_report(store, catalog, MATRIX, NOW, min_group_size=5))
    _assert_self_contained(page)
    assert page.count("<svg") == 5
    assert page.count('role="img"') == 5 and page.count("<title id=") == 5
    assert "suppressed: fewer than 5 developers" in page
    assert '<a href="https://docs.python.org' in page  # the gaps' lessons


def test_report_command_writes_the_file(
    store: SqliteProgressStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LESSONLENS_DATA_DIR", str(tmp_path))
    monkeypatch.chdir(tmp_path)
    store.close()
    target = tmp_path / "out" / "report.html"
    result = CliRunner().invoke(main, ["report", "--html", str(target)])
    assert result.exit_code == 0, result.output
    page = target.read_text(encoding="utf-8")
    _assert_self_contained(page)
    assert "Team mastery by skill" in page
    small = CliRunner().invoke(main, ["report", "--html", str(target), "--min-group", "50"])
    assert small.exit_code == 0, small.output
    assert "suppressed to protect individuals" in target.read_text(encoding="utf-8")


def _chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        pytest.fail(
            "Debian's chromium is needed for this test; `make test` installs it "
            "(apt-get install -y chromium)"
        )
    return found


def test_report_draws_in_headless_chromium(
    store: SqliteProgressStore, catalog: Catalog, tmp_path: Path
) -> None:
    chromium = _chromium()
    report = tmp_path / "report.html"
    report.write_text(
        render_html(team_report(store, catalog, MATRIX, NOW, min_group_size=5)), "utf-8"
    )
    screenshot = tmp_path / "report.png"
    common = [
        chromium,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--no-first-run",
        "--enable-logging=stderr",
        "--v=0",
    ]
    shot = subprocess.run(
        [
            *common,
            f"--user-data-dir={tmp_path / 'profile-shot'}",
            f"--screenshot={screenshot}",
            "--window-size=1280,2000",
            report.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert shot.returncode == 0, shot.stderr[-2000:]
    assert screenshot.stat().st_size > 20_000  # a drawn page, not a blank one
    dom = subprocess.run(
        [*common, f"--user-data-dir={tmp_path / 'profile-dom'}", "--dump-dom", report.as_uri()],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert dom.returncode == 0, dom.stderr[-2000:]
    errors = [
        line
        for line in (shot.stderr + dom.stderr).splitlines()
        if "Uncaught" in line or ("CONSOLE" in line and "error" in line.lower())
    ]
    assert errors == []
    # The browser parsed the charts: five SVGs with their shapes, in the live DOM.
    assert dom.stdout.count("<svg") == 5
    assert dom.stdout.count("<rect") > 40 and "<polyline" in dom.stdout
