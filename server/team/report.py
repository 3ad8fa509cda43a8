"""The team report: one self-contained HTML file a team lead reads, with charts drawn inline.

Rendering only. Every figure comes from :func:`lessonlens.server.team.figures.team_report`, the same
data that ``lessonlens export --team`` writes as JSON or CSV; this module decides how it looks,
never what it is (definitions, and the minimum group rule, are in ``team.py``). Each figure
the export holds is also in the page: charts for reading, and beside them tables whose cells
carry ``data-section``, ``data-key`` (skill, rule or week) and ``data-figure``, so a test can
read every number back and compare it with the export.

Self-contained means nothing is fetched when the file is opened: CSS is inline, charts are SVG
written here, and there are no scripts at all. Lesson links point to their documentation; a reader
follows them by choice, and the page draws the same with no network.

Privacy: the data holds aggregates only (see ``team.py``); a figure hidden there is shown here as
suppressed, with its reason, never as zero. Nothing is ranked by developer.
"""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from lessonlens.server.team.figures import BAND_COUNT

_STEP = 100 // BAND_COUNT
BANDS = tuple(f"{low}\u2013{low + _STEP}%" for low in range(0, 100, _STEP))

_E = html.escape
_BLUE = "#1f5fa8"
_ORANGE = "#c2570c"

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


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value:.0%}"


def _num(value: float | None, digits: int = 1) -> str:
    return "—" if value is None else f"{value:.{digits}f}"


def _date(t: float) -> str:
    return dt.datetime.fromtimestamp(t, dt.UTC).strftime("%Y-%m-%d")


def _svg(width: int, height: int, label_id: str, title: str, body: Iterable[str]) -> str:
    # role="img" with a <title> is what screen readers announce for an inline SVG chart.
    return (
        f'<svg viewBox="0 0 {width} {height}" width="{width}" '
        f'height="{height}" role="img" aria-labelledby="{label_id}">'
        f'<title id="{label_id}">{_E(title)}</title>{"".join(body)}</svg>'
    )


def _heat_colour(share: float) -> str:
    # White to dark blue; the text colour flips on dark cells to keep contrast.
    share = max(0.0, min(1.0, share))
    r = round(255 + (31 - 255) * share)
    g = round(255 + (95 - 255) * share)
    b = round(255 + (168 - 255) * share)
    return f"rgb({r},{g},{b})"


