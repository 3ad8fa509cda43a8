"""The team report's charts: inline SVG drawn from the team figures, and how a figure is written.

Every chart is an ``<svg role="img">`` with a ``<title>`` (what a screen reader announces), drawn
here with no script and no external resource, so that the page is self-contained. A suppressed
figure is drawn as suppressed (hatched, or a gap in a line), never as zero; one with no data says
so, unhatched. Every scale says its unit, and axis labels are thinned so that none collides with
another (:func:`labelled`). Like ``report.py``, this module draws what
:func:`lessonlens.server.team.figures.team_report` computed and computes nothing itself.
"""

from __future__ import annotations

import datetime as dt
import html
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from lessonlens.server.team.figures import BAND_COUNT

_STEP = 100 // BAND_COUNT
BANDS = tuple(f"{low}\u2013{low + _STEP}%" for low in range(0, 100, _STEP))

_E = html.escape
_BLUE = "#1f5fa8"
_ORANGE = "#c2570c"
# The least distance between the centres of two x-axis labels: a date at 12px is ~65px wide.
LABEL_GAP = 90


def pct(value: float | None) -> str:
    return "—" if value is None else f"{value:.0%}"


def num(value: float | None, digits: int = 1) -> str:
    return "—" if value is None else f"{value:.{digits}f}"


def utc_date(t: float) -> str:
    return dt.datetime.fromtimestamp(t, dt.UTC).strftime("%Y-%m-%d")


def labelled(count: int, step: float, gap: float = LABEL_GAP) -> list[int]:
    """Which of ``count`` evenly spaced ticks (``step`` px apart) get a label.

    One every k, counted back from the last (the latest week is always labelled), so that no two
    labels are closer than ``gap``: the last label never runs into the one before it.
    """
    every = max(1, math.ceil(gap / step)) if step > 0 else 1
    return sorted(range(count - 1, -1, -every))


def _week_axis(
    weeks: Sequence[Mapping[str, Any]], x_of: Callable[[int], float], step: float, y: float
) -> list[str]:
    return [
        f'<text x="{x_of(i):.1f}" y="{y}" text-anchor="middle" class="muted axis-label">'
        f"{utc_date(weeks[i]['start'])}</text>"
        for i in labelled(len(weeks), step)
    ]


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


def heatmap(skills: Sequence[Mapping[str, Any]], targets: Mapping[str, float], minimum: int) -> str:
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
        'class="muted">number of developers per band of mastery estimate</text>'
    )
    parts.append(
        f'<text x="{label_w + cell_w * len(BANDS) + 12}" y="{top - 14}">team mean / target</text>'
    )
    for row_index, row in enumerate(skills):
        y = top + row_index * cell_h
        name = _E(row["name"])
        parts.append(
            f'<text x="{label_w - 10}" y="{y + cell_h / 2 + 4}" text-anchor="end">{name}</text>'
        )
        bands = row.get("bands")
        if bands is None:
            # Hatched only where a small group is hidden; a skill nobody has evidence on is
            # simply empty.
            hidden = "suppressed" in row
            text = f"suppressed: {row['suppressed']}" if hidden else str(row.get("no_data", ""))
            fill = "url(#hatch)" if hidden else "#fafbfc"
            parts.append(
                f'<rect x="{label_w}" y="{y + 1}" width="{cell_w * len(BANDS)}" '
                f'height="{cell_h - 2}" fill="{fill}" stroke="#eaeef2"><title>{name}: '
                f"{_E(text)}</title></rect>"
            )
            parts.append(
                f'<text x="{label_w + cell_w * len(BANDS) / 2}" y="{y + cell_h / 2 + 4}" '
                f'text-anchor="middle" class="muted">{_E(text)}</text>'
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
        summary = f"{pct(mean)} / {pct(target) if target is not None else 'no target'}"
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


def progress_chart(weeks: Sequence[Mapping[str, Any]], minimum: int) -> str:
    points = [(i, w["mean_mastery"]) for i, w in enumerate(weeks)]
    if not any(value is not None for _, value in points):
        return (
            f'<p class="note">No week to draw yet: a week is shown once at least {minimum} '
            "developers have evidence by its end.</p>"
        )
    width, height, left, right, top, bottom = 900, 280, 64, 50, 16, 46
    plot_w, plot_h = width - left - right, height - top - bottom
    step = plot_w / max(len(weeks) - 1, 1)

    def x_of(i: int) -> float:
        return left + i * step if len(weeks) > 1 else left + plot_w / 2

    def xy(i: int, value: float) -> tuple[float, float]:
        return x_of(i), top + plot_h * (1 - value)

    parts = []
    for tick in (0.0, 0.25, 0.5, 0.75, 1.0):
        y = top + plot_h * (1 - tick)
        parts.append(
            f'<line x1="{left}" x2="{width - right}" y1="{y}" y2="{y}" stroke="#eaeef2"/>'
            f'<text x="{left - 8}" y="{y + 4}" text-anchor="end" class="muted">{tick:.0%}</text>'
        )
    parts.append(
        f'<text x="14" y="{top + plot_h / 2}" text-anchor="middle" class="muted" '
        f'transform="rotate(-90 14 {top + plot_h / 2})">mean mastery estimate</text>'
    )
    parts.extend(_week_axis(weeks, x_of, step, height - bottom + 18))
    # One polyline per run of shown weeks: a hidden week is a gap, not a drop to zero.
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
                f"{utc_date(weeks[i]['start'])}: mean mastery {value:.0%}</title></circle>"
            )
    parts.append(
        f'<text x="{left + plot_w / 2}" y="{height - 6}" text-anchor="middle" class="muted">'
        "week starting (UTC)</text>"
    )
    title = "Progress over time: the team's mean mastery estimate at the end of each week"
    return _svg(width, height, "progress-title", title, parts)


