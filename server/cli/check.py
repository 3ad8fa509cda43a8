"""``lessonlens check``: suggest lessons for code, fix it, gate CI on chosen rules."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from lessonlens.analyzers.engine import AnalysisOptions
from lessonlens.analyzers.facade import Selection
from lessonlens.lessons.skills import load_skills
from lessonlens.server.check.formats import FORMATS
from lessonlens.server.cli.common import (
    ConfigProblem,
    RequestProblem,
    all_rules,
    display,
    load_lessons,
    rule_keys,
    split_values,
)
from lessonlens.server.workspace.config import Config, ConfigError, find_config
from lessonlens.server.workspace.priorities import silenced_skills

if TYPE_CHECKING:
    # ``check``'s machinery (process pools, the cache, the formats) loads in ``check``:
    # ``serve`` starts an editor's language server and needs none of it.
    from lessonlens.lessons.catalog import Catalog
    from lessonlens.server.check.fixes import FixRun
    from lessonlens.server.check.run import CheckOptions, CheckReport


@click.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("--diff", "diff_rev", metavar="REV", help="Only findings on lines changed since REV.")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="text", show_default=True)
@click.option("--jobs", "-j", type=click.IntRange(min=1), default=None, help="Parallel workers.")
@click.option("--no-cache", is_flag=True, help="Analyse everything again.")
@click.option("--select", multiple=True, metavar="RULES", help="Only these rules (ids, prefixes).")
@click.option("--ignore", multiple=True, metavar="RULES", help="Skip these rules.")
@click.option("--fail-on", multiple=True, metavar="RULES", help="Exit 1 if these rules fire.")
@click.option("--output", "-o", type=click.Path(path_type=Path), help="Write the report here.")
@click.option(
    "--related",
    is_flag=True,
    help="Also suggest lessons the model relates to code where no rule fired.",
)
@click.option(
    "--device",
    type=click.Choice(["auto", "cpu", "cuda"]),
    default="auto",
    show_default=True,
    help="With --related: where the model runs.",
)
@click.option(
    "--fix", "fix", is_flag=True, help="Apply safe fixes to the files, then report what remains."
)
@click.option("--unsafe-fixes", is_flag=True, help="With --fix or --fix-diff: unsafe fixes too.")
@click.option(
    "--fix-diff", is_flag=True, help="Print the diff that --fix would make; write nothing."
)
@click.option("--cache-dir", type=click.Path(path_type=Path), hidden=True)
def check(
    paths: tuple[Path, ...],
    diff_rev: str | None,
    fmt: str,
    jobs: int | None,
    no_cache: bool,
    select: tuple[str, ...],
    ignore: tuple[str, ...],
    fail_on: tuple[str, ...],
    output: Path | None,
    related: bool,
    device: str,
    fix: bool,
    unsafe_fixes: bool,
    fix_diff: bool,
    cache_dir: Path | None,
) -> None:
    """Suggest lessons for the code in PATHS (default: the current folder).

    Exits 0 whatever it finds: it teaches, it does not block. Use --fail-on to gate (with
    --fix, on what remains after fixing). --fix applies only safe fixes, which preserve
    behaviour; --unsafe-fixes adds those that may not, each shown with its reason.
    """
    from lessonlens.server.check import fixes
    from lessonlens.server.check.fixes import FixRun
    from lessonlens.server.check.formats import render
    from lessonlens.server.check.formats.common import Context
    from lessonlens.server.check.run import CheckError, CheckReport, changed_lines

    if unsafe_fixes and not (fix or fix_diff):
        raise click.UsageError("--unsafe-fixes only applies with --fix or --fix-diff")
    if fix_diff and fmt != "text":
        raise click.UsageError("--fix-diff prints a diff; not with --format " + fmt)
    targets = list(paths) or [Path(".")]
    report = CheckReport()
    fixing = FixRun([], unsafe=unsafe_fixes, written=not fix_diff) if fix or fix_diff else None
    lesson_dirs: list[Path] = []
    gate = rule_keys(fail_on, "--fail-on", ids=True)
    select = rule_keys(select, "--select")
    ignore = rule_keys(ignore, "--ignore")
    try:
        changed = changed_lines(diff_rev, Path.cwd()) if diff_rev else None
        for target in targets:
            config = find_config(target)
            lesson_dirs.extend(d for d in config.lesson_dirs if d not in lesson_dirs)
            gate = gate or rule_keys(config.fail_on, f"{config.source} fail-on", ids=True)
            part = _check_target(
                target, config, changed, select, ignore, jobs, no_cache, cache_dir, fixing
            )
            report.files.extend(part.files)
            report.cache_hits += part.cache_hits
    except ConfigError as exc:
        raise ConfigProblem(str(exc)) from exc
    except CheckError as exc:
        raise RequestProblem(str(exc)) from exc

    for file in report.files:
        if file.skipped:
            click.echo(f"lessonlens: {file.path}: {file.skipped}", err=True)
        for problem in file.problems:
            click.echo(f"lessonlens: {file.path}: {problem.message}", err=True)

    catalog = load_lessons(lesson_dirs)
    if related:
        _add_related(report, catalog, device)
    context = Context(catalog, all_rules())
    color = output is None and sys.stdout.isatty() and "NO_COLOR" not in os.environ
    rendered = render(fmt, report, context, color=color)
    if fixing is not None:
        # What was fixed goes where people read it, never into a report a tool parses.
        click.echo(
            fixes.summary(fixing, report),
            nl=False,
            err=fix_diff or (fmt != "text" and output is None),
        )
        if fix_diff:
            rendered = fixes.unified_diff(fixing.files)
    if output is not None:
        output.write_text(rendered, "utf-8")
    else:
        click.echo(rendered, nl=False)
    summary_file = os.environ.get("GITHUB_STEP_SUMMARY")
    if fmt == "github" and summary_file:
        with open(summary_file, "a", encoding="utf-8") as handle:
            handle.write(render("markdown", report, context))
    if gate and any(r.finding.rule_id.startswith(gate) for _, r in report.findings):
        sys.exit(1)


def _check_target(
    target: Path,
    config: Config,
    changed: dict[Path, set[int]] | None,
    select: tuple[str, ...],
    ignore: tuple[str, ...],
    jobs: int | None,
    no_cache: bool,
    cache_dir: Path | None,
    fixing: FixRun | None = None,
) -> CheckReport:
    from lessonlens.server.check import fixes
    from lessonlens.server.check.run import (
        CheckOptions,
        FileReport,
        discover,
        drop_skills,
        keep_changed,
    )

    unreadable: list[tuple[Path, str]] = []
    files = discover([target], config.exclude, unreadable)
    if changed is not None:
        files = [f for f in files if f.resolve() in changed]
    # As in Ruff: --select starts a fresh selection (the config's select and ignore no longer
    # apply, so an explicitly selected rule is never silently ignored), while --ignore adds to
    # the config's ignore list. Every rule is analysed (and cached) whatever is selected.
    selection = Selection.layered(
        (config.select, config.ignore), (split_values(select), split_values(ignore))
    )
    options = CheckOptions(
        analysis=AnalysisOptions(language_options=config.language_options),
        selection=selection,
        jobs=jobs or min(os.cpu_count() or 1, 8),
        use_cache=not no_cache,
        cache_dir=cache_dir,
        max_file_size=config.max_file_size,
        root=config.root,
    )
    pairs = [(f, display(f)) for f in files]
    report = _run_with_progress(pairs, options)
    silenced = silenced_skills(config.skill_priorities, load_skills())
    if silenced:
        report.files = [drop_skills(f, silenced) for f in report.files]
    if changed is not None:
        report.files = [
            keep_changed(f, changed.get(p.resolve()))
            for f, (p, _) in zip(report.files, pairs, strict=True)
        ]
    if fixing is not None:
        part = fixes.fix_report(
            report,
            options,
            unsafe=fixing.unsafe,
            write_files=fixing.written,
            silenced=silenced,
            changed=changed,
        )
        fixing.files.extend(part.files)
    report.files.extend(
        FileReport(display(folder), skipped=f"cannot read: {why}") for folder, why in unreadable
    )
    return report


def _add_related(report: CheckReport, catalog: Catalog, device: str) -> None:
    """Add the model's related lessons to ``report`` (check.related_notes).

    Without a usable model this says why on stderr and leaves the report as it was: CI keeps
    its rule findings.
    """
    from lessonlens.model_runtime.related import ModelService
    from lessonlens.server.check.related_notes import add_related

    service = ModelService(device=device)
    if not service.load():
        click.echo(f"lessonlens: related lessons unavailable: {service.message}", err=True)
        return
    add_related(report, catalog, service)


def _run_with_progress(pairs: list[tuple[Path, str]], options: CheckOptions) -> CheckReport:
    from lessonlens.server.check.run import run_check

    if not sys.stderr.isatty() or len(pairs) < 50:
        return run_check(pairs, options)
    from rich.console import Console
    from rich.progress import Progress

    with Progress(console=Console(stderr=True), transient=True) as progress:
        task = progress.add_task("Checking", total=len(pairs))
        return run_check(pairs, options, lambda n: progress.advance(task, n))
