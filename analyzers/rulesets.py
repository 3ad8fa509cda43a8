"""Rule sets: every rule and detector of a language, and their patterns compiled into one query.

All patterns of a language live in one compiled query; a match is dispatched to its owner by
pattern index (``engine.py`` walks it). Test code gets a second query without the patterns of
rules that are quiet in tests.
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

from lessonlens.analyzers import parsing
from lessonlens.analyzers.languages import LanguageSpec
from lessonlens.analyzers.model import Detector, Rule


@dataclass(frozen=True)
class RuleSet:
    """Everything compiled for one language: the combined query and its pattern owners."""

    language: LanguageSpec
    grammar: parsing.Language
    query: parsing.Query
    owners: tuple[Rule | Detector, ...]
    rules: tuple[Rule, ...]
    detectors: tuple[Detector, ...]
    parser_factory: object = field(default=None, repr=False)


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
    grammar = parsing.language(spec.grammar)
    rules, detectors = _discover(spec)
    every: list[Rule | Detector] = [*rules, *detectors]
    seen_ids: set[str] = set()
    for owner in every:
        if owner.id in seen_ids:
            raise ValueError(f"duplicate rule or detector id {owner.id}")
        seen_ids.add(owner.id)
    texts = [_query_text(spec, owner.query) for owner in every]
    # Compiling is most of a language's start-up (and of the editor's first diagnostics): the
    # combined query is compiled once and each pattern's owner found by where it starts. Only
    # when that cannot be trusted is each query compiled on its own, to name the broken one.
    combined = _combined_query(grammar, every, texts)
    if combined is None:
        combined = _checked_query(grammar, every, texts)
    query, owners = combined
    return RuleSet(spec, grammar, query, tuple(owners), tuple(rules), tuple(detectors))


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


_FOR_TESTS: dict[int, tuple[parsing.Query, tuple[Rule | Detector, ...]]] = {}
_FOR_TESTS_LOCK = threading.Lock()


def query_for_tests(rules: RuleSet) -> tuple[parsing.Query, tuple[Rule | Detector, ...]]:
    """The combined query without the patterns of rules marked ``quiet_in_tests``.

    Those rules never report in test code, where most of a repository's history is: walking
    their patterns there was work for nothing. Compiled on the first test file a process meets.
    """
    found = _FOR_TESTS.get(id(rules))
    if found is not None:
        return found
    with _FOR_TESTS_LOCK:
        found = _FOR_TESTS.get(id(rules))
        if found is not None:
            return found
        every: list[Rule | Detector] = [*rules.rules, *rules.detectors]
        keep = [o for o in every if not (isinstance(o, Rule) and o.quiet_in_tests)]
        if len(keep) == len(rules.rules) + len(rules.detectors):
            found = (rules.query, rules.owners)
        else:
            texts = [_query_text(rules.language, owner.query) for owner in keep]
            combined = _combined_query(rules.grammar, keep, texts)
            if combined is None:
                combined = _checked_query(rules.grammar, keep, texts)
            found = (combined[0], tuple(combined[1]))
        _FOR_TESTS[id(rules)] = found
    return found
