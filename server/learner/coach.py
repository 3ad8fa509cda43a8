"""The coach: skill-progress events from edits, and how loudly each hint speaks.

It turns what the analyzer sees while someone edits into events, and decides whether each hint
speaks to this developer in full, quietly, or not at all.

An opportunity is an edit where a skill applies: a hint that appears after an edit is an
anti-pattern introduced (incorrect); new good usage, or a hint that disappears without the
tool's quick fix, is correct; a quick fix applied by the tool is a learning opportunity only.
What a file already contains when it is opened is no evidence about this developer, and each
skill counts at most once per edit, so that pasting fifty comprehensions is one opportunity.

Events carry ids, names and times only: never source text, identifiers or paths.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter, defaultdict, deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from lessonlens.analyzers import Analysis, Finding
from lessonlens.lessons.skills import Skill
from lessonlens.server.learner.mastery import (
    BktParams,
    Learner,
    SkillEstimate,
    Treatment,
    is_mastered,
    params_for,
    treatment,
    why,
)
from lessonlens.server.learner.progress import Event, EventKind, ProgressStore
from lessonlens.server.learner.refreshers import RefresherSchedule
from lessonlens.server.learner.writer import FLUSH_WAIT_S, WRITE_TRY_S, EventWriter

__all__ = ["WRITE_TRY_S", "Coach", "occurrence_keys", "opportunities"]

log = logging.getLogger(__name__)

# New hints a developer is shown per file per hour, at most: a file full of old code should
# not bury someone in lessons the first time they open it.
NEW_HINTS_PER_FILE_PER_HOUR = 10


def _key_lines(data: bytes) -> list[bytes]:
    return data.split(b"\n")


def occurrence_keys(
    items: Iterable[tuple[str, int]], lines: list[bytes]
) -> Counter[tuple[str, bytes]]:
    """(id, stripped line text) counts: stable when unrelated lines above move."""
    return Counter((ident, lines[row].strip() if row < len(lines) else b"") for ident, row in items)


@dataclass(frozen=True)
class Opportunity:
    """One skill exercised by an edit: introduced (incorrect), fixed or good usage (correct)."""

    kind: EventKind  # ANTIPATTERN_INTRODUCED, ANTIPATTERN_FIXED or SKILL_EVIDENCE
    skill_id: str
    key: tuple[str, bytes]  # (rule or detector id, stripped line text)
    lesson_id: str | None = None

    @property
    def rule_id(self) -> str | None:
        return None if self.kind is EventKind.SKILL_EVIDENCE else self.key[0]


def opportunities(
    findings_before: Counter[tuple[str, bytes]],
    findings_after: Counter[tuple[str, bytes]],
    evidence_before: Counter[tuple[str, bytes]],
    evidence_after: Counter[tuple[str, bytes]],
    rule_skills: Mapping[str, tuple[str, str]],
    evidence_skills: Mapping[str, str],
    counted: set[str],
) -> list[Opportunity]:
    """What an edit did, in the one definition the editor and ``baseline`` share.

    A hint that appears is an anti-pattern introduced; one that goes, fixed; new good usage is
    evidence. A skill counts once per edit: ``counted`` holds the skills already counted (and is
    updated), so that a commit touching several files still counts each skill once.
    """
    found: list[Opportunity] = []
    changes = (
        (EventKind.ANTIPATTERN_INTRODUCED, findings_after - findings_before),
        (EventKind.ANTIPATTERN_FIXED, findings_before - findings_after),
    )
    for kind, keys in changes:
        for key in keys:
            skill_lesson = rule_skills.get(key[0])
            if skill_lesson is not None and skill_lesson[0] not in counted:
                counted.add(skill_lesson[0])
                found.append(Opportunity(kind, skill_lesson[0], key, skill_lesson[1]))
    for key in evidence_after - evidence_before:
        skill = evidence_skills.get(key[0])
        if skill is not None and skill not in counted:
            counted.add(skill)
            found.append(Opportunity(EventKind.SKILL_EVIDENCE, skill, key))
    return found


# A hint that comes or goes counts once the change has lasted this long (seen again in a later
# analysis that parses, or by ``settle``), or when the document closes: typing passes through
# parseable states where a hint briefly changes (a line half-indented, a name half-typed).
SETTLE_S = 2.0

_Key = tuple[str, bytes]


@dataclass
class _Seen:
    """What one open document held at its last recorded state, to diff the next against.

    Only analyses without an ERROR or MISSING node are diffed: while a line is half-typed, the
    error swallows the code around it and its hints vanish without anything having been fixed.
    """

    findings: Counter[_Key]  # the hints as last recorded
    evidence: Counter[_Key]
    # The hints of the latest analysis that parsed, and when each that differs from
    # ``findings`` started to differ.
    latest: Counter[_Key] = field(default_factory=Counter)
    since: dict[_Key, float] = field(default_factory=dict)
    skills: dict[str, tuple[str, str]] = field(default_factory=dict)
    # Whether the latest analysis parsed: a change is only confirmed by code that parses.
    parses: bool = True
    # The document's language (``LanguageSpec.id``): every event it gives rise to says so.
    language: str = ""

    def settle(
        self,
        before: float,
        rule_skills: Mapping[str, tuple[str, str]],
        evidence_before: Counter[_Key] | None = None,
        evidence_skill: Mapping[str, str] | None = None,
    ) -> list[Opportunity]:
        """The hints that changed before ``before``, and new good usage.

        Those hints become what was last recorded.
        """
        keys = [key for key, since in self.since.items() if since <= before]
        found = opportunities(
            Counter({key: self.findings[key] for key in keys}),
            Counter({key: self.latest[key] for key in keys}),
            evidence_before if evidence_before is not None else Counter(),
            self.evidence if evidence_before is not None else Counter(),
            {**rule_skills, **self.skills},
            evidence_skill or {},
            set(),
        )
        for key in keys:
            self.findings[key] = self.latest[key]
            self.since.pop(key)
        self.findings = +self.findings
        return found


class HintBudget:
    """New hints per file and hour: a file full of old code does not bury anyone in lessons."""

    def __init__(self) -> None:
        self._shown: dict[str, set[tuple[str, bytes]]] = defaultdict(set)
        self._times: dict[str, deque[float]] = defaultdict(deque)

    def admit(self, uri: str, key: tuple[str, bytes], now: float) -> tuple[bool, bool]:
        """(whether the hint may show, whether it shows for the first time)."""
        shown = self._shown[uri]
        if key in shown:
            return True, False
        times = self._times[uri]
        while times and now - times[0] > 3600:
            times.popleft()
        if len(times) >= NEW_HINTS_PER_FILE_PER_HOUR:
            return False, False
        times.append(now)
        shown.add(key)
        return True, True


class Coach:
    def __init__(
        self,
        store: ProgressStore | None,
        developer: str,
        skills: Mapping[str, Skill],
        *,
        repository: str | None = None,
        clock: Callable[[], float] = time.time,
        on_notice: Callable[[str], None] | None = None,
        fitted: Mapping[str, BktParams] | None = None,
    ) -> None:
        self.store = store
        self.on_notice = on_notice or (lambda message: None)
        self.developer = developer
        self.repository = repository
        self.skills = skills
        self.clock = clock
        # The parameters fitted to this repository's history by ``baseline``, where there are.
        self.fitted = dict(fitted or {})
        self._params = params_for(skills, self.fitted)
        self._lock = threading.Lock()
        self._seen: dict[str, _Seen] = {}
        # Analysis threads observe, the event loop settles and forgets.
        self._seen_lock = threading.Lock()
        self._fixes: dict[str, set[tuple[str, bytes]]] = defaultdict(set)
        self._budget = HintBudget()
        self._mastered: set[str] = set()
        self._rule_skills: dict[str, tuple[str, str]] = {}
        self._events: list[Event] = []
        if store is not None:
            try:
                self._events = store.events(developer)
            except Exception as exc:  # a broken store must not take the editor down
                log.warning("progress store unreadable, starting without history: %r", exc)
        self._learner = Learner(self._params)
        for event in sorted(self._events, key=lambda e: e.time):
            self._learner.apply(event)
        self._estimates = self._learner.snapshots(self.clock())
        # Events reach the store from a writer thread (writer.py), never from a request.
        self._writer = EventWriter(store, self.on_notice) if store is not None else None
        self._closed = False
        self._mastered = {s for s, e in self._estimates.items() if is_mastered(e)}
        self.refreshers = RefresherSchedule.from_events(self._events)

    # ------------------------------------------------------------------ recording

    def _event(self, kind: EventKind, skill_id: str, language: str, **fields: object) -> Event:
        """An event of ``language``: the language of the document, rule or lesson it is about."""
        return Event(
            kind=kind,
            developer=self.developer,
            skill_id=skill_id,
            time=self.clock(),
            language=language,
            repository=self.repository,
            **fields,  # type: ignore[arg-type]
        )

    def flush(self, timeout: float = FLUSH_WAIT_S) -> bool:
        """Wait, at most ``timeout`` seconds, until every recorded event is in the store.

        False if some are still waiting (another process holds the database, the disk is full):
        a reader then sees the store without them.
        """
        return self._writer is None or self._writer.flush(timeout)

    def close(self) -> None:
        """Record what open documents hold, write what is queued, stop the writer, close.

        Waits at most ``CLOSE_WAIT_S`` for the writer, then says how many events were not
        written (to the log, which goes to stderr: the editor's output panel).
        """
        if self._closed:  # on ``shutdown``, and again on ``exit``
            return
        self._closed = True
        for uri in list(self._seen):
            self.forget_document(uri)
        if self._writer is not None:
            self._writer.close()

    def record(self, events: list[Event]) -> None:
        """Queue events for the store and update the estimates of the skills they touch."""
        if not events:
            return
        with self._lock:
            if self._writer is not None:
                self._writer.submit(events)
            self._events.extend(events)
            touched = {e.skill_id for e in events}
            # A skill mastered through events of one language is recorded in that language.
            languages = {e.skill_id: e.language for e in events}
            for event in events:
                self._learner.apply(event)
            now = self.clock()
            for skill in touched:
                snapshot = self._learner.snapshot(skill, now)
                if snapshot is not None:
                    self._estimates[skill] = snapshot
            for event in events:
                if event.kind in (EventKind.LESSON_OPENED, EventKind.REVIEW_ANSWERED):
                    self.refreshers.apply(event)
            mastered = [
                s
                for s in touched
                if s not in self._mastered and is_mastered(self._estimates.get(s))
            ]
            self._mastered.update(mastered)
        if mastered:
            self.record([self._event(EventKind.MASTERED, s, languages[s]) for s in mastered])

    def observe(
        self, uri: str, analysis: Analysis, data: bytes, *, opened: bool, language: str
    ) -> None:
        """Diff an analysis of ``uri`` against the last recorded state; record what lasted.

        New good usage counts at once; a hint that appears or goes counts once the change has
        lasted ``SETTLE_S``. An analysis with a parse error records nothing and moves nothing.
        """
        parses = not analysis.error_ranges
        with self._seen_lock:
            before = None if opened else self._seen.get(uri)
            if before is not None:
                before.parses = parses
            if not parses:
                return
            lines = _key_lines(data)
            findings = occurrence_keys(
                ((f.rule_id, f.span.start_row) for f in analysis.findings), lines
            )
            evidence = occurrence_keys(
                ((e.detector_id, e.span.start_row) for e in analysis.evidence), lines
            )
            if before is None:
                # What a file holds when opened (or first parses) is no evidence.
                self._seen[uri] = _Seen(findings, evidence, latest=findings, language=language)
                return
            before.skills.update({f.rule_id: (f.skill_id, f.lesson_id) for f in analysis.findings})
            now = self.clock()
            before.latest = findings
            for key in findings.keys() | before.findings.keys() | before.since.keys():
                if findings[key] == before.findings[key]:
                    before.since.pop(key, None)
                else:
                    before.since.setdefault(key, now)
            evidence_before, before.evidence = before.evidence, evidence
            evidence_skill = {e.detector_id: e.skill_id for e in analysis.evidence}
            events = self._settled(uri, before, now - SETTLE_S, evidence_before, evidence_skill)
        self.record(events)

    def settle(self, uri: str) -> None:
        """Record the changes of ``uri`` that have lasted, if it parses now.

        The session calls this ``SETTLE_S`` after an analysis, so that a fix is recorded
        while the developer reads, not only at their next edit.
        """
        with self._seen_lock:
            seen = self._seen.get(uri)
            if seen is None or not seen.parses:
                return
            events = self._settled(uri, seen, self.clock() - SETTLE_S)
        self.record(events)

    def _settled(
        self,
        uri: str,
        seen: _Seen,
        before: float,
        evidence_before: Counter[_Key] | None = None,
        evidence_skill: Mapping[str, str] | None = None,
    ) -> list[Event]:
        """Events for the hints that changed before ``before``, and for new good usage."""
        found = seen.settle(before, self._rule_skills, evidence_before, evidence_skill)
        events: list[Event] = []
        for opportunity in found:
            kind = opportunity.kind
            if kind is EventKind.ANTIPATTERN_FIXED and opportunity.key in self._fixes[uri]:
                # The tool's quick fix, not the developer's: a learning opportunity only.
                self._fixes[uri].discard(opportunity.key)
                kind = EventKind.FIX_APPLIED
            events.append(
                self._event(
                    kind,
                    opportunity.skill_id,
                    seen.language,
                    rule_id=opportunity.rule_id,
                    lesson_id=opportunity.lesson_id,
                )
            )
        return events

    def know_rules(self, rules: Mapping[str, tuple[str, str]]) -> None:
        """Map each rule id to its (skill id, lesson id), for hints that left the text."""
        self._rule_skills = dict(rules)

    def muted_rules(self) -> set[str]:
        """Rules this developer muted in this repository, in any earlier session."""
        return {
            e.rule_id
            for e in self._events
            if e.kind is EventKind.RULE_MUTED
            and e.rule_id is not None
            and e.repository == self.repository
        }

    def forget_document(self, uri: str) -> None:
        """The document closed: what it held when it last parsed is what the developer left."""
        with self._seen_lock:
            seen = self._seen.pop(uri, None)
            parses = seen is not None and seen.parses
            events = self._settled(uri, seen, float("inf")) if seen is not None and parses else []
            self._fixes.pop(uri, None)
        self.record(events)

    def fix_applied_key(self, uri: str, rule_id: str, line: bytes) -> None:
        """Note that the tool's quick fix removed the hint of ``rule_id`` on ``line``.

        When that hint disappears it is a learning opportunity, not the developer's own fix.
        """
        self._fixes[uri].add((rule_id, line.strip()))

    def lesson_opened(self, skill_id: str, lesson_id: str, language: str) -> None:
        event = self._event(EventKind.LESSON_OPENED, skill_id, language, lesson_id=lesson_id)
        self.record([event])

    def record_dismissal(self, skill_id: str, rule_id: str, lesson_id: str, language: str) -> None:
        kind = EventKind.HINT_DISMISSED
        event = self._event(kind, skill_id, language, rule_id=rule_id, lesson_id=lesson_id)
        self.record([event])

    def muted(self, rule_id: str, skill_id: str, language: str) -> None:
        self.record([self._event(EventKind.RULE_MUTED, skill_id, language, rule_id=rule_id)])

    def practiced(self, skill_ids: Sequence[str], language: str) -> None:
        self.record(
            [
                self._event(EventKind.SKILL_PRACTICED, s, language, rule_id="model")
                for s in skill_ids
            ]
        )

    def i_know_this(self, skill_id: str, language: str) -> None:
        self.record([self._event(EventKind.I_KNOW_THIS, skill_id, language)])

    def reviewed(self, skill_id: str, lesson_id: str, correct: bool, language: str) -> None:
        kind = EventKind.REVIEW_ANSWERED
        event = self._event(kind, skill_id, language, lesson_id=lesson_id, correct=correct)
        self.record([event])

    # ------------------------------------------------------------------ deciding

    @property
    def history(self) -> tuple[Event, ...]:
        return tuple(self._events)

    def estimate_for(self, skill_id: str) -> SkillEstimate | None:
        return self._estimates.get(skill_id)

    def treatment_for(self, skill_id: str, priority: str) -> Treatment:
        return treatment(self._estimates.get(skill_id), priority)

    def why(self, skill_id: str, priority: str) -> str:
        estimate_ = self._estimates.get(skill_id)
        return why(estimate_, treatment(estimate_, priority), priority=priority)

    def admit(self, uri: str, finding: Finding, line: bytes, language: str) -> bool:
        """Whether a hint may be shown, recording HINT_SHOWN the first time.

        Hints already shown always are; new ones are rate limited per file and hour.
        """
        admitted, new = self._budget.admit(uri, (finding.rule_id, line.strip()), self.clock())
        if not new:
            return admitted
        self.record(
            [
                self._event(
                    EventKind.HINT_SHOWN,
                    finding.skill_id,
                    language,
                    rule_id=finding.rule_id,
                    lesson_id=finding.lesson_id,
                )
            ]
        )
        return True

    def refresher_due(self, lesson_id: str) -> bool:
        return self.refreshers.due(lesson_id, self.clock())