def _nice(most: int) -> int:
    """The top of a count axis: ``most`` rounded up to 2, 4, 6 or 10 times a power of ten.

    Its half, the middle tick, is a whole count too.
    """
    scale = 1
    while True:
        for step in (2, 4, 6, 10):
            if most <= step * scale:
                return step * scale
        scale *= 10


def week_columns(
    chart_id: str,
    title: str,
    weeks: Sequence[Mapping[str, Any]],
    series: Sequence[tuple[str, str, str]],
    unit: str,
) -> str:
    """Columns per week, one per series (figure key, legend name, missing text), side by side.

    A series whose every week is None (not available from the source) is left out of the plot
    and said so in the legend; a week's zero is a zero.
    """
    width, height, left, right, top, bottom = 900, 240, 64, 50, 34, 46
    plot_w, plot_h = width - left - right, height - top - bottom
    drawn = [s for s in series if any(w[s[0]] is not None for w in weeks)]
    most = max((w[key] for key, _, _ in drawn for w in weeks if w[key] is not None), default=0)
    peak = _nice(most)
    slot = plot_w / max(len(weeks), 1)
    bar = max(min(slot * 0.8 / max(len(drawn), 1), 24.0), 1.0)

    def x_of(i: int) -> float:
        return left + slot * (i + 0.5)

    parts = []
    legend_x = left
    for index, (key, name, missing) in enumerate(series):
        colour = (_BLUE, _ORANGE)[index % 2]
        shown = any(s[0] == key for s in drawn)
        text = name if shown else f"{name}: {missing}"
        if shown:
            parts.append(f'<rect x="{legend_x}" y="6" width="12" height="12" fill="{colour}"/>')
            parts.append(f'<text x="{legend_x + 18}" y="16">{_E(text)}</text>')
        else:
            parts.append(f'<text x="{legend_x}" y="16" class="muted">{_E(text)}</text>')
        legend_x += 18 + 7 * len(text) + 24
    ticks = (0, peak // 2, peak)
    for tick in ticks:
        y = top + plot_h * (1 - tick / peak)
        parts.append(
            f'<line x1="{left}" x2="{width - right}" y1="{y:.1f}" y2="{y:.1f}" stroke="#eaeef2"/>'
            f'<text x="{left - 8}" y="{y + 4:.1f}" text-anchor="end" class="muted">{tick}</text>'
        )
    parts.append(
        f'<text x="14" y="{top + plot_h / 2}" text-anchor="middle" class="muted" '
        f'transform="rotate(-90 14 {top + plot_h / 2})">{_E(unit)}</text>'
    )
    for i, week in enumerate(weeks):
        for offset, (key, name, _) in enumerate(drawn):
            value = week[key]
            if not value:
                continue
            h = plot_h * value / peak
            x = x_of(i) - bar * len(drawn) / 2 + offset * bar
            colour = (_BLUE, _ORANGE)[[s[0] for s in series].index(key) % 2]
            parts.append(
                f'<rect x="{x:.1f}" y="{top + plot_h - h:.1f}" width="{bar - 1:.1f}" '
                f'height="{h:.1f}" fill="{colour}"><title>week of {utc_date(week["start"])}: '
                f"{value} {_E(name)}</title></rect>"
            )
    parts.extend(_week_axis(weeks, x_of, slot, height - bottom + 18))
    parts.append(
        f'<text x="{left + plot_w / 2}" y="{height - 6}" text-anchor="middle" class="muted">'
        "week starting (UTC)</text>"
    )
    return _svg(width, height, f"{chart_id}-title", title, parts)


def bar_pairs(
    chart_id: str,
    title: str,
    rows: Sequence[tuple[str, float | None, float | None]],
    names: tuple[str, str],
    fmt: Callable[[float | None], str],
    none_text: str,
    unit: str,
) -> str:
    """Horizontal paired bars (before/after), one pair per row label, ``unit`` over the scale.

    ``fmt`` writes a value with its unit; ``none_text`` is what a missing value says (it is never
    drawn as zero).
    """
    label_w, bar_h, gap, top, right = 230, 14, 12, 52, 130
    width = 900
    plot_w = width - label_w - right
    peak = max((v for _, a, b in rows for v in (a, b) if v is not None), default=0.0) or 1.0
    height = top + len(rows) * (2 * bar_h + gap) + 8
    parts = [
        f'<rect x="{label_w}" y="6" width="12" height="12" fill="{_BLUE}"/>'
        f'<text x="{label_w + 18}" y="16">{_E(names[0])}</text>'
        f'<rect x="{label_w + 220}" y="6" width="12" height="12" fill="{_ORANGE}"/>'
        f'<text x="{label_w + 238}" y="16">{_E(names[1])}</text>'
        f'<text x="{label_w}" y="38" class="muted">{_E(unit)}</text>'
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


def gap_chart(gaps: Sequence[Mapping[str, Any]], empty: str) -> str:
    """The gaps as bars of mastery (0-100%): team mean, and the distance to the target."""
    if not gaps:
        return f'<p class="note">{_E(empty)}</p>'
    label_w, row_h, top, width, right = 230, 30, 24, 900, 140
    plot_w = width - label_w - right
    height = top + row_h * len(gaps) + 8
    parts = [
        f'<text x="{label_w}" y="14" class="muted">0%</text>'
        f'<text x="{label_w + plot_w / 2}" y="14" text-anchor="middle" class="muted">'
        "mean mastery estimate</text>"
        f'<text x="{label_w + plot_w}" y="14" text-anchor="end" class="muted">100%</text>'
        f'<text x="{label_w + plot_w + 8}" y="14" class="muted">mean → target</text>'
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
