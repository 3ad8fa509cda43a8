"""``lessonlens progress`` and ``export``: your own learning, shown, forgotten or exported.

``export --team`` gives the team's aggregate instead, from the same command.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from lessonlens.lessons.catalog import Catalog
from lessonlens.lessons.lesson import Lesson
from lessonlens.server.cli.common import config_here, git_root, load_lessons, period_bounds
from lessonlens.server.workspace.config import Config


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print the profile as JSON.")
@click.option("--forget", is_flag=True, help="Delete your recorded progress on this machine.")
@click.option("--skill", metavar="SKILL", help="With --forget: only this skill's (a skill id).")
@click.option("--yes", "-y", is_flag=True, help="With --forget: do not ask for confirmation.")
def progress(as_json: bool, forget: bool, skill: str | None, yes: bool) -> None:
    """Show your skills: mastery, trend, lessons seen, and the next lesson to read.

    Estimates come from what lessonlens saw while you worked in an editor; they are stored on
    this machine only, under a pseudonym. --forget deletes them (all, or one --skill's); all
    of them also deletes the analysis and embedding caches, which hold traces of your code.
    """
    import time

    from lessonlens.server.learner.fitted import fitted_for
    from lessonlens.server.learner.profile import build_profile
    from lessonlens.server.learner.progress import SqliteProgressStore, default_data_dir
    from lessonlens.server.learner.pseudonym import developer_pseudonym

    if skill is not None and not forget:
        raise click.UsageError("--skill only applies with --forget")
    if as_json and forget:
        raise click.UsageError("--json and --forget do not go together")
    config = config_here()
    data_dir = default_data_dir()
    # The same developer as the language server computes: the git identity of this repository,
    # with the team's salt when the project sets one, else this machine's.
    developer = developer_pseudonym(git_root(Path.cwd()), config.team_salt, data_dir)
    store = SqliteProgressStore(on_notice=lambda message: click.echo(message, err=True))
    try:
        if forget:
            what = f"your progress for {skill}" if skill else "all your recorded progress"
            if not yes:
                click.confirm(f"Delete {what} from {store.path}?", abort=True, err=True)
            deleted = store.forget(developer, skill)
            click.echo(f"Deleted {deleted} event{'s' if deleted != 1 else ''}.")
            if skill is None:
                # The caches hold traces of the code itself; they are not kept per skill.
                from lessonlens.server.learner.traces import forget_traces

                for folder in forget_traces():
                    click.echo(f"Deleted the cache {folder}.")
            return
        catalog = load_lessons(config.lesson_dirs)
        fitted = fitted_for(git_root(Path.cwd()), config.team_salt, data_dir)
        profile = build_profile(
            store, developer, catalog, time.time(), config.skill_priorities, fitted=fitted
        )
    finally:
        store.close()
    if as_json:
        import json

        click.echo(json.dumps(profile, indent=2))
    else:
        _print_profile(profile, store.path)


_ARROWS = {"up": ("[green]↑[/]", "[green]^[/]"), "down": ("[red]↓[/]", "[red]v[/]")}
_FLAT = ("[dim]→[/]", "[dim]-[/]")
_STATUS_STYLES = {
    "learning": "[yellow]learning[/]",
    "quiet": "[cyan]quiet[/]",
    "mastered": "[green]mastered[/]",
    "claimed": "[green]known (you said)[/]",
    "off": "[dim]not a team priority[/]",
}


def _mastery_bar(p_known: float, unicode: bool, width: int = 8) -> str:
    filled = round(max(0.0, min(1.0, p_known)) * width)
    full, empty = ("█", "░") if unicode else ("#", "-")
    return f"{full * filled}[dim]{empty * (width - filled)}[/] {p_known:4.0%}"


def _print_profile(profile: dict[str, Any], store_path: Path) -> None:
    from rich import box
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    console = Console()
    # Block characters and arrows only where the terminal can print them (not on a legacy
    # Windows code page, where rich would fail to encode them).
    unicode = console.encoding.lower().startswith("utf")
    rows: list[dict[str, Any]] = profile["skills"]
    if not rows:
        console.print(
            "No progress recorded yet. lessonlens records it while you work in an editor "
            "with its language server (`lessonlens serve`)."
        )
    else:
        # Borderless and tight, so that the usual skill names fit 80 columns without wrapping.
        table = Table(
            title="Your skills",
            title_justify="left",
            box=box.SIMPLE_HEAD,
            show_edge=False,
            pad_edge=False,
            collapse_padding=True,
        )
        table.add_column("Skill")
        table.add_column("Mastery", no_wrap=True)
        table.add_column("Trend", justify="center")
        table.add_column("Lessons seen", justify="right")
        table.add_column("Status")
        for row in rows:
            table.add_row(
                escape(row["name"]),
                _mastery_bar(row["p_known"], unicode),
                _ARROWS.get(row["trend_direction"], _FLAT)[0 if unicode else 1],
                str(len(row["lessons_seen"])),
                _STATUS_STYLES.get(row["status"], escape(row["status"])),
            )
        console.print(table)
    suggestion = profile["next_lesson"]
    if rows:
        console.print()
    if suggestion is not None:
        console.print(f"Next suggested lesson: [bold]{escape(suggestion['title'])}[/]")
        console.print(f"  Why: {escape(suggestion['reason'])}.", soft_wrap=True)
        console.print(
            f"  Read it: lessonlens explain {suggestion['id']}  or  {escape(suggestion['url'])}",
            soft_wrap=True,
            highlight=False,
        )
    elif any(row["status"] in ("learning", "quiet") for row in rows):
        console.print(
            "Next suggested lesson: none; you have opened every lesson of the skills in progress."
        )
    elif rows:
        console.print("Next suggested lesson: none; nothing you work on needs one now.")
    console.print()
    console.print(
        f"[dim]Stored on this machine, in {escape(str(store_path))}; "
        "`lessonlens progress --forget` deletes it.[/]",
        soft_wrap=True,
    )


@click.command()
@click.option(
    "--format",
    "fmt",
    type=click.Choice(("csv", "json", "xapi")),
    default="json",
    show_default=True,
)
@click.option("--since", metavar="DATE", help="Only events from DATE on (YYYY-MM-DD, UTC).")
@click.option(
    "--until",
    metavar="DATE",
    help="Only events up to the end of DATE (YYYY-MM-DD, UTC). With --team, the period's end; "
    "without --since/--until it is the day of the last event.",
)
@click.option("--team", is_flag=True, help="The team's aggregate instead of your own events.")
@click.option(
    "--min-group",
    type=click.IntRange(min=2),
    default=None,
    metavar="N",
    help="With --team: hide groups smaller than N; only raises the configured minimum (5).",
)
@click.option("--output", "-o", type=click.Path(path_type=Path), help="Write the export here.")
def export(
    fmt: str,
    since: str | None,
    until: str | None,
    team: bool,
    min_group: int | None,
    output: Path | None,
) -> None:
    """Export your own progress events, or with --team the team's aggregate.

    Your export lists your events (time, kind, skill, rule, lesson); never code. xapi gives them
    as xAPI 1.0.3 statements (a JSON array), as `lessonlens sync` sends them. The team export
    holds no individual rows and no group smaller than the minimum group size; its figures are
    those of `lessonlens report --html`, for the same period, defined once
    (docs/team-figures.md).
    """
    import time

    from lessonlens.server.learner.fitted import fitted_for
    from lessonlens.server.learner.progress import SqliteProgressStore, default_data_dir
    from lessonlens.server.learner.pseudonym import developer_pseudonym
    from lessonlens.server.team.exports import render_self, render_team
    from lessonlens.server.team.figures import team_report

    if min_group is not None and not team:
        raise click.UsageError("--min-group only applies with --team")
    if fmt == "xapi" and team:
        # An xAPI statement is one actor's act: an aggregate has no actor to state it for.
        raise click.UsageError("--format xapi exports your own events; not with --team")
    start, end = period_bounds(since, until)
    config = config_here()
    store = SqliteProgressStore(on_notice=lambda message: click.echo(message, err=True))
    try:
        if team:
            catalog = load_lessons(config.lesson_dirs)
            report = team_report(
                store,
                catalog,
                config.matrix,
                time.time(),
                min_group_size=min_group,
                since=start,
                until=end,
                fitted=fitted_for(git_root(Path.cwd()), config.team_salt, default_data_dir()),
            )
            rendered = render_team(report, fmt)
        else:
            developer = developer_pseudonym(
                git_root(Path.cwd()), config.team_salt, default_data_dir()
            )
            events = store.events(developer, since=start)
            if end is not None:
                events = [event for event in events if event.time < end]
            if fmt == "xapi":
                import json

                from lessonlens.server.team.statements import statement

                found = [s for s in (statement(event) for event in events) if s is not None]
                rendered = json.dumps(found, indent=2) + "\n"
                # Said where people read it, never into the JSON a tool parses.
                click.echo(
                    f"{len(found)} statement{'s' if len(found) != 1 else ''} from "
                    f"{len(events)} event{'s' if len(events) != 1 else ''}: lessons read, "
                    "refresher answers, skills shown or fixed and mastery become statements; "
                    "hints shown, dismissed or muted, quick fixes, anti-patterns written and "
                    "practice stay on this machine (docs/signals.md).",
                    err=True,
                )
            else:
                rendered = render_self(events, fmt)
    finally:
        store.close()
    if output is not None:
        output.write_text(rendered, "utf-8")
    else:
        click.echo(rendered, nl=False)


@click.command()
@click.argument("lesson_id", required=False, metavar="[LESSON]")
@click.option(
    "--dir",
    "folder",
    type=click.Path(file_okay=False, path_type=Path),
    help="Where the challenge lives (default: a folder per lesson in lessonlens' data folder).",
)
@click.option("--check", is_flag=True, help="Run the challenge's checks on your code there.")
def practice(lesson_id: str | None, folder: Path | None, check: bool) -> None:
    """Practise a lesson: write a short challenge, then check your solution by running it.

    Without LESSON, the challenge is for your weakest skill among the team's priorities. The
    folder gets TASK.md, the code to improve and its checks; `--check` runs them (exit 0 only
    when they pass) and records the result as evidence of the skill, on this machine.
    """
    from lessonlens.server.languages.practice import (
        PracticeError,
        exercise_in,
        run_check,
        write_exercise,
    )
    from lessonlens.server.learner.progress import default_data_dir

    config = config_here()
    data_dir = default_data_dir()
    catalog = load_lessons(config.lesson_dirs)
    last = data_dir / "practice" / "last"
    try:
        if check:
            if lesson_id is not None:
                raise click.UsageError("--check reads the lesson from the challenge's folder")
            if folder is None:
                here = Path.cwd()
                folder = here if (here / ".lessonlens-practice.json").exists() else None
            if folder is None and last.is_file():
                folder = Path(last.read_text("utf-8").strip())
            if folder is None:
                raise click.UsageError("no challenge yet: write one with `lessonlens practice`")
            found, _language = exercise_in(folder)
            lesson = catalog.lessons.get(found)
            if lesson is None:
                raise PracticeError(f"{folder}: lesson '{found}' is not in the catalog")
            result = run_check(folder, lesson)
            if result.output:
                click.echo(result.output)
            verdict = "Passed" if result.passed else "Not yet"
            click.echo(f"{verdict}: {lesson.title} ({folder}).")
            _record_practice(config, data_dir, lesson, result.passed)
            if not result.passed:
                raise SystemExit(1)
            return
        reason = ""
        if lesson_id is None:
            chosen = _weakest(config, data_dir, catalog)
            if chosen is None:
                raise click.UsageError("no lesson has a practice challenge")
            lesson, reason = chosen
        else:
            found_lesson = catalog.lessons.get(lesson_id)
            if found_lesson is None:
                raise click.BadParameter(f"no lesson '{lesson_id}'", param_hint="LESSON")
            lesson = found_lesson
        folder = folder or data_dir / "practice" / lesson.id
        written = write_exercise(lesson, folder)
        last.parent.mkdir(parents=True, exist_ok=True)
        last.write_text(str(folder.resolve()), "utf-8")
    except PracticeError as exc:
        raise click.ClickException(str(exc)) from exc
    if reason:
        click.echo(f"Why this one: {reason}.")
    click.echo(f"Practice: {lesson.title}\n")
    assert lesson.practice is not None
    click.echo(lesson.practice.task + "\n")
    code = next((p for p in written if p.name.startswith("challenge")), folder / "challenge.py")
    click.echo(f"Edit {code}, then run: lessonlens practice --check --dir {folder}")
    _record_practice(config, data_dir, lesson, None)


def _record_practice(config: Config, data_dir: Path, lesson: Lesson, passed: bool | None) -> None:
    """Record writing (``passed`` None) or checking a challenge, as the developer of this repo."""
    from lessonlens.server.learner.practice import practice_event
    from lessonlens.server.learner.progress import SqliteProgressStore
    from lessonlens.server.learner.pseudonym import developer_pseudonym

    developer = developer_pseudonym(git_root(Path.cwd()), config.team_salt, data_dir)
    store = SqliteProgressStore(on_notice=lambda message: click.echo(message, err=True))
    try:
        store.record([practice_event(developer, lesson, passed)])
    finally:
        store.close()


def _weakest(config: Config, data_dir: Path, catalog: Catalog) -> tuple[Lesson, str] | None:
    """The challenge for this developer's weakest priority skill, and why."""
    import time

    from lessonlens.server.learner.practice import choose_challenge
    from lessonlens.server.learner.profile import build_profile
    from lessonlens.server.learner.progress import SqliteProgressStore
    from lessonlens.server.learner.pseudonym import developer_pseudonym
    from lessonlens.server.workspace.priorities import effective_priority

    developer = developer_pseudonym(git_root(Path.cwd()), config.team_salt, data_dir)
    store = SqliteProgressStore(on_notice=lambda message: click.echo(message, err=True))
    try:
        profile = build_profile(store, developer, catalog, time.time(), config.skill_priorities)
    finally:
        store.close()
    priorities = {
        skill: effective_priority(skill, config.skill_priorities, catalog.skills)
        for skill in catalog.skills
    }
    return choose_challenge(catalog, profile["skills"], priorities)