def _heatmap(
    skills: Sequence[Mapping[str, Any]], targets: Mapping[str, float], minimum: int
) -> str:
    if not skills:
        return '<p class="note">No skill evidence recorded yet.</p>'
    label_w, cell_w, cell_h, top = 230, 92, 30, 40
    extra_w = 170
    width = label_w + cell_w * len(BANDS) + extra_w
    height = top + cell_h * len(skills) + 10
    parts = [
        '<defs><pattern id="hatch" width="6" height="6" patternUnits="userSpaceOnUse" '
        'patternTransform="rotate(45)"><rect width="6" height="6" fill="#f3f4f6"/>'
        '<line x1="0" y1="0" x2="0" y2="6" stroke="#d1d5db" stroke-width="3"/></pattern></defs>'
    ]
    for i, band in enumerate(BANDS):
        x = label_w + i * cell_w + cell_w / 2
        parts.append(f'<text x="{x}" y="{top - 22}" text-anchor="middle">{_E(band)}</text>')
    parts.append(
        f'<text x="{label_w + cell_w * len(BANDS) / 2}" y="{top - 6}" text-anchor="middle" '
        'class="muted">developers per mastery band</text>'
    )
    parts.append(
        f'<text x="{label_w + cell_w * len(BANDS) + 12}" y="{top - 14}">mean / target</text>'
    )
    for row_index, row in enumerate(skills):
        y = top + row_index * cell_h
        name = _E(row["name"])
        parts.append(
            f'<text x="{label_w - 10}" y="{y + cell_h / 2 + 4}" text-anchor="end">{name}</text>'
        )
        bands = row.get("bands")
        if bands is None:
            parts.append(
                f'<rect x="{label_w}" y="{y + 1}" width="{cell_w * len(BANDS)}" '
                f'height="{cell_h - 2}" fill="url(#hatch)"><title>{name}: suppressed, '
                f"{_E(row['suppressed'] or '')}</title></rect>"
            )
            parts.append(
                f'<text x="{label_w + cell_w * len(BANDS) / 2}" y="{y + cell_h / 2 + 4}" '
                f'text-anchor="middle" class="muted">suppressed: {_E(row["suppressed"] or "")}'
                "</text>"
            )
        else:
            total = sum(bands) or 1
            for i, count in enumerate(bands):
                share = count / total
                x = label_w + i * cell_w
                colour = "#fff" if share > 0.55 else "#1f2328"
                parts.append(
                    f'<rect x="{x + 1}" y="{y + 1}" width="{cell_w - 2}" height="{cell_h - 2}" '
                    f'fill="{_heat_colour(share)}" stroke="#d0d7de"><title>{name}, '
                    f"{BANDS[i]}: {count} of {total} developers</title></rect>"
                )
                parts.append(
                    f'<text x="{x + cell_w / 2}" y="{y + cell_h / 2 + 4}" text-anchor="middle" '
                    f'style="fill:{colour}">{count}</text>'
                )
        target = targets.get(row["skill"])
        mean = row.get("mean")
        summary = f"{_pct(mean)} / {_pct(target) if target is not None else 'no target'}"
        below = mean is not None and target is not None and mean < target
        style = ' style="fill:#b42318"' if below else ""
        parts.append(
            f'<text x="{label_w + cell_w * len(BANDS) + 12}" y="{y + cell_h / 2 + 4}"'
            f"{style}>{_E(summary)}</text>"
        )
    title = (
        "Team mastery heatmap: developers per mastery band for each skill; skills with fewer "
        f"than {minimum} developers are suppressed"
    )
    return _svg(width, height, "heatmap-title", title, parts)


