"""`lessonlens report --lrs`: the team report rebuilt from what `sync` sent to a real Ralph LRS."""

from __future__ import annotations

import json
import urllib.request
import uuid
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from test_report import DEVELOPERS, MATRIX, NOW, _team_events
from test_xapi import HOME, PASSWORD, USER, Ralph, ralph  # noqa: F401 (ralph: the fixture)

from lessonlens.lessons.catalog import load_catalog
from lessonlens.server.cli import main
from lessonlens.server.learner.progress import Event, EventKind, SqliteProgressStore
from lessonlens.server.team.figures import team_report
from lessonlens.server.team.lrs import fetch_events, sync
from lessonlens.server.team.report import render_html
from lessonlens.server.team.statements import NOT_SENT, EventListStore, event_of, statement

TEAM = DEVELOPERS[:6]


def _events() -> list[Event]:
    """The report's synthetic team, six of them, plus refreshers and masteries.

    Times are whole seconds, distinct per developer: statements carry milliseconds, and two
    events at one instant could come back in another order, which the learner would see.
    """
    events = [e for e in _team_events() if e.developer in TEAM]
    for index, event in enumerate(list(events)):
        if event.kind is EventKind.LESSON_OPENED:
            answer = (None, True, False)[index % 3]
            events.append(
                Event(
                    EventKind.REVIEW_ANSWERED,
                    event.developer,
                    event.skill_id,
                    event.time + 3600,
                    lesson_id=event.lesson_id,
                    correct=answer,
                )
            )
        if event.kind is EventKind.SKILL_EVIDENCE and index % 5 == 0:
            events.append(replace(event, kind=EventKind.ANTIPATTERN_FIXED, id=uuid.uuid4().hex))
    used: set[tuple[str, float]] = set()
    whole = []
    for event in sorted(events, key=lambda e: e.time):
        t = float(round(event.time))
        while (event.developer, t) in used:
            t += 1
        used.add((event.developer, t))
        whole.append(replace(event, time=t))
    return whole


def test_statement_round_trip() -> None:
    for event in _events():
        made = statement(event, homepage=HOME)
        back = event_of(json.loads(json.dumps(made)))
        if made is None:
            continue
        assert back is not None
        assert back == replace(event, id=made["id"], repository=None)
    assert event_of({"verb": {"id": "x"}, "context": {"platform": "moodle"}}) is None


def _post_foreign(server: Ralph) -> None:
    """A statement of another tool in the same LRS: the report must not count it."""
    import base64

    foreign = {
        "actor": {"objectType": "Agent", "mbox": "mailto:someone@example.org"},
        "verb": {"id": "http://adlnet.gov/expapi/verbs/experienced"},
        "object": {"objectType": "Activity", "id": "https://lessonlens.dev/xapi/lessons/x"},
    }
    token = base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
    request = urllib.request.Request(
        server.url + "statements",
        data=json.dumps([foreign]).encode(),
        headers={
            "Authorization": f"Basic {token}",
            "X-Experience-API-Version": "1.0.3",
            "Content-Type": "application/json",
        },
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        response.read()


def _comparable(data: dict[str, Any]) -> dict[str, Any]:
    """The parts built only from kinds xAPI carries (given the same carried events)."""
    head = data["headline"]
    return {
        "developers": data["developers"],
        "skills": data["skills"],
        "gaps": data["gaps"],
        "mean_mastery": [(w["start"], w["mean_mastery"]) for w in data["weeks"]],
        "lessons_opened": [(w["start"], w["lessons_opened"]) for w in data["weeks"]],
        "headline": {
            key: head[key]
            for key in (
                "median_days_to_mastery",
                "lessons_opened",
                "skills_below_target",
                "skills_with_target",
            )
        },
    }


def test_report_from_the_lrs_matches_the_local_one(
    ralph: Ralph,  # noqa: F811 (the fixture imported above)
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    events = _events()
    catalog = load_catalog()
    with SqliteProgressStore(tmp_path / "progress.sqlite3") as store:
        store.record(events)
        for developer in TEAM:
            sync(
                store,
                developer,
                ralph.url,
                username=USER,
                password=PASSWORD,
                cursor_path=tmp_path / f"cursor-{developer}.json",
                homepage=HOME,
            )
        local = team_report(store, catalog, MATRIX, NOW, min_group_size=5)
    _post_foreign(ralph)
    fetched = fetch_events(ralph.url, username=USER, password=PASSWORD, page_size=50)
    carried = [e for e in events if statement(e) is not None]
    assert len(fetched) == len(carried) > 150  # several pages of 50, the foreign one skipped
    lrs = team_report(
        EventListStore(fetched),
        catalog,
        MATRIX,
        NOW,
        min_group_size=5,
        missing=NOT_SENT,
        source="the LRS",
    )
    # The mastery-dependent parts equal those of the local store holding the carried events.
    only_carried = team_report(EventListStore(carried), catalog, MATRIX, NOW, min_group_size=5)
    assert _comparable(lrs) == _comparable(only_carried)
    # Counts of carried kinds equal the full local report's; the rest is unavailable, not zero.
    assert lrs["developers"] == local["developers"] == len(TEAM)
    assert lrs["headline"]["lessons_opened"] == local["headline"]["lessons_opened"] > 0
    assert local["headline"]["hints_dismissed"] > 0 and local["recurrence"]
    assert local["headline"]["recurrence_before"] is not None
    assert lrs["headline"]["hints_dismissed"] is None
    assert lrs["headline"]["recurrence_before"] is lrs["headline"]["recurrence_after"] is None
    assert lrs["recurrence"] == []
    assert set(lrs["limits"]) == {"recurrence", "hints_dismissed", "mastery"}
    assert local["limits"] == {}
    page = render_html(lrs)
    assert "the LRS holds no anti-patterns introduced" in page
    assert "the LRS holds no hints dismissed" in page
    since = fetch_events(ralph.url, username=USER, password=PASSWORD, since=NOW - 3 * 7 * 86400)
    assert since == [e for e in fetched if e.time >= NOW - 3 * 7 * 86400]

    monkeypatch.setenv("LESSONLENS_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("LESSONLENS_LRS_USERNAME", USER)
    monkeypatch.setenv("LESSONLENS_LRS_PASSWORD", PASSWORD)
    monkeypatch.chdir(tmp_path)
    target = tmp_path / "team.html"
    result = CliRunner().invoke(main, ["report", "--html", str(target), "--lrs", ralph.url])
    assert result.exit_code == 0, result.output
    assert f"({len(TEAM)} developers)" in result.output
    written = target.read_text(encoding="utf-8")
    assert "Recurrence is not available" in written
    assert PASSWORD not in result.output


def test_report_lrs_refused_is_a_clear_error(
    ralph: Ralph,  # noqa: F811 (the fixture imported above)
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("LESSONLENS_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("LESSONLENS_LRS_USERNAME", USER)
    monkeypatch.setenv("LESSONLENS_LRS_PASSWORD", "wrong-password")
    monkeypatch.chdir(tmp_path)
    target = tmp_path / "team.html"
    result = CliRunner().invoke(main, ["report", "--html", str(target), "--lrs", ralph.url])
    assert result.exit_code != 0
    assert "HTTP 401" in result.output and "wrong-password" not in result.output
    assert not target.exists()
