"""``lessonlens check``: find files, analyse them (in parallel, through a cache), filter, report.

The cache is keyed by a hash of the file's bytes, the analysis options and a fingerprint of the
rules themselves, so an unchanged tree is never parsed again and a changed rule invalidates it.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field, replace
from fnmatch import fnmatch
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import platformdirs

from lessonlens import __version__
from lessonlens.analyzers import Analysis, AnalysisOptions, Finding, Problem, language_for_path
from lessonlens.analyzers.facade import Selection, Skipped, Source, analyse
from lessonlens.analyzers.languages import LanguageSpec, is_test_path, languages
from lessonlens.server.workspace.analysis_cache import AnalysisCache
from lessonlens.server.workspace.config import DEFAULT_EXCLUDE
from lessonlens.server.workspace.git import GitError, git
from lessonlens.server.workspace.sources import read_source, source_language


@dataclass(frozen=True)
class Location:
    """1-based line and column, the column counted in Unicode code points."""

    line: int
    column: int
    end_line: int
    end_column: int


@dataclass(frozen=True)
class Reported:
    finding: Finding
    location: Location


@dataclass(frozen=True)
class RelatedNote:
    """A lesson the model relates to a unit where no rule fired (`check --related`)."""

    unit: str
    kind: str
    line: int
    end_line: int
    lesson_id: str
    title: str
    relevance: float


@dataclass(frozen=True)
class FileReport:
    path: str
    findings: tuple[Reported, ...] = ()
    analysis: Analysis | None = None
    problems: tuple[Problem, ...] = ()
    skipped: str | None = None
    related: tuple[RelatedNote, ...] = ()
    # Where the file was read from (the display path may be relative to another folder).
    source_path: Path | None = None


@dataclass
class CheckReport:
    files: list[FileReport] = field(default_factory=list)
    cache_hits: int = 0

    @property
    def related(self) -> list[tuple[FileReport, RelatedNote]]:
        return [(f, note) for f in self.files for note in f.related]

    @property
    def findings(self) -> list[tuple[FileReport, Reported]]:
        return [(f, r) for f in self.files for r in f.findings]


@dataclass(frozen=True)
class CheckOptions:
    analysis: AnalysisOptions = field(default_factory=AnalysisOptions)
    # Which rules' findings are reported (every rule is analysed, and cached, whatever it is).
    selection: Selection = field(default_factory=Selection)
    jobs: int = 1
    use_cache: bool = True
    cache_dir: Path | None = None
    diff_rev: str | None = None
    max_file_size: int = 1_000_000
    exclude: tuple[str, ...] = ()
    # The project's root (where its config lives): test folders are recognised below it only,
    # so that a checkout that happens to sit in ~/tests/ is not all test code.
    root: Path | None = None


class CheckError(Exception):
    """A problem with the request itself (a bad --diff revision, a missing path)."""


# ---------------------------------------------------------------------------- file discovery


def _excluded(relative: Path, patterns: Sequence[str]) -> bool:
    """Whether a path (relative to the checked folder) matches a user ``exclude`` pattern."""
    text = relative.as_posix()
    for pattern in patterns:
        bare = pattern.strip("/")
        if fnmatch(text, bare) or fnmatch(text, f"{bare}/*"):
            return True
        if any(fnmatch(part, bare) for part in relative.parts):
            return True
    return False


def discover(
    paths: Sequence[Path],
    exclude: Sequence[str] = (),
    unreadable: list[tuple[Path, str]] | None = None,
) -> list[Path]:
    """Files to check: named files as given, folders walked for known extensions.

    A folder that cannot be listed is skipped and, with its reason, added to ``unreadable``:
    ``os.walk`` would otherwise drop it without a word.
    """
    found: list[Path] = []

    def cannot_list(error: OSError) -> None:
        if unreadable is not None:
            unreadable.append((Path(error.filename), error.strerror or str(error)))

    for path in paths:
        if not path.is_dir():
            # A FIFO or a broken link named on the command line is reported when read, as it
            # would be inside a folder; only a name that is not there at all stops the check.
            if not (path.exists() or path.is_symlink()):
                raise CheckError(f"{path}: no such file or folder")
            found.append(path)
            continue
        for folder, dirs, files in os.walk(path, onerror=cannot_list):
            base = Path(folder)
            dirs[:] = sorted(
                d
                for d in dirs
                if d not in DEFAULT_EXCLUDE
                and not d.startswith(".")
                and not _excluded((base / d).relative_to(path), exclude)
            )
            for name in sorted(files):
                file = base / name
                if source_language(file, within=False) and not _excluded(
                    file.relative_to(path), exclude
                ):
                    found.append(file)
    return found


# ---------------------------------------------------------------------------- caching


@cache
def rules_fingerprint() -> str:
    """Changes whenever a rule, a query or the engine changes, so stale results are never used."""
    digest = hashlib.sha256(__version__.encode())
    for spec in languages():
        root = resources.files(spec.package)
        for sub in ("rules", "queries"):
            for item in sorted(root.joinpath(sub).iterdir(), key=lambda t: t.name):
                if item.name.endswith((".py", ".scm")):
                    digest.update(item.name.encode())
                    digest.update(item.read_bytes())
        # The language's own modules (its spec, the facts its rules share).
        for item in sorted(root.iterdir(), key=lambda t: t.name):
            if item.name.endswith(".py"):
                digest.update(item.name.encode())
                digest.update(item.read_bytes())
    engine = resources.files("lessonlens.analyzers")
    for name in ("engine.py", "match.py", "model.py", "parsing.py"):
        digest.update(engine.joinpath(name).read_bytes())
    return digest.hexdigest()[:16]


def default_cache_dir() -> Path:
    return Path(platformdirs.user_cache_dir("lessonlens")) / "analysis"


def cache_key(data: bytes, spec: LanguageSpec, options: AnalysisOptions) -> str:
    digest = hashlib.sha256(data)
    digest.update(
        f"|{spec.id}|{sorted(options.language_options.items())}|{options.test_code}"
        f"|{rules_fingerprint()}".encode()
    )
    return digest.hexdigest()


# ---------------------------------------------------------------------------- analysis


def locate(source: bytes, finding: Finding) -> Location:
    """Convert tree-sitter's byte columns to code-point columns for people and tools."""
    span = finding.span

    def column(row: int, byte_col: int, offset: int) -> int:
        line_start = offset - byte_col
        return len(source[line_start:offset].decode("utf-8", "replace")) + 1

    return Location(
        span.start_row + 1,
        column(span.start_row, span.start_col, span.start_byte),
        span.end_row + 1,
        column(span.end_row, span.end_col, span.end_byte),
    )


