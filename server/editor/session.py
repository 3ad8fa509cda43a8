"""The editor session: the application core behind the language server.

It owns the open documents, schedules analysis off the event loop, and turns findings into what
an editor shows: visible hints (after settings, mutes, dismissals and the per-file cap), hover
text, code actions, code lenses and lessons. It knows nothing of the wire protocol.

Scheduling: each document has at most one analysis in flight. Edits that arrive meanwhile only
mark it dirty, so they fold into one re-analysis of the latest text; a result whose revision has
moved on is dropped, never published.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import threading
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import unquote, urlparse

from lessonlens.analyzers import Analysis, AnalysisOptions, Finding, language_for_id, parsing
from lessonlens.analyzers.engine import (
    UnitCache,
    analyze_tree,
    rule_selected,
    rule_set,
    valid_utf8,
)
from lessonlens.analyzers.languages import LanguageSpec, is_test_path, languages
from lessonlens.analyzers.model import CodeUnit, Rule
from lessonlens.lessons.catalog import Catalog, Lesson, Skill, load_catalog
from lessonlens.model_runtime.applicability import Verdict
from lessonlens.server.editor.documents import Document
from lessonlens.server.editor.settings import Settings
from lessonlens.server.learner.coach import SETTLE_S, Coach
from lessonlens.server.learner.mastery import Treatment
from lessonlens.server.learner.profile import build_profile
from lessonlens.server.learner.progress import default_data_dir
from lessonlens.server.learner.refreshers import Refresher, refresher_for
from lessonlens.server.workspace.config import (
    DEFAULT_MAX_FILE_SIZE,
    Config,
    ConfigError,
    find_config,
)
from lessonlens.server.workspace.priorities import effective_priority, silenced_skills

if TYPE_CHECKING:
    # Loaded on first use: the model's side pulls in numpy, the LRS's http and ssl, lessons'
    # Markdown a parser; the first diagnostics need none of them (ARCHITECTURE.md, start-up).
    from lessonlens.model_runtime.related import ModelService, RelatedLesson, UnitRelations
    from lessonlens.server.team.xapi import SyncResult

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DocumentResult:
    """What the editor shows for one revision of a document."""

    uri: str
    version: int
    revision: int
    data: bytes
    hints: tuple[Finding, ...]
    too_large: bool = False
    # Hints of skills this developer is close to mastering: shown quietly (severity Hint, no
    # code lens, only "Show lesson"), by index into ``hints``.
    quiet: frozenset[int] = frozenset()

    def is_quiet(self, finding: Finding) -> bool:
        return any(self.hints[i] is finding for i in self.quiet)


@dataclass(frozen=True)
class Action:
    kind: str  # "fix" | "lesson" | "dismiss" | "mute"
    title: str
    finding: Finding
    arguments: tuple[object, ...] = ()
    # The editor's preferred quick fix, which "fix all" and auto-fix shortcuts may apply
    # unasked: only a safe fix is.
    preferred: bool = False


@dataclass(frozen=True)
class Lens:
    row: int
    title: str
    lesson_ids: tuple[str, ...]


@dataclass
class _State:
    document: Document
    analysis: Analysis | None = None
    analysed_revision: int = -1
    analysed_version: int = 0
    analysed_data: bytes = b""
    analysed_tree: parsing.Tree | None = None
    result: DocumentResult | None = None
    task: asyncio.Task[None] | None = None
    dirty: bool = False
    waiters: list[asyncio.Future[None]] = field(default_factory=list)
    warned_too_large: bool = False
    open: bool = True
    # Findings of unchanged definitions, reused between keystrokes. Only the analysis task of
    # this document touches it, and there is at most one at a time.
    units: UnitCache = field(default_factory=UnitCache)
    # The first analysis of an opened document is what was there, not what was done.
    first: bool = True
    # Related lessons and skill tags per code unit, from the model, for `relations_revision`.
    relations: tuple[UnitRelations, ...] = ()
    relations_revision: int = -1
    relations_task: asyncio.Task[None] | None = None
    # The latest analysed snapshot waiting for the model: (revision, tree copy, bytes).
    relations_pending: tuple[int, parsing.Tree, bytes, Analysis | None] | None = None
    # Unit name -> the text last tagged, so only changed units count as practice.
    practiced: dict[str, str] | None = None
    # When the coach next looks whether hints that came or went have lasted.
    settle: asyncio.TimerHandle | None = None


# At most this many "Related lesson" lenses per file: the model suggests, it never crowds.
MAX_RELATED_LENSES = 3
# Texts (units and their line pairs) per inference call in the editor: small enough that an edit
# never queues behind a long one.
RELATE_SLICE_TEXTS = 64
# The model looks at a document once typing has paused this long: a related lesson need not
# follow every keystroke, and inference must not compete with the analysis of the next one.
RELATE_AFTER_QUIET_S = 0.4


def uri_to_path(uri: str) -> Path | None:
    parsed = urlparse(uri)
    if parsed.scheme != "file":
        return None
    return Path(unquote(parsed.path))


_PARSERS = threading.local()


class AnalysisFailed(Exception):
    """A document's analysis task ended with an error; requests waiting on it get this."""


