"""The team report: one self-contained HTML file a team lead reads, with charts drawn inline.

Rendering only. Every figure comes from :func:`lessonlens.server.team.figures.team_report`, the same
data that ``lessonlens export --team`` writes as JSON or CSV; this module decides how it looks,
never what it is (definitions, and the minimum group rule, are in ``figures.py``). Each figure
the export holds is also in the page: charts for reading, and beside them tables whose cells
carry ``data-section``, ``data-key`` (skill, rule or week) and ``data-figure``, so a test can
read every number back and compare it with the export.

Self-contained means nothing is fetched when the file is opened: CSS is inline, charts are SVG
drawn by ``charts.py``, and there are no scripts at all. Lesson links point to their
documentation; a reader follows them by choice, and the page draws the same with no network.

Privacy: the data holds aggregates only (see ``figures.py``); a figure hidden there is shown here
as suppressed, with its reason, never as zero. Nothing is ranked by developer.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from lessonlens.server.team.charts import (
    BANDS,
    bar_pairs,
    gap_chart,
    heatmap,
    num,
    pct,
    progress_chart,
    utc_date,
)

_E = html.escape

_CSS = """
:root { color-scheme: light; }
* { box-sizing: border-box; }
body { font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1f2328;
  margin: 0 auto; max-width: 1100px; padding: 24px 32px 48px; background: #fff; }
h1 { font-size: 26px; margin: 0 0 4px; }
h2 { font-size: 19px; margin: 36px 0 8px; border-bottom: 1px solid #d0d7de; padding-bottom: 4px; }
p.meta, p.note, figcaption { color: #57606a; font-size: 13px; }
.cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(150px, 1fr)); gap: 12px;
  margin: 20px 0 8px; }
.card { border: 1px solid #d0d7de; border-radius: 8px; padding: 12px 14px; }
.card .value { font-size: 26px; font-weight: 650; display: block; }
.card .label { color: #57606a; font-size: 13px; }
.good { color: #1a7f37; } .bad { color: #b42318; }
figure { margin: 8px 0 0; }
svg { max-width: 100%; height: auto; font-family: inherit; }
svg text { fill: #1f2328; font-size: 12px; }
svg text.muted { fill: #57606a; }
table { border-collapse: collapse; margin-top: 8px; font-size: 14px; }
th, td { text-align: left; padding: 4px 10px; border-bottom: 1px solid #eaeef2; }
caption { caption-side: top; text-align: left; color: #57606a; font-size: 13px; }
details summary { cursor: pointer; color: #57606a; font-size: 13px; }
ul.lessons { margin: 2px 0 10px; padding-left: 20px; }
.banner { background: #fff8c5; border: 1px solid #d4a72c; border-radius: 6px; padding: 8px 12px; }
section { break-inside: avoid; page-break-inside: avoid; }
@media print {
  body { padding: 0; max-width: none; font-size: 12px; }
  h2 { margin-top: 20px; }
  a { color: inherit; }
}
"""


def _days(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f}"


def _count(value: int | None) -> str:
    return "—" if value is None else str(value)


def _figure(
    section: str, key: str, figure: str, text: str, tag: str = "td", attrs: str = ""
) -> str:
    """One figure, marked with what it is: a reader sees the text, a test reads the marks."""
    return (
        f'<{tag} data-section="{_E(section)}" data-key="{_E(key)}" data-figure="{_E(figure)}"'
        f"{attrs}>{_E(text)}</{tag}>"
    )


def _table(head: Sequence[str], rows: Iterable[str], caption: str = "") -> str:
    cells = "".join(f'<th scope="col">{_E(h)}</th>' for h in head)
    caption_html = f"<caption>{_E(caption)}</caption>" if caption else ""
    return (
        f'<table class="figures">{caption_html}<thead><tr>{cells}</tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table>"
    )


def _hidden_row(section: str, key: str, label: str, reason: str, span: int, tail: str = "") -> str:
    attrs = f' colspan="{span}" class="muted"'
    return (
        f'<tr><th scope="row">{_E(label)}</th>'
        f"{_figure(section, key, 'suppressed', f'suppressed: {reason}', attrs=attrs)}{tail}</tr>"
    )


def _skills_table(
    skills: Sequence[Mapping[str, Any]], matrix: Mapping[str, Mapping[str, Any]]
) -> str:
    rows = []
    for row in skills:
        key = row["skill"]
        entry = matrix.get(key, {})
        tail = _figure("skills", key, "priority", entry.get("priority", "—")) + _figure(
            "skills", key, "target", pct(entry.get("target"))
        )
        if "suppressed" in row:
            rows.append(_hidden_row("skills", key, row["name"], row["suppressed"], 6, tail))
            continue
        cells = [
            _figure("skills", key, "count", _count(row["count"])),
            *(_figure("skills", key, f, pct(row[f])) for f in ("mean", "q1", "median", "q3")),
            _figure("skills", key, "bands", " / ".join(str(n) for n in row["bands"])),
            tail,
        ]
        rows.append(f'<tr><th scope="row">{_E(row["name"])}</th>{"".join(cells)}</tr>')
    head = (
        "Skill",
        "Developers with evidence",
        "Mean",
        "Lower quartile",
        "Median",
        "Upper quartile",
        f"Developers per band ({' / '.join(BANDS)})",
        "Matrix priority",
        "Matrix target",
    )
    return _table(head, rows)


def _gaps_table(gaps: Sequence[Mapping[str, Any]], unmeasured: Sequence[Mapping[str, Any]]) -> str:
    rows = []
    for gap in gaps:
        key = gap["skill"]
        cells = [
            _figure("gaps", key, "priority", gap["priority"]),
            *(_figure("gaps", key, f, pct(gap[f])) for f in ("target", "mean", "gap")),
            _figure("gaps", key, "head_count", _count(gap["head_count"])),
            _figure("gaps", key, "score", f"{gap['score']:.2f}"),
        ]
        rows.append(f'<tr><th scope="row">{_E(gap["name"])}</th>{"".join(cells)}</tr>')
    for row in unmeasured:
        key = row["skill"]
        lead = _figure("unmeasured", key, "priority", row["priority"]) + _figure(
            "unmeasured", key, "target", pct(row["target"])
        )
        reason = f"not measured, {row['suppressed']}"
        rows.append(
            f'<tr><th scope="row">{_E(row["name"])}</th>{lead}'
            + _figure("unmeasured", key, "suppressed", reason, attrs=' colspan="4" class="muted"')
            + "</tr>"
        )
    head = ("Skill", "Priority", "Target", "Team mean", "Gap", "Head count", "Score")
    return _table(head, rows) if rows else ""


def _recurrence_table(recurrence: Sequence[Mapping[str, Any]]) -> str:
    rows = []
    for row in recurrence:
        key = row["rule"]
        label = f"{row['rule']} ({row['skill']})"
        if "suppressed" in row:
            rows.append(_hidden_row("recurrence", key, label, row["suppressed"], 7))
            continue
        cells = [_figure("recurrence", key, "developers", _count(row["developers"]))]
        for side in ("before", "after"):
            part = row[side]
            cells += [
                _figure("recurrence", key, f"{side}_introduced", _count(part["introduced"])),
                _figure("recurrence", key, f"{side}_opportunities", _count(part["opportunities"])),
                _figure("recurrence", key, f"{side}_per_1000", num(part["per_1000"])),
            ]
        rows.append(f'<tr><th scope="row">{_E(label)}</th>{"".join(cells)}</tr>')
    head = (
        "Rule (skill)",
        "Developers (the same on both sides)",
        "Introduced before",
        "Opportunities before",
        "Per 1,000 before",
        "Introduced after",
        "Opportunities after",
        "Per 1,000 after",
    )
    return _table(head, rows)


def _mastery_table(rows: Sequence[Mapping[str, Any]], minimum: int) -> str:
    if not rows:
        return '<p class="note">No developer has reached mastery of a skill yet.</p>'
    body = []
    for row in rows:
        key = row["skill"]
        if "suppressed" in row:
            body.append(_hidden_row("time_to_mastery", key, row["name"], row["suppressed"], 2))
            continue
        body.append(
            f'<tr><th scope="row">{_E(row["name"])}</th>'
            + _figure("time_to_mastery", key, "developers", _count(row["developers"]))
            + _figure("time_to_mastery", key, "median_days", _days(row["median_days"]))
            + "</tr>"
        )
    head = ("Skill", "Developers who reached mastery", "Median days to mastery")
    caption = f"Skills mastered by fewer than {minimum} developers are suppressed."
    return _table(head, body, caption)


def _weeks_table(weeks: Sequence[Mapping[str, Any]]) -> str:
    body = []
    for week in weeks:
        key = utc_date(week["start"])
        hints = week["hints_dismissed"]
        body.append(
            f'<tr><th scope="row">{key}</th>'
            + _figure("weeks", key, "mean_mastery", pct(week["mean_mastery"]))
            + _figure("weeks", key, "lessons_opened", _count(week["lessons_opened"]))
            + _figure("weeks", key, "hints_dismissed", "n/a" if hints is None else str(hints))
            + "</tr>"
        )
    head = ("Week starting (UTC)", "Mean mastery", "Lessons opened", "Hints dismissed")
    return f"<details><summary>Figures by week</summary>{_table(head, body)}</details>"


def _card(figures: str, label: str, css: str = "") -> str:
    klass = f' class="value {css}"' if css else ' class="value"'
    return (
        f'<div class="card"><span{klass}>{figures}</span>'
        f'<span class="label">{_E(label)}</span></div>'
    )


def _headline(head: Mapping[str, Any], limits: Mapping[str, str]) -> str:
    before, after = head["recurrence_before"], head["recurrence_after"]
    trend = ""
    if before is not None and after is not None:
        trend = "good" if after < before else "bad" if after > before else ""

    def value(figure: str, text: str, unavailable: bool = False) -> str:
        return _figure("headline", "", figure, "n/a" if unavailable else text, tag="span")

    no_recurrence = "recurrence" in limits
    cards = [
        _card(
            value("recurrence_before", num(before), no_recurrence),
            "anti-patterns per 1,000 opportunities before the first lesson",
        ),
        _card(
            value("recurrence_after", num(after), no_recurrence),
            "anti-patterns per 1,000 opportunities after it",
            trend,
        ),
        _card(
            value("median_days_to_mastery", _days(head["median_days_to_mastery"])),
            "median days to mastery of a skill",
        ),
        _card(
            value("skills_below_target", _count(head["skills_below_target"]))
            + " of "
            + value("skills_with_target", _count(head["skills_with_target"])),
            "skills below their matrix target",
        ),
        _card(value("lessons_opened", _count(head["lessons_opened"])), "lessons opened"),
        _card(
            value(
                "hints_dismissed",
                _count(head["hints_dismissed"]),
                "hints_dismissed" in limits,
            ),
            "hints dismissed",
        ),
    ]
    return "".join(cards)


def render_html(report: Mapping[str, Any], *, title: str = "lessonlens team report") -> str:
    """The team figures (``figures.team_report``'s result) as one self-contained HTML document."""
    minimum = int(report["min_group_size"])
    limits: Mapping[str, str] = report.get("limits") or {}
    matrix = {entry["skill"]: entry for entry in report["matrix"]}
    targets = {skill: entry["target"] for skill, entry in matrix.items()}
    weeks = report["weeks"]
    banner = ""
    if report["suppressed"]:
        banner = (
            f'<p class="banner">This team has {_E(str(report["suppressed"]))}: most figures are '
            "suppressed to protect individuals.</p>"
        )
    gaps_html = [gap_chart(report["gaps"]), _gaps_table(report["gaps"], report["unmeasured"])]
    for gap in report["gaps"]:
        gaps_html.append(f"<h3>{_E(gap['name'])}</h3>")
        if gap["lessons"]:
            items = "".join(
                f'<li><a href="{_E(lesson["url"])}">{_E(lesson["title"])}</a> '
                f'<span class="note">(<code>lessonlens explain {_E(lesson["id"])}</code>)</span>'
                "</li>"
                for lesson in gap["lessons"]
            )
            gaps_html.append(f'<ul class="lessons">{items}</ul>')
        else:
            gaps_html.append('<p class="note">No lesson in the catalog teaches this skill yet.</p>')
    if limits:
        items = "".join(f"<li>{_E(limits[key])}</li>" for key in sorted(limits))
        banner += (
            f'<div class="banner"><p>Limits of this report\'s source:</p><ul>{items}</ul></div>'
        )
    recurrence = report["recurrence"]
    shown = [r for r in recurrence if "suppressed" not in r]
    if "recurrence" in limits:
        recurrence_html = f'<p class="note">Recurrence is {_E(limits["recurrence"])}.</p>'
    elif recurrence:
        recurrence_html = ""
        if shown:
            recurrence_html = bar_pairs(
                "recurrence",
                "Recurrence of each anti-pattern per 1,000 opportunities, before and after the "
                "developers' first lesson on it",
                [
                    (f"{r['rule']} ({r['skill']})", r["before"]["per_1000"], r["after"]["per_1000"])
                    for r in shown
                ],
                ("before the first lesson", "after it"),
                lambda v: num(v),
            )
        recurrence_html += _recurrence_table(recurrence)
    else:
        recurrence_html = '<p class="note">No anti-pattern recorded yet.</p>'
    shown_weeks = [w for w in weeks if w["lessons_opened"] or w["hints_dismissed"]]
    if shown_weeks and not report["suppressed"]:
        engagement_html = bar_pairs(
            "engagement",
            "Engagement per week: lessons opened and hints dismissed by the whole team",
            [
                (utc_date(w["start"]), w["lessons_opened"], w["hints_dismissed"])
                for w in shown_weeks
            ],
            ("lessons opened", "hints dismissed"),
            lambda v: "—" if v is None else f"{v:.0f}",
            "not available" if "hints_dismissed" in limits else "suppressed",
        )
    else:
        engagement_html = '<p class="note">No engagement recorded yet.</p>'
    period = f"{utc_date(weeks[0]['start'])} to {utc_date(report['generated'])}" if weeks else ""
    developers = report["developers"]
    team = f"{developers} developers" if developers is not None else str(report["suppressed"])
    weeks_html = _weeks_table(weeks) if weeks else ""
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{_E(title)}</title>
<style>{_CSS}</style>
</head>
<body>
<header>
<h1>{_E(title)}</h1>
<p class="meta">Generated {utc_date(report["generated"])} (UTC) · period {_E(period)} ·
{_figure("team", "", "developers", team, tag="span")} · groups smaller than
{_figure("team", "", "min_group_size", str(minimum), tag="span")} are never shown ·
no individual is named or ranked</p>
{banner}
</header>
<main>
<section aria-labelledby="h-headline">
<h2 id="h-headline">Headline: capability, not completion</h2>
<div class="cards">{_headline(report["headline"], limits)}</div>
<p class="note">Opportunities are edits where a skill applied (the store counts no changed
lines, so they stand in for them). A lower rate after the first lesson means the lesson changed
the code people write.</p>
</section>
<section aria-labelledby="h-heatmap">
<h2 id="h-heatmap">Team mastery by skill</h2>
<figure>{heatmap(report["skills"], targets, minimum)}
<figcaption>Each cell counts developers whose mastery estimate falls in the band; the darker, the
larger the share of the skill's developers. Hatched rows have fewer than {minimum} developers
with evidence and are suppressed.</figcaption></figure>
{_skills_table(report["skills"], matrix) if report["skills"] else ""}
</section>
<section aria-labelledby="h-progress">
<h2 id="h-progress">Progress over time</h2>
<figure>{progress_chart(weeks, minimum)}
<figcaption>The mean over developers of each one's mean mastery estimate at the end of the week.
Weeks with fewer than {minimum} developers with evidence are left out (gaps in the line).
</figcaption></figure>
{weeks_html}
</section>
<section aria-labelledby="h-gaps">
<h2 id="h-gaps">Top gaps against the skill matrix</h2>
<p class="note">Target minus team mean, scored by priority (high 3, medium 2, low 1) times the
developers with evidence; the lessons listed teach the skill.</p>
<figure>{"".join(gaps_html)}</figure>
</section>
<section aria-labelledby="h-recurrence">
<h2 id="h-recurrence">Recurrence before and after lessons</h2>
<p class="note">Anti-patterns introduced per 1,000 opportunities, before and after each
developer's first lesson on the rule, counted over the same developers on both sides. A rule
is shown once at least {minimum} developers have opportunities on both sides.</p>
<figure>{recurrence_html}</figure>
</section>
<section aria-labelledby="h-mastery">
<h2 id="h-mastery">Time to mastery</h2>
<p class="note">Days from a developer's first opportunity on a skill to the moment the learner
model judged it mastered; the median over those who reached it.</p>
{_mastery_table(report["time_to_mastery"], minimum)}
</section>
<section aria-labelledby="h-engagement">
<h2 id="h-engagement">Engagement</h2>
<figure>{engagement_html}</figure>
</section>
</main>
</body>
</html>
"""


__all__ = ["render_html"]
