"""What several ``lessonlens`` commands share: their errors, rule keys, paths, config, catalog."""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from pathlib import Path

import click

from lessonlens.analyzers.engine import EVERY_RULE
from lessonlens.analyzers.facade import rules_by_id
from lessonlens.analyzers.model import Rule
from lessonlens.lessons.catalog import Catalog, load_catalog
from lessonlens.server.workspace.config import Config, ConfigError, find_config


class ConfigProblem(click.ClickException):
    """A wrong project configuration: exit 2, as for a wrong command line.

    The message (a ``ConfigError``) names the file and the key.
    """

    exit_code = 2


class RequestProblem(click.ClickException):
    """A path, revision or rule that does not exist: exit 2, as for a wrong command line.

    Exit 1 means only that a ``--fail-on`` rule fired, so CI can tell the two apart.
    """

    exit_code = 2


class StoreProblem(click.ClickException):
    """The progress store or the pseudonym salt cannot be used: exit 2, with the file named."""

    exit_code = 2


def all_rules() -> dict[str, Rule]:
    return dict(rules_by_id())


def period_bounds(since: str | None, until: str | None) -> tuple[float | None, float | None]:
    """``--since`` and ``--until`` (YYYY-MM-DD, UTC, both days included) as times; exit 2 if bad."""
    from lessonlens.server.team.history import read_day

    bounds: dict[str, float | None] = {}
    for hint, text in (("--since", since), ("--until", until)):
        try:
            bounds[hint] = None if text is None else read_day(text, end=hint == "--until")
        except ValueError:
            raise click.BadParameter(
                "expected a date such as 2026-01-31", param_hint=hint
            ) from None
    start, end = bounds["--since"], bounds["--until"]
    if start is not None and end is not None and end <= start:
        raise click.BadParameter("must not be before --since", param_hint="--until")
    return start, end


def split_values(values: Sequence[str]) -> tuple[str, ...]:
    """Repeated and comma-separated option values as one tuple, blanks dropped."""
    return tuple(v.strip() for value in values for v in value.split(",") if v.strip())


def did_you_mean(word: str, known: Sequence[str]) -> str:
    """A "did you mean" for the known word closest to ``word`` (in any case), or ""."""
    lowered = {k.lower(): k for k in known}
    close = difflib.get_close_matches(word.lower(), list(lowered), n=1, cutoff=0.6)
    return f"; did you mean {lowered[close[0]]!r}?" if close else ""


def rule_keys(values: Sequence[str], option: str, *, ids: bool = False) -> tuple[str, ...]:
    """Rule ids, id prefixes or names, as given, made canonical; unknown ones are an error.

    Ids and names are accepted alike and case-insensitively ("py002", "PY002",
    "String-Concat-In-Loop"); ``ids`` turns names into their ids (for ``--fail-on``, which
    compares finding ids).
    """
    rules = all_rules()
    by_name = {rule.name.lower(): rule for rule in rules.values()}
    keys: list[str] = []
    for token in split_values(values):
        upper, lower = token.upper(), token.lower()
        if token == EVERY_RULE or any(rule_id.startswith(upper) for rule_id in rules):
            keys.append(token if token == EVERY_RULE else upper)
        elif lower in by_name:
            keys.append(by_name[lower].id if ids else by_name[lower].name)
        else:
            hint = did_you_mean(token, [*rules, *by_name])
            raise click.UsageError(
                f"{option} {token}: no rule has that id, id prefix or name{hint} "
                "(`lessonlens rules` lists them)"
            )
    return tuple(keys)


def display(path: Path) -> str:
    """``path`` as people read it: relative to the current folder where it is under it."""
    # Only the folder is resolved: resolving the file itself would show a symlink under its
    # target's name, and a broken one under a name that does not exist.
    located = path.absolute().parent.resolve() / path.name
    try:
        return located.relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return path.as_posix()


def load_lessons(lesson_dirs: Sequence[Path]) -> Catalog:
    """The catalog, each lesson it skipped said on stderr."""
    catalog = load_catalog(lesson_dirs)
    for problem in catalog.errors:
        click.echo(f"lessonlens: lesson skipped: {problem}", err=True)
    return catalog


def config_here() -> Config:
    """The configuration of the current folder's project; a wrong one exits 2."""
    try:
        return find_config(Path("."))
    except ConfigError as exc:
        raise ConfigProblem(str(exc)) from exc


def git_root(folder: Path) -> Path | None:
    """The top of the git work tree holding ``folder``, or None (not one, or no git)."""
    from lessonlens.server.workspace.git import toplevel

    return toplevel(folder)
