"""Runs every rule and detector of a language over one tree, in a single query walk.

All patterns of a language live in one compiled query; a match is dispatched to its owner by
pattern index. One ``QueryCursor`` pass per rule cost about half a parse each on the standard
library, so one pass for all of them is what keeps analysis near the cost of parsing. The
editor asks for a part at a time (``Part``): the rules' findings, then the detectors' evidence.
"""

from __future__ import annotations

import logging
from bisect import bisect_right
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, TypeVar

from lessonlens.analyzers import parsing
from lessonlens.analyzers.languages import LanguageSpec, Piece, ScopedFingerprint, mention_of
from lessonlens.analyzers.match import FileContext, Match, span_of
from lessonlens.analyzers.model import (
    Detector,
    Finding,
    Hit,
    Problem,
    Rule,
    SkillEvidence,
    Span,
    TextEdit,
)
from lessonlens.analyzers.rulesets import Part as Part
from lessonlens.analyzers.rulesets import RuleSet as RuleSet
from lessonlens.analyzers.rulesets import rule_set as rule_set
from lessonlens.analyzers.rulesets import walk_query as _walk_query

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class AnalysisOptions:
    # The file's language options by key (``target-python``: see ``LanguageSpec.options``):
    # rules read them through their language's helpers, the core never does.
    language_options: Mapping[str, Any] = field(default_factory=dict)
    # Rule ids, rule-id prefixes ("PY0") or rule names; empty ``select`` means all.
    select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    # Re-raise a rule's exception instead of reporting it (tests).
    strict: bool = False
    # The file is test code (``languages.is_test_path``): performance rules stay silent.
    test_code: bool = False


@dataclass(frozen=True)
class Analysis:
    findings: tuple[Finding, ...]
    evidence: tuple[SkillEvidence, ...]
    problems: tuple[Problem, ...]
    error_ranges: tuple[tuple[int, int], ...] = ()


# ``select`` entry meaning every rule, the opt-in ones too: what ``check`` analyses and caches,
# selecting afterwards.
EVERY_RULE = "*"


def rule_selected(rule: Rule, select: Sequence[str], ignore: Sequence[str]) -> bool:
    """The one selection policy: ids, id prefixes ("PY0") or names, in any case; ``ignore`` wins.

    An empty ``select`` means the default rules. An opt-in rule runs only when ``select``
    names it exactly (its id or name), or holds ``EVERY_RULE``.
    """

    def hit(keys: Sequence[str]) -> bool:
        return any(
            k == EVERY_RULE or rule.id.startswith(k.upper()) or rule.name == k.lower() for k in keys
        )

    if hit(ignore) and EVERY_RULE not in ignore:
        return False
    if rule.opt_in:
        named = {k.upper() for k in select} | {k.lower() for k in select}
        return bool(named & {EVERY_RULE, rule.id, rule.name})
    return not select or hit(select)


_ACTIVE: dict[tuple[object, ...], frozenset[int]] = {}


def _active(rules: RuleSet, options: AnalysisOptions) -> frozenset[int]:
    """The ids of the rules that run under ``options``: the same for every file of a check.

    Computed once per selection and language options (rule sets live as long as the process),
    not once per file.
    """
    try:
        key: tuple[object, ...] = (
            id(rules),
            options.select,
            options.ignore,
            frozenset(options.language_options.items()),
        )
        found = _ACTIVE.get(key)
    except TypeError:  # an option value that cannot be hashed: compute it each time
        key, found = (), None
    if found is None:
        found = frozenset(
            id(r)
            for r in rules.rules
            if r.applies_to(options.language_options)
            and rule_selected(r, options.select, options.ignore)
        )
        if key and len(_ACTIVE) < 256:
            _ACTIVE[key] = found
    return found


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
    tree: parsing.Tree,
    source: bytes,
    spec: LanguageSpec,
    options: AnalysisOptions,
    cache: UnitCache | None = None,
    part: Part = "all",
) -> Analysis:
    """Analyse an already parsed tree (the language server re-parses incrementally).

    With a ``cache`` (one per open document and ``part``), top-level units whose bytes and file
    fingerprint are unchanged since the last call reuse their findings, and the query walks
    only the rest. The result is the same as without a cache; only the cost differs. ``part``
    "findings" walks the rules only (no evidence), "evidence" the detectors only (no findings).
    """
    rules = rule_set(spec)
    source = valid_utf8(source)
    root = tree.root_node
    errors = parsing.error_ranges(root)
    walk = _Walk(rules, source, root, options, errors, part)
    if cache is None or spec.fingerprint is None or spec.pieces is None:
        walk.run(root, None)
        return walk.result()
    return cache.analyse(walk, spec)


_T = TypeVar("_T", Finding, SkillEvidence)


