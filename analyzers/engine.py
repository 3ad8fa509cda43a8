"""Runs every rule and detector of a language over one tree, in a single query walk.

All patterns of a language live in one compiled query; a match is dispatched to its owner by
pattern index. One ``QueryCursor`` pass per rule cost about half a parse each on the standard
library, so one pass for all of them is what keeps analysis near the cost of parsing.
"""

from __future__ import annotations

import importlib
import logging
import pkgutil
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache
from importlib import resources

from lessonlens.analyzers import parsing
from lessonlens.analyzers.languages import LanguageSpec
from lessonlens.analyzers.match import FileContext, Match, span_of
from lessonlens.analyzers.model import (
    Detector,
    Finding,
    Hit,
    Problem,
    Rule,
    SkillEvidence,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class AnalysisOptions:
    target_python: tuple[int, int] | None = None
    # Rule ids, rule-id prefixes ("PY0") or rule names; empty ``select`` means all.
    select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    # Re-raise a rule's exception instead of reporting it (tests).
    strict: bool = False


@dataclass(frozen=True)
class Analysis:
    findings: tuple[Finding, ...]
    evidence: tuple[SkillEvidence, ...]
    problems: tuple[Problem, ...]
    error_ranges: tuple[tuple[int, int], ...] = ()


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


def _query_text(spec: LanguageSpec, name: str) -> str:
    return resources.files(spec.package).joinpath("queries", name).read_text("utf-8")


@cache
def rule_set(spec: LanguageSpec) -> RuleSet:
    grammar = parsing.language(spec.grammar)
    rules, detectors = _discover(spec)
    owners: list[Rule | Detector] = []
    texts: list[str] = []
    seen_ids: set[str] = set()
    every: list[Rule | Detector] = [*rules, *detectors]
    for owner in every:
        if owner.id in seen_ids:
            raise ValueError(f"duplicate rule or detector id {owner.id}")
        seen_ids.add(owner.id)
        text = _query_text(spec, owner.query)
        try:
            count = parsing.pattern_count(parsing.compile_query(grammar, text))
        except parsing.QueryError as exc:
            raise ValueError(f"{owner.id}: invalid query {owner.query}: {exc}") from exc
        owners.extend([owner] * count)
        texts.append(text)
    query = parsing.compile_query(grammar, "\n".join(texts))
    if parsing.pattern_count(query) != len(owners):
        raise ValueError("combined query lost patterns; check for unbalanced parentheses")
    return RuleSet(spec, grammar, query, tuple(owners), tuple(rules), tuple(detectors))


def rule_selected(rule: Rule, select: Sequence[str], ignore: Sequence[str]) -> bool:
    def hit(keys: Sequence[str]) -> bool:
        return any(rule.id.startswith(k) or rule.name == k for k in keys)

    return (not select or hit(select)) and not hit(ignore)


def valid_utf8(source: bytes) -> bytes:
    """``source`` with each invalid UTF-8 byte replaced by ``?``, keeping every offset.

    The binding decodes node text as UTF-8 for query predicates and raises on invalid bytes;
    a same-length substitute keeps spans, rows and columns identical to the original.
    """
    try:
        source.decode("utf-8")
        return source
    except UnicodeDecodeError:
        pass
    fixed = bytearray(source)
    position = 0
    while True:
        try:
            bytes(fixed[position:]).decode("utf-8")
            return bytes(fixed)
        except UnicodeDecodeError as exc:
            start, end = position + exc.start, position + exc.end
            fixed[start:end] = b"?" * (end - start)
            position = end


def analyze(source: bytes, spec: LanguageSpec, options: AnalysisOptions) -> Analysis:
    rules = rule_set(spec)
    source = valid_utf8(source)
    tree = parsing.parse(parsing.new_parser(rules.grammar), source)
    return analyze_tree(tree, source, spec, options)


def analyze_tree(
    tree: parsing.Tree, source: bytes, spec: LanguageSpec, options: AnalysisOptions
) -> Analysis:
    """Analyse an already parsed tree (the language server re-parses incrementally)."""
    rules = rule_set(spec)
    source = valid_utf8(source)
    root = tree.root_node
    errors = parsing.error_ranges(root)
    active = {
        id(r)
        for r in rules.rules
        if r.applies_to(options.target_python) and rule_selected(r, options.select, options.ignore)
    }
    context = FileContext(source=source, root=root, target_python=options.target_python)
    findings: dict[tuple[str, int, int], Finding] = {}
    evidence: dict[tuple[str, int, int], SkillEvidence] = {}
    problems: list[Problem] = []
    failed: set[str] = set()

    for index, captures in parsing.matches(rules.query, root):
        owner = rules.owners[index]
        if owner.id in failed:
            continue
        is_rule = isinstance(owner, Rule)
        if is_rule and id(owner) not in active:
            continue
        anchor = "finding" if is_rule else "evidence"
        if anchor not in captures:
            continue
        match = Match(captures, context)
        try:
            if owner.check is None:
                hit: Hit | None = Hit(span_of(captures[anchor][0]))
            else:
                hit = owner.check(match)
        except Exception as exc:
            if options.strict:
                raise
            failed.add(owner.id)
            log.warning("rule %s failed and was skipped: %r", owner.id, exc)
            problems.append(Problem(f"rule {owner.id} failed: {exc!r}", rule_id=owner.id))
            continue
        if hit is None or any(hit.span.overlaps(a, b) for a, b in errors):
            continue
        key = (owner.id, hit.span.start_byte, hit.span.end_byte)
        if isinstance(owner, Rule):
            findings.setdefault(
                key,
                Finding(
                    rule_id=owner.id,
                    span=hit.span,
                    message=hit.message or owner.message,
                    severity=owner.severity,
                    skill_id=owner.skill_id,
                    lesson_id=owner.lesson_id,
                    fix=hit.fix,
                ),
            )
        else:
            evidence.setdefault(
                key, SkillEvidence(owner.id, owner.skill_id, hit.span, owner.positive)
            )

    ordered = sorted(findings.values(), key=lambda f: (f.span.start_byte, f.rule_id))
    ordered_evidence = sorted(evidence.values(), key=lambda e: (e.span.start_byte, e.detector_id))
    return Analysis(tuple(ordered), tuple(ordered_evidence), tuple(problems), tuple(errors))
