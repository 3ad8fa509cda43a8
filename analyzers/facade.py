"""The one analysis path: a file's bytes in; findings, evidence, code units and problems out.

Every driver reads, parses, analyses and selects through here: `check` (and `check --fix`), the
editor session, `baseline`, the related-lesson engine and the model's training tooling. None of
them calls the engine or the parser on its own, so they cannot drift apart
(tests/test_architecture.py).

- `prepare` turns bytes as found (a file, a git blob) into the UTF-8 text that is analysed, by
  the file's language (`LanguageSpec.decode`), or says why it cannot be (binary).
- `analyse` runs every rule, the opt-in ones too, so one result serves every selection: `check`
  caches it by content, the editor keeps it per document. Given the document's last tree and its
  `UnitCache`, it re-parses incrementally and re-walks only what changed (the editor's path);
  without them it parses afresh. The result is the same either way.
- `Selection` is the one selection policy, with Ruff's semantics over layers (the project's
  config, then the command line or the editor's settings): a layer's `select` starts afresh,
  dropping what earlier layers selected and ignored; its `ignore` adds. `Analysed.selected`
  applies it.
- `code_units` are what the model reads (functions, methods, classes), from the same tree.

No I/O happens here: callers hand in bytes.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass, replace

from lessonlens.analyzers import parsing
from lessonlens.analyzers.engine import (
    EVERY_RULE,
    Analysis,
    AnalysisOptions,
    Part,
    UnitCache,
    analyze_tree,
    rule_selected,
    valid_utf8,
)
from lessonlens.analyzers.languages import LanguageSpec, languages
from lessonlens.analyzers.model import CodeUnit, Finding, Rule
from lessonlens.analyzers.rulesets import rules_of

# Bytes looked at for a NUL to call a file binary (as git does).
BINARY_SNIFF = 8192


@dataclass(frozen=True)
class Source:
    """Text ready for analysis: UTF-8 bytes, whatever the file's own encoding was."""

    data: bytes
    # A notice for the user when decoding needed replacement characters.
    notice: str | None = None
    # Whether ``data`` differs from the bytes as found (BOM dropped, re-encoded, replaced): then
    # byte offsets into ``data`` do not address the file, and fixes must not be offered.
    transformed: bool = False


@dataclass(frozen=True)
class Skipped:
    reason: str


def prepare(raw: bytes, spec: LanguageSpec, name: str = "") -> Source | Skipped:
    """``raw`` as UTF-8 text to analyse, decoded by its language, or why it is skipped.

    ``name`` is the file's name (its last path part), for languages whose generated files are
    known by name (``LanguageSpec.generated``).
    """
    if b"\x00" in raw[:BINARY_SNIFF]:
        return Skipped("skipped: binary file")
    if spec.generated is not None and spec.generated(name, raw):
        return Skipped("skipped: generated or minified file")
    text, notice = spec.decode(raw)
    if text.startswith("\ufeff"):
        text = text[1:]
    data = text.encode("utf-8", "surrogatepass")
    return Source(data, notice, transformed=data != raw)


@dataclass(frozen=True)
class Selection:
    """Which rules someone asked for: ids, id prefixes or names, in any case.

    Empty means the default rules; an opt-in rule runs only when named (``engine.rule_selected``).
    """

    select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()

    @classmethod
    def layered(cls, *layers: tuple[Sequence[str], Sequence[str]]) -> Selection:
        """(select, ignore) layers, the project's config first: Ruff's semantics.

        A layer that selects starts afresh, so an explicitly selected rule is never silently
        ignored by an earlier layer; a layer's ignore adds to what is ignored.
        """
        select: tuple[str, ...] = ()
        ignore: tuple[str, ...] = ()
        for chosen, ignored in layers:
            if chosen:
                select, ignore = tuple(chosen), ()
            ignore += tuple(ignored)
        return cls(select, ignore)

    def chooses(self, rule: Rule) -> bool:
        return rule_selected(rule, self.select, self.ignore)

    def keeps(self, finding: Finding) -> bool:
        rule = rules_by_id().get(finding.rule_id)
        return rule is not None and self.chooses(rule)


_RULES: dict[tuple[str, ...], dict[str, Rule]] = {}


def rules_by_id() -> dict[str, Rule]:
    """Every registered language's rules by id (a plugin registered later adds its own)."""
    specs = languages()
    key = tuple(spec.id for spec in specs)
    found = _RULES.get(key)
    if found is None:
        # Metadata only: selecting findings must not compile every language's query.
        found = _RULES[key] = {rule.id: rule for spec in specs for rule in rules_of(spec)}
    return found


@dataclass(frozen=True)
class Analysed:
    """A parsed and analysed file: every rule's findings, its evidence and problems."""

    spec: LanguageSpec
    data: bytes
    tree: parsing.Tree
    analysis: Analysis

    def findings(self, selection: Selection) -> tuple[Finding, ...]:
        return tuple(f for f in self.analysis.findings if selection.keeps(f))

    def selected(self, selection: Selection) -> Analysis:
        """The analysis with only the selected rules' findings (evidence and problems as is)."""
        return replace(self.analysis, findings=self.findings(selection))

    def narrowed(self, selection: Selection) -> Analysed:
        """The same file with only the selected rules' findings."""
        return replace(self, analysis=self.selected(selection))


