"""Small server-rendered SVG charts: bars (simple, grouped, stacked, horizontal) and lines.

Pure Python, no Flask and no database: give it labels and numbers, get SVG
text back. The charts are meant to be read by everyone: each has a
``<title>`` and ``<desc>`` (``role="img"``, ``aria-labelledby``), every bar
and point carries its own ``<title>`` with the category, series and value,
axes and values are written as text, and series differ by position and a
legend, not by colour alone. No script, no external font, no style
attribute (the Content-Security-Policy refuses inline styles): colours are
presentation attributes and ``static/css/app.css`` may refine the classes.
The page shows the data table under each chart; the SVG never has to be the
only way to read a number.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from html import escape

Number = int | float
NumberFormat = Callable[[Number], str]

PALETTE = ("#0b6b3a", "#d08c00", "#2f6db5", "#b00020", "#7a4fa3", "#5b635a")
TEXT_COLOUR = "#1b1f23"
MUTED_COLOUR = "#5b635a"
GRID_COLOUR = "#dde2dc"
FONT_SIZE = 12
CHAR_WIDTH = 6.6  # average width of a character at FONT_SIZE, to size margins and space labels
MAX_LABEL_CHARS = 36  # longer category labels are cut with "…" (the full text stays in the bar's title)


@dataclass(frozen=True)
class Series:
    """One named row of values, one value per category."""

    name: str
    values: tuple[Number, ...]


def plain_number(value: Number) -> str:
    """The default number format: digits, no grouping (callers pass a localised one)."""
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def _text(value: object) -> str:
    return escape(str(value), quote=True)


def _short(label: str, limit: int = MAX_LABEL_CHARS) -> str:
    return label if len(label) <= limit else label[: limit - 1].rstrip() + "…"


def nice_ticks(maximum: Number, *, count: int = 5, whole: bool = True) -> list[Number]:
    """Axis ticks from 0 past ``maximum`` with a round step (1, 2 or 5 times a power of ten)."""
    if maximum <= 0:
        return [0, 1]
    raw = maximum / count
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= raw)
    if whole:
        step = max(1, round(step))
    top = math.ceil(maximum / step) * step
    return [round(index * step, 10) for index in range(round(top / step) + 1)]


def _open(width: float, height: float, title: str, description: str, chart_id: str, kind: str) -> list[str]:
    ids = f"{chart_id}-title {chart_id}-desc"
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart chart-{kind}" role="img" '
        f'viewBox="0 0 {width:g} {height:g}" width="{width:g}" height="{height:g}" '
        f'aria-labelledby="{_text(ids)}" font-size="{FONT_SIZE}" font-family="sans-serif">',
        f'<title id="{_text(chart_id)}-title">{_text(title)}</title>',
        f'<desc id="{_text(chart_id)}-desc">{_text(description)}</desc>',
    ]


def _legend(series: Sequence[Series], x: float, y: float, width: float) -> tuple[list[str], float]:
    """A legend row (wrapping) when there is more than one series; its parts and height."""
    if len(series) < 2:
        return [], 0
    parts = ['<g class="chart-legend">']
    left, top = x, y
    for index, item in enumerate(series):
        item_width = 22 + len(item.name) * CHAR_WIDTH
        if left > x and left + item_width > x + width:
            left, top = x, top + 18
        colour = PALETTE[index % len(PALETTE)]
        parts.append(f'<rect x="{left:g}" y="{top:g}" width="12" height="12" fill="{colour}"/>')
        parts.append(
            f'<text x="{left + 16:g}" y="{top + 10:g}" fill="{TEXT_COLOUR}">{_text(item.name)}</text>'
        )
        left += item_width + 12
    parts.append("</g>")
    return parts, top - y + 24


def _totals(series: Sequence[Series], count: int, stacked: bool) -> list[Number]:
    if stacked:
        return [sum(item.values[index] for item in series) for index in range(count)]
    return [max((item.values[index] for item in series), default=0) for index in range(count)]


def _tooltip(
    category: str, item: Series, value: Number, series_count: int, number_format: NumberFormat
) -> str:
    name = f"{category} · {item.name}" if series_count > 1 else category
    return f"{name}: {number_format(value)}"


def _label_step(count: int, longest: int, room: float) -> int:
    """Show every n-th category label so that labels of ``longest`` characters never overlap."""
    needed = longest * CHAR_WIDTH + 8
    return max(1, math.ceil(needed / room)) if room > 0 else count


def bar_chart(
    title: str,
    categories: Sequence[str],
    series: Sequence[Series],
    *,
    description: str = "",
    stacked: bool = False,
    horizontal: bool = False,
    number_format: NumberFormat = plain_number,
    chart_id: str = "chart",
    width: float = 640,
    axis_labels: Sequence[str] | None = None,
) -> str:
    """A bar chart: one series, several side by side (grouped) or on top of each other (``stacked``).

    ``axis_labels`` are shorter names written under the bars (``11/2026``);
    the full ``categories`` name each bar in its title.
    """
    if horizontal:
        return _horizontal_bars(
            title, categories, series, description, stacked, number_format, chart_id, width
        )
    count = len(categories)
    axis_labels = list(axis_labels or categories)
    legend, legend_height = _legend(series, 56, 8, width - 72)
    top = 16 + legend_height
    left, right, bottom = 56, 16, 40
    height = 300 + legend_height
    plot_width, plot_height = width - left - right, height - top - bottom
    ticks = nice_ticks(max(_totals(series, count, stacked), default=0))
    scale = plot_height / ticks[-1]
    parts = _open(width, height, title, description, chart_id, "bar")
    parts += legend
    parts += _value_axis(ticks, left, top, plot_width, plot_height, number_format)
    slot = plot_width / max(count, 1)
    groups = 1 if stacked else max(len(series), 1)
    bar_width = min(slot * 0.7 / groups, 48)
    step = _label_step(count, max((len(_short(c, 14)) for c in axis_labels), default=0), slot)
    for index, category in enumerate(categories):
        start = left + slot * index + (slot - bar_width * groups) / 2
        base = top + plot_height
        parts.append(f'<g class="chart-category"><title>{_text(category)}</title>')
        for number, item in enumerate(series):
            value = item.values[index]
            bar_height = value * scale
            x = start if stacked else start + number * bar_width
            y = base - bar_height
            colour = PALETTE[number % len(PALETTE)]
            tooltip = _tooltip(category, item, value, len(series), number_format)
            parts.append(
                f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar_width:.1f}" height="{bar_height:.1f}" '
                f'fill="{colour}"><title>{_text(tooltip)}</title></rect>'
            )
            if stacked:
                base = y
            elif value and len(series) == 1:
                parts.append(_value_label(x + bar_width / 2, y - 4, value, number_format))
        if stacked and len(series) > 1:
            total = sum(item.values[index] for item in series)
            if total:
                parts.append(_value_label(start + bar_width / 2, base - 4, total, number_format))
        elif stacked and series and series[0].values[index]:
            parts.append(
                _value_label(start + bar_width / 2, base - 4, series[0].values[index], number_format)
            )
        parts.append("</g>")
        if index % step == 0:
            x_label = left + slot * index + slot / 2
            parts.append(
                f'<text class="chart-axis-label" x="{x_label:.1f}" y="{top + plot_height + 18:g}" '
                f'text-anchor="middle" fill="{MUTED_COLOUR}">{_text(_short(axis_labels[index], 14))}</text>'
            )
    parts.append("</svg>")
    return "\n".join(parts)


def _value_label(x: float, y: float, value: Number, number_format: NumberFormat) -> str:
    return (
        f'<text class="chart-value" x="{x:.1f}" y="{y:.1f}" text-anchor="middle" '
        f'fill="{TEXT_COLOUR}">{_text(number_format(value))}</text>'
    )


def _value_axis(
    ticks: list[Number],
    left: float,
    top: float,
    plot_width: float,
    plot_height: float,
    number_format: NumberFormat,
) -> list[str]:
    """Horizontal grid lines with their values on the left, and the baseline."""
    parts = ['<g class="chart-grid" aria-hidden="true">']
    for tick in ticks:
        y = top + plot_height - tick / ticks[-1] * plot_height
        parts.append(
            f'<line x1="{left:g}" x2="{left + plot_width:g}" y1="{y:.1f}" y2="{y:.1f}" stroke="{GRID_COLOUR}"/>'
        )
        parts.append(
            f'<text x="{left - 6:g}" y="{y + 4:.1f}" text-anchor="end" fill="{MUTED_COLOUR}">'
            f"{_text(number_format(tick))}</text>"
        )
    parts.append(
        f'<line x1="{left:g}" x2="{left + plot_width:g}" y1="{top + plot_height:g}" '
        f'y2="{top + plot_height:g}" stroke="{MUTED_COLOUR}"/>'
    )
    parts.append("</g>")
    return parts


def _horizontal_bars(
    title: str,
    categories: Sequence[str],
    series: Sequence[Series],
    description: str,
    stacked: bool,
    number_format: NumberFormat,
    chart_id: str,
    width: float,
) -> str:
    """Bars that run left to right, for long category names (provinces, warnings)."""
    count = len(categories)
    longest = max((len(_short(c)) for c in categories), default=0)
    left = min(max(longest * CHAR_WIDTH + 12, 60), width * 0.45)
    right = 56
    legend, legend_height = _legend(series, 8, 8, width - 16)
    top = 8 + legend_height
    groups = 1 if stacked else max(len(series), 1)
    row = max(26, 14 * groups + 10)
    height = top + row * max(count, 1) + 28
    plot_width = width - left - right
    ticks = nice_ticks(max(_totals(series, count, stacked), default=0))
    scale = plot_width / ticks[-1]
    parts = _open(width, height, title, description, chart_id, "hbar")
    parts += legend
    plot_bottom = top + row * max(count, 1)
    parts.append('<g class="chart-grid" aria-hidden="true">')
    for tick in ticks:
        x = left + tick * scale
        parts.append(
            f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{top:g}" y2="{plot_bottom:g}" stroke="{GRID_COLOUR}"/>'
        )
        parts.append(
            f'<text x="{x:.1f}" y="{plot_bottom + 16:g}" text-anchor="middle" fill="{MUTED_COLOUR}">'
            f"{_text(number_format(tick))}</text>"
        )
    parts.append("</g>")
    bar_height = (row - 10) / groups
    for index, category in enumerate(categories):
        y_row = top + row * index + 5
        parts.append(f'<g class="chart-category"><title>{_text(category)}</title>')
        parts.append(
            f'<text class="chart-axis-label" x="{left - 6:g}" y="{y_row + (row - 10) / 2 + 4:.1f}" '
            f'text-anchor="end" fill="{TEXT_COLOUR}">{_text(_short(category))}</text>'
        )
        start = left
        for number, item in enumerate(series):
            value = item.values[index]
            length = value * scale
            y = y_row if stacked else y_row + number * bar_height
            colour = PALETTE[number % len(PALETTE)]
            tooltip = _tooltip(category, item, value, len(series), number_format)
            parts.append(
                f'<rect x="{start:.1f}" y="{y:.1f}" width="{length:.1f}" height="{bar_height:.1f}" '
                f'fill="{colour}"><title>{_text(tooltip)}</title></rect>'
            )
            if not stacked:
                parts.append(
                    f'<text class="chart-value" x="{start + length + 4:.1f}" y="{y + bar_height / 2 + 4:.1f}" '
                    f'fill="{TEXT_COLOUR}">{_text(number_format(value))}</text>'
                )
            else:
                start += length
        if stacked:
            total = sum(item.values[index] for item in series)
            parts.append(
                f'<text class="chart-value" x="{start + 4:.1f}" y="{y_row + bar_height / 2 + 4:.1f}" '
                f'fill="{TEXT_COLOUR}">{_text(number_format(total))}</text>'
            )
        parts.append("</g>")
    parts.append(
        f'<line x1="{left:g}" x2="{left:g}" y1="{top:g}" y2="{plot_bottom:g}" stroke="{MUTED_COLOUR}" '
        'aria-hidden="true"/>'
    )
    parts.append("</svg>")
    return "\n".join(parts)


def line_chart(
    title: str,
    categories: Sequence[str],
    series: Sequence[Series],
    *,
    description: str = "",
    number_format: NumberFormat = plain_number,
    chart_id: str = "chart",
    width: float = 640,
    axis_labels: Sequence[str] | None = None,
) -> str:
    """A line chart over ordered categories (days, months), a marker with its value's title on each point."""
    count = len(categories)
    axis_labels = list(axis_labels or categories)
    legend, legend_height = _legend(series, 56, 8, width - 72)
    top = 16 + legend_height
    left, right, bottom = 56, 16, 40
    height = 300 + legend_height
    plot_width, plot_height = width - left - right, height - top - bottom
    ticks = nice_ticks(max((max(item.values, default=0) for item in series), default=0))
    scale = plot_height / ticks[-1]
    slot = plot_width / max(count, 1)
    parts = _open(width, height, title, description, chart_id, "line")
    parts += legend
    parts += _value_axis(ticks, left, top, plot_width, plot_height, number_format)

    def point(index: int, value: Number) -> tuple[float, float]:
        return left + slot * index + slot / 2, top + plot_height - value * scale

    for number, item in enumerate(series):
        colour = PALETTE[number % len(PALETTE)]
        points = " ".join(f"{x:.1f},{y:.1f}" for x, y in (point(i, v) for i, v in enumerate(item.values)))
        parts.append(f'<g class="chart-series"><title>{_text(item.name)}</title>')
        parts.append(f'<polyline points="{points}" fill="none" stroke="{colour}" stroke-width="2"/>')
        for index, value in enumerate(item.values):
            x, y = point(index, value)
            tooltip = _tooltip(categories[index], item, value, len(series), number_format)
            parts.append(
                f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3.5" fill="{colour}"><title>{_text(tooltip)}</title></circle>'
            )
        parts.append("</g>")
    step = _label_step(count, max((len(_short(c, 14)) for c in axis_labels), default=0), slot)
    for index, label in enumerate(axis_labels):
        if index % step == 0:
            x = left + slot * index + slot / 2
            parts.append(
                f'<text class="chart-axis-label" x="{x:.1f}" y="{top + plot_height + 18:g}" '
                f'text-anchor="middle" fill="{MUTED_COLOUR}">{_text(_short(label, 14))}</text>'
            )
    parts.append("</svg>")
    return "\n".join(parts)
