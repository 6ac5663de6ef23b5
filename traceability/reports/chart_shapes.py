"""The chart shapes the dashboard and the scan analytics share: a bar per province, a line per day.

Each takes the counts a ``GROUP BY`` returned and gives a ``Chart``
(``chart_data``), from which the SVG, the table and the CSV are drawn.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from flask_babel import lazy_gettext as _l

from traceability.core.provinces import province_name
from traceability.reports import charts
from traceability.reports.chart_data import Chart
from traceability.reports.periods import day_key


def count_series(name: Any, counts: dict[Any, int], keys: list[Any]) -> charts.Series:
    """The counts of ``keys`` in their order, as one named series (a key without a count counts 0)."""
    return charts.Series(str(name), tuple(int(counts.get(key, 0)) for key in keys))


def province_chart(
    counts: dict[str, int], *, key: str, title: Any, description: Any, series_name: Any, empty_message: Any
) -> Chart:
    """A bar per province code of ``counts``, the largest first (by the province's name between equals)."""
    codes = sorted(counts, key=lambda code: (-counts[code], province_name(code)))
    return Chart(
        key=key,
        title=str(title),
        description=str(description),
        category_header=str(_l("Province")),
        categories=[province_name(code) for code in codes],
        series=[count_series(series_name, counts, codes)],
        kind="hbar",
        empty_message=str(empty_message),
    )


def daily_chart(
    counts: dict[str, int],
    days: list[date],
    *,
    key: str,
    title: Any,
    description: Any,
    series_name: Any,
    empty_message: Any,
) -> Chart:
    """A line over ``days``, ``counts`` keyed by ``periods.day_key`` (a day without a count counts 0)."""
    return Chart(
        key=key,
        title=str(title),
        description=str(description),
        category_header=str(_l("Day")),
        categories=[each.strftime("%d/%m/%Y") for each in days],
        series=[count_series(series_name, counts, [day_key(each) for each in days])],
        kind="line",
        axis_labels=[each.strftime("%d/%m") for each in days],
        empty_message=str(empty_message),
    )
