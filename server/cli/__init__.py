"""The ``lessonlens`` command line: the ``main`` group, one module per group of commands.

``check`` (check.py), reading and checking lessons (lessons.py), the editor's language server
and settings (editor.py), your own progress (learner.py), the team's report, LRS and baseline
(team.py) and the model (model.py). The work itself happens in the application core; the
command modules parse options, call it and print. Heavy libraries load inside the commands
that use them, so that ``lessonlens --help`` starts fast.
"""

from __future__ import annotations

from typing import Any

import click

from lessonlens import __version__
from lessonlens.server.cli import check, editor, learner, lessons, model, team
from lessonlens.server.cli.common import StoreProblem


class _Main(click.Group):
    def invoke(self, ctx: click.Context) -> Any:
        # Every command that opens the store (progress, export, sync, report, baseline) says
        # what is wrong with it in one line, instead of a traceback.
        from lessonlens.server.learner.progress import ProgressStoreError

        try:
            return super().invoke(ctx)
        except ProgressStoreError as exc:
            raise StoreProblem(str(exc)) from exc


@click.group(cls=_Main, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="lessonlens")
def main() -> None:
    """Inline micro-lessons and optimisation hints, where the work happens."""


for _command in (
    check.check,
    lessons.explain,
    lessons.list_rules,
    lessons.lessons,
    editor.serve,
    editor.settings,
    learner.progress,
    learner.export,
    learner.practice,
    team.report,
    team.sync,
    team.baseline,
    model.model,
):
    main.add_command(_command)

__all__ = ["main"]