def every_rule(options: AnalysisOptions) -> AnalysisOptions:
    """``options`` to analyse with: every rule, selection applied afterwards."""
    return replace(options, select=(EVERY_RULE,), ignore=())


_PARSERS = threading.local()


def parse(spec: LanguageSpec, data: bytes, previous: parsing.Tree | None = None) -> parsing.Tree:
    """``data`` parsed, incrementally from ``previous`` (a tree already edited) when given."""
    # Parsers are not thread-safe: one per thread and language.
    parsers: dict[str, parsing.Parser] | None = getattr(_PARSERS, "parsers", None)
    if parsers is None:
        parsers = _PARSERS.parsers = {}
    parser = parsers.get(spec.id)
    if parser is None:
        # The grammar only: parsing (a lesson's example, say) must not compile the rules' query.
        parser = parsers[spec.id] = parsing.new_parser(parsing.language(spec.grammar))
    return parsing.parse(parser, valid_utf8(data), previous)


def _common_prefix(a: bytes, b: bytes, limit: int) -> int:
    """The length of the longest common prefix of ``a`` and ``b``, at most ``limit``."""
    low, high = 0, limit
    while low < high:  # slice comparisons are memcmp: log n of them beats a byte loop
        middle = (low + high + 1) // 2
        if a[:middle] == b[:middle]:
            low = middle
        else:
            high = middle - 1
    return low


def _point(data: bytes, offset: int) -> tuple[int, int]:
    row = data.count(b"\n", 0, offset)
    return row, offset - (data.rfind(b"\n", 0, offset) + 1)


def edit_to(tree: parsing.Tree, old: bytes, new: bytes) -> parsing.Tree:
    """``tree`` (of ``old``) told how ``old`` became ``new``, as one edit.

    Both as parsed (``Analysed.data``: valid UTF-8). The edit is what differs between their
    common prefix and suffix. Parsing ``new`` from it
    re-parses only around the change (``baseline`` does so between versions of a file, as the
    editor does between keystrokes).
    """
    start = _common_prefix(old, new, min(len(old), len(new)))
    left = min(len(old), len(new)) - start
    low, high = 0, left
    while low < high:
        middle = (low + high + 1) // 2
        if old[len(old) - middle :] == new[len(new) - middle :]:
            low = middle
        else:
            high = middle - 1
    old_end, new_end = len(old) - low, len(new) - low
    points = _point(old, start), _point(old, old_end), _point(new, new_end)
    parsing.edit(tree, start, old_end, new_end, *points)
    return tree


def analyse(
    data: bytes,
    spec: LanguageSpec,
    options: AnalysisOptions,
    *,
    previous: parsing.Tree | None = None,
    units: UnitCache | None = None,
    part: Part = "all",
) -> Analysed:
    """Parse and analyse ``data`` with every rule (and detector: see ``part``).

    The editor passes the document's last tree (already ``edit``-ed) and its ``UnitCache``; the
    result is the one a fresh analysis gives, only cheaper. It asks for the "findings" first,
    and completes the evidence after showing them (``with_evidence``).
    """
    data = valid_utf8(data)
    tree = parse(spec, data, previous)
    analysis = analyze_tree(tree, data, spec, every_rule(options), units, part)
    return Analysed(spec, data, tree, analysis)


def with_evidence(
    analysed: Analysed, options: AnalysisOptions, *, units: UnitCache | None = None
) -> Analysed:
    """``analysed`` (its findings only) with its evidence: together, what "all" gives.

    ``analysed.tree`` must be as parsed: a tree the editor has edited since reads otherwise.
    """
    spec, data = analysed.spec, analysed.data
    evidence = analyze_tree(analysed.tree, data, spec, every_rule(options), units, "evidence")
    analysis = analysed.analysis
    return replace(
        analysed,
        analysis=replace(
            analysis,
            evidence=evidence.evidence,
            problems=(*analysis.problems, *evidence.problems),
        ),
    )


def code_units(analysed: Analysed) -> list[CodeUnit]:
    """The units the model reads, from the analysed tree; none for a language without them."""
    if analysed.spec.code_units is None:
        return []
    return analysed.spec.code_units(analysed.tree.root_node, valid_utf8(analysed.data))


def syntax_error(spec: LanguageSpec, code: str) -> tuple[int, str] | None:
    """The first syntax error in ``code`` as (1-based line, message), or None when it parses.

    For checking snippets (a lesson's examples) in the language's own grammar.
    """
    data = code.encode("utf-8", "replace")
    errors = parsing.error_ranges(parse(spec, data).root_node)
    if not errors:
        return None
    start = min(a for a, _ in errors)
    line = data.count(b"\n", 0, start) + 1
    text = data[start : start + 30].split(b"\n", 1)[0].decode("utf-8", "replace")
    return line, f"syntax error near {text!r}" if text.strip() else "syntax error"
