"""A chart's data, once: its SVG, the table under it and its CSV download are all drawn from it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flask_babel import lazy_gettext as _l

from traceability.core.spreadsheets import csv_bytes
from traceability.reports import charts


@dataclass(frozen=True)
class Chart:
    """A chart's data: categories (the table's rows) and one or more series (its value columns)."""

    key: str  # the URL slug of its CSV and the id of its SVG
    title: str
    description: str
    category_header: str
    categories: list[str]
    series: list[charts.Series]
    kind: str = "bar"  # bar, hbar, stacked, hstacked or line
    axis_labels: list[str] | None = None
    empty_message: str = ""
    notes: dict[str, Any] = field(default_factory=dict)

    @property
    def with_total(self) -> bool:
        return self.kind in ("stacked", "hstacked")

    @property
    def header(self) -> list[str]:
        """The table's and the CSV's header row."""
        names = [item.name for item in self.series]
        return [self.category_header, *names, *([str(_l("Total"))] if self.with_total else [])]

    @property
    def rows(self) -> list[list[Any]]:
        """The table's and the CSV's rows: the category, then one number per column."""
        rows = []
        for index, category in enumerate(self.categories):
            values = [item.values[index] for item in self.series]
            rows.append([category, *values, *([sum(values)] if self.with_total else [])])
        return rows

    @property
    def total(self) -> charts.Number:
        return sum(sum(item.values) for item in self.series)

    @property
    def is_empty(self) -> bool:
        return self.total == 0

    def svg(self, number_format: charts.NumberFormat = charts.plain_number) -> str:
        """The chart as SVG text (escaped inside; safe to put in the page)."""
        chart_id = f"chart-{self.key}"
        if self.kind == "line":
            return charts.line_chart(
                self.title,
                self.categories,
                self.series,
                description=self.description,
                number_format=number_format,
                chart_id=chart_id,
                axis_labels=self.axis_labels,
            )
        return charts.bar_chart(
            self.title,
            self.categories,
            self.series,
            description=self.description,
            stacked=self.kind in ("stacked", "hstacked"),
            horizontal=self.kind in ("hbar", "hstacked"),
            number_format=number_format,
            chart_id=chart_id,
            axis_labels=self.axis_labels,
        )

    def csv(self) -> bytes:
        """The table as CSV: UTF-8 with a BOM, so spreadsheets read Vietnamese correctly."""
        return csv_bytes(self.header, self.rows)
