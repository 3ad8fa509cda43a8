"""Related lessons in the editor: the model's side of the session, off the event loop.

Once the model has loaded, each analysed snapshot is related to lessons after typing pauses, a
few units at a time, stepping aside while an edit is analysed; only the latest snapshot is ever
worked on. The results feed code lenses (where no hint is shown), the hover and practice events.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from lessonlens.analyzers import Analysis, parsing
from lessonlens.analyzers.facade import Analysed
from lessonlens.analyzers.model import CodeUnit
from lessonlens.lessons.lesson import Lesson
from lessonlens.model_runtime.applicability import Verdict
from lessonlens.server.learner.mastery import Treatment

if TYPE_CHECKING:
    # Loaded on first use: the model's side pulls in numpy, the LRS's http and ssl, lessons'
    # Markdown a parser; the first diagnostics need none of them (ARCHITECTURE.md, start-up).
    from lessonlens.model_runtime.related import ModelService, RelatedLesson, UnitRelations


from lessonlens.server.editor.state import (
    MAX_RELATED_LENSES,
    RELATE_AFTER_QUIET_S,
    RELATE_SLICE_TEXTS,
    EditorState,
    Lens,
    _State,
    log,
)


class RelatedLessons(EditorState):
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
        if self.model is None or not self.model.ready or not state.open or analysis is None:
            return
        analysed = Analysed(state.document.language, data, tree, analysis)
        state.relations_pending = (revision, analysed)
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
            revision, analysed = state.relations_pending
            state.relations_pending = None
            try:
                relations = await self._relate_in_slices(state, analysed)
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
        self, state: _State, analysed: Analysed
    ) -> list[UnitRelations] | None:
        """A few units at a time, stepping aside while an edit is analysed.

        None if the document moved on meanwhile: the newer snapshot is related instead, once
        typing pauses again, so a long first look at a big file never competes with typing.
        """
        loop = asyncio.get_running_loop()
        if analysed.spec.code_units is None:
            return []
        units, verdicts = await loop.run_in_executor(self._model_executor, self._units, analysed)
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

    def _units(self, analysed: Analysed) -> tuple[list[CodeUnit], list[Mapping[str, Verdict]]]:
        if self.model is None:
            return [], []
        gates = self.model.gates(list(self.catalog.lessons.values()), analysed.spec)
        from lessonlens.model_runtime.related import document_units

        return document_units(gates, analysed)

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
