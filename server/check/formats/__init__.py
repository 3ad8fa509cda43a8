"""Output formats for ``lessonlens check``: text, JSON, SARIF, GitHub annotations, Markdown.

``RENDERERS`` is the one list of them: the command's ``--format`` choices and its dispatch both
come from it. Each format's module is imported when it renders, not when the list is read, so
that ``lessonlens --help`` loads none of ``check``'s machinery.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from lessonlens.server.check.formats.common import Context
    from lessonlens.server.check.run import CheckReport

# A format's renderer: the report, its context and whether the terminal takes colour (which
# only the text format uses) to the whole output.
Renderer = Callable[["CheckReport", "Context", bool], str]


def _text(report: CheckReport, context: Context, color: bool) -> str:
    from lessonlens.server.check.formats import text

    return text.render(report, context, color=color)


def _json(report: CheckReport, context: Context, color: bool) -> str:
    from lessonlens.server.check.formats import json_format

    return json_format.render(report, context)


def _sarif(report: CheckReport, context: Context, color: bool) -> str:
    from lessonlens.server.check.formats import sarif

    return sarif.render(report, context)


def _github(report: CheckReport, context: Context, color: bool) -> str:
    from lessonlens.server.check.formats import github

    return github.render(report, context)


def _markdown(report: CheckReport, context: Context, color: bool) -> str:
    from lessonlens.server.check.formats import markdown

    return markdown.render(report, context)


RENDERERS: dict[str, Renderer] = {
    "text": _text,
    "json": _json,
    "sarif": _sarif,
    "github": _github,
    "markdown": _markdown,
}
FORMATS = tuple(RENDERERS)


def render(fmt: str, report: CheckReport, context: Context, *, color: bool = False) -> str:
    """``report`` in the format named ``fmt`` (one of ``FORMATS``)."""
    return RENDERERS[fmt](report, context, color)
