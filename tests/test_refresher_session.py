"""Spaced refreshers in the editor: a lesson read long ago comes back as one question."""

from __future__ import annotations

from pathlib import Path

from lessonlens.lessons.skills import load_skills
from lessonlens.server.editor.session import Session
from lessonlens.server.learner.coach import Coach
from lessonlens.server.learner.progress import Event, EventKind, SqliteProgressStore

DAY = 86_400.0
CODE = (
    "def f(words):\n"
    "    for w in words:\n"
    '        if w in ["a", "an", "the", "of"]:\n'
    "            pass\n"
)


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


async def session_with_history(tmp_path: Path, opened_days_ago: float) -> tuple[Session, Clock]:
    clock = Clock(1_800_000_000.0)
    store = SqliteProgressStore(tmp_path / "progress.sqlite3")
    store.record(
        [
            Event(
                EventKind.LESSON_OPENED,
                "dev-pseudonym",
                "python.data-structures",
                clock.now - opened_days_ago * DAY,
                lesson_id="set-membership",
            )
        ]
    )
    session = Session()
    session.start_coach(Coach(store, "dev-pseudonym", load_skills(), clock=clock))
    uri = (tmp_path / "work.py").as_uri()
    session.open(uri, "python", 1, CODE)
    await session.analysis(uri)
    return session, clock


async def test_a_lesson_read_long_ago_returns_as_a_refresher_and_the_answer_counts(tmp_path):
    session, _ = await session_with_history(tmp_path, opened_days_ago=30)
    uri = (tmp_path / "work.py").as_uri()
    (hint,) = session.result(uri).hints
    hover = session.hover(uri, hint.span.start_byte)
    assert hover is not None and hover.startswith("**Quick refresher:**")
    refresher = session.refresher_for(hint)
    assert refresher is not None
    titles = [a.title for a in session.actions(uri, hint.span.start_byte, hint.span.end_byte)]
    assert [t for t in titles if t.startswith("Refresher: ")] == [
        f"Refresher: {option}" for option in refresher.options
    ]
    correct, right = session.answer_refresher("set-membership", refresher.answer)
    assert correct and right == refresher.options[refresher.answer]
    # Answered: not due again today, and the review is stored.
    assert session.refresher_for(hint) is None
    session.coach.flush()
    kinds = [e.kind for e in session.coach.store.events("dev-pseudonym")]
    assert EventKind.REVIEW_ANSWERED in kinds
    session.shutdown()


async def test_a_lesson_read_today_asks_nothing(tmp_path):
    session, _ = await session_with_history(tmp_path, opened_days_ago=0)
    uri = (tmp_path / "work.py").as_uri()
    (hint,) = session.result(uri).hints
    hover = session.hover(uri, hint.span.start_byte)
    assert hover is not None and "Quick refresher" not in hover
    session.shutdown()
