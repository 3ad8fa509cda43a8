"""``check --fix``: apply the findings' fixes to files on disk, safe ones unless asked otherwise.

The loop is Ruff's: analyse, take every applicable fix whose edits do not overlap an edit
already taken, apply them (last first, so that earlier byte offsets stay valid), analyse again,
and repeat until nothing applies or ``MAX_PASSES`` is reached; a fix left out for overlapping
is picked up by a later pass, against the rewritten code.

Traps this module exists to handle:

- edits are byte spans into the bytes *as analysed*; a file whose analysed bytes differ from the
  bytes on disk (a BOM, another encoding, replacement characters: ``Source.transformed``) has no
  fixes at all, and the bytes written are the analysed bytes with the edits, never re-encoded;
- a pass that leaves new ERROR or MISSING nodes means a fix broke the code: the file is left
  exactly as it was and the report says so;
- with ``--diff REV`` the changed lines move as fixes add or remove lines: they are carried
  through each pass's edits, and the rewritten code counts as changed;
- the file is replaced atomically (a temporary file in the same folder, then ``os.replace``),
  keeps its permission bits, and is not written if it changed on disk meanwhile.
"""

from __future__ import annotations

import difflib
import os
import stat
import tempfile
from bisect import bisect_right
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from lessonlens.analyzers import Analysis, Finding, Fix, Problem, language_for_path
from lessonlens.analyzers.facade import Skipped, Source, analyse, prepare
from lessonlens.analyzers.languages import LanguageSpec
from lessonlens.server.check.run import (
    CheckOptions,
    CheckReport,
    FileReport,
    Reported,
    drop_skills,
    file_options,
    file_report,
    keep_changed,
)
from lessonlens.server.workspace.sources import read_source

# Ruff stops after 100 iterations; a handful is what real overlaps need, and each pass costs a
# full analysis of the file.
MAX_PASSES = 10


@dataclass(frozen=True)
class AppliedFix:
    """One fix applied: its rule, title, safety and line.

    The line (1-based) is in the file as the pass that applied the fix read it: the original
    file for the first pass.
    """

    rule_id: str
    line: int
    title: str
    safe: bool


@dataclass(frozen=True)
class FileFixes:
    """What fixing did, or would do, to one file."""

    path: Path
    display: str
    original: bytes
    fixed: bytes
    applied: tuple[AppliedFix, ...]
    # The report of the file as it stands after fixing (or as it was, when fixing failed).
    remaining: FileReport
    # Why the file was left untouched, when it was despite applicable fixes.
    problem: str | None = None

    @property
    def changed(self) -> bool:
        return self.problem is None and self.fixed != self.original


@dataclass
class FixRun:
    """Fixes over a whole check, and whether they were written or only previewed."""

    files: list[FileFixes]
    unsafe: bool
    written: bool

    @property
    def applied(self) -> list[tuple[FileFixes, AppliedFix]]:
        return [(f, fix) for f in self.files if f.changed for fix in f.applied]


def applicable(finding: Finding, unsafe: bool) -> bool:
    """Whether ``--fix`` (with ``unsafe``: ``--fix --unsafe-fixes``) would apply its fix."""
    fix = finding.fix
    return fix is not None and bool(fix.edits) and (fix.safe or unsafe)


# ---------------------------------------------------------------------------- one file


def fix_file(
    path: Path,
    display: str,
    options: CheckOptions,
    *,
    unsafe: bool = False,
    silenced: frozenset[str] = frozenset(),
    changed: set[int] | None = None,
) -> FileFixes | None:
    """Fix one file in memory, pass after pass; nothing is written here (see ``write``).

    The findings considered are those ``check`` would report: selected rules, minus silenced
    skills, and with ``changed`` (1-based lines, ``-1`` for the whole file; ``None`` without
    ``--diff``) only those on changed lines. ``None`` when the file cannot carry fixes (unknown
    language, skipped, or its analysed bytes are not its bytes on disk).
    """
    spec = language_for_path(path)
    if spec is None:
        return None
    read = read_source(path, options.max_file_size, spec)
    if isinstance(read, Skipped) or read.transformed:
        return None
    lines = None if changed is None or -1 in changed else set(changed)
    analysed = file_options(options, path)
    analysis = analyse(read.data, spec, analysed).analysis

    def report(source: Source, analysis: Analysis, lines: set[int] | None) -> FileReport:
        found = drop_skills(
            file_report(path, display, source, analysis, options.selection), silenced
        )
        return found if changed is None else keep_changed(found, {-1} if lines is None else lines)

    first = report(read, analysis, lines)
    source, current = read, first
    applied: list[AppliedFix] = []
    for _ in range(MAX_PASSES):
        chosen = _choose(current.findings, unsafe, len(source.data))
        if not chosen:
            break
        edits = sorted(
            (e.span.start_byte, e.span.end_byte, e.new_text.encode("utf-8"))
            for _, fix in chosen
            for e in fix.edits
        )
        data = _apply(source.data, edits)
        if data == source.data:
            break
        after = analyse(data, spec, analysed).analysis
        why = None
        if _new_errors(source.data, analysis, data, after):
            why = "they would leave code that does not parse"
        elif not _reads_back(data, spec):
            why = "the file's declared encoding cannot hold the new text"
        if why is not None:
            names = ", ".join(sorted({r.finding.rule_id for r, _ in chosen}))
            problem = f"fixes not applied: {why} ({names}); file left untouched"
            remaining = replace(first, problems=(*first.problems, Problem(problem)))
            return FileFixes(path, display, read.data, read.data, (), remaining, problem)
        applied.extend(
            AppliedFix(r.finding.rule_id, r.location.line, fix.title, fix.safe)
            for r, fix in sorted(chosen, key=lambda pair: pair[0].finding.span.start_byte)
        )
        if lines is not None:
            lines = _carry_lines(lines, source.data, data, edits)
        source, analysis = Source(data), after
        current = report(source, analysis, lines)
    return FileFixes(path, display, read.data, source.data, tuple(applied), current)


