"""``lessonlens explain``, ``rules`` and ``lessons check|list``: reading and checking lessons."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from lessonlens.analyzers import language_for_id
from lessonlens.analyzers.engine import rule_set
from lessonlens.analyzers.languages import languages
from lessonlens.analyzers.model import Rule
from lessonlens.lessons.catalog import Catalog, cross_check, load_catalog
from lessonlens.lessons.lesson import LessonProblem
from lessonlens.server.cli.common import (
    RequestProblem,
    all_rules,
    config_here,
    did_you_mean,
    load_lessons,
)


@click.command()
@click.argument("name")
@click.option(
    "--form",
    type=click.Choice(["worked-example", "nudge", "practice", "deep-dive"]),
    default="worked-example",
    show_default=True,
    help="The lesson's form: its example with Before and After labelled, a one-line nudge, "
    "its practice challenge, or the deep dive.",
)
def explain(name: str, form: str) -> None:
    """Show the lesson for a rule id (PY001), a rule name or a lesson id."""
    from rich.console import Console
    from rich.markdown import Markdown

    from lessonlens.lessons.renditions import FORM_TITLES, other_forms, render

    rules = all_rules()
    config = config_here()
    catalog = load_lessons(config.lesson_dirs)
    by_name = {r.name.lower(): r for r in rules.values()}
    rule = rules.get(name.upper()) or by_name.get(name.lower())
    lesson = catalog.lesson(rule.lesson_id if rule else name)
    if lesson is None:
        hint = did_you_mean(name, [*rules, *by_name, *catalog.lessons])
        raise RequestProblem(f"no rule or lesson named {name!r}{hint} (see `lessonlens rules`)")
    console = Console()
    heading = ""
    if rule is not None:
        heading = f"# {rule.id} {rule.name}\n\n{rule.doc.strip()}\n\n{_fix_safety(rule)}\n\n---\n\n"
    others = ", ".join(f"`--form {f}`" for f in other_forms(lesson, form))
    more = f"\n\n---\n\n_Also: {others}._" if others else ""
    if form not in other_forms(lesson, "") and form != "worked-example":
        more = f"\n\n_This lesson has no {FORM_TITLES[form].lower()} form._" + more
    console.print(Markdown(heading + render(lesson, form) + more))


def _fix_safety(rule: Rule) -> str:
    """Ruff's "Fix safety" section: whether the rule offers a fix, and how far to trust it."""
    if rule.fix_title is None and not rule.fix_safety:
        return "## Fix safety\n\nThis rule offers no automatic fix."
    offer = f"Offers a fix: **{rule.fix_title}**." if rule.fix_title else "Offers a fix."
    how = (
        "`lessonlens check --fix` applies safe fixes; an unsafe one is shown with its reason "
        "and applied only with `--unsafe-fixes`."
    )
    return "\n\n".join(
        part for part in ("## Fix safety", offer, rule.fix_safety.strip(), how) if part
    )


@click.command(name="rules")
def list_rules() -> None:
    """List every rule with its lesson; opt-in rules run only when selected by id or name."""
    catalog = load_catalog()
    for rule in all_rules().values():
        lesson = catalog.lesson(rule.lesson_id)
        title = lesson.title if lesson else rule.lesson_id
        note = "  (opt-in: --select " + rule.id + ")" if rule.opt_in else ""
        click.echo(f"{rule.id}  {rule.name:<24} {title}{note}")


@click.group()
def lessons() -> None:
    """Work with lessons."""


@lessons.command(name="check")
@click.argument("folders", nargs=-1, type=click.Path(path_type=Path, file_okay=False))
def lessons_check(folders: tuple[Path, ...]) -> None:
    """Validate lesson folders (default: the built-in lessons and the configured folders)."""
    config = config_here()
    dirs = list(folders) or list(config.lesson_dirs)
    catalog = load_catalog(dirs)
    problems = [*catalog.problems, *catalog.active_content, *_cross_check(catalog)]
    for problem in problems:
        click.echo(str(problem), err=not problem.warning)
    errors = [p for p in problems if not p.warning]
    click.echo(
        f"{len(catalog.lessons)} lessons, {len(catalog.skills)} skills: "
        f"{len(errors)} error{'s' if len(errors) != 1 else ''}, "
        f"{len(problems) - len(errors)} warning{'s' if len(problems) - len(errors) != 1 else ''}."
    )
    if errors:
        sys.exit(1)


@lessons.command(name="list")
def lessons_list() -> None:
    """List lessons by skill."""
    config = config_here()
    catalog = load_catalog(config.lesson_dirs)
    for lesson in sorted(catalog.lessons.values(), key=lambda x: (x.skill_id, x.id)):
        origin = "" if lesson.builtin else "  (team)"
        click.echo(f"{lesson.skill_id:<26} {lesson.id:<22} {lesson.title}{origin}")


def _rule_lessons() -> dict[str, str]:
    return {rule.id: rule.lesson_id for rule in all_rules().values()}


def _cross_check(catalog: Catalog) -> list[LessonProblem]:
    """References, and each lesson's gates against the analyzers of the lesson's language."""
    from lessonlens.model_runtime.applicability import query_problem

    detectors = [d.id for spec in languages() for d in rule_set(spec).detectors]

    def problem(language: str, text: str) -> str | None:
        spec = language_for_id(language)
        if spec is None:
            return f"cannot be checked: no analyzer for language '{language}'"
        return query_problem(spec, text)

    return cross_check(catalog, _rule_lessons(), detectors, problem)