def _analyse_one(
    path: Path,
    display: str,
    options: CheckOptions,
    store: AnalysisCache | None,
) -> tuple[FileReport, bool]:
    spec = language_for_path(path)
    if spec is None:
        return FileReport(display, skipped="skipped: unknown language"), False
    read = read_source(path, options.max_file_size, spec)
    if isinstance(read, Skipped):
        return FileReport(display, skipped=read.reason), False
    hit = False
    analysis = None
    analysed = file_options(options, path)
    key = cache_key(read.data, spec, analysed) if store is not None else ""
    if store is not None:
        analysis = store.get(key, len(read.data))
        hit = analysis is not None
    if analysis is None:
        # Every rule, whatever is selected: one cached result serves every selection.
        analysis = analyse(read.data, spec, analysed).analysis
        if store is not None:
            store.set(key, analysis)
    return file_report(path, display, read, analysis, options.selection), hit


def file_options(options: CheckOptions, path: Path) -> AnalysisOptions:
    """The analysis options for one file: the run's, and whether the file is test code."""
    relative: Path = path
    if options.root is not None:
        try:
            relative = path.resolve().relative_to(_resolved(options.root))
        except (OSError, ValueError):
            relative = path
    return replace(options.analysis, test_code=is_test_path(relative))


@cache
def _resolved(root: Path) -> Path:
    """The project's root, resolved once per run rather than once per file."""
    return root.resolve()


def file_report(
    path: Path, display: str, source: Source, analysis: Analysis, selection: Selection
) -> FileReport:
    """The report of one analysed file: the selected findings, located, and its problems.

    ``check --fix`` builds each pass's report here too, so what it fixes is exactly what
    ``check`` reports.
    """
    problems = list(analysis.problems)
    if source.notice:
        problems.append(Problem(source.notice))
    return FileReport(
        display,
        findings=tuple(
            Reported(replace(f, fix=None) if source.transformed else f, locate(source.data, f))
            for f in analysis.findings
            if selection.keeps(f)
        ),
        analysis=analysis,
        problems=tuple(problems),
        source_path=path,
    )


_WORKER: dict[str, Any] = {}


def _worker_init(options: CheckOptions) -> None:
    _WORKER["options"] = options
    # A worker is never told it is done: each write commits at once (batch 1).
    _WORKER["store"] = AnalysisCache(options.cache_dir, batch=1) if options.cache_dir else None


def _worker_run(item: tuple[Path, str]) -> tuple[FileReport, bool]:
    return _analyse_one(item[0], item[1], _WORKER["options"], _WORKER["store"])


