"""Rule sets: every rule and detector of a language, and their patterns compiled into one query.

All patterns of a language live in one compiled query; a match is dispatched to its owner by
pattern index (``engine.py`` walks it). The editor walks the rules' patterns and the detectors'
in two queries, so that its findings never wait on the detectors; test code gets queries
without the patterns of rules that are quiet in tests. Each compiles on first use.
"""

from __future__ import annotations

import importlib
import pkgutil
import threading
from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Literal

from lessonlens.analyzers import parsing
from lessonlens.analyzers.languages import LanguageSpec
from lessonlens.analyzers.model import Detector, Rule


@dataclass(frozen=True)
class RuleSet:
    """Everything compiled for one language: its rules, detectors and their queries."""

    language: LanguageSpec
    grammar: parsing.Language
    rules: tuple[Rule, ...]
    detectors: tuple[Detector, ...]
    parser_factory: object = field(default=None, repr=False)

    @property
    def query(self) -> parsing.Query:
        """The combined query of every rule and detector (compiled on first use)."""
        return walk_query(self, part="all", test_code=False)[0]

    @property
    def owners(self) -> tuple[Rule | Detector, ...]:
        """Each pattern's owner in ``query``."""
        return walk_query(self, part="all", test_code=False)[1]


def _discover(spec: LanguageSpec) -> tuple[list[Rule], list[Detector]]:
    rules: list[Rule] = []
    detectors: list[Detector] = []
    package = importlib.import_module(f"{spec.package}.rules")
    for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda i: i.name):
        module = importlib.import_module(f"{package.__name__}.{info.name}")
        rules.extend(getattr(module, "RULES", ()))
        detectors.extend(getattr(module, "DETECTORS", ()))
    rules.sort(key=lambda r: r.id)
    detectors.sort(key=lambda d: d.id)
    return rules, detectors


@cache
def rules_of(spec: LanguageSpec) -> tuple[Rule, ...]:
    """A language's rules, without compiling its query (a rule's metadata is all some need)."""
    return tuple(_discover(spec)[0])


def _query_text(spec: LanguageSpec, name: str) -> str:
    return resources.files(spec.package).joinpath("queries", name).read_text("utf-8")


@cache
def rule_set(spec: LanguageSpec) -> RuleSet:
    """A language's rules and detectors; their queries compile when a walk first needs one."""
    grammar = parsing.language(spec.grammar)
    rules, detectors = _discover(spec)
    seen_ids: set[str] = set()
    every: list[Rule | Detector] = [*rules, *detectors]
    for owner in every:
        if owner.id in seen_ids:
            raise ValueError(f"duplicate rule or detector id {owner.id}")
        seen_ids.add(owner.id)
    return RuleSet(spec, grammar, tuple(rules), tuple(detectors))


def _compiled(
    rules: RuleSet, every: Sequence[Rule | Detector]
) -> tuple[parsing.Query, tuple[Rule | Detector, ...]]:
    texts = [_query_text(rules.language, owner.query) for owner in every]
    # Compiling is most of a language's start-up (and of the editor's first diagnostics): the
    # combined query is compiled once and each pattern's owner found by where it starts. Only
    # when that cannot be trusted is each query compiled on its own, to name the broken one.
    combined = _combined_query(rules.grammar, every, texts)
    if combined is None:
        combined = _checked_query(rules.grammar, every, texts)
    return combined[0], tuple(combined[1])


def _content_start(text: str) -> int:
    """Offset of the first character of ``text`` that is neither whitespace nor a comment."""
    position = 0
    while position < len(text):
        if text[position].isspace():
            position += 1
        elif text[position] == ";":
            end = text.find("\n", position)
            position = len(text) if end == -1 else end + 1
        else:
            break
    return position


def _combined_query(
    grammar: parsing.Language, every: Sequence[Rule | Detector], texts: Sequence[str]
) -> tuple[parsing.Query, list[Rule | Detector]] | None:
    """The one query and each pattern's owner, or ``None`` if a query is broken.

    A pattern belongs to the text it starts in, and must end before the next text's first
    pattern (an unbalanced parenthesis would carry it over).
    """
    starts: list[int] = []  # where each text starts in the combined source, in UTF-8 bytes
    contents: list[int] = []  # where its first pattern can start
    offset = 0
    for text in texts:
        starts.append(offset)
        contents.append(offset + len(text[: _content_start(text)].encode()))
        offset += len(text.encode()) + 1
    try:
        query = parsing.compile_query(grammar, "\n".join(texts))
    except parsing.QueryError:
        return None
    owners: list[Rule | Detector] = []
    for index in range(parsing.pattern_count(query)):
        start, end = parsing.pattern_bytes(query, index)
        which = bisect_right(starts, start) - 1
        following = contents[which + 1] if which + 1 < len(contents) else offset
        if start < contents[which] or end > following:
            return None
        owners.append(every[which])
    return query, owners


def _checked_query(
    grammar: parsing.Language, every: Sequence[Rule | Detector], texts: Sequence[str]
) -> tuple[parsing.Query, list[Rule | Detector]]:
    """Each query compiled on its own, then together: slow, and precise about what is wrong."""
    owners: list[Rule | Detector] = []
    for owner, text in zip(every, texts, strict=True):
        try:
            count = parsing.pattern_count(parsing.compile_query(grammar, text))
        except parsing.QueryError as exc:
            raise ValueError(f"{owner.id}: invalid query {owner.query}: {exc}") from exc
        owners.extend([owner] * count)
    query = parsing.compile_query(grammar, "\n".join(texts))
    if parsing.pattern_count(query) != len(owners):
        raise ValueError("combined query lost patterns; check for unbalanced parentheses")
    return query, owners


# What a walk looks for: "all" (findings and evidence, what ``check`` and ``baseline`` read),
# "findings" (the rules: what the editor shows, first) or "evidence" (the detectors: what the
# coach records, after the editor has shown the findings).
Part = Literal["all", "findings", "evidence"]
_QUERIES: dict[tuple[int, Part, bool], tuple[parsing.Query, tuple[Rule | Detector, ...]]] = {}
_QUERIES_LOCK = threading.Lock()


def walk_query(
    rules: RuleSet, *, part: Part, test_code: bool
) -> tuple[parsing.Query, tuple[Rule | Detector, ...]]:
    """The query of ``part``'s rules and detectors, and each pattern's owner; compiled once.

    In test code the rules marked ``quiet_in_tests`` are left out: they never report there,
    where most of a repository's history is, and walking their patterns was work for nothing.
    """
    key = (id(rules), part, test_code)
    found = _QUERIES.get(key)
    if found is not None:
        return found
    every: list[Rule | Detector] = [
        *(rules.rules if part != "evidence" else ()),
        *(rules.detectors if part != "findings" else ()),
    ]
    owners = [o for o in every if not (test_code and isinstance(o, Rule) and o.quiet_in_tests)]
    if test_code and len(owners) == len(every):
        found = walk_query(rules, part=part, test_code=False)
    else:
        with _QUERIES_LOCK:
            found = _QUERIES.get(key) or _compiled(rules, owners)
    _QUERIES[key] = found
    return found
