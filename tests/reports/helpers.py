"""Reading the chart cards of the report pages (the dashboard, the scan analytics) as a person would."""

from __future__ import annotations

import csv
import io
import re
from typing import Any


def chart_section(page: str, key: str) -> str:
    """The chart card of ``key``: its SVG, its table and its CSV link."""
    match = re.search(rf'<section class="chart-card" id="chart-{key}".*?</section>', page, re.S)
    assert match, key
    return match.group(0)


def chart_table(section: str) -> list[list[str]]:
    """The rows of the table under a chart, header first, each cell's text without its markup."""
    table = re.search(r"<table.*?</table>", section, re.S).group(0)
    rows = []
    for row in re.findall(r"<tr>(.*?)</tr>", table, re.S):
        cells = re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)
        rows.append([re.sub(r"<[^>]+>", "", cell).strip() for cell in cells])
    return rows


def csv_rows(response: Any) -> list[list[str]]:
    """The rows of a chart's CSV download (UTF-8 with a byte order mark, for Excel)."""
    return list(csv.reader(io.StringIO(response.get_data().decode("utf-8-sig"))))
