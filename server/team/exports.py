"""What ``lessonlens export`` writes: a developer's own events, or the team figures, as JSON or CSV.

``export --team`` writes what :func:`lessonlens.server.team.figures.team_report` computed as it is
(JSON), or flattened to long-format rows (CSV); it adds and hides nothing. Without ``--team`` the
export is the developer's own events, ids and times only. The HTML page is ``report.py``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from lessonlens.server.learner.progress import Event
from lessonlens.server.team.figures import BAND_COUNT

SELF_COLUMNS = ("time", "kind", "skill", "rule", "lesson", "language", "correct")
TEAM_COLUMNS = ("section", "skill", "rule", "metric", "value")


def self_rows(events: Iterable[Event]) -> list[dict[str, Any]]:
    """A developer's own events as export rows: ids and times only, never code or paths.

    The pseudonym and the hashed repository id are left out: the export is the developer's own,
    and neither means anything to them.
    """
    return [
        {
            "time": dt.datetime.fromtimestamp(e.time, dt.UTC).isoformat(),
            "kind": e.kind.value,
            "skill": e.skill_id,
            "rule": e.rule_id,
            "lesson": e.lesson_id,
            "language": e.language,
            "correct": e.correct,
        }
        for e in sorted(events, key=lambda e: e.time)
    ]


def team_rows(report: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The team report flattened to long-format rows (section, skill, rule, metric, value).

    Long format because the sections have different figures; a suppressed figure is one row
    whose metric is ``suppressed`` and whose value is the reason, a figure with no one behind it
    one whose metric is ``no_data``. A week's figures carry the week's first day in the metric
    (``mean_mastery@2026-01-05``); bands are ``band_0_20``..; the period is three rows (section
    ``period``: ``since``, ``until``, ``weeks``), and why a headline figure is empty one row each
    (section ``headline_why``).
    """
    rows: list[dict[str, Any]] = []

    def add(section: str, skill: str | None, rule: str | None, metric: str, value: Any) -> None:
        rows.append(
            {"section": section, "skill": skill, "rule": rule, "metric": metric, "value": value}
        )

    add("team", None, None, "min_group_size", report["min_group_size"])
    if report["developers"] is None:
        add("team", None, None, "suppressed", report.get("suppressed"))
    else:
        add("team", None, None, "developers", report["developers"])
    add("team", None, None, "generated", report["generated"])
    for metric, value in report["period"].items():
        add("period", None, None, metric, value)
    for metric, value in report["headline"].items():
        add("headline", None, None, metric, value)
    for metric, reason in report["headline_why"].items():
        add("headline_why", None, None, metric, reason)
    for section in ("matrix", "skills", "gaps", "unmeasured", "time_to_mastery"):
        for entry in report[section]:
            for metric, value in entry.items():
                if metric in ("skill", "name"):
                    continue
                if metric == "lessons":
                    value = " ".join(lesson["id"] for lesson in value)
                if metric == "bands":
                    step = 100 // BAND_COUNT
                    for i, count in enumerate(value):
                        add(
                            section,
                            entry["skill"],
                            None,
                            f"band_{i * step}_{i * step + step}",
                            count,
                        )
                    continue
                add(section, entry["skill"], None, metric, value)
    for entry in report["recurrence"]:
        for metric, value in entry.items():
            if metric in ("rule", "skill"):
                continue
            if isinstance(value, dict):
                for part, figure in value.items():
                    add("recurrence", entry["skill"], entry["rule"], f"{metric}_{part}", figure)
            else:
                add("recurrence", entry["skill"], entry["rule"], metric, value)
    for week in report["weeks"]:
        day = dt.datetime.fromtimestamp(week["start"], dt.UTC).strftime("%Y-%m-%d")
        for metric in ("mean_mastery", "lessons_opened", "hints_dismissed"):
            add("weeks", None, None, f"{metric}@{day}", week[metric])
    for key, reason in sorted(report["limits"].items()):
        add("limits", None, None, key, reason)
    return rows


def render_csv(rows: Sequence[Mapping[str, Any]], columns: Sequence[str]) -> str:
    import csv
    import io

    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(columns), lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: "" if row.get(k) is None else row.get(k) for k in columns})
    return buffer.getvalue()


def render_self(events: Iterable[Event], fmt: str) -> str:
    import json

    rows = self_rows(events)
    if fmt == "csv":
        return render_csv(rows, SELF_COLUMNS)
    return json.dumps({"scope": "self", "events": rows}, indent=2) + "\n"


def render_team(report: Mapping[str, Any], fmt: str) -> str:
    import json

    if fmt == "csv":
        return render_csv(team_rows(report), TEAM_COLUMNS)
    return json.dumps({"scope": "team", **report}, indent=2) + "\n"
