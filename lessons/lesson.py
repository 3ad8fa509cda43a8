"""What a lesson is once read: the ``Lesson`` record, its parts and the values its fields take.

Reading and validating a lesson file is ``lessons/lesson_file.py``'s job; gathering lessons into
the catalog is ``lessons/catalog.py``'s.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import NamedTuple

from lessonlens.lessons.languages import DEFAULT_LANGUAGE

LEVELS = ("beginner", "intermediate", "advanced")
MODALITIES = ("hint", "worked-example", "practice-challenge", "deep-dive")
CLAIMS = ("faster", "less-memory")
SECTIONS = ("Why it matters", "Before and after", "Try it at work", "Learn more")
# Sections a lesson may add, in this place among the four: its practice challenge and its deep
# dive (see FORMAT.md, "Renditions").
OPTIONAL_SECTIONS = ("Practice", "Deep dive")
SECTION_ORDER = (
    "Why it matters",
    "Before and after",
    "Try it at work",
    *OPTIONAL_SECTIONS,
    "Learn more",
)
# The forms a lesson is shown in (``lessons/renditions.py``): a one-line nudge, a worked example
# (Before / After, the step that matters called out), a practice challenge checked by running,
# and a deep dive (the longer why, its limits, the official documentation).
FORMS = ("nudge", "worked-example", "practice", "deep-dive")
# What a gate of `applies-if` / `satisfied-if` can name: a rule's finding, a skill-evidence
# detector's match, or a tree-sitter query (in the lesson's language) matching in the unit.
GATE_KINDS = ("rule", "evidence", "query")
# Where a query's match must lie in the unit: in the body of a loop (a for or while statement,
# or the element or condition of a comprehension), or in the body of an `async def`.
GATE_WITHIN = ("loop", "async-function")

# The form of a lesson id (and, with its dots read as dashes, of a skill id).
ID_PATTERN = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
# Matches at most once per line start and never backtracks over a line (a fence scanned to the
# end of the text for each opener took seconds per file).
_FENCE_LINE = re.compile(r"^```(?P<info>[^\n`]*)$", re.MULTILINE)


class Fence(NamedTuple):
    """One code block: where it lies in the text, its info string and its code."""

    start: int
    end: int
    info: str
    code: str


def fences(text: str) -> list[Fence]:
    """The ```` ``` ```` code blocks of a text, in one pass over its fence lines.

    A block opens at a line of three backticks and an info string (no backtick in it) and
    closes at the next line of three backticks and nothing else.
    """
    found: list[Fence] = []
    opener: re.Match[str] | None = None
    for line in _FENCE_LINE.finditer(text):
        if opener is None:
            opener = line
        elif not line["info"].strip(" \t"):
            code = text[opener.end() + 1 : line.start()]
            found.append(Fence(opener.start(), line.end(), opener["info"], code))
            opener = None
    return found


@dataclass(frozen=True)
class Link:
    title: str
    url: str


@dataclass(frozen=True)
class Example:
    """The runnable before/after pair; both assign ``result`` and must agree."""

    setup: str
    before: str
    after: str


@dataclass(frozen=True)
class Practice:
    """A short exercise checked by running.

    The task, starter code, a reference solution, and a check that passes against the solution
    and fails against the starter.
    """

    task: str
    starter: str
    solution: str
    check: str


@dataclass(frozen=True)
class Gate:
    """One ingredient of a unit: a rule that fires in it, a detector, or a query that matches."""

    kind: str  # one of GATE_KINDS
    value: str  # the rule or detector id, or the query's text
    within: str = ""  # a query's: one of GATE_WITHIN, or anywhere in the unit

    @property
    def token(self) -> str:
        where = f" within:{self.within}" if self.within else ""
        return f"{self.kind}:{self.value}{where}"


@dataclass(frozen=True)
class RefresherQuestion:
    """The lesson's one-question check, asked when its spaced-repetition card falls due.

    ``answer`` is a 0-based index into ``options``.
    """

    question: str
    options: tuple[str, ...]
    answer: int


@dataclass(frozen=True)
class Lesson:
    id: str
    title: str
    skill_id: str
    level: str
    modality: str
    summary: str
    rules: tuple[str, ...]
    links: tuple[Link, ...]
    claims: tuple[str, ...]
    requires: tuple[str, ...]
    prerequisites: tuple[str, ...]
    body: str
    sections: Mapping[str, str]
    example: Example
    path: str
    builtin: bool = True
    # File line of each front-matter key, for errors found after parsing (cross-references).
    key_lines: Mapping[str, int] = field(default_factory=dict)
    refresher: RefresherQuestion | None = None
    # Short code snippets of places where the lesson applies, read by the model (not shown).
    situations: tuple[str, ...] = ()
    # The model relates a unit to this lesson only if the unit holds one of `applies_if` (when
    # any are given), and never if it holds one of `satisfied_if`: it already does what the
    # lesson teaches (a breadth-first walk that already uses a deque).
    applies_if: tuple[Gate, ...] = ()
    satisfied_if: tuple[Gate, ...] = ()
    # The programming language of its examples, situations and gates (``LanguageSpec.id``).
    language: str = DEFAULT_LANGUAGE
    # Its renditions beyond the worked example (FORMAT.md, "Renditions"): the one-line nudge,
    # the step of the example that matters, the practice challenge (the "Practice" section)
    # and the deep dive (the "Deep dive" section, with "Why it matters" and "Learn more").
    nudge: str = ""
    key_step: str = ""
    practice: Practice | None = None

    @property
    def deep_dive(self) -> str:
        return self.sections.get("Deep dive", "")

    def missing_forms(self) -> tuple[str, ...]:
        """The forms this lesson cannot be shown in (every built-in lesson has all four)."""
        missing = []
        if not self.nudge:
            missing.append("nudge")
        if not self.key_step:
            missing.append("worked-example")
        if self.practice is None:
            missing.append("practice")
        if not self.deep_dive:
            missing.append("deep-dive")
        return tuple(missing)

    def line_of(self, key: str) -> int:
        return self.key_lines.get(key, 2)

    @property
    def url(self) -> str:
        """Where to read more: the lesson's first official-documentation link."""
        return self.links[0].url

    @property
    def prose_words(self) -> int:
        """Words of prose in the lesson's read (code, the practice and the deep dive aside)."""
        return sum(
            words(text) for title, text in self.sections.items() if title not in OPTIONAL_SECTIONS
        )


def words(text: str) -> int:
    """Words of prose in Markdown ``text``, its code blocks left out."""
    prose, start = [], 0
    for fence in fences(text):
        prose.append(text[start : fence.start])
        start = fence.end
    prose.append(text[start:])
    return len("".join(prose).split())


@dataclass(frozen=True)
class LessonProblem:
    path: str
    line: int
    message: str
    warning: bool = False

    def __str__(self) -> str:
        kind = "warning" if self.warning else "error"
        return f"{self.path}:{self.line}: {kind}: {self.message}"
