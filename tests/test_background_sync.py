"""The language server's core syncs progress to the LRS only while the developer shares it."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from test_xapi import PASSWORD, USER, Ralph, ralph  # noqa: F401 - the real-LRS fixture

from lessonlens.lessons.skills import load_skills
from lessonlens.server.editor.session import Session
from lessonlens.server.learner.coach import Coach
from lessonlens.server.learner.progress import Event, EventKind, SqliteProgressStore


async def test_progress_reaches_the_lrs_only_when_shared(
    ralph: Ralph,  # noqa: F811
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("LESSONLENS_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("LESSONLENS_LRS_USERNAME", USER)
    monkeypatch.setenv("LESSONLENS_LRS_PASSWORD", PASSWORD)
    store = SqliteProgressStore(tmp_path / "data" / "progress.sqlite3")
    session = Session()
    session.start_coach(Coach(store, "dev-pseudonym", load_skills()))
    session.coach.record(
        [
            Event(
                EventKind.LESSON_OPENED,
                "dev-pseudonym",
                "python.strings",
                1.8e9 + n,
                lesson_id="str-join",
            )
            for n in range(3)
        ]
    )
    try:
        # Off by default: nothing leaves the machine, even with an LRS configured.
        session.settings = replace(session.settings, lrs_url=ralph.url)
        assert await session.sync_progress() is None
        assert ralph.statements() == []
        # Sharing on without an LRS: still nothing to do.
        session.settings = replace(session.settings, share_progress=True, lrs_url="")
        assert await session.sync_progress() is None
        # Sharing on, LRS set: the developer's lessons arrive, once.
        session.settings = replace(session.settings, lrs_url=ralph.url)
        result = await session.sync_progress()
        assert result is not None and result.sent == 3
        assert await session.sync_progress() is not None
        sent = ralph.statements()
        assert len(sent) == 3
        assert {s["actor"]["account"]["name"] for s in sent} == {"dev-pseudonym"}
    finally:
        session.shutdown()