def _fail_waiters(state: _State, task: asyncio.Task[None]) -> None:
    """A task that fails outside its own ``try`` must not leave pull requests waiting forever.

    The next request schedules a new task, which may succeed (the fault may have passed).
    """
    if task.cancelled() or (error := task.exception()) is None:
        return
    log.error("analysis of %s failed", state.document.uri, exc_info=error)
    waiters, state.waiters = state.waiters, []
    for waiter in waiters:
        if not waiter.done():
            waiter.set_exception(
                AnalysisFailed(f"analysis of {state.document.uri} failed: {error!r}")
            )


def _lesson_markdown(lesson: Lesson) -> str:
    return f"# {lesson.title}\n\n> {lesson.summary}\n\n{lesson.body}"


def _shown(lesson: Lesson, markdown: str) -> str:
    """A lesson's Markdown as the editor gets it.

    A team lesson's (the repository's input) loses raw HTML and links that are not http(s);
    the built-in lessons are ours.
    """
    if lesson.builtin:
        return markdown
    from lessonlens.lessons.markup import safe_markdown

    return safe_markdown(markdown)


def _is_test_file(uri: str, config: Config) -> bool:
    """Test code by its path below the project's root (its config's folder)."""
    path = uri_to_path(uri)
    if path is None:
        return False
    try:
        return is_test_path(path.relative_to(config.root))
    except ValueError:
        return is_test_path(path.name)


def _parser(spec: LanguageSpec) -> parsing.Parser:
    # Parsers are not thread-safe: one per analysis thread and language.
    cache: dict[str, parsing.Parser] | None = getattr(_PARSERS, "cache", None)
    if cache is None:
        cache = _PARSERS.cache = {}
    parser = cache.get(spec.id)
    if parser is None:
        parser = cache[spec.id] = parsing.new_parser(rule_set(spec).grammar)
    return parser


def _analyse(
    spec: LanguageSpec,
    data: bytes,
    tree: parsing.Tree | None,
    options: AnalysisOptions,
    units: UnitCache,
) -> tuple[parsing.Tree, Analysis]:
    data = valid_utf8(data)
    new_tree = parsing.parse(_parser(spec), data, tree)
    return new_tree, analyze_tree(new_tree, data, spec, options, units)


def _lower_priority() -> None:
    """The model thread yields the CPU to the analysis of edits (Linux: a per-thread nice)."""
    with contextlib.suppress(AttributeError, OSError):
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 10)