class _Walk:
    """One pass of a combined query (``part``'s), over the whole tree or byte ranges of it."""

    def __init__(
        self,
        rules: RuleSet,
        source: bytes,
        root: parsing.Node,
        options: AnalysisOptions,
        errors: list[tuple[int, int]],
        part: Part = "all",
    ) -> None:
        self.rules = rules
        self.source = source
        self.root = root
        self.options = options
        self.errors = errors
        self.part = part
        self.active = set(_active(rules, options))
        test_source = rules.language.test_source
        test_code = options.test_code or (test_source is not None and test_source(root, source))
        if test_code:
            self.active -= {id(r) for r in rules.rules if r.quiet_in_tests}
        # Test code is walked without the patterns of rules that never speak there.
        self.query, self.owners = _walk_query(rules, part=part, test_code=test_code)
        self.context = FileContext(
            source=source,
            root=root,
            options=options.language_options,
            test_code=test_code,
        )
        self.findings: dict[tuple[str, int, int], Finding] = {}
        self.evidence: dict[tuple[str, int, int], SkillEvidence] = {}
        self.problems: list[Problem] = []
        self.failed: set[str] = set()

    def run(self, node: parsing.Node, ranges: Sequence[tuple[int, int]] | None) -> None:
        """Walk ``node``; with ``ranges`` (sorted byte ranges), keep only hits starting in one.

        One cursor walks from the first range's start to the last one's end: a cursor's byte
        range costs a scan of the siblings before it, so one walk per range over thousands of
        top-level definitions would be quadratic.
        """
        options, errors = self.options, self.errors
        byte_range = (ranges[0][0], ranges[-1][1]) if ranges else None
        starts = [r[0] for r in ranges] if ranges else []
        for index, captures in parsing.matches(self.query, node, byte_range):
            owner = self.owners[index]
            if owner.id in self.failed:
                continue
            is_rule = isinstance(owner, Rule)
            if is_rule and id(owner) not in self.active:
                continue
            anchor = "finding" if is_rule else "evidence"
            if anchor not in captures:
                continue
            match = Match(captures, self.context)
            try:
                if owner.check is None:
                    hit: Hit | None = Hit(span_of(captures[anchor][0]))
                else:
                    hit = owner.check(match)
            except Exception as exc:
                if options.strict:
                    raise
                self.failed.add(owner.id)
                log.warning("rule %s failed and was skipped: %r", owner.id, exc)
                self.problems.append(Problem(f"rule {owner.id} failed: {exc!r}", rule_id=owner.id))
                continue
            if hit is None or any(hit.span.overlaps(a, b) for a, b in errors):
                continue
            if is_rule and self._suppressed(owner, hit.span.start_byte):
                continue
            if ranges and not _starts_inside(ranges, starts, hit.span.start_byte):
                continue
            key = (owner.id, hit.span.start_byte, hit.span.end_byte)
            if isinstance(owner, Rule):
                self.findings.setdefault(
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
                self.evidence.setdefault(
                    key, SkillEvidence(owner.id, owner.skill_id, hit.span, owner.positive)
                )

    def _suppressed(self, rule: Rule | Detector, start: int) -> bool:
        suppressed = self.rules.language.suppressed
        if suppressed is None or not isinstance(rule, Rule):
            return False
        line_start = self.source.rfind(b"\n", 0, start) + 1
        line_end = self.source.find(b"\n", start)
        line = self.source[line_start : line_end if line_end >= 0 else len(self.source)]
        previous = b""
        if line_start > 0:
            previous = self.source[self.source.rfind(b"\n", 0, line_start - 1) + 1 : line_start - 1]
        return suppressed(line, previous, (rule.id, rule.name, *rule.noqa_codes))

    def result(self) -> Analysis:
        findings = sorted(self.findings.values(), key=lambda f: (f.span.start_byte, f.rule_id))
        evidence = sorted(self.evidence.values(), key=lambda e: (e.span.start_byte, e.detector_id))
        return Analysis(tuple(findings), tuple(evidence), tuple(self.problems), tuple(self.errors))


def _shift_span(span: Span, rows: int, offset: int) -> Span:
    return Span(
        span.start_row + rows,
        span.start_col,
        span.end_row + rows,
        span.end_col,
        span.start_byte + offset,
        span.end_byte + offset,
    )


def _shift_finding(finding: Finding, rows: int, offset: int) -> Finding:
    # Built directly, not with dataclasses.replace: a large file shifts thousands per keystroke.
    fix = finding.fix
    if fix is not None:
        fix = replace(
            fix,
            edits=tuple(TextEdit(_shift_span(e.span, rows, offset), e.new_text) for e in fix.edits),
        )
    return Finding(
        finding.rule_id,
        _shift_span(finding.span, rows, offset),
        finding.message,
        finding.severity,
        finding.skill_id,
        finding.lesson_id,
        fix,
    )


def _shift_evidence(item: SkillEvidence, rows: int, offset: int) -> SkillEvidence:
    return SkillEvidence(
        item.detector_id, item.skill_id, _shift_span(item.span, rows, offset), item.positive
    )


_UnitResult = tuple[tuple[Finding, ...], tuple[SkillEvidence, ...]]
_Piece = Piece  # start byte, end byte, start row, start column


def _outside(items: list[_T], errors: list[tuple[int, int]]) -> list[_T]:
    return [i for i in items if not any(i.span.overlaps(a, b) for a, b in errors)]


def _shifted(result: _UnitResult, rows: int, offset: int) -> _UnitResult:
    if (rows == 0 and offset == 0) or not (result[0] or result[1]):
        return result  # most units hold nothing to move
    return (
        tuple(_shift_finding(f, rows, offset) for f in result[0]),
        tuple(_shift_evidence(e, rows, offset) for e in result[1]),
    )


@dataclass
class UnitCache:
    """Findings of one document's pieces, by content, so that typing re-walks little.

    The language splits a file into units and glue (``LanguageSpec.pieces``; for Python, top-level
    functions and the methods of top-level classes). Units depend only on their own bytes and on
    the file's fingerprint (for Python: which modules the file imports, the builtins it
    rebinds, and what each imported name means, which a unit reads only where it writes the
    name: see ``ScopedFingerprint``). The glue
    between them may depend on its neighbours, so it is cached as a whole: any change to it
    means one full walk. Results are stored relative to their piece's first byte and row; the
    start column is part of the key, so every column inside a piece is unchanged wherever it
    moves. Comments are in no piece: no rule reads them.
    """

    options: AnalysisOptions | None = None
    part: Part = "all"
    fingerprint: object = None
    glue_key: tuple[tuple[int, bytes], ...] | None = None
    glue: list[_UnitResult] | None = None
    units: dict[tuple[int, bytes], _UnitResult] = field(default_factory=dict)

    def analyse(self, walk: _Walk, spec: LanguageSpec) -> Analysis:
        assert spec.fingerprint is not None and spec.pieces is not None
        root, source, errors = walk.root, walk.source, walk.errors
        # Results are cached unfiltered and filtered against today's errors once, at the end,
        # so that a cached piece does not depend on where the errors were when it was cached.
        walk.errors = []
        fingerprint = spec.fingerprint(root, source)
        unit_pieces, glue_pieces = spec.pieces(root)
        glue_key = tuple(_key(source, p) for p in glue_pieces)
        broken = {p for p in unit_pieces if any(p[0] < b and a < p[1] for a, b in errors)}
        if walk.options != self.options or walk.part != self.part:
            self.units, self.glue = {}, None
        elif fingerprint != self.fingerprint:
            changed = (
                fingerprint.changed_names(self.fingerprint)
                if isinstance(fingerprint, ScopedFingerprint)
                else None
            )
            if changed is None:
                self.units = {}
            elif changed:
                # Only the units that write a name whose meaning changed can read it. (The
                # plain search first: it is many times faster than the whole-word one.)
                names = [name.encode() for name in changed]
                whole_words = isinstance(fingerprint, ScopedFingerprint) and fingerprint.whole_words
                mentions = mention_of(changed) if whole_words else None
                self.units = {
                    key: result
                    for key, result in self.units.items()
                    if not (
                        any(name in key[1] for name in names)
                        and (mentions is None or mentions.search(key[1]))
                    )
                }
            self.glue = None
        findings: list[Finding] = []
        evidence: list[SkillEvidence] = []
        fresh: list[_Piece] = []
        units: dict[tuple[int, bytes], _UnitResult] = {}
        for unit in unit_pieces:
            key = _key(source, unit)
            cached = None if unit in broken else self.units.get(key)
            if cached is None:
                fresh.append(unit)
            else:
                units[key] = cached
                moved = _shifted(cached, unit[2], unit[0])
                findings.extend(moved[0])
                evidence.extend(moved[1])
        reuse_glue = self.glue is not None and glue_key == self.glue_key
        runs = _runs([*unit_pieces, *glue_pieces], {*fresh, *([] if reuse_glue else glue_pieces)})
        if len(runs) <= MAX_SEPARATE_WALKS:
            for run in runs:
                walk.run(root, [run])
        elif runs:
            walk.run(root, runs)
        walked = walk.result()
        findings.extend(walked.findings)
        evidence.extend(walked.evidence)
        buckets, homeless = _buckets(walked, [*fresh, *([] if reuse_glue else glue_pieces)])
        for unit in fresh:
            # A fix that edits outside its unit (Go's import block) depends on more than the
            # unit's bytes: such a unit is walked afresh every time, never cached.
            if unit not in broken and not _reaches_out(buckets[unit], unit):
                units[_key(source, unit)] = _relative(buckets[unit], unit)
        if reuse_glue:
            for piece, cached in zip(glue_pieces, self.glue or [], strict=True):
                moved = _shifted(cached, piece[2], piece[0])
                findings.extend(moved[0])
                evidence.extend(moved[1])
        else:
            # A glue item that reaches into a broken unit could change when the unit is
            # repaired, an item outside every piece cannot be placed, and a fix that edits
            # outside its piece (Go's import block, from code a broken header left at top
            # level) would move with the piece, not with what it edits: then the glue is not
            # kept, and is walked again next time.
            glue_spans = [f.span for piece in glue_pieces for f in buckets[piece][0]]
            glue_spans.extend(e.span for piece in glue_pieces for e in buckets[piece][1])
            reaches_broken = any(s.overlaps(p[0], p[1]) for s in glue_spans for p in broken)
            reaches_out = any(_reaches_out(buckets[piece], piece) for piece in glue_pieces)
            keep = not (homeless or reaches_broken or reaches_out or walked.problems)
            self.glue = [_relative(buckets[p], p) for p in glue_pieces] if keep else None
            self.glue_key = glue_key
        self.units = {} if walked.problems else units
        self.fingerprint, self.options, self.part = fingerprint, walk.options, walk.part
        return Analysis(
            tuple(sorted(_outside(findings, errors), key=lambda f: (f.span.start_byte, f.rule_id))),
            tuple(
                sorted(_outside(evidence, errors), key=lambda e: (e.span.start_byte, e.detector_id))
            ),
            walked.problems,
            tuple(errors),
        )


def _key(source: bytes, piece: _Piece) -> tuple[int, bytes]:
    """What a piece's findings depend on in the file: its lines, and the line before them.

    A suppression comment (``# noqa``, ``// eslint-disable-line``) is read from a finding's
    line and the line before it, which may reach past the piece: a comment after a top-level
    statement belongs to no piece.
    """
    start, end = piece[0], piece[1]
    line_start = source.rfind(b"\n", 0, start) + 1
    before = source.rfind(b"\n", 0, line_start - 1) + 1 if line_start else 0
    line_end = source.find(b"\n", end)
    return piece[3], source[before : len(source) if line_end == -1 else line_end]


# Above this many runs of pieces to walk (the first analysis of a file, a change to the file's
# fingerprint), one walk from the first to the last costs less than a walk per run: each
# ranged walk first scans past the top-level nodes before its range.
MAX_SEPARATE_WALKS = 32


def _runs(pieces: list[_Piece], walked: set[_Piece]) -> list[tuple[int, int]]:
    """Byte ranges covering the ``walked`` pieces, merged wherever no other piece lies between."""
    runs: list[tuple[int, int]] = []
    previous_walked = False
    for piece in sorted(pieces):
        is_walked = piece in walked
        if is_walked and previous_walked:
            runs[-1] = (runs[-1][0], piece[1])
        elif is_walked:
            runs.append((piece[0], piece[1]))
        previous_walked = is_walked
    return runs


def _reaches_out(bucket: _Bucket, piece: _Piece) -> bool:
    """Whether a finding's fix in ``bucket`` edits bytes outside ``piece``."""
    return any(
        edit.span.start_byte < piece[0] or edit.span.end_byte > piece[1]
        for finding in bucket[0]
        if finding.fix is not None
        for edit in finding.fix.edits
    )


def _starts_inside(ranges: Sequence[tuple[int, int]], starts: list[int], offset: int) -> bool:
    index = bisect_right(starts, offset) - 1
    return index >= 0 and offset < ranges[index][1]


_Bucket = tuple[list[Finding], list[SkillEvidence]]


def _buckets(analysis: Analysis, pieces: list[_Piece]) -> tuple[dict[_Piece, _Bucket], bool]:
    """Each item of ``analysis`` in the piece where it starts; and whether one had no piece."""
    ordered = sorted(pieces)
    starts = [p[0] for p in ordered]
    buckets: dict[_Piece, _Bucket] = {p: ([], []) for p in ordered}

    def owner(start_byte: int) -> _Bucket | None:
        index = bisect_right(starts, start_byte) - 1
        if index < 0 or start_byte >= ordered[index][1]:
            return None
        return buckets[ordered[index]]

    homeless = False
    for finding in analysis.findings:
        bucket = owner(finding.span.start_byte)
        if bucket is None:
            homeless = True
        else:
            bucket[0].append(finding)
    for item in analysis.evidence:
        bucket = owner(item.span.start_byte)
        if bucket is None:
            homeless = True
        else:
            bucket[1].append(item)
    return buckets, homeless


def _relative(bucket: _Bucket, piece: _Piece) -> _UnitResult:
    return _shifted((tuple(bucket[0]), tuple(bucket[1])), -piece[2], -piece[0])
