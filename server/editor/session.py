"""The editor session: the application core behind the language server.

It owns the open documents, schedules analysis off the event loop, and turns findings into what
an editor shows: visible hints (after settings, mutes, dismissals and the per-file cap), hover
text, code actions, code lenses and lessons. It knows nothing of the wire protocol. Its layers:
`state.EditorState` (settings, lessons, documents), `related.RelatedLessons` (the model),
`visibility.Visibility` (analysis and visible hints) and `Session` here (what the editor shows
and the developer's answers to it).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from functools import partial
from typing import TYPE_CHECKING

from lessonlens.analyzers import Finding
from lessonlens.lessons.lesson import Lesson
from lessonlens.lessons.renditions import FORM_TITLES, other_forms, render
from lessonlens.server.learner.coach import Coach
from lessonlens.server.learner.progress import default_data_dir
from lessonlens.server.learner.refreshers import Refresher, refresher_for

if TYPE_CHECKING:
    from lessonlens.server.learner.forms import Choice

    # Loaded on first use: the model's side pulls in numpy, the LRS's http and ssl, lessons'
    # Markdown a parser; the first diagnostics need none of them (ARCHITECTURE.md, start-up).
    from lessonlens.server.team.lrs import SyncResult


from lessonlens.server.editor.state import (
    Action,
    AnalysisFailed,
    DocumentResult,
    Lens,
    _shown,
    uri_to_path,
)
from lessonlens.server.editor.visibility import Visibility

__all__ = ["AnalysisFailed", "DocumentResult", "Session", "uri_to_path"]


class Session(Visibility):
    def hover(self, uri: str, offset: int) -> str | None:
        hints = self.hints_at(uri, offset, offset)
        if not hints:
            return self.related_hover(uri, offset)
        result = self.result(uri)
        quiet = result is not None and result.is_quiet(hints[0])
        return self.hover_markdown(hints[0], quiet=quiet)

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
            parts.append(f'{render(lesson, "nudge")}\n\n_Use "Show lesson" to read it._')
        else:
            choice = self.lesson_form(lesson)
            parts.append(render(lesson, choice.form))
            others = [FORM_TITLES[f].lower() for f in other_forms(lesson, choice.form)]
            if others:
                parts.append(f'\n_Also as {", ".join(others)}: use "Show lesson"._')
            shown_as = f"Shown as {FORM_TITLES[choice.form].lower()}: {choice.reason}."
            why = why.replace(
                f"this code, which is about **{skill_name}**.",
                f"this code, which is about **{skill_name}**. {shown_as}",
                1,
            )
            if self.coach is not None and (finding.lesson_id, "hover") not in self._opened:
                self._opened.add((finding.lesson_id, "hover"))
                self.coach.lesson_opened(finding.skill_id, finding.lesson_id, lesson.language)
        return _shown(lesson, "\n".join(parts)) + f"\n\n---\n{why}\n"

    def lesson_form(self, lesson: Lesson) -> Choice:
        """The form to show ``lesson`` in first, from the developer's history (forms.py)."""
        from lessonlens.server.learner.forms import choose_form, lesson_history

        coach = self.coach
        history = lesson_history(lesson, coach.history if coach is not None else ())
        estimate = coach.estimate_for(lesson.skill_id) if coach is not None else None
        priority = self._priority(lesson.skill_id)
        return choose_form(lesson, history, estimate, priority, self.settings.lesson_form)

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
            if lesson is not None and self.lesson_form(lesson).form == "practice":
                actions.append(
                    Action("practice", f"Practice: {title}", finding, (finding.lesson_id,))
                )
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
        # The chosen form first, then the others: each a scroll away in the lesson view.
        choice = self.lesson_form(lesson)
        forms = [choice.form, *(f for f in other_forms(lesson, choice.form) if f != "nudge")]
        sections = [render(lesson, form) for form in forms]
        below = ", ".join(FORM_TITLES[form].lower() for form in forms[1:])
        note = f"_Shown as {FORM_TITLES[choice.form].lower()}: {choice.reason}."
        sections[0] += f"\n\n{note}" + (f" Below: {below}._" if below else "_")
        markdown = _shown(lesson, "\n\n---\n\n".join(sections)) + "\n"
        if self.coach is not None:
            self.coach.lesson_opened(lesson.skill_id, lesson.id, lesson.language)
        return {"id": lesson.id, "title": lesson.title, "markdown": markdown}

    def practice(self, lesson_id: str) -> dict[str, str] | None:
        """Write the lesson's practice challenge (``lessonlens practice``'s folder for it).

        Records the attempt; None when the lesson has no challenge.
        """
        from lessonlens.server.languages.practice import LAYOUTS, can_practise, write_exercise
        from lessonlens.server.learner.practice import practice_event

        lesson = self.lesson(lesson_id)
        if lesson is None or not can_practise(lesson):
            return None
        folder = default_data_dir() / "practice" / lesson.id
        write_exercise(lesson, folder)
        code = folder / LAYOUTS[lesson.language].code
        if self.coach is not None:
            self.coach.record([practice_event(self.coach.developer, lesson, None)])
        return {
            "lesson": lesson.id,
            "folder": str(folder),
            "uri": code.as_uri(),
            "check": f"lessonlens practice --check --dir {folder}",
        }

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

    async def sync_progress(self) -> SyncResult | None:
        """Send this developer's progress to the LRS, when they share it and one is set.

        Runs off the event loop; returns None when sharing is off or there is nothing to use.
        """
        url = self.settings.lrs_url
        coach = self.coach
        if not (self.settings.share_progress and url) or coach is None or coach.store is None:
            return None
        store, developer = coach.store, coach.developer
        from lessonlens.server.team.lrs import cursor_file, lrs_credentials, sync

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