def _clash(a: tuple[int, int], b: tuple[int, int]) -> bool:
    # Two edits at one position (an insertion and another edit there) have no defined order.
    return (a[0] < b[1] and b[0] < a[1]) or a[0] == b[0]


def _choose(found: Sequence[Reported], unsafe: bool, size: int) -> list[tuple[Reported, Fix]]:
    """Fixes to apply in one pass: in source order, each unless it overlaps one already taken."""
    candidates = [
        (reported, reported.finding.fix)
        for reported in found
        if reported.finding.fix is not None and applicable(reported.finding, unsafe)
    ]
    candidates.sort(
        key=lambda pair: (min(e.span.start_byte for e in pair[1].edits), pair[0].finding.rule_id)
    )
    taken: list[tuple[int, int]] = []
    chosen: list[tuple[Reported, Fix]] = []
    for reported, fix in candidates:
        spans = [(e.span.start_byte, e.span.end_byte) for e in fix.edits]
        if any(not 0 <= start <= end <= size for start, end in spans):
            continue
        inner = any(_clash(a, b) for i, a in enumerate(spans) for b in spans[i + 1 :])
        if inner or any(_clash(a, b) for a in spans for b in taken):
            continue
        chosen.append((reported, fix))
        taken.extend(spans)
    return chosen


def _apply(data: bytes, edits: Sequence[tuple[int, int, bytes]]) -> bytes:
    """Apply non-overlapping byte edits (sorted by start), last first."""
    for start, end, text in reversed(edits):
        data = data[:start] + text + data[end:]
    return data


def _reads_back(data: bytes, spec: LanguageSpec) -> bool:
    """Whether the file, read as ``check`` reads it (its language's decoding), gives these bytes.

    A Python file that declares latin-1 (a PEP 263 cookie) but holds only ASCII is analysed as
    its own bytes; a fix that brought in a non-ASCII character would turn it into something else.
    """
    read = prepare(data, spec)
    return isinstance(read, Source) and read.notice is None and not read.transformed


def _error_texts(data: bytes, analysis: Analysis) -> Counter[bytes]:
    return Counter(data[start:end] for start, end in analysis.error_ranges)


def _new_errors(before: bytes, old: Analysis, after: bytes, new: Analysis) -> bool:
    """Whether the rewrite holds an ERROR or MISSING node the code did not have.

    Offsets move with the edits, so errors are compared by their text: a file that already had
    a syntax error elsewhere can still be fixed, as long as no new one appears.
    """
    return bool(_error_texts(after, new) - _error_texts(before, old))


def _line_starts(data: bytes) -> list[int]:
    starts = [0]
    position = data.find(b"\n")
    while position != -1:
        starts.append(position + 1)
        position = data.find(b"\n", position + 1)
    return starts


def _carry_lines(
    lines: set[int], old: bytes, new: bytes, edits: Sequence[tuple[int, int, bytes]]
) -> set[int]:
    """Changed lines (1-based) of ``old``, as lines of ``new``; rewritten code counts as changed.

    Tree-sitter, and so ``Location.line``, counts rows by newlines only, as this does.
    """
    old_starts, new_starts = _line_starts(old), _line_starts(new)

    def moved(offset: int) -> int:
        delta = 0
        for start, end, text in edits:
            if offset < start:
                break
            if offset < end:
                return start + delta
            delta += len(text) - (end - start)
        return offset + delta

    def line_of(offset: int) -> int:
        return bisect_right(new_starts, offset)

    carried: set[int] = set()
    for line in lines:
        if not 1 <= line <= len(old_starts):
            continue
        start = old_starts[line - 1]
        end = old_starts[line] - 1 if line < len(old_starts) else len(old)
        carried.update(range(line_of(moved(start)), line_of(moved(max(start, end))) + 1))
    delta = 0
    for start, end, text in edits:
        begin = start + delta
        carried.update(range(line_of(begin), line_of(begin + max(len(text) - 1, 0)) + 1))
        delta += len(text) - (end - start)
    return carried


# ---------------------------------------------------------------------------- writing


