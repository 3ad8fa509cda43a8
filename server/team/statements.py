"""xAPI 1.0.3 statements from progress events, and back: ids, verbs, activities.

Sending them to a Learning Record Store and reading them back is ``lrs.py``.

Which events become statements, and with which ADL verb (http://adlnet.gov/expapi/verbs/...):

============================  ===========  ==================================================
event                         verb         object
============================  ===========  ==================================================
``lesson_opened``             experienced  the lesson (activity type ``lesson``)
``review_answered`` correct   passed       the lesson's refresher (``assessment``), success
``review_answered`` wrong     failed       the lesson's refresher, result.success false
``review_answered`` unknown   attempted    the lesson's refresher
``practice_checked`` written  attempted    the lesson's practice challenge (``assessment``)
``practice_checked`` passed   passed       the practice challenge, result.success true
``practice_checked`` failed   failed       the practice challenge, result.success false
``mastered``                  mastered     the skill (``objective``)
``skill_evidence``            progressed   the skill: the developer wrote the idiom
``antipattern_fixed``         progressed   the skill: the developer removed an anti-pattern
============================  ===========  ==================================================

Hints shown or dismissed, rules muted, fixes applied by the tool, anti-patterns introduced and
"I know this" claims are not sent: they are editor telemetry or self-reports, not learning
records, and an anti-pattern introduced is not something a developer should see reported
upstream one by one. The repository id stays on this machine too.

Statement ids are uuid5 of a fixed namespace and the event id, and a statement depends on its
event only (never on the catalog, whose titles change), so re-sending an event gives the same,
identical statement: the LRS keeps one copy. :func:`event_of` reads a statement back into the
event it was made from, and :class:`EventListStore` holds such events for a report.
"""

from __future__ import annotations

import urllib.parse
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from lessonlens.server.learner.progress import LEGACY_LANGUAGE, Event, EventKind

XAPI_VERSION = "1.0.3"
DEFAULT_BASE = "https://lessonlens.dev/xapi"
DEFAULT_HOMEPAGE = "https://lessonlens.dev/developers"
# uuid5(NAMESPACE_URL, "https://lessonlens.dev/xapi"), written out so that no change to the
# defaults above can ever change the ids of statements already sent.
STATEMENT_NAMESPACE = uuid.UUID("ae471ceb-6f90-51f0-b95b-27c5eab7bda8")

_VERBS = "http://adlnet.gov/expapi/verbs/"
_ACTIVITIES = "http://adlnet.gov/expapi/activities/"


def _verb(name: str) -> dict[str, Any]:
    return {"id": f"{_VERBS}{name}", "display": {"en-US": name}}


def _activity(iri: str, name: str, kind: str) -> dict[str, Any]:
    return {
        "objectType": "Activity",
        "id": iri,
        "definition": {"name": {"en-US": name}, "type": f"{_ACTIVITIES}{kind}"},
    }


def _quote(part: str) -> str:
    return urllib.parse.quote(part, safe="")


