"""``lessonlens report``, ``sync`` and ``baseline``: the team's view, an LRS, a starting point."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from lessonlens.server.cli.common import (
    ConfigProblem,
    config_here,
    display,
    git_root,
    load_lessons,
    period_bounds,
)
from lessonlens.server.workspace.config import ConfigError, find_config


@click.command()
@click.option(
    "--html",
    "html_path",
    required=True,
    type=click.Path(path_type=Path, dir_okay=False),
    help="Write the report to this HTML file.",
)
@click.option(
    "--min-group",
    type=click.IntRange(min=2),
    default=None,
    metavar="N",
    help="Hide groups smaller than N; only raises the configured minimum (5).",
)
@click.option(
    "--lrs",
    "lrs_url",
    metavar="URL",
    default=None,
    help="Build it from the statements in this LRS (what `lessonlens sync` sent) instead.",
)
@click.option("--since", metavar="DATE", help="The period's first day (YYYY-MM-DD, UTC).")
@click.option(
    "--until",
    metavar="DATE",
    help="The period's last day (YYYY-MM-DD, UTC). Without --since/--until the period ends on "
    "the day of the last event and covers at most the 26 weeks before it.",
)
def report(
    html_path: Path,
    min_group: int | None,
    lrs_url: str | None,
    since: str | None,
    until: str | None,
) -> None:
    """Write the team report: one self-contained HTML file with charts, readable offline.

    Built from every developer in the progress store (e.g. after `lessonlens baseline`), or with
    --lrs from every developer's statements in a Learning Record Store (credentials from
    LESSONLENS_LRS_USERNAME and LESSONLENS_LRS_PASSWORD). An LRS holds no anti-patterns
    introduced or hints dismissed, so the report shows those as unavailable. No group smaller
    than the minimum group size is shown and no individual is named or ranked. The figures are
    those of `lessonlens export --team` for the same period, defined once
    (docs/team-figures.md), and the page says which period it covers.
    """
    import time

    from lessonlens.server.learner.fitted import fitted_for
    from lessonlens.server.learner.progress import (
        EventKind,
        ProgressStore,
        SqliteProgressStore,
        default_data_dir,
    )
    from lessonlens.server.team.figures import team_report
    from lessonlens.server.team.lrs import LrsError, fetch_events, lrs_credentials
    from lessonlens.server.team.report import render_html
    from lessonlens.server.team.statements import NOT_SENT, EventListStore

    start, end = period_bounds(since, until)
    config = config_here()
    catalog = load_lessons(config.lesson_dirs)
    store: ProgressStore
    if lrs_url is None:
        store = SqliteProgressStore(on_notice=lambda message: click.echo(message, err=True))
        missing: frozenset[EventKind] = frozenset()
    else:
        try:
            username, password = lrs_credentials()
            store = EventListStore(
                fetch_events(lrs_url, username=username, password=password, since=start)
            )
        except LrsError as exc:
            raise click.ClickException(str(exc)) from exc
        missing = NOT_SENT
    try:
        data = team_report(
            store,
            catalog,
            config.matrix,
            time.time(),
            min_group_size=min_group,
            since=start,
            until=end,
            missing=missing,
            source="the LRS" if lrs_url else "the progress store",
            fitted=fitted_for(git_root(Path.cwd()), config.team_salt, default_data_dir()),
        )
    finally:
        store.close()
    html_path.parent.mkdir(parents=True, exist_ok=True)
    html_path.write_text(render_html(data), "utf-8")
    team = data["suppressed"] or f"{data['developers']} developers"
    span = data["period"]
    weeks = f"{span['weeks']} week{'s' if span['weeks'] != 1 else ''}"
    said = f"; period {span['since']} to {span['until']}, {weeks}" if span["weeks"] else ""
    click.echo(f"Wrote {display(html_path)} ({team}){said}.")


@click.command()
@click.option("--lrs", "lrs_url", required=True, metavar="URL", help="The LRS's xAPI endpoint.")
@click.option("--batch", type=click.IntRange(min=1), default=100, show_default=True)
@click.option(
    "--homepage",
    default="https://lessonlens.dev/developers",
    show_default=True,
    help="The account homePage of the statements' actor (your team's system IRI).",
)
@click.option("--full", is_flag=True, help="Send everything again (the LRS keeps one copy).")
def sync(lrs_url: str, batch: int, homepage: str, full: bool) -> None:
    """Send your learning records to a Learning Record Store, as xAPI 1.0.3 statements.

    Running this command is the opt-in: nothing leaves this machine otherwise. Credentials come
    from LESSONLENS_LRS_USERNAME and LESSONLENS_LRS_PASSWORD. A cursor remembers what was sent,
    so an interrupted sync resumes where it stopped. For Ralph, URL is http://HOST:PORT/xAPI/.
    """
    from lessonlens.server.learner.progress import SqliteProgressStore, default_data_dir
    from lessonlens.server.learner.pseudonym import developer_pseudonym
    from lessonlens.server.team.lrs import LrsError, check_lrs, cursor_file, lrs_credentials
    from lessonlens.server.team.lrs import sync as send

    try:
        username, password = lrs_credentials()
        # The LRS first: nothing listening, a wrong address or refused credentials is an error
        # that says so, never "Sent 0 statements".
        check_lrs(lrs_url, username, password)
    except LrsError as exc:
        raise click.ClickException(str(exc)) from exc
    config = config_here()
    data_dir = default_data_dir()
    developer = developer_pseudonym(git_root(Path.cwd()), config.team_salt, data_dir)
    store = SqliteProgressStore(on_notice=lambda message: click.echo(message, err=True))
    try:
        result = send(
            store,
            developer,
            lrs_url,
            batch=batch,
            username=username,
            password=password,
            cursor_path=cursor_file(data_dir, lrs_url, developer),
            homepage=homepage,
            full=full,
        )
    except LrsError as exc:
        raise click.ClickException(str(exc)) from exc
    finally:
        store.close()
    if result.resent_all:
        click.echo("Events appeared before the last sync point: sent everything again.")
    plural = "s" if result.sent != 1 else ""
    click.echo(f"Sent {result.sent} statement{plural} in {result.batches} batches.")


@click.command()
@click.argument(
    "repo", type=click.Path(path_type=Path, file_okay=False, exists=True), default=Path(".")
)
@click.option("--since", metavar="DATE", help="Only commits from DATE on (anything git accepts).")
@click.option("--branch", metavar="B", help="The branch to walk (default: the checked-out one).")
def baseline(repo: Path, since: str | None, branch: str | None) -> None:
    """Give each developer a starting profile from the code already in REPO's history.

    Walks the branch's first-parent history oldest first, analyses each commit's changed Python
    files and records what each author introduced, fixed and used well, under their pseudonym.
    Ctrl-C stops it cleanly; running it again continues where it stopped and never counts a
    commit twice. No code, path or email is stored.
    """
    from lessonlens.server.learner.progress import (
        DATABASE_NAME,
        SqliteProgressStore,
        default_data_dir,
    )
    from lessonlens.server.team.baseline import BaselineError, run_baseline

    try:
        config = find_config(repo)
    except ConfigError as exc:
        raise ConfigProblem(str(exc)) from exc
    data_dir = default_data_dir()
    store = SqliteProgressStore(
        data_dir / DATABASE_NAME, on_notice=lambda message: click.echo(message, err=True)
    )
    try:
        if sys.stderr.isatty():
            from rich.console import Console
            from rich.progress import Progress

            with Progress(console=Console(stderr=True), transient=True) as bar:
                task = bar.add_task("Baseline", total=None)
                summary = run_baseline(
                    repo,
                    store,
                    config,
                    data_dir,
                    branch=branch,
                    since=since,
                    on_progress=lambda done, total: bar.update(task, completed=done, total=total),
                )
        else:
            summary = run_baseline(repo, store, config, data_dir, branch=branch, since=since)
    except BaselineError as exc:
        raise click.ClickException(str(exc)) from exc
    except KeyboardInterrupt:
        click.echo("Interrupted; what was done is recorded. Run again to continue.", err=True)
        sys.exit(130)
    finally:
        store.close()
    resumed = f" (continued after {summary.resumed} done earlier)" if summary.resumed else ""
    click.echo(
        f"{summary.commits} commits{resumed}, {summary.files} files, {summary.events} events, "
        f"{len(summary.developers)} developers, {summary.seconds:.1f} s."
    )
    if summary.unreadable:
        click.echo(
            f"{summary.unreadable} commit{'' if summary.unreadable == 1 else 's'} left out: git "
            "could not read them (objects missing from this clone; fetch them and run again to "
            "include them).",
            err=True,
        )
    if summary.fitted:
        click.echo(f"Learner model fitted to this history for {summary.fitted} skills.")
