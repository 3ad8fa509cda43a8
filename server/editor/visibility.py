"""Each open document's analysis, scheduled off the event loop, and what of it is visible.

Each document has at most one analysis in flight. Edits that arrive meanwhile only mark it
dirty, so they fold into one re-analysis of the latest text; a result whose revision has moved
on is dropped, never published. Visible hints are the selected rules' findings after the
project's silenced skills, mutes, dismissals, fading and the per-file cap.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import replace
from functools import partial

from lessonlens.analyzers import Analysis, AnalysisOptions, Finding, language_for_id, parsing
from lessonlens.analyzers.engine import UnitCache
from lessonlens.analyzers.facade import Analysed, Selection, analyse, with_evidence
from lessonlens.server.editor.documents import Document
from lessonlens.server.editor.related import RelatedLessons
from lessonlens.server.editor.settings import Settings
from lessonlens.server.editor.state import (
    DocumentResult,
    _fail_waiters,
    _is_test_file,
    _State,
    log,
    uri_to_path,
)
from lessonlens.server.learner.coach import SETTLE_S, Coach
from lessonlens.server.learner.mastery import Treatment
from lessonlens.server.workspace.config import (
    DEFAULT_MAX_FILE_SIZE,
    Config,
)
from lessonlens.server.workspace.priorities import effective_priority, silenced_skills


class Visibility(RelatedLessons):
    def update_settings(self, settings: Settings) -> list[DocumentResult]:
        """Apply new settings; returns the documents whose visible hints were recomputed."""
        lessons_changed = settings.lesson_dirs != self.settings.lesson_dirs
        # Every rule is analysed whatever is selected: a new selection only changes what shows.
        self.settings = settings
        if lessons_changed:
            self.reload_lessons()
        return self._refresh_all()

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
                language_options=config.language_options, test_code=_is_test_file(uri, config)
            )
            tree = document.tree.copy() if document.tree is not None else None
            try:
                # The findings first, which is all the editor shows: the evidence the coach
                # records is walked for after they are published.
                analysed = await loop.run_in_executor(
                    self._executor,
                    partial(
                        analyse,
                        data,
                        document.language,
                        options,
                        previous=tree,
                        units=state.units,
                        part="findings",
                    ),
                )
                new_tree, analysis = analysed.tree, analysed.analysis
            except Exception:
                log.exception("analysis of %s failed", uri)
                self._publish(state, None, revision, version, data, None)
                continue
            if not state.open:
                return
            if document.revision == revision:
                # No edit since the snapshot: the new tree is current and becomes the base of
                # the next incremental parse. Otherwise the old tree, with every edit applied
                # to it since, stays the base, and ``dirty`` is already set again. The document
                # edits a copy: ``new_tree`` stays as parsed, as the findings and lenses read it,
                # and every other thread reads a copy of its own.
                document.tree = new_tree.copy()
                self._publish(state, analysis, revision, version, data, new_tree)
                self._schedule_relations(state, revision, new_tree.copy(), data, analysis)
            if self.coach is not None:
                # After publishing: hints are judged by what was known before this edit, and
                # the events are written off the event loop, so no request waits on them. The
                # evidence is walked for on the coach's thread, queued at once: a shutdown
                # that comes next still finds this edit there to record.
                await loop.run_in_executor(
                    self._coach_executor,
                    partial(
                        _observe,
                        self.coach,
                        uri,
                        replace(analysed, tree=new_tree.copy()),
                        data,
                        options,
                        state.evidence_units,
                        self._selection(config),
                        opened=state.first,
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

    def _line_key(self, data: bytes, row: int) -> bytes:
        lines = data.split(b"\n")
        return lines[row].strip() if 0 <= row < len(lines) else b""

    def _selection(self, config: Config) -> Selection:
        """What the developer asked for: the project's config, then the editor's settings."""
        return Selection.layered(
            (config.select, config.ignore), (self.settings.select, self.settings.ignore)
        )

    def _visible(self, state: _State, *, too_large: bool = False) -> DocumentResult:
        document = state.document
        config = self._config_for(document.uri)
        selection = self._selection(config)
        silenced = silenced_skills(config.skill_priorities, self._skills)
        data = state.analysed_data
        hints: list[Finding] = []
        quiet: set[int] = set()
        lines = data.split(b"\n")
        coach = self.coach if self.settings.adaptive_hints else None
        for finding in state.analysis.findings if state.analysis else ():
            if not selection.keeps(finding):
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


def _observe(
    coach: Coach,
    uri: str,
    analysed: Analysed,
    data: bytes,
    options: AnalysisOptions,
    units: UnitCache,
    selection: Selection,
    *,
    opened: bool,
) -> None:
    """Complete an analysis of findings with its evidence, and let the coach observe both.

    The coach reads the two together: when the evidence cannot be had, the edit is not
    observed at all (the next one will be).
    """
    try:
        complete = with_evidence(analysed, options, units=units)
    except Exception:
        log.exception("evidence of %s failed", uri)
        return
    coach.observe(
        uri,
        complete.selected(selection),
        data,
        opened=opened,
        language=complete.spec.id,
    )