def _timestamp(seconds: float) -> str:
    moment = datetime.fromtimestamp(seconds, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def statement_id(event: Event) -> str:
    return str(uuid.uuid5(STATEMENT_NAMESPACE, event.id))


def statement(
    event: Event, *, homepage: str = DEFAULT_HOMEPAGE, base: str = DEFAULT_BASE
) -> dict[str, Any] | None:
    """The xAPI statement for ``event``, or None for events that mean nothing to an LRS."""
    base = base.rstrip("/")
    skill = _activity(f"{base}/skills/{_quote(event.skill_id)}", event.skill_id, "objective")
    result: dict[str, Any] | None = None
    parents: list[dict[str, Any]] = [skill]
    if event.kind is EventKind.LESSON_OPENED and event.lesson_id:
        verb = _verb("experienced")
        target = _activity(f"{base}/lessons/{_quote(event.lesson_id)}", event.lesson_id, "lesson")
    elif event.kind is EventKind.REVIEW_ANSWERED:
        verb = _verb({True: "passed", False: "failed", None: "attempted"}[event.correct])
        about = event.lesson_id or event.skill_id
        folder = "lessons" if event.lesson_id else "skills"
        target = _activity(
            f"{base}/{folder}/{_quote(about)}/refresher", f"Refresher: {about}", "assessment"
        )
        if event.correct is not None:
            result = {"success": event.correct, "completion": True}
    elif event.kind is EventKind.PRACTICE_CHECKED and event.lesson_id:
        verb = _verb({True: "passed", False: "failed", None: "attempted"}[event.correct])
        target = _activity(
            f"{base}/lessons/{_quote(event.lesson_id)}/practice",
            f"Practice: {event.lesson_id}",
            "assessment",
        )
        if event.correct is not None:
            result = {"success": event.correct, "completion": True}
    elif event.kind is EventKind.MASTERED:
        verb, target, parents = _verb("mastered"), skill, []
    elif event.kind in (EventKind.SKILL_EVIDENCE, EventKind.ANTIPATTERN_FIXED):
        verb, target, parents = _verb("progressed"), skill, []
    else:
        return None
    extensions: dict[str, str] = {
        f"{base}/extensions/skill": event.skill_id,
        f"{base}/extensions/language": event.language,
        f"{base}/extensions/event": event.kind.value,
    }
    if event.rule_id:
        extensions[f"{base}/extensions/rule"] = event.rule_id
    # context.language is the learner's natural language (RFC 5646), not the programming
    # language: that goes in an extension.
    context: dict[str, Any] = {"platform": "lessonlens", "extensions": extensions}
    if parents:
        context["contextActivities"] = {"parent": parents}
    built: dict[str, Any] = {
        "id": statement_id(event),
        "actor": {
            "objectType": "Agent",
            "account": {"homePage": homepage, "name": event.developer},
        },
        "verb": verb,
        "object": target,
        "context": context,
        "timestamp": _timestamp(event.time),
        "version": XAPI_VERSION,
    }
    if result is not None:
        built["result"] = result
    return built


# --- reading statements back ---------------------------------------------------------------------

# What an LRS can never give back, because statement() sends nothing for these kinds: a report
# built from an LRS must show what depends on them as unavailable, not as zero.
NOT_SENT = frozenset(
    {
        EventKind.HINT_SHOWN,
        EventKind.HINT_DISMISSED,
        EventKind.RULE_MUTED,
        EventKind.FIX_APPLIED,
        EventKind.ANTIPATTERN_INTRODUCED,
        EventKind.I_KNOW_THIS,
        EventKind.SKILL_PRACTICED,
    }
)
_ANSWERS: dict[str, bool | None] = {"passed": True, "failed": False, "attempted": None}


def _parse_time(stamp: str) -> float:
    # Python 3.11's fromisoformat reads "Z" and any fraction; LRSs rewrite the timestamp's form
    # (Ralph stores "+00:00"), never its instant.
    moment = datetime.fromisoformat(stamp)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


def event_of(made: Any, *, base: str = DEFAULT_BASE) -> Event | None:
    """The event ``statement()`` made ``made`` from, or None for a statement not lessonlens's.

    The id is the statement id (the event id cannot be recovered from its uuid5): stable, so two
    fetches give the same events. The repository id never left the machine, so it is None.
    """
    base = base.rstrip("/")
    try:
        context = made["context"]
        if context.get("platform") != "lessonlens":
            return None
        extensions = context["extensions"]
        skill_id = str(extensions[f"{base}/extensions/skill"])
        kind_name = str(extensions.get(f"{base}/extensions/event", ""))
        rule = extensions.get(f"{base}/extensions/rule")
        language = str(extensions.get(f"{base}/extensions/language", LEGACY_LANGUAGE))
        verb = str(made["verb"]["id"]).removeprefix(_VERBS)
        target = str(made["object"]["id"])
        developer = str(made["actor"]["account"]["name"])
        when = _parse_time(str(made["timestamp"]))
        statement_id_ = str(made["id"])
    except (KeyError, TypeError, AttributeError, ValueError):
        return None
    if not target.startswith(f"{base}/"):
        return None
    path = target[len(base) + 1 :].split("/")
    lesson_id: str | None = None
    correct: bool | None = None
    if verb == "experienced" and len(path) == 2 and path[0] == "lessons":
        kind, lesson_id = EventKind.LESSON_OPENED, urllib.parse.unquote(path[1])
    elif verb in _ANSWERS and len(path) == 3 and path[2] == "practice" and path[0] == "lessons":
        kind, correct = EventKind.PRACTICE_CHECKED, _ANSWERS[verb]
        lesson_id = urllib.parse.unquote(path[1])
    elif verb in _ANSWERS and len(path) == 3 and path[2] == "refresher":
        kind, correct = EventKind.REVIEW_ANSWERED, _ANSWERS[verb]
        if path[0] == "lessons":
            lesson_id = urllib.parse.unquote(path[1])
    elif verb == "mastered" and path[0] == "skills":
        kind = EventKind.MASTERED
    elif verb == "progressed" and path[0] == "skills":
        # One verb for two kinds: only the event extension tells them apart.
        if kind_name == EventKind.ANTIPATTERN_FIXED.value:
            kind = EventKind.ANTIPATTERN_FIXED
        else:
            kind = EventKind.SKILL_EVIDENCE
    else:
        return None
    return Event(
        kind,
        developer,
        skill_id,
        when,
        rule_id=None if rule is None else str(rule),
        lesson_id=lesson_id,
        language=language,
        correct=correct,
        id=statement_id_,
    )


class EventListStore:
    """A ProgressStore over events in memory: what ``report --lrs`` builds its report from."""

    def __init__(self, events: Sequence[Event] = ()) -> None:
        self._events: dict[str, Event] = {}
        self.record(events)

    def record(self, events: Sequence[Event]) -> None:
        for event in events:
            self._events.setdefault(event.id, event)

    def events(
        self, developer: str, *, skill_id: str | None = None, since: float | None = None
    ) -> list[Event]:
        chosen = [
            event
            for event in self._events.values()
            if event.developer == developer
            and (skill_id is None or event.skill_id == skill_id)
            and (since is None or event.time >= since)
        ]
        return sorted(chosen, key=lambda event: event.time)

    def developers(self) -> list[str]:
        return sorted({event.developer for event in self._events.values()})

    def forget(self, developer: str, skill_id: str | None = None) -> int:
        gone = [
            key
            for key, event in self._events.items()
            if event.developer == developer and (skill_id is None or event.skill_id == skill_id)
        ]
        for key in gone:
            del self._events[key]
        return len(gone)

    def close(self) -> None:
        pass