def _progress(weeks: Sequence[Mapping[str, Any]], minimum: int) -> str:
    points = [(i, w["mean_mastery"]) for i, w in enumerate(weeks)]
    if not any(value is not None for _, value in points):
        return (
            f'<p class="note">Not enough data yet: a week is shown once at least {minimum} '
            "developers have evidence.</p>"
        )
    width, height, left, right, top, bottom = 900, 280, 56, 50, 16, 46
    plot_w, plot_h = width - left - right, height - top - bottom
    step = plot_w / max(len(weeks) - 1, 1)

    def xy(i: int, value: float) -> tuple[float, float]:
        return left + i * step, top + plot_h * (1 - value)

    parts = []
    for tick in (0.0, 0.25, 0.5, 0.75, 1.0):
        y = top + plot_h * (1 - tick)
        parts.append(
            f'<line x1="{left}" x2="{width - right}" y1="{y}" y2="{y}" stroke="#eaeef2"/>'
            f'<text x="{left - 8}" y="{y + 4}" text-anchor="end" class="muted">{tick:.0%}</text>'
        )
    label_every = max(1, len(weeks) // 8)
    for i, week in enumerate(weeks):
        if i % label_every == 0 or i == len(weeks) - 1:
            x = left + i * step
            parts.append(
                f'<text x="{x}" y="{height - bottom + 18}" text-anchor="middle" '
                f'class="muted">{_date(week["start"])}</text>'
            )
    # One polyline per run of shown weeks: a suppressed week is a gap, not a drop to zero.
    run: list[str] = []
    runs: list[list[str]] = []
    for i, value in points:
        if value is None:
            if run:
                runs.append(run)
            run = []
        else:
            x, y = xy(i, value)
            run.append(f"{x:.1f},{y:.1f}")
    if run:
        runs.append(run)
    for segment in runs:
        parts.append(
            f'<polyline points="{" ".join(segment)}" fill="none" stroke="{_BLUE}" '
            'stroke-width="2.5"/>'
        )
    for i, value in points:
        if value is not None:
            x, y = xy(i, value)
            parts.append(
                f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3.5" fill="{_BLUE}"><title>week of '
                f"{_date(weeks[i]['start'])}: mean mastery {value:.0%}</title></circle>"
            )
    parts.append(
        f'<text x="{left + plot_w / 2}" y="{height - 6}" text-anchor="middle" class="muted">'
        "week starting (UTC)</text>"
    )
    title = "Progress over time: the team's mean mastery estimate at the end of each week"
    return _svg(width, height, "progress-title", title, parts)


def _bar_pairs(
    chart_id: str,
    title: str,
    rows: Sequence[tuple[str, float | None, float | None]],
    names: tuple[str, str],
    fmt: Callable[[float | None], str],
    none_text: str = "suppressed",
) -> str:
    """Horizontal paired bars (before/after, opened/dismissed), one pair per row label."""
    label_w, bar_h, gap, top, right = 230, 14, 12, 34, 90
    width = 900
    plot_w = width - label_w - right
    peak = max((v for _, a, b in rows for v in (a, b) if v is not None), default=0.0) or 1.0
    height = top + len(rows) * (2 * bar_h + gap) + 8
    parts = [
        f'<rect x="{label_w}" y="6" width="12" height="12" fill="{_BLUE}"/>'
        f'<text x="{label_w + 18}" y="16">{_E(names[0])}</text>'
        f'<rect x="{label_w + 170}" y="6" width="12" height="12" fill="{_ORANGE}"/>'
        f'<text x="{label_w + 188}" y="16">{_E(names[1])}</text>'
    ]
    for index, (label, first, second) in enumerate(rows):
        y = top + index * (2 * bar_h + gap)
        parts.append(
            f'<text x="{label_w - 10}" y="{y + bar_h + 4}" text-anchor="end">{_E(label)}</text>'
        )
        for offset, value, colour, name in (
            (0, first, _BLUE, names[0]),
            (bar_h, second, _ORANGE, names[1]),
        ):
            if value is None:
                parts.append(
                    f'<text x="{label_w + 4}" y="{y + offset + bar_h - 3}" class="muted">'
                    f"{_E(name)}: {_E(none_text)}</text>"
                )
                continue
            w = plot_w * value / peak
            parts.append(
                f'<rect x="{label_w}" y="{y + offset}" width="{w:.1f}" height="{bar_h - 1}" '
                f'fill="{colour}"><title>{_E(label)}, {_E(name)}: {_E(fmt(value))}</title></rect>'
                f'<text x="{label_w + w + 6:.1f}" y="{y + offset + bar_h - 3}">'
                f"{_E(fmt(value))}</text>"
            )
    return _svg(width, height, f"{chart_id}-title", title, parts)


def _gap_chart(gaps: Sequence[Mapping[str, Any]]) -> str:
    if not gaps:
        return (
            '<p class="note">No gaps: every skill with a target in the matrix and enough '
            "developers is at or above it.</p>"
        )
    label_w, row_h, top, width, right = 230, 30, 24, 900, 120
    plot_w = width - label_w - right
    height = top + row_h * len(gaps) + 8
    parts = [
        f'<text x="{label_w}" y="14" class="muted">0%</text>'
        f'<text x="{label_w + plot_w}" y="14" text-anchor="end" class="muted">100%</text>'
    ]
    for index, gap in enumerate(gaps):
        y = top + index * row_h
        mean_x = label_w + plot_w * gap["mean"]
        target_x = label_w + plot_w * gap["target"]
        name = _E(gap["name"])
        parts.append(
            f'<text x="{label_w - 10}" y="{y + 16}" text-anchor="end">{name}</text>'
            f'<rect x="{label_w}" y="{y + 6}" width="{plot_w}" height="14" fill="#f3f4f6"/>'
            f'<rect x="{label_w}" y="{y + 6}" width="{mean_x - label_w:.1f}" height="14" '
            f'fill="{_BLUE}"><title>{name}: team mean {gap["mean"]:.0%}</title></rect>'
            f'<rect x="{mean_x:.1f}" y="{y + 6}" width="{target_x - mean_x:.1f}" height="14" '
            f'fill="{_ORANGE}" fill-opacity="0.35"><title>{name}: gap of {gap["gap"]:.0%} to the '
            f"target {gap['target']:.0%}</title></rect>"
            f'<line x1="{target_x:.1f}" x2="{target_x:.1f}" y1="{y + 2}" y2="{y + 24}" '
            'stroke="#1f2328" stroke-width="2"/>'
            f'<text x="{label_w + plot_w + 8}" y="{y + 17}">{gap["mean"]:.0%} → '
            f"{gap['target']:.0%}</text>"
        )
    title = "Top gaps: team mean mastery (blue) against the matrix target (black line)"
    return _svg(width, height, "gaps-title", title, parts)


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
            "skills", key, "target", _pct(entry.get("target"))
        )
        if "suppressed" in row:
            rows.append(_hidden_row("skills", key, row["name"], row["suppressed"], 6, tail))
            continue
        cells = [
            _figure("skills", key, "count", _count(row["count"])),
            *(_figure("skills", key, f, _pct(row[f])) for f in ("mean", "q1", "median", "q3")),
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
            *(_figure("gaps", key, f, _pct(gap[f])) for f in ("target", "mean", "gap")),
            _figure("gaps", key, "head_count", _count(gap["head_count"])),
            _figure("gaps", key, "score", f"{gap['score']:.2f}"),
        ]
        rows.append(f'<tr><th scope="row">{_E(gap["name"])}</th>{"".join(cells)}</tr>')
    for row in unmeasured:
        key = row["skill"]
        lead = _figure("unmeasured", key, "priority", row["priority"]) + _figure(
            "unmeasured", key, "target", _pct(row["target"])
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
                _figure("recurrence", key, f"{side}_per_1000", _num(part["per_1000"])),
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
        key = _date(week["start"])
        hints = week["hints_dismissed"]
        body.append(
            f'<tr><th scope="row">{key}</th>'
            + _figure("weeks", key, "mean_mastery", _pct(week["mean_mastery"]))
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
            value("recurrence_before", _num(before), no_recurrence),
            "anti-patterns per 1,000 opportunities before the first lesson",
        ),
        _card(
            value("recurrence_after", _num(after), no_recurrence),
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
    """The team figures (``team.team_report``'s result) as one self-contained HTML document."""
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
    gaps_html = [_gap_chart(report["gaps"]), _gaps_table(report["gaps"], report["unmeasured"])]
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
            recurrence_html = _bar_pairs(
                "recurrence",
                "Recurrence of each anti-pattern per 1,000 opportunities, before and after the "
                "developers' first lesson on it",
                [
                    (f"{r['rule']} ({r['skill']})", r["before"]["per_1000"], r["after"]["per_1000"])
                    for r in shown
                ],
                ("before the first lesson", "after it"),
                lambda v: _num(v),
            )
        recurrence_html += _recurrence_table(recurrence)
    else:
        recurrence_html = '<p class="note">No anti-pattern recorded yet.</p>'
    shown_weeks = [w for w in weeks if w["lessons_opened"] or w["hints_dismissed"]]
    if shown_weeks and not report["suppressed"]:
        engagement_html = _bar_pairs(
            "engagement",
            "Engagement per week: lessons opened and hints dismissed by the whole team",
            [(_date(w["start"]), w["lessons_opened"], w["hints_dismissed"]) for w in shown_weeks],
            ("lessons opened", "hints dismissed"),
            lambda v: "—" if v is None else f"{v:.0f}",
            "not available" if "hints_dismissed" in limits else "suppressed",
        )
    else:
        engagement_html = '<p class="note">No engagement recorded yet.</p>'
    period = f"{_date(weeks[0]['start'])} to {_date(report['generated'])}" if weeks else ""
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
<p class="meta">Generated {_date(report["generated"])} (UTC) · period {_E(period)} ·
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
<figure>{_heatmap(report["skills"], targets, minimum)}
<figcaption>Each cell counts developers whose mastery estimate falls in the band; the darker, the
larger the share of the skill's developers. Hatched rows have fewer than {minimum} developers
with evidence and are suppressed.</figcaption></figure>
{_skills_table(report["skills"], matrix) if report["skills"] else ""}
</section>
<section aria-labelledby="h-progress">
<h2 id="h-progress">Progress over time</h2>
<figure>{_progress(weeks, minimum)}
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


__all__ = ["BANDS", "render_html"]
