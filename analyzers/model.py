"""Plain, frozen core types shared by every layer.

Positions follow tree-sitter: zero-based rows and *byte* columns. Conversion to the LSP's
negotiated encoding (UTF-16 by default) happens in ``lsp/convert.py`` only.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from lessonlens.analyzers.match import Match


class Severity(enum.Enum):
    """How loudly a finding speaks. Lessons teach; they never claim an error."""

    HINT = "hint"
    INFORMATION = "information"


@dataclass(frozen=True, slots=True)
class Span:
    """A source range: zero-based rows, byte columns and byte offsets (end exclusive)."""

    start_row: int
    start_col: int
    end_row: int
    end_col: int
    start_byte: int
    end_byte: int

    def overlaps(self, start_byte: int, end_byte: int) -> bool:
        return self.start_byte < end_byte and start_byte < self.end_byte


@dataclass(frozen=True, slots=True)
class TextEdit:
    span: Span
    new_text: str


class Applicability(enum.Enum):
    """How far a fix can be trusted, as Ruff's ``Applicability`` has it.

    ``SAFE``: the rewrite preserves behaviour in every case where the rule fires; "fix all",
    ``check --fix`` and the editor's preferred quick fix may apply it. ``UNSAFE``: usually
    right, but it can change what the program does in cases the rule cannot rule out; it is
    offered with its ``reason`` and applied only when the user asks for it by name
    (``--unsafe-fixes``, or choosing that code action).
    """

    SAFE = "safe"
    UNSAFE = "unsafe"


@dataclass(frozen=True, slots=True)
class Fix:
    """A rewrite of the finding's code; ``reason`` says why an unsafe fix may change behaviour."""

    title: str
    edits: tuple[TextEdit, ...]
    applicability: Applicability = Applicability.SAFE
    reason: str = ""

    def __post_init__(self) -> None:
        if self.applicability is Applicability.UNSAFE and not self.reason:
            raise ValueError(f"unsafe fix {self.title!r} needs a reason")

    @property
    def safe(self) -> bool:
        return self.applicability is Applicability.SAFE


@dataclass(frozen=True, slots=True)
class Finding:
    rule_id: str
    span: Span
    message: str
    severity: Severity
    skill_id: str
    lesson_id: str
    fix: Fix | None = None


@dataclass(frozen=True, slots=True)
class SkillEvidence:
    """Good (or poor) usage of a skill, seen in code. Carries no source text."""

    detector_id: str
    skill_id: str
    span: Span
    positive: bool = True


@dataclass(frozen=True, slots=True)
class Problem:
    """Something the analysis could not do: a rule that raised, a file it skipped."""

    message: str
    rule_id: str | None = None


@dataclass(frozen=True, slots=True)
class Hit:
    """What a rule's predicate returns: where to report, and optionally a sharper message."""

    span: Span
    message: str | None = None
    fix: Fix | None = None


Check = Callable[["Match"], "Hit | None"]


@dataclass(frozen=True)
class Rule:
    """One rule: a tree-sitter query plus metadata, and optionally a predicate in Python.

    ``query`` is the name of a ``.scm`` file shipped with the language's package. Its patterns
    must capture the node to report as ``@finding``. ``check`` refines a match (types, scope,
    fix); returning ``None`` keeps the rule silent.
    """

    id: str
    name: str
    language: str
    query: str
    message: str
    skill_id: str
    lesson_id: str
    severity: Severity = Severity.INFORMATION
    fix_title: str | None = None
    check: Check | None = None
    # Whether the advice holds under the file's language options (``target-python``): a
    # predicate the language provides (``python.spec.versions``); ``None`` = always.
    when: Callable[[Mapping[str, Any]], bool] | None = None
    tags: tuple[str, ...] = field(default=())
    # An opt-in rule runs only where it is selected by its id or name: its advice is true but
    # pays only in code known to be hot, which the rule cannot see (Ruff's non-default rules).
    opt_in: bool = False
    # Codes of other linters for the same advice (Ruff's E711 for PY022): a `# noqa: E711` that
    # a codebase already wrote for them silences this rule on that line too.
    noqa_codes: tuple[str, ...] = ()
    # Style advice a reviewer would not spend on test code (enumerate, comprehensions, keys()):
    # silent in test files. Performance rules are silent there too, by their own predicates.
    quiet_in_tests: bool = False
    # Rule documentation in Ruff's headings: What it does / Why is this bad? / Example /
    # Use instead / References. The lesson is the longer, teaching form of the same thing.
    doc: str = ""
    # Ruff's "Fix safety" section, one or two sentences: why the fix preserves behaviour, or in
    # which cases it may not (then the fix is UNSAFE and carries that reason). ``explain``
    # prints it; empty for a rule without a fix.
    fix_safety: str = ""

    def applies_to(self, options: Mapping[str, Any]) -> bool:
        return self.when is None or self.when(options)


@dataclass(frozen=True)
class Detector:
    """A skill-evidence detector: a query capturing ``@evidence``, and an optional predicate."""

    id: str
    language: str
    query: str
    skill_id: str
    check: Check | None = None
    positive: bool = True


@dataclass(frozen=True, slots=True)
class CodeUnit:
    """A function, method, class or top-level block, rendered as the text the model reads.

    `text` is source code and stays on the developer's machine: it is embedded locally and
    never recorded in progress signals (only the skill and lesson ids derived from it are).
    """

    kind: str  # "function", "method", "class" or "module"
    name: str  # qualified name ("Class.method"; "<module>" for a top-level block)
    span: Span
    name_span: Span | None
    text: str
    # Pairs of consecutive lines, where idioms are matched (see windows.py).
    windows: tuple[str, ...] = ()