def run_check(
    files: Sequence[tuple[Path, str]],
    options: CheckOptions,
    progress: Callable[[int], None] | None = None,
) -> CheckReport:
    """Analyse ``(path, display name)`` pairs; results come back in the order given."""
    if options.use_cache and options.cache_dir is None:
        options = replace(options, cache_dir=default_cache_dir())
    if not options.use_cache:
        options = replace(options, cache_dir=None)
    report = CheckReport()
    results: Iterable[tuple[FileReport, bool]]
    if options.jobs > 1 and len(files) > 1:
        if options.cache_dir is not None:
            # Hash the rules once, before the workers fork: they inherit one fingerprint, so
            # all of a run's results share one key even if a rule file changes meanwhile.
            rules_fingerprint()
        with ProcessPoolExecutor(
            max_workers=options.jobs, initializer=_worker_init, initargs=(options,)
        ) as pool:
            results = pool.map(_worker_run, files, chunksize=8)
            for file_report, hit in results:
                report.files.append(file_report)
                report.cache_hits += hit
                if progress:
                    progress(1)
        return report
    store = AnalysisCache(options.cache_dir) if options.cache_dir else None
    try:
        for path, display in files:
            file_report, hit = _analyse_one(path, display, options, store)
            report.files.append(file_report)
            report.cache_hits += hit
            if progress:
                progress(1)
    finally:
        if store is not None:
            store.close()
    return report


# ---------------------------------------------------------------------------- --diff


def _git(args: Sequence[str], cwd: Path) -> str:
    try:
        # quotePath=false: non-ASCII names come through as UTF-8 rather than octal escapes.
        out = git(["-c", "core.quotePath=false", *args], cwd)
    except GitError as exc:
        if exc.missing:
            raise CheckError(f"--diff needs git: {exc.__cause__}") from exc
        raise CheckError(f"git {' '.join(args)}: {exc.stderr}") from exc
    # surrogateescape: a name that is not UTF-8 still maps back to the same bytes on disk.
    return out.decode("utf-8", "surrogateescape")


_GIT_ESCAPES = {"a": 7, "b": 8, "t": 9, "n": 10, "v": 11, "f": 12, "r": 13, '"': 34, "\\": 92}


def _diff_path(name: str) -> str:
    """Return the file name of a ``+++`` line, undoing git's decorations.

    Git appends a tab to a name that contains a space (for GNU patch), and C-quotes a name with
    a quote, a backslash or a control character even with ``core.quotePath=false``.
    """
    if name.endswith("\t"):
        name = name[:-1]
    if not (len(name) >= 2 and name[0] == name[-1] == '"'):
        return name
    raw = bytearray()
    body, i = name[1:-1], 0
    while i < len(body):
        if body[i] == "\\" and i + 1 < len(body):
            escape = body[i + 1]
            if escape in "01234567":
                raw.append(int(body[i + 1 : i + 4], 8))
                i += 4
            else:
                raw.append(_GIT_ESCAPES.get(escape, ord(escape)))
                i += 2
            continue
        raw += body[i].encode("utf-8", "surrogateescape")
        i += 1
    return raw.decode("utf-8", "surrogateescape")


def changed_lines(rev: str, cwd: Path) -> dict[Path, set[int]]:
    """Lines (1-based) added or changed since ``rev`` in each file; new files count whole."""
    if rev.startswith("-"):
        # git would read it as an option (``--output=FILE`` writes a file), not a revision.
        raise CheckError(f"--diff {rev}: not a revision")
    top = Path(_git(["rev-parse", "--show-toplevel"], cwd).strip())
    # Explicit prefixes: a user's diff.noprefix or diff.mnemonicPrefix setting would change them.
    out = _git(
        [
            "diff",
            "--unified=0",
            "--no-color",
            "--no-ext-diff",
            "--src-prefix=a/",
            "--dst-prefix=b/",
            "-M",
            rev,
            "--",
        ],
        top,
    )
    changed: dict[Path, set[int]] = {}
    current: set[int] | None = None
    # Inside a hunk, an added "++ x" or removed "-- x" line looks like a file header, so the
    # hunk's own line counts say where it ends. split("\n"), not splitlines(): a changed line
    # may hold a form feed or U+2028.
    in_hunk = 0
    for line in out.split("\n"):
        if in_hunk > 0:
            if line.startswith(("+", "-", " ")):
                in_hunk -= 1
        elif line.startswith("+++ "):
            name = _diff_path(line[4:])
            current = (
                None
                if name == "/dev/null"
                else changed.setdefault((top / name[2:]).resolve(), set())
            )
        elif line.startswith("@@"):
            old, new = line.split(" ")[1:3]  # -start[,count] +start[,count]
            start, _, count = new[1:].partition(",")
            n = int(count) if count else 1
            in_hunk = n + (int(old.partition(",")[2] or 1))
            if current is not None:
                current.update(range(int(start), int(start) + n))
    untracked = _git(["ls-files", "-z", "--others", "--exclude-standard"], top)
    for name in filter(None, untracked.split("\0")):
        path = (top / name).resolve()
        changed[path] = {-1}  # the whole file
    return changed


def drop_skills(report: FileReport, skills: frozenset[str]) -> FileReport:
    kept = tuple(r for r in report.findings if r.finding.skill_id not in skills)
    return replace(report, findings=kept)


def keep_changed(report: FileReport, lines: set[int] | None) -> FileReport:
    if lines is None:
        return replace(report, findings=())
    if -1 in lines:
        return report
    kept = tuple(
        r
        for r in report.findings
        if any(n in lines for n in range(r.location.line, r.location.end_line + 1))
    )
    return replace(report, findings=kept)