def write(fixes: FileFixes) -> str | None:
    """Replace the file with its fixed bytes, atomically; the reason when it could not.

    A symbolic link is followed, so the link stays a link. A file that changed on disk since it
    was read is left alone: writing would lose that change.
    """
    target = Path(os.path.realpath(fixes.path))
    try:
        if target.read_bytes() != fixes.original:
            return "changed on disk while being fixed; left untouched"
        mode = stat.S_IMODE(target.stat().st_mode)
        handle, temporary = tempfile.mkstemp(
            prefix=f".{target.name}.", suffix=".lessonlens", dir=target.parent
        )
        try:
            with os.fdopen(handle, "wb") as out:
                out.write(fixes.fixed)
                out.flush()
                os.fsync(out.fileno())
            os.chmod(temporary, mode)
            os.replace(temporary, target)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
    except OSError as exc:
        return f"fixes not written: {exc.strerror or exc}; file left untouched"
    return None


# ---------------------------------------------------------------------------- a whole check


def fix_report(
    report: CheckReport,
    options: CheckOptions,
    *,
    unsafe: bool,
    write_files: bool,
    silenced: frozenset[str] = frozenset(),
    changed: dict[Path, set[int]] | None = None,
) -> FixRun:
    """Fix every file of ``report`` that has an applicable fix; its entry becomes what remains.

    Without ``write_files`` nothing is written (``--fix-diff``), and the report describes the
    files as they would be.
    """
    run = FixRun([], unsafe=unsafe, written=write_files)
    for index, file in enumerate(report.files):
        if file.source_path is None or not any(
            applicable(r.finding, unsafe) for r in file.findings
        ):
            continue
        lines = None if changed is None else changed.get(file.source_path.resolve(), set())
        fixes = fix_file(
            file.source_path,
            file.path,
            options,
            unsafe=unsafe,
            silenced=silenced,
            changed=lines,
        )
        if fixes is None:
            continue
        if write_files and fixes.changed:
            problem = write(fixes)
            if problem is not None:
                original = replace(file, problems=(*file.problems, Problem(problem)))
                fixes = replace(fixes, fixed=fixes.original, remaining=original, problem=problem)
        run.files.append(fixes)
        report.files[index] = fixes.remaining
    return run


def unified_diff(fixes: Iterable[FileFixes]) -> str:
    """A unified diff of every changed file, ``a/`` and ``b/`` prefixed as ``git apply`` reads."""
    out: list[str] = []
    for item in fixes:
        if not item.changed:
            continue
        name = item.display if Path(item.display).is_absolute() else None
        before = _text_lines(item.original)
        after = _text_lines(item.fixed)
        for line in difflib.unified_diff(
            before, after, name or f"a/{item.display}", name or f"b/{item.display}"
        ):
            out.append(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n")
    return "".join(out)


def _text_lines(data: bytes) -> list[str]:
    # Split on "\n" only: str.splitlines would also split on form feeds and U+2028, which are
    # not line ends to Python, git or patch.
    text = data.decode("utf-8", "surrogateescape")
    lines = text.split("\n")
    return [line + "\n" for line in lines[:-1]] + ([lines[-1]] if lines[-1] else [])


def summary(run: FixRun, report: CheckReport) -> str:
    """What was fixed, per file, and what was not: unsafe fixes left, files left untouched."""
    verb = "Fixed" if run.written else "Would fix"
    lines: list[str] = []
    applied = run.applied
    files = len({id(f) for f, _ in applied})
    if applied:
        lines.append(
            f"{verb} {len(applied)} hint{'s' if len(applied) != 1 else ''} in "
            f"{files} file{'s' if files != 1 else ''}:"
        )
        for file, fix in applied:
            safety = "" if fix.safe else " (unsafe)"
            lines.append(f"  {file.display}:{fix.line}: {fix.rule_id} {fix.title}{safety}")
    else:
        lines.append("No fixes to apply." if run.written else "No fixes would apply.")
    for file in run.files:
        if file.problem is not None:
            lines.append(f"  {file.display}: {file.problem}")
    left = [
        (where, reported, reported.finding.fix)
        for where, reported in report.findings
        if reported.finding.fix is not None and not reported.finding.fix.safe and not run.unsafe
    ]
    if left:
        lines.append(
            f"Not applied: {len(left)} unsafe fix{'es' if len(left) != 1 else ''} "
            "(they may change behaviour; `--unsafe-fixes` applies them):"
        )
        for where, reported, unsafe in left:
            lines.append(
                f"  {where.path}:{reported.location.line}: {reported.finding.rule_id} "
                f"{unsafe.title} (unsafe: {unsafe.reason})"
            )
    # Files left untouched said why above; what remains elsewhere overlapped another fix in
    # every pass, or did not apply cleanly.
    untouched = {id(f.remaining) for f in run.files if f.problem is not None}
    pending = [
        (file, reported)
        for file, reported in report.findings
        if applicable(reported.finding, run.unsafe) and id(file) not in untouched
    ]
    if pending:
        lines.append(
            f"Not applied: {len(pending)} fix{'es' if len(pending) != 1 else ''} still "
            f"overlapping another fix after {MAX_PASSES} passes; `--fix` again may apply "
            f"{'them' if len(pending) != 1 else 'it'}."
        )
    return "\n".join(lines) + "\n"