class Session:
    def __init__(
        self,
        settings: Settings | None = None,
        *,
        on_result: Callable[[DocumentResult], None] | None = None,
        on_notice: Callable[[str], None] | None = None,
        on_related: Callable[[str], None] | None = None,
    ) -> None:
        self.settings = settings or Settings()
        self.on_result = on_result or (lambda result: None)
        self.on_notice = on_notice or (lambda message: None)
        self.on_related = on_related or (lambda uri: None)
        # Set by ``attach_model`` once the encoder has loaded in the background; until then
        # (and if it never loads) everything else works as before.
        self.model: ModelService | None = None
        # One thread for the model: inference never competes with the analysis threads.
        self._model_executor = ThreadPoolExecutor(
            max_workers=1, thread_name_prefix="ll-model", initializer=_lower_priority
        )
        self._states: dict[str, _State] = {}
        self._configs: dict[Path, Config] = {}
        # Team lesson files are the repository's input: they load on their own thread, never on
        # the event loop. Until they have, the built-in lessons (ours, read here at start, before
        # the loop serves anything) answer.
        self._catalog = load_catalog()
        self._lesson_dirs: tuple[Path, ...] = ()
        self._lesson_loader = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ll-lessons")
        self._skills = self._catalog.skills
        self._muted: set[str] = set()
        self._dismissed: set[tuple[str, str, bytes]] = set()
        self._executor = ThreadPoolExecutor(max_workers=2, thread_name_prefix="lessonlens")
        # The coach observes each analysis on its own thread: queued behind analyses, an
        # observation would be cancelled with them on shutdown, and the last edit not recorded.
        self._coach_executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ll-coach")
        # Syncs to the LRS run on their own thread, which shutdown never waits for: a slow LRS
        # must not hold up the editor, and the sync cursor moves only on a checked answer.
        self._sync_executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ll-sync")
        # Set by ``start_coach`` once the workspace (and so the developer) is known.
        self.coach: Coach | None = None
        self._opened: set[tuple[str, str]] = set()
        self.rules: dict[str, Rule] = {r.id: r for s in languages() for r in rule_set(s).rules}

    # ------------------------------------------------------------------ lessons and settings

    @property
    def skills(self) -> dict[str, Skill]:
        """The skill taxonomy (loaded at start; lessons load later)."""
        return self._skills

    def _wanted_lesson_dirs(self) -> tuple[Path, ...]:
        dirs: list[Path] = []
        for config in list(self._configs.values()):
            dirs.extend(d for d in config.lesson_dirs if d not in dirs)
        dirs.extend(Path(d).expanduser() for d in self.settings.lesson_dirs)
        return tuple(dirs)

    def load_lessons(self) -> Catalog:
        """Load the catalog now, on the calling thread (never the event loop's)."""
        dirs = self._wanted_lesson_dirs()
        catalog = load_catalog(dirs)
        for problem in catalog.errors:
            log.warning("lesson skipped: %s", problem)
        for problem in catalog.active_content:
            log.warning("lesson shown without its active content: %s", problem)
        for lesson in catalog.lessons.values():
            _shown(lesson, _lesson_markdown(lesson))  # sanitised here, not in the first hover
        self._catalog, self._lesson_dirs = catalog, dirs
        return catalog

    def reload_lessons(self) -> Future[Catalog]:
        """Load the catalog on the lessons thread; loads run one at a time, the last one wins."""
        return self._lesson_loader.submit(self.load_lessons)

    @property
    def catalog(self) -> Catalog:
        return self._catalog

    def lesson(self, lesson_id: str) -> Lesson | None:
        return self.catalog.lesson(lesson_id)

    def update_settings(self, settings: Settings) -> list[DocumentResult]:
        """Apply new settings; returns the documents whose visible hints were recomputed."""
        lessons_changed = settings.lesson_dirs != self.settings.lesson_dirs
        # Opting in to a rule (or out) changes what the analysis runs, not only what it shows.
        reanalyse = self._opted_in(settings.select) != self._opted_in(self.settings.select)
        self.settings = settings
        if lessons_changed:
            self.reload_lessons()
        if reanalyse:
            for uri in list(self._states):
                self.schedule(uri)
        return self._refresh_all()

    def _config_for(self, uri: str) -> Config:
        path = uri_to_path(uri)
        folder = path.parent if path is not None else Path.cwd()
        config = self._configs.get(folder)
        if config is None:
            try:
                config = find_config(folder)
            except ConfigError as exc:
                self.on_notice(f"lessonlens: invalid project configuration: {exc}")
                config = Config(root=folder)
            self._configs[folder] = config
            if any(d not in self._lesson_dirs for d in config.lesson_dirs):
                self.reload_lessons()  # the project's own team lessons
        return config

    # ------------------------------------------------------------------ documents

    def open(self, uri: str, language_id: str, version: int, text: str) -> bool:
        spec = language_for_id(language_id)
        if spec is None:
            path = uri_to_path(uri)
            from lessonlens.analyzers import language_for_path

            spec = language_for_path(path) if path is not None else None
        if spec is None:
            return False
        document = Document(uri, spec, version, text.encode("utf-8", "surrogatepass"))
        self._states[uri] = _State(document)
        self.schedule(uri)
        return True

    def document(self, uri: str) -> Document | None:
        state = self._states.get(uri)
        return state.document if state is not None else None

    def change(self, uri: str, version: int, edits: Sequence[tuple[int, int, str] | str]) -> bool:
        """Apply edits in order: ``(start_byte, end_byte, text)`` or a whole new text."""
        state = self._states.get(uri)
        if state is None:
            log.info("change for a document that is not open: %s", uri)
            return False
        for edit in edits:
            if isinstance(edit, str):
                state.document.set_text(edit)
            else:
                state.document.replace(*edit)
        state.document.version = version
        self.schedule(uri)
        return True

    def close(self, uri: str) -> None:
        state = self._states.pop(uri, None)
        if self.coach is not None:
            self.coach.forget_document(uri)
        if state is not None:
            state.open = False
            for waiter in state.waiters:
                if not waiter.done():
                    waiter.set_result(None)

    def result(self, uri: str) -> DocumentResult | None:
        state = self._states.get(uri)
        return state.result if state is not None else None

    # ------------------------------------------------------------------ analysis

    def schedule(self, uri: str) -> None:
        state = self._states.get(uri)
        if state is None:
            return
        state.dirty = True
        if state.task is None or state.task.done():
            state.task = asyncio.get_running_loop().create_task(self._run(uri, state))
            state.task.add_done_callback(partial(_fail_waiters, state))

    async def analysis(self, uri: str) -> DocumentResult | None:
        """The result for the document's current revision, waiting for it if need be."""
        loop = asyncio.get_running_loop()
        while True:
            state = self._states.get(uri)
            if state is None:
                return None
            if state.result is not None and state.result.revision == state.document.revision:
                return state.result
            waiter: asyncio.Future[None] = loop.create_future()
            state.waiters.append(waiter)
            if state.task is None or state.task.done():
                self.schedule(uri)
            await waiter

    async def _run(self, uri: str, state: _State) -> None:
        loop = asyncio.get_running_loop()
        while state.dirty and state.open:
            state.dirty = False
            if self.settings.debounce_ms > 0:
                await asyncio.sleep(self.settings.debounce_ms / 1000)
                if state.dirty:
                    continue
            document = state.document
            revision, version, data = document.revision, document.version, document.data
            config = self._config_for(uri)
            if len(data) > config.max_file_size:
                self._publish(state, None, revision, version, data, None, too_large=True)
                continue
            options = AnalysisOptions(
                language_options=config.language_options,
                select=self._opted_in(self.settings.select or config.select),
                test_code=_is_test_file(uri, config),
            )
            tree = document.tree.copy() if document.tree is not None else None
            try:
                new_tree, analysis = await loop.run_in_executor(
                    self._executor, _analyse, document.language, data, tree, options, state.units
                )
            except Exception:
                log.exception("analysis of %s failed", uri)
                self._publish(state, None, revision, version, data, None)
                continue
            if not state.open:
                return
            if document.revision == revision:
                # No edit since the snapshot: the new tree is current and becomes the base of
                # the next incremental parse. Otherwise the old tree, with every edit applied
                # to it since, stays the base, and ``dirty`` is already set again.
                document.tree = new_tree
                self._publish(state, analysis, revision, version, data, new_tree)
                # Copied now, before the next edit moves the tree under the model thread.
                self._schedule_relations(state, revision, new_tree.copy(), data, analysis)
            if self.coach is not None:
                # After publishing: hints are judged by what was known before this edit, and
                # the events are written off the event loop, so no request waits on them.
                await loop.run_in_executor(
                    self._coach_executor,
                    partial(
                        self.coach.observe,
                        uri,
                        analysis,
                        data,
                        opened=state.first,
                        language=document.language.id,
                    ),
                )
                state.first = False
                # A hint that came or went counts once it has lasted, edit or no edit.
                if state.settle is not None:
                    state.settle.cancel()
                state.settle = loop.call_later(SETTLE_S, self.coach.settle, uri)

    def _publish(
        self,
        state: _State,
        analysis: Analysis | None,
        revision: int,
        version: int,
        data: bytes,
        tree: parsing.Tree | None,
        *,
        too_large: bool = False,
    ) -> None:
        state.analysis = analysis
        state.analysed_revision = revision
        state.analysed_version = version
        state.analysed_data = data
        state.analysed_tree = tree
        result = self._visible(state, too_large=too_large)
        state.result = result
        waiters, state.waiters = state.waiters, []
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result(None)
        if too_large and not state.warned_too_large:
            state.warned_too_large = True
            size = len(data)
            self.on_notice(
                f"lessonlens: {uri_to_path(state.document.uri) or state.document.uri} is "
                f"{size:,} bytes, over the {DEFAULT_MAX_FILE_SIZE:,}-byte limit: not analysed."
            )
        self.on_result(result)

    # ------------------------------------------------------------------ what the editor shows

    def _line_key(self, data: bytes, row: int) -> bytes:
        lines = data.split(b"\n")
        return lines[row].strip() if 0 <= row < len(lines) else b""

    def _opted_in(self, select: Sequence[str]) -> tuple[str, ...]:
        """What to analyse: the default rules (``()``), or those plus the opt-in ones named."""
        chosen = [r.id for r in self.rules.values() if r.opt_in and rule_selected(r, select, ())]
        if not chosen:
            return ()
        return (*(r.id for r in self.rules.values() if not r.opt_in), *chosen)

    def _visible(self, state: _State, *, too_large: bool = False) -> DocumentResult:
        document = state.document
        config = self._config_for(document.uri)
        select = self.settings.select or config.select
        ignore = (*config.ignore, *self.settings.ignore)
        silenced = silenced_skills(config.skill_priorities, self._skills)
        data = state.analysed_data
        hints: list[Finding] = []
        quiet: set[int] = set()
        lines = data.split(b"\n")
        coach = self.coach if self.settings.adaptive_hints else None
        for finding in state.analysis.findings if state.analysis else ():
            rule = self.rules.get(finding.rule_id)
            if rule is None or not rule_selected(rule, select, ignore):
                continue
            if finding.rule_id in self._muted or finding.skill_id in silenced:
                continue
            row = finding.span.start_row
            line = lines[row] if row < len(lines) else b""
            if (document.uri, finding.rule_id, line.strip()) in self._dismissed:
                continue
            if coach is not None:
                priority = effective_priority(
                    finding.skill_id, config.skill_priorities, self._skills
                )
                fade = coach.treatment_for(finding.skill_id, priority)
                if fade is Treatment.SILENT or not coach.admit(
                    document.uri, finding, line, document.language.id
                ):
                    continue
                if fade is Treatment.QUIET:
                    quiet.add(len(hints))
            hints.append(finding)
            if len(hints) >= self.settings.max_hints_per_file:
                break
        # The version of the text these hints describe, which may be older than the live one
        # while an analysis is pending: a client must never see old ranges under a new version.
        return DocumentResult(
            document.uri,
            state.analysed_version,
            state.analysed_revision,
            data,
            tuple(hints),
            too_large=too_large,
            quiet=frozenset(quiet),
        )

    def _refresh_all(self) -> list[DocumentResult]:
        results = []
        for state in self._states.values():
            if state.analysed_revision < 0:
                continue
            state.result = self._visible(state)
            results.append(state.result)
        return results

    def hints_at(self, uri: str, start: int, end: int) -> list[Finding]:
        """Visible hints overlapping bytes ``start..end`` (a point when they are equal)."""
        result = self.result(uri)
        if result is None:
            return []
        return [
            f
            for f in result.hints
            if f.span.start_byte <= end
            and start <= f.span.end_byte
            and (start != end or f.span.start_byte <= start < max(f.span.end_byte, start + 1))
        ]

    def hover(self, uri: str, offset: int) -> str | None:
        hints = self.hints_at(uri, offset, offset)
        if not hints:
            return self.related_hover(uri, offset)
        result = self.result(uri)
        quiet = result is not None and result.is_quiet(hints[0])
        return self.hover_markdown(hints[0], quiet=quiet)

    def _priority(self, skill_id: str) -> str:
        configs = list(self._configs.values())
        overrides = configs[0].skill_priorities if configs else {}
        return effective_priority(skill_id, overrides, self._skills)

    def hover_markdown(self, finding: Finding, *, quiet: bool = False) -> str:
        """The lesson (a quiet hint: its summary), a due refresher, and why it is shown.

        "Why" gives the mastery estimate and the evidence behind it.
        """
        lesson = self.lesson(finding.lesson_id)
        rule = self.rules.get(finding.rule_id)
        skill = self._skills.get(finding.skill_id)
        skill_name = skill.name if skill else finding.skill_id
        estimate_line = ""
        if self.coach is not None:
            estimate_line = " " + self.coach.why(finding.skill_id, self._priority(finding.skill_id))
        why = (
            f"_Why you see this: {finding.rule_id} ({rule.name if rule else 'rule'}) matched "
            f"this code, which is about **{skill_name}**.{estimate_line} "
            f'Not useful here? Use "Dismiss here", "I know this" or '
            f'"Don\'t show {finding.rule_id} again"._'
        )
        if lesson is None:
            return f"**{finding.rule_id}** {finding.message}\n\n---\n{why}\n"
        parts = []
        refresher = self.refresher_for(finding)
        if refresher is not None:
            options = "\n".join(f"{i + 1}. {o}" for i, o in enumerate(refresher.options))
            parts.append(
                f"**Quick refresher:** {refresher.question}\n\n{options}\n\n"
                '_Answer with the code action "Refresher: ..."._\n\n---\n'
            )
        if quiet:
            parts.append(f'**{lesson.title}**: {lesson.summary}\n\n_Use "Show lesson" to read it._')
        else:
            parts.append(_lesson_markdown(lesson))
            if self.coach is not None and (finding.lesson_id, "hover") not in self._opened:
                self._opened.add((finding.lesson_id, "hover"))
                self.coach.lesson_opened(finding.skill_id, finding.lesson_id, lesson.language)
        return _shown(lesson, "\n".join(parts)) + f"\n\n---\n{why}\n"

    def refresher_for(self, finding: Finding) -> Refresher | None:
        """The lesson's one-question refresher, when its predicted recall has fallen."""
        if self.coach is None or not self.coach.refresher_due(finding.lesson_id):
            return None
        lesson = self.lesson(finding.lesson_id)
        return refresher_for(lesson) if lesson is not None else None

    def actions(
        self, uri: str, start: int, end: int, mentioned: Sequence[tuple[str, int]] = ()
    ) -> list[Action]:
        """Code actions for hints overlapping the range, or named by the client's diagnostics.

        ``mentioned`` is (rule id, row) of the diagnostics the client sent: clients disagree on
        columns (Neovim 0.7 sends byte columns), so they are matched by rule and line only.
        """
        result = self.result(uri)
        if result is None:
            return []
        chosen = {id(f): f for f in self.hints_at(uri, start, end)}
        # Only when the range itself names nothing: two hints of one rule on one line must not
        # both answer a request made on one of them.
        for rule_id, row in mentioned if not chosen else ():
            for finding in result.hints:
                if finding.rule_id == rule_id and finding.span.start_row == row:
                    chosen.setdefault(id(finding), finding)
        actions: list[Action] = []
        for finding in sorted(chosen.values(), key=lambda f: (f.span.start_byte, f.rule_id)):
            lesson = self.lesson(finding.lesson_id)
            title = lesson.title if lesson else finding.lesson_id
            refresher = self.refresher_for(finding)
            for index, option in enumerate(refresher.options if refresher else ()):
                actions.append(
                    Action("answer", f"Refresher: {option}", finding, (finding.lesson_id, index))
                )
            show = Action("lesson", f"Show lesson: {title}", finding, (finding.lesson_id,))
            know = Action("know", "I know this", finding, (finding.skill_id,))
            if result.is_quiet(finding):
                # A quiet hint offers the lesson and nothing more insistent.
                actions.extend((show, know))
                continue
            if finding.fix is not None:
                fix = finding.fix
                where = (uri, finding.rule_id, finding.span.start_row)
                # An unsafe fix names its risk where the developer chooses it.
                label = "Fix" if fix.safe else f"Fix (unsafe: {fix.reason})"
                actions.append(
                    Action("fix", f"{label}: {fix.title}", finding, where, preferred=fix.safe)
                )
            actions.extend((show, know))
            actions.append(
                Action(
                    "dismiss",
                    "Dismiss here",
                    finding,
                    (uri, finding.rule_id, finding.span.start_row),
                )
            )
            actions.append(
                Action("mute", f"Don't show {finding.rule_id} again", finding, (finding.rule_id,))
            )
        return actions

    def lenses(self, uri: str) -> list[Lens]:
        """One lens above each function or class that holds hints."""
        state = self._states.get(uri)
        result = state.result if state is not None else None
        tree = state.analysed_tree if state is not None else None
        if state is None or result is None or tree is None:
            return []
        by_row: dict[int, list[str]] = {}
        lens_nodes = state.document.language.lens_nodes
        for finding in result.hints:
            if result.is_quiet(finding):
                continue
            node = tree.root_node.descendant_for_byte_range(
                finding.span.start_byte, finding.span.start_byte
            )
            while node is not None and node.type not in lens_nodes:
                node = node.parent
            if node is None:
                continue
            lessons = by_row.setdefault(node.start_point[0], [])
            if finding.lesson_id not in lessons:
                lessons.append(finding.lesson_id)
        lenses = [
            Lens(row, f"{len(ids)} lesson{'s' if len(ids) != 1 else ''} here", tuple(ids))
            for row, ids in sorted(by_row.items())
        ]
        lenses.extend(self._related_lenses(state, set(by_row)))
        return sorted(lenses, key=lambda lens: lens.row)

    def show_lesson(self, lesson_id: str) -> dict[str, str] | None:
        lesson = self.lesson(lesson_id)
        if lesson is None:
            return None
        markdown = _shown(lesson, _lesson_markdown(lesson)) + "\n"
        if self.coach is not None:
            self.coach.lesson_opened(lesson.skill_id, lesson.id, lesson.language)
        return {"id": lesson.id, "title": lesson.title, "markdown": markdown}

    def dismiss(self, uri: str, rule_id: str, row: int) -> list[DocumentResult]:
        state = self._states.get(uri)
        if state is None:
            return []
        key = self._line_key(state.analysed_data or state.document.data, row)
        self._dismissed.add((uri, rule_id, key))
        rule = self.rules.get(rule_id)
        if self.coach is not None and rule is not None:
            self.coach.record_dismissal(rule.skill_id, rule_id, rule.lesson_id, rule.language)
        return self._refresh_all()

    def mute(self, rule_id: str) -> list[DocumentResult]:
        self._muted.add(rule_id)
        rule = self.rules.get(rule_id)
        if self.coach is not None and rule is not None:
            self.coach.muted(rule_id, rule.skill_id, rule.language)
        return self._refresh_all()

    def i_know_this(self, skill_id: str) -> list[DocumentResult]:
        """The developer's word that they know a skill: honoured at once, hints go quiet."""
        if self.coach is not None:
            self.coach.i_know_this(skill_id, self._skill_language(skill_id))
        return self._refresh_all()

    def _skill_language(self, skill_id: str) -> str:
        """The language a skill is practised in: that of a lesson or rule teaching it."""
        for lesson in self.catalog.lessons.values():
            if lesson.skill_id == skill_id:
                return lesson.language
        rule = next((r for r in self.rules.values() if r.skill_id == skill_id), None)
        return rule.language if rule is not None else ""

    def answer_refresher(self, lesson_id: str, index: int) -> tuple[bool, str] | None:
        """Record a refresher answer; returns (correct, the right option) or None."""
        lesson = self.lesson(lesson_id)
        refresher = refresher_for(lesson) if lesson is not None else None
        if lesson is None or refresher is None or self.coach is None:
            return None
        correct = index == refresher.answer
        self.coach.reviewed(lesson.skill_id, lesson_id, correct, lesson.language)
        return correct, refresher.options[refresher.answer]

    def fix_applied(self, uri: str, rule_id: str, row: int) -> None:
        """The tool's quick fix for a hint was applied: a learning opportunity, not mastery."""
        state = self._states.get(uri)
        if state is None or self.coach is None:
            return
        lines = (state.analysed_data or state.document.data).split(b"\n")
        line = lines[row] if 0 <= row < len(lines) else b""
        self.coach.fix_applied_key(uri, rule_id, line)

    async def sync_progress(self) -> SyncResult | None:
        """Send this developer's progress to the LRS, when they share it and one is set.

        Runs off the event loop; returns None when sharing is off or there is nothing to use.
        """
        url = self.settings.lrs_url
        coach = self.coach
        if not (self.settings.share_progress and url) or coach is None or coach.store is None:
            return None
        store, developer = coach.store, coach.developer
        from lessonlens.server.team.xapi import cursor_file, lrs_credentials, sync

        username, password = lrs_credentials()
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(self._sync_executor, coach.flush)
        return await loop.run_in_executor(
            self._sync_executor,
            partial(
                sync,
                store,
                developer,
                url,
                username=username,
                password=password,
                cursor_path=cursor_file(default_data_dir(), url, developer),
                retries=2,
            ),
        )

    def start_coach(self, coach: Coach) -> list[DocumentResult]:
        """Attach the developer's history; their earlier "don't show again" choices return.

        Returns the documents whose visible hints changed.
        """
        coach.know_rules({r.id: (r.skill_id, r.lesson_id) for r in self.rules.values()})
        self.coach = coach
        remembered = coach.muted_rules() - self._muted
        if not remembered:
            return []
        self._muted |= remembered
        return self._refresh_all()

    # ------------------------------------------------------------------ the model

    def attach_model(self, model: ModelService) -> None:
        """Start relating units to lessons: every open document is looked at once."""
        self.model = model
        for state in self._states.values():
            tree = state.analysed_tree
            if state.open and tree is not None and state.result is not None:
                self._schedule_relations(
                    state, state.analysed_revision, tree.copy(), state.analysed_data, state.analysis
                )

    def _schedule_relations(
        self,
        state: _State,
        revision: int,
        tree: parsing.Tree,
        data: bytes,
        analysis: Analysis | None,
    ) -> None:
        if self.model is None or not self.model.ready or not state.open:
            return
        state.relations_pending = (revision, tree, data, analysis)
        if state.relations_task is None or state.relations_task.done():
            loop = asyncio.get_running_loop()
            state.relations_task = loop.create_task(self._relate(state))

    async def _relate(self, state: _State) -> None:
        """Embed the document's units off the loop; only the latest snapshot is ever worked on.

        Diagnostics never wait for this: a burst of edits folds into one pass over the last one.
        """
        while state.relations_pending is not None and state.open:
            pending = state.relations_pending
            await asyncio.sleep(RELATE_AFTER_QUIET_S)
            if state.relations_pending is not pending:
                continue  # typed again meanwhile: wait for the next pause
            if state.relations_pending is None:
                break
            revision, tree, data, analysis = state.relations_pending
            state.relations_pending = None
            try:
                relations = await self._relate_in_slices(state, tree, data, analysis)
            except Exception:
                log.exception("relating %s to lessons failed", state.document.uri)
                continue
            if relations is None or not state.open or state.relations_pending is not None:
                continue
            state.relations = tuple(relations)
            state.relations_revision = revision
            self._record_practice(state, relations)
            self.on_related(state.document.uri)

    async def _relate_in_slices(
        self, state: _State, tree: parsing.Tree, data: bytes, analysis: Analysis | None
    ) -> list[UnitRelations] | None:
        """A few units at a time, stepping aside while an edit is analysed.

        None if the document moved on meanwhile: the newer snapshot is related instead, once
        typing pauses again, so a long first look at a big file never competes with typing.
        """
        loop = asyncio.get_running_loop()
        spec = state.document.language
        if spec.code_units is None:
            return []
        units, verdicts = await loop.run_in_executor(
            self._model_executor, self._units, spec, tree.root_node, data, analysis
        )
        relations: list[UnitRelations] = []
        start = 0
        while start < len(units):
            end, texts = start, 0
            while end < len(units) and (end == start or texts < RELATE_SLICE_TEXTS):
                texts += 1 + len(units[end].windows)
                end += 1
            if state.task is not None and not state.task.done():
                await asyncio.wait({state.task})  # the analysis of an edit goes first
            if state.relations_pending is not None or not state.open:
                return None
            relations.extend(
                await loop.run_in_executor(
                    self._model_executor, self._relate_units, units[start:end], verdicts[start:end]
                )
            )
            start = end
        return relations

    def _units(
        self,
        spec: LanguageSpec,
        root: parsing.Node,
        data: bytes,
        analysis: Analysis | None,
    ) -> tuple[list[CodeUnit], list[Mapping[str, Verdict]]]:
        if self.model is None:
            return [], []
        gates = self.model.gates(list(self.catalog.lessons.values()), spec)
        from lessonlens.model_runtime.related import document_units

        return document_units(gates, spec, root, data, analysis)

    def _relate_units(
        self, units: Sequence[CodeUnit], verdicts: Sequence[Mapping[str, Verdict]]
    ) -> list[UnitRelations]:
        if self.model is None:
            return []
        coach = self.coach

        def mastery(skill_id: str) -> float:
            estimate = coach.estimate_for(skill_id) if coach is not None else None
            return estimate.p_known if estimate is not None else 0.0

        return self.model.relate(
            units,
            list(self.catalog.lessons.values()),
            self._skills,
            mastery,
            self._priority,
            verdicts,
        )

    def _record_practice(self, state: _State, relations: Sequence[UnitRelations]) -> None:
        """Skills the model sees in units that changed: practice, recorded once per skill.

        The first look at an opened document is what was there, not what was done.
        """
        texts = {r.unit.name: r.unit.text for r in relations}
        before, state.practiced = state.practiced, texts
        if before is None or self.coach is None:
            return
        skills: set[str] = set()
        for r in relations:
            if before.get(r.unit.name) != r.unit.text:
                skills.update(t.skill_id for t in r.skills)
        self.coach.practiced(sorted(skills), state.document.language.id)

    def _treatment(self, skill_id: str) -> Treatment:
        priority = self._priority(skill_id)
        if priority == "none":
            return Treatment.SILENT
        if self.coach is None or not self.settings.adaptive_hints:
            return Treatment.FULL
        return self.coach.treatment_for(skill_id, priority)

    def related_at(self, uri: str) -> tuple[UnitRelations, ...]:
        state = self._states.get(uri)
        return state.relations if state is not None else ()

    def _related_lenses(self, state: _State, taken: set[int]) -> list[Lens]:
        result = state.result
        if self.model is None or result is None or not state.relations:
            return []
        from lessonlens.model_runtime.related import lens_for  # loaded with the model

        threshold = self.model.calibration.lens_threshold
        spans = [(f.span.start_byte, f.span.end_byte) for f in result.hints]
        candidates = []
        for relations in state.relations:
            unit = relations.unit
            best = lens_for(relations, threshold, spans)  # none where a rule already teaches
            if best is None or unit.span.start_row in taken:
                continue
            lesson = self.lesson(best.lesson_id)
            if lesson is None or any(r in self._muted for r in lesson.rules):
                continue
            if self._treatment(lesson.skill_id) is not Treatment.FULL:
                continue  # fading: a skill being mastered gets no new suggestions
            candidates.append((best.score, unit.span.start_row, best))
        candidates.sort(key=lambda c: (-c[0], c[1]))
        return [
            Lens(row, f"Related lesson: {best.title}", (best.lesson_id,))
            for _, row, best in candidates[:MAX_RELATED_LENSES]
        ]

    def related_hover(self, uri: str, offset: int) -> str | None:
        """On a unit's name: the lessons related to it, best first."""
        for relations in self.related_at(uri):
            span = relations.unit.name_span
            if span is None or not span.start_byte <= offset <= span.end_byte:
                continue
            if not relations.lessons:
                return None
            lines = [f"**Related lessons** for `{relations.unit.name}`", ""]
            shown = []
            for r in relations.lessons[:3]:
                lesson = self.lesson(r.lesson_id)
                if lesson is None:
                    continue
                shown.append((r, lesson))
                lines.append(
                    f"- [{lesson.title}]({lesson.url}): {lesson.summary} "
                    f"_(relevance {r.relevance:.0%})_"
                )
            if shown:
                lines.extend(["", "---", self._related_why(*shown[0])])
            markdown = "\n".join(lines)
            if all(s.builtin for _, s in shown):
                return markdown
            from lessonlens.lessons.markup import safe_markdown

            return safe_markdown(markdown)
        return None

    def _related_why(self, related: RelatedLesson, lesson: Lesson) -> str:
        """Why the first related lesson is shown: relevance, what matched, mastery, priority."""
        skill = self._skills.get(lesson.skill_id)
        skill_name = skill.name if skill else lesson.skill_id
        matched = " ".join(related.matched.split())
        if len(matched) > 80:
            matched = matched[:77] + "..."
        what = f"its closest code here is `{matched}`" if matched else "this code resembles it"
        because = (
            f" It applies here (`{related.because}`), and nothing here already follows it. "
            if related.because
            else " "
        )
        estimate = (
            " " + self.coach.why(lesson.skill_id, self._priority(lesson.skill_id))
            if self.coach is not None
            else " Your progress is not recorded, so it is not adjusted to your mastery."
        )
        priority = self._priority(lesson.skill_id)
        return (
            f"_Why you see this: the model rates **{lesson.title}** {related.relevance:.0%} "
            f"relevant to this code; {what}.{because}It is about **{skill_name}**, a "
            f"{priority} priority for your team.{estimate}_"
        )

    def profile(self) -> dict[str, object]:
        """The developer's own progress, as the editors' progress view shows it."""
        if self.coach is None or self.coach.store is None:
            return {"skills": [], "sharing": self.settings.share_progress}
        self.coach.flush()
        configs = list(self._configs.values())
        overrides = configs[0].skill_priorities if configs else {}
        return build_profile(
            self.coach.store,
            self.coach.developer,
            self.catalog,
            self.coach.clock(),
            priorities=overrides,
            sharing=self.settings.share_progress,
        )

    def shutdown(self) -> None:
        """Stop analysing and close the progress store, on ``shutdown``.

        Then ``exit`` finds nothing left to flush (an open store checkpoints its log at exit).
        """
        self._sync_executor.shutdown(wait=False, cancel_futures=True)
        self._lesson_loader.shutdown(wait=False, cancel_futures=True)
        self._executor.shutdown(wait=True, cancel_futures=True)
        # What the coach was given is recorded: observing an analysis takes milliseconds.
        self._coach_executor.shutdown(wait=True)
        self._model_executor.shutdown(wait=False, cancel_futures=True)
        if self.coach is not None:
            self.coach.close()
