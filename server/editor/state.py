"""The editor session's state: settings, lessons, project configs and the open documents.

`EditorState` is the base of `Session` (session.py), which adds, layer by layer, the related
lessons from the model (related.py), the analysis of each document and what of it is visible
(visibility.py), and what the editor shows (hover, actions, lenses; session.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import unquote, urlparse

from lessonlens.analyzers import Analysis, Finding, parsing
from lessonlens.analyzers.engine import UnitCache
from lessonlens.analyzers.facade import Analysed, rules_by_id
from lessonlens.analyzers.languages import is_test_path
from lessonlens.analyzers.model import Rule
from lessonlens.lessons.catalog import Catalog, load_catalog
from lessonlens.lessons.lesson import Lesson
from lessonlens.lessons.skills import Skill
from lessonlens.server.editor.documents import Document
from lessonlens.server.editor.settings import Settings
from lessonlens.server.learner.coach import Coach
from lessonlens.server.learner.mastery import Treatment
from lessonlens.server.learner.profile import build_profile
from lessonlens.server.workspace.config import (
    Config,
    ConfigError,
    find_config,
)
from lessonlens.server.workspace.priorities import effective_priority

if TYPE_CHECKING:
    # Loaded on first use: the model's side pulls in numpy, the LRS's http and ssl, lessons'
    # Markdown a parser; the first diagnostics need none of them (ARCHITECTURE.md, start-up).
    from lessonlens.model_runtime.related import ModelService, UnitRelations


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
    # The same for the evidence, walked for after the findings are shown (``with_evidence``).
    evidence_units: UnitCache = field(default_factory=UnitCache)
    # The first analysis of an opened document is what was there, not what was done.
    first: bool = True
    # Related lessons and skill tags per code unit, from the model, for `relations_revision`.
    relations: tuple[UnitRelations, ...] = ()
    relations_revision: int = -1
    relations_task: asyncio.Task[None] | None = None
    # The latest analysed snapshot waiting for the model: its revision, and it with a tree copy.
    relations_pending: tuple[int, Analysed] | None = None
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


def _lower_priority() -> None:
    """The model thread yields the CPU to the analysis of edits (Linux: a per-thread nice)."""
    with contextlib.suppress(AttributeError, OSError):
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 10)


class EditorState:
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
        self.rules: dict[str, Rule] = dict(rules_by_id())

    # ------------------------------------------------------------ lessons, settings, documents

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

    def document(self, uri: str) -> Document | None:
        state = self._states.get(uri)
        return state.document if state is not None else None

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

    def _priority(self, skill_id: str) -> str:
        configs = list(self._configs.values())
        overrides = configs[0].skill_priorities if configs else {}
        return effective_priority(skill_id, overrides, self._skills)

    def _treatment(self, skill_id: str) -> Treatment:
        priority = self._priority(skill_id)
        if priority == "none":
            return Treatment.SILENT
        if self.coach is None or not self.settings.adaptive_hints:
            return Treatment.FULL
        return self.coach.treatment_for(skill_id, priority)

    def _skill_language(self, skill_id: str) -> str:
        """The language a skill is practised in: that of a lesson or rule teaching it."""
        for lesson in self.catalog.lessons.values():
            if lesson.skill_id == skill_id:
                return lesson.language
        rule = next((r for r in self.rules.values() if r.skill_id == skill_id), None)
        return rule.language if rule is not None else ""

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
            fitted=self.coach.fitted,
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
