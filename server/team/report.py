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
as suppressed, with its reason, never as zero, and one without data says what is missing (never
"suppressed"). A headline card without a figure shows the line saying why. Nothing is ranked by
developer. The page states the period the figures cover, in words.
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
    week_columns,
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
.card.wide { grid-column: span 2; }
.card .value { font-size: 26px; font-weight: 650; display: block; white-space: nowrap; }
.card .unit { font-size: 14px; font-weight: 500; color: #57606a; }
.card .label { color: #57606a; font-size: 13px; display: block; }
.card .why { display: block; font-size: 14px; font-weight: 600; color: #57606a; margin: 4px 0; }
.why::first-letter { text-transform: uppercase; }
pre.config { background: #f6f8fa; border: 1px solid #d0d7de; border-radius: 6px; padding: 8px 12px;
  font-size: 13px; overflow-x: auto; }
.good { color: #1a7f37; } .bad { color: #b42318; }
figure { margin: 8px 0 0; }
svg { max-width: 100%; height: auto; font-family: inherit; }
svg text { fill: #1f2328; font-size: 12px; }
svg text.muted { fill: #57606a; }
table { border-collapse: collapse; margin-top: 8px; font-size: 14px; }
table.figures { width: 100%; }
th, td { text-align: left; padding: 4px 8px; border-bottom: 1px solid #eaeef2; }
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


def _said(row: Mapping[str, Any]) -> tuple[str, str]:
    """(figure, text) for a row the figures withheld: "suppressed: ..." only for a small group."""
    if "suppressed" in row:
        return "suppressed", f"suppressed: {row['suppressed']}"
    return "no_data", str(row["no_data"])


def _hidden_row(
    section: str, key: str, label: str, row: Mapping[str, Any], span: int, tail: str = ""
) -> str:
    attrs = f' colspan="{span}" class="muted"'
    figure, text = _said(row)
    return (
        f'<tr><th scope="row">{_E(label)}</th>'
        f"{_figure(section, key, figure, text, attrs=attrs)}{tail}</tr>"
    )


def _hidden(row: Mapping[str, Any]) -> bool:
    return "suppressed" in row or "no_data" in row


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:]


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
        if _hidden(row):
            rows.append(_hidden_row("skills", key, row["name"], row, 6, tail))
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
        figure, text = _said(row)
        reason = f"not measured, {text}"
        rows.append(
            f'<tr><th scope="row">{_E(row["name"])}</th>{lead}'
            + _figure("unmeasured", key, figure, reason, attrs=' colspan="4" class="muted"')
            + "</tr>"
        )
    head = ("Skill", "Priority", "Target", "Team mean", "Gap", "Head count", "Score")
    return _table(head, rows) if rows else ""


def _recurrence_table(recurrence: Sequence[Mapping[str, Any]]) -> str:
    rows = []
    for row in recurrence:
        key = row["rule"]
        label = f"{row['rule']} ({row['skill']})"
        if _hidden(row):
            rows.append(_hidden_row("recurrence", key, label, row, 7))
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
        "Developers (same on both sides)",
        "Introduced before",
        "Opportunities before",
        "Per 1,000 opportunities before",
        "Introduced after",
        "Opportunities after",
        "Per 1,000 opportunities after",
    )
    return _table(head, rows)


def _mastery_table(rows: Sequence[Mapping[str, Any]], minimum: int) -> str:
    if not rows:
        return '<p class="note">No developer has reached mastery of a skill in this period.</p>'
    body = []
    for row in rows:
        key = row["skill"]
        if _hidden(row):
            body.append(_hidden_row("time_to_mastery", key, row["name"], row, 2))
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


def _value(figure: str, text: str, unit: str = "") -> str:
    unit_html = f' <span class="unit">{_E(unit)}</span>' if unit else ""
    return _figure("headline", "", figure, text, tag="span") + unit_html


def _card(
    figure: str, shown: str, label: str, why: Mapping[str, str], css: str = "", wide: bool = False
) -> str:
    """One headline card: its figures, or in their place the one line saying why there are none."""
    if figure in why:
        body = _figure("headline_why", "", figure, why[figure], tag="span", attrs=' class="why"')
    else:
        klass = f"value {css}".strip()
        body = f'<span class="{klass}">{shown}</span>'
    card = "card wide" if wide else "card"
    return f'<div class="{card}">{body}<span class="label">{_E(label)}</span></div>'


def _headline(head: Mapping[str, Any], why: Mapping[str, str], matrix: bool) -> str:
    before, after = head["recurrence_before"], head["recurrence_after"]
    trend = ""
    if before is not None and after is not None:
        trend = "good" if after < before else "bad" if after > before else ""
    cards = [
        _card(
            "recurrence_before",
            _value("recurrence_before", num(before))
            + " → "
            + _value("recurrence_after", num(after)),
            "anti-patterns written per 1,000 opportunities, before → after the first lesson",
            why,
            trend,
            wide=True,
        ),
        _card(
            "median_days_to_mastery",
            _value("median_days_to_mastery", _days(head["median_days_to_mastery"]), "days"),
            "median time from a first opportunity on a skill to its mastery",
            why,
        ),
        _card(
            "skills_below_target",
            _value("skills_below_target", _count(head["skills_below_target"]))
            + ' <span class="unit">of</span> '
            + _value("skills_with_target", _count(head["skills_with_target"])),
            "matrix skills below their target, of those measured"
            if matrix
            else "targets per skill: see Top gaps below for how to add them",
            why,
        ),
        _card(
            "lessons_opened",
            _value("lessons_opened", _count(head["lessons_opened"]), "lessons"),
            "opened in the period, whole team",
            why,
        ),
        _card(
            "hints_dismissed",
            _value("hints_dismissed", _count(head["hints_dismissed"]), "hints"),
            "dismissed in the period, whole team",
            why,
        ),
    ]
    return "".join(cards)


_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_DASH = "\u2013"  # an en dash between the period's days


def _long_date(day: str) -> str:
    year, month, date = day.split("-")
    return f"{int(date)} {_MONTHS[int(month) - 1]} {year}"


def _period(period: Mapping[str, Any], none: str) -> str:
    """The period in words ("12 Jan 2026 to 6 Apr 2026, 13 weeks", dashed), or the part given."""
    since, until, weeks = period.get("since"), period.get("until"), period.get("weeks")
    mark = {
        name: _figure("period", "", name, _long_date(day), tag="span")
        for name, day in (("since", since), ("until", until))
        if day is not None
    }
    if not mark:
        return f"period: {none}"
    words = f" {_DASH} ".join(mark.get(name, "…") for name in ("since", "until"))
    if weeks is not None:
        plural = "s" if weeks != 1 else ""
        words += ", " + _figure("period", "", "weeks", f"{weeks} week{plural}", tag="span")
    return f"period {words}"


_SNIPPET = """[tool.lessonlens.matrix]
"{0}" = {{ target = 0.8, priority = "high" }}
"{1}" = {{ target = 0.8 }}"""


def _no_matrix(why: str, skills: Sequence[Mapping[str, Any]]) -> str:
    """The gaps section without targets: why, and the three lines of config that add them."""
    measured = [row["skill"] for row in skills if not _hidden(row)]
    examples = [*measured, "python.strings", "python.regex"]
    first = examples[0]
    second = next(skill for skill in examples[1:] if skill != first)
    return (
        f'<p class="note">{_E(_sentence(why))}: '
        "gaps are measured against a skill matrix, the mastery the team aims for per skill. "
        "Add one to <code>pyproject.toml</code> (or <code>[matrix]</code> in "
        "<code>.lessonlens.toml</code>), with the skills that matter to the team:</p>"
        f'<pre class="config">{_E(_SNIPPET.format(first, second))}</pre>'
    )


def _gap_lessons(gaps: Sequence[Mapping[str, Any]]) -> list[str]:
    found = []
    for gap in gaps:
        found.append(f"<h3>{_E(gap['name'])}</h3>")
        if gap["lessons"]:
            items = "".join(
                f'<li><a href="{_E(lesson["url"])}">{_E(lesson["title"])}</a> '
                f'<span class="note">(<code>lessonlens explain {_E(lesson["id"])}</code>)</span>'
                "</li>"
                for lesson in gap["lessons"]
            )
            found.append(f'<ul class="lessons">{items}</ul>')
        else:
            found.append('<p class="note">No lesson in the catalog teaches this skill yet.</p>')
    return found


def _gaps(report: Mapping[str, Any], why: Mapping[str, str]) -> str:
    if not report["matrix"]:
        reason = why.get("skills_below_target", "no skill matrix configured")
        return _no_matrix(reason, report["skills"])
    if "skills_below_target" in why:
        empty = f"{_sentence(why['skills_below_target'])}."
    else:
        empty = "No gaps: every measured skill of the matrix is at or above its target."
    parts = [
        '<p class="note">Target minus team mean (both mean mastery estimates), scored by priority '
        "(high 3, medium 2, low 1) times the developers with evidence; the lessons listed teach "
        "the skill.</p>",
        f"<figure>{gap_chart(report['gaps'], empty)}",
        _gaps_table(report["gaps"], report["unmeasured"]),
        *_gap_lessons(report["gaps"]),
        "</figure>",
    ]
    return "".join(parts)


def _recurrence(report: Mapping[str, Any], why: Mapping[str, str]) -> str:
    limits: Mapping[str, str] = report.get("limits") or {}
    rows = report["recurrence"]
    if "recurrence" in limits:
        return f'<p class="note">Recurrence is {_E(limits["recurrence"])}.</p>'
    if not rows:
        return '<p class="note">No anti-pattern written in this period.</p>'
    shown = [row for row in rows if not _hidden(row)]
    if shown:
        chart = bar_pairs(
            "recurrence",
            "Recurrence of each anti-pattern: anti-patterns written per 1,000 opportunities, "
            "before and after the developers' first lesson on it",
            [
                (f"{r['rule']} ({r['skill']})", r["before"]["per_1000"], r["after"]["per_1000"])
                for r in shown
            ],
            ("before the first lesson", "after the first lesson"),
            lambda v: f"{num(v)} per 1,000",
            "no opportunities",
            "anti-patterns written per 1,000 opportunities (edits where the rule's skill was "
            "checked)",
        )
    else:
        reason = why.get("recurrence_before", "no rule can be compared yet")
        chart = f'<p class="note">{_E(_sentence(reason))}.</p>'
    return f"<figure>{chart}{_recurrence_table(rows)}</figure>"


def _engagement(report: Mapping[str, Any]) -> str:
    limits: Mapping[str, str] = report.get("limits") or {}
    weeks = report["weeks"]
    if not any(w["lessons_opened"] or w["hints_dismissed"] for w in weeks):
        return '<p class="note">No lessons opened or hints dismissed in this period.</p>'
    chart = week_columns(
        "engagement",
        "Engagement per week: lessons opened and hints dismissed by the whole team",
        weeks,
        [
            ("lessons_opened", "lessons opened", "none"),
            ("hints_dismissed", "hints dismissed", limits.get("hints_dismissed", "none")),
        ],
        "per week, whole team",
    )
    return f"<figure>{chart}</figure>"


def _team_note(report: Mapping[str, Any]) -> str:
    """What every section says when the whole team is hidden or has no events; "" otherwise."""
    if report["suppressed"]:
        return f"Not shown: the team has {report['suppressed']}."
    if report["developers"] == 0:
        return "No events in this period."
    return ""


def _sections(report: Mapping[str, Any], why: Mapping[str, str]) -> dict[str, str]:
    """The body of each section (after its heading and explanation), by heading id."""
    minimum = int(report["min_group_size"])
    matrix = {entry["skill"]: entry for entry in report["matrix"]}
    targets = {skill: entry["target"] for skill, entry in matrix.items()}
    weeks = report["weeks"]
    note = _team_note(report)
    said = f'<p class="note">{_E(note)}</p>'
    gaps = _gaps(report, why)
    if note:
        no_matrix = not report["matrix"]
        return {
            "h-headline": said,
            "h-heatmap": said,
            "h-progress": said,
            "h-gaps": gaps if no_matrix else said,
            "h-recurrence": said,
            "h-mastery": said,
            "h-engagement": said,
        }
    cards = _headline(report["headline"], why, bool(matrix))
    return {
        "h-headline": f'<div class="cards">{cards}</div>',
        "h-heatmap": f"""<figure>{heatmap(report["skills"], targets, minimum)}
<figcaption>Each cell counts developers whose mastery estimate (at the end of the period) falls
in the band; the darker, the larger the share of the skill's developers. Hatched rows have fewer
than {minimum} developers with evidence and are suppressed.</figcaption></figure>
{_skills_table(report["skills"], matrix) if report["skills"] else ""}""",
        "h-progress": f"""<figure>{progress_chart(weeks, minimum)}
<figcaption>The mean over developers of each one's mean mastery estimate at the end of the week.
Weeks with fewer than {minimum} developers with evidence are left out (gaps in the line).
</figcaption></figure>
{_weeks_table(weeks) if weeks else ""}""",
        "h-gaps": gaps,
        "h-recurrence": _recurrence(report, why),
        "h-mastery": _mastery_table(report["time_to_mastery"], minimum),
        "h-engagement": _engagement(report),
    }


def render_html(report: Mapping[str, Any], *, title: str = "lessonlens team report") -> str:
    """The team figures (``figures.team_report``'s result) as one self-contained HTML document."""
    minimum = int(report["min_group_size"])
    limits: Mapping[str, str] = report.get("limits") or {}
    body = _sections(report, report.get("headline_why") or {})
    banner = ""
    if report["suppressed"]:
        banner = (
            f'<p class="banner">This team has {_E(str(report["suppressed"]))}: most figures are '
            "suppressed to protect individuals.</p>"
        )
    elif report["developers"] == 0:
        banner = '<p class="banner">No events in this period: there is nothing to show yet.</p>'
    if limits:
        items = "".join(f"<li>{_E(limits[key])}</li>" for key in sorted(limits))
        banner += (
            f'<div class="banner"><p>Limits of this report\'s source:</p><ul>{items}</ul></div>'
        )
    developers = report["developers"]
    team = f"{developers} developers" if developers is not None else str(report["suppressed"])
    period = _period(report["period"], "not shown" if report["suppressed"] else "no events")
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
<p class="meta">Generated {utc_date(report["generated"])} (UTC) · {period} ·
{_figure("team", "", "developers", team, tag="span")} · groups smaller than
{_figure("team", "", "min_group_size", str(minimum), tag="span")} are never shown ·
no individual is named or ranked</p>
{banner}
</header>
<main>
<section aria-labelledby="h-headline">
<h2 id="h-headline">Headline: capability, not completion</h2>
{body["h-headline"]}
<p class="note">Opportunities are edits where a skill applied (the store counts no changed
lines, so they stand in for them). A lower rate after the first lesson means the lesson changed
the code people write.</p>
</section>
<section aria-labelledby="h-heatmap">
<h2 id="h-heatmap">Team mastery by skill</h2>
{body["h-heatmap"]}
</section>
<section aria-labelledby="h-progress">
<h2 id="h-progress">Progress over time</h2>
{body["h-progress"]}
</section>
<section aria-labelledby="h-gaps">
<h2 id="h-gaps">Top gaps against the skill matrix</h2>
{body["h-gaps"]}
</section>
<section aria-labelledby="h-recurrence">
<h2 id="h-recurrence">Recurrence before and after lessons</h2>
<p class="note">Anti-patterns written per 1,000 opportunities, before and after each
developer's first lesson on the rule, counted over the same developers on both sides. A rule
is shown once at least {minimum} developers have opportunities on both sides.</p>
{body["h-recurrence"]}
</section>
<section aria-labelledby="h-mastery">
<h2 id="h-mastery">Time to mastery</h2>
<p class="note">Days from a developer's first opportunity on a skill to the moment the learner
model judged it mastered; the median over those who reached it.</p>
{body["h-mastery"]}
</section>
<section aria-labelledby="h-engagement">
<h2 id="h-engagement">Engagement</h2>
{body["h-engagement"]}
</section>
</main>
</body>
</html>
"""


__all__ = ["render_html"]
