"""Spaced refreshers: one FSRS card per lesson a developer opened, and the question it asks.

Opening a lesson is the card's first review (rated Good: the developer has just read it). From
then on FSRS predicts how likely they are to still recall it; once that falls below the target
retention and the pattern turns up in their code again, the hover opens with the lesson's
one-question refresher, and the answer is the card's next review (Good when right, Again when
wrong).

Like the learner model, the schedule is rebuilt from the event history rather than stored, so
every server process (one per editor window) derives the same cards from the same events. That
is why the scheduler runs without FSRS's random interval fuzzing.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from fsrs import Card, Rating, Scheduler

from lessonlens.lessons.lesson import Lesson
from lessonlens.server.learner.progress import Event, EventKind

# Retrievability only ever drops below any target short of 1, but a card whose stability has
# grown for years would take long to search; past this, "not in a lifetime" is the honest answer.
_MAX_DAYS = 36_500


@dataclass(frozen=True)
class Refresher:
    lesson_id: str
    question: str
    options: tuple[str, ...]
    answer: int  # 0-based index into options

    def is_correct(self, choice: int) -> bool:
        return choice == self.answer


def refresher_for(lesson: Lesson) -> Refresher | None:
    """The lesson's question, or None when its front matter has no ``refresher`` block."""
    question = lesson.refresher
    if question is None:
        return None
    return Refresher(lesson.id, question.question, question.options, question.answer)


def _utc(time: float) -> datetime:
    # fsrs rejects naive datetimes and any zone but UTC.
    return datetime.fromtimestamp(time, tz=UTC)


class RefresherSchedule:
    """One developer's refresher cards, keyed by lesson id.

    Feed it one developer's events (``ProgressStore.events(developer)``): cards are per
    developer and lesson, and mixing two people's answers would schedule neither correctly, so a
    second developer is an error rather than a silent merge.
    """

    def __init__(self, desired_retention: float = 0.9) -> None:
        if not 0 < desired_retention < 1:
            raise ValueError(f"desired_retention must be between 0 and 1, not {desired_retention}")
        # No learning or relearning steps: those re-drill a flashcard minutes apart within one
        # study session. A refresher is only ever asked when its pattern reappears in code, so a
        # card goes straight to day-scale review, and a wrong answer shortens the next interval
        # instead of scheduling a re-ask ten minutes later.
        self._scheduler = Scheduler(
            desired_retention=desired_retention,
            learning_steps=(),
            relearning_steps=(),
            enable_fuzzing=False,
        )
        self._cards: dict[str, Card] = {}
        self._developer: str | None = None

    @property
    def desired_retention(self) -> float:
        return self._scheduler.desired_retention

    @classmethod
    def from_events(
        cls, events: Iterable[Event], *, desired_retention: float = 0.9
    ) -> RefresherSchedule:
        """Replay a developer's history in time order (the store's order is not assumed)."""
        schedule = cls(desired_retention)
        # sorted() is stable: events with equal times keep the order they were recorded in.
        for event in sorted(events, key=lambda event: event.time):
            schedule.apply(event)
        return schedule

    def apply(self, event: Event) -> None:
        """Update the schedule with one event; events must arrive in time order.

        - The first LESSON_OPENED of a lesson creates its card. Opening it again is not a review:
          re-reading is not evidence of recall (it often means the opposite), and counting it as
          Good would push the next refresher out exactly when it is needed.
        - REVIEW_ANSWERED reviews the card: Good when correct, Again when not. An answer for a
          lesson with no card (its opening was forgotten, say) creates the card from the answer.
        - Every other kind, and events without a lesson, leave the schedule alone.
        """
        if self._developer is None:
            self._developer = event.developer
        elif event.developer != self._developer:
            raise ValueError("a refresher schedule holds one developer's events, not several")
        lesson_id = event.lesson_id
        if lesson_id is None:
            return
        card = self._cards.get(lesson_id)
        if event.kind is EventKind.LESSON_OPENED:
            if card is not None:
                return
            rating = Rating.Good
        elif event.kind is EventKind.REVIEW_ANSWERED:
            if event.correct is None:
                return
            rating = Rating.Good if event.correct else Rating.Again
        else:
            return
        when = _utc(event.time)
        if card is None:
            # An explicit id: fsrs's default derives one from the clock and sleeps 1 ms per card
            # to keep them apart. The id plays no part in scheduling.
            card = Card(card_id=zlib.crc32(lesson_id.encode()), due=when)
        elif card.last_review is not None and when < card.last_review:
            # A late event (another window's clock): never move a card back in time.
            when = card.last_review
        self._cards[lesson_id], _log = self._scheduler.review_card(card, rating, when)

    def retrievability(self, lesson_id: str, now: float) -> float | None:
        """Predicted probability of recalling the lesson at ``now``; None if never opened.

        FSRS counts whole days since the last review, so the value steps once a day.
        """
        card = self._cards.get(lesson_id)
        if card is None:
            return None
        return self._scheduler.get_card_retrievability(card, _utc(now))

    def due(self, lesson_id: str, now: float) -> bool:
        """Whether the lesson's refresher should be asked the next time its pattern appears."""
        recall = self.retrievability(lesson_id, now)
        return recall is not None and recall < self.desired_retention

    def next_due(self, lesson_id: str) -> float | None:
        """The first moment (unix seconds) at which ``due`` turns true; None if never opened.

        Derived from retrievability rather than taken from the card's ``due`` field, which FSRS
        rounds to whole days and which can therefore fall a day before recall actually drops
        below the target.
        """
        card = self._cards.get(lesson_id)
        if card is None or card.last_review is None:
            return None
        start = card.last_review

        def below(days: int) -> bool:
            at = start + timedelta(days=days)
            return self._scheduler.get_card_retrievability(card, at) < self.desired_retention

        # Retrievability falls monotonically with elapsed days: gallop, then bisect.
        high = 1
        while not below(high):
            if high >= _MAX_DAYS:
                return None
            high = min(high * 2, _MAX_DAYS)
        low = high // 2  # not below (or 0, where recall is 1)
        while high - low > 1:
            middle = (low + high) // 2
            if below(middle):
                high = middle
            else:
                low = middle
        return (start + timedelta(days=high)).timestamp()
