"""Spreadsheet downloads made safe and readable: text that would run as a formula, and CSV bytes.

A cell a user typed that starts with ``=``, ``+``, ``-``, ``@``, a tab or a
carriage return would run as a formula in Excel or LibreOffice (CSV
injection). In CSV such text is written with a leading apostrophe, which the
spreadsheet shows as typed; in XLSX its cell is typed as text. CSV files are
UTF-8 with a byte order mark, so Excel reads Vietnamese correctly.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from typing import Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def looks_like_formula(value: Any) -> bool:
    """Whether a spreadsheet would run this cell's text as a formula."""
    return isinstance(value, str) and value.startswith(FORMULA_STARTS)


def csv_cell(value: Any) -> Any:
    """The cell as CSV writes it: formula-like text shown as typed, never run."""
    return "'" + value if looks_like_formula(value) else value


def csv_bytes(header: Sequence[Any], rows: Iterable[Sequence[Any]], *, guard: bool = True) -> bytes:
    """A header and rows as CSV: UTF-8 with a BOM, each cell through ``csv_cell``.

    ``guard=False`` when the caller made its cells safe by their column (a
    negative number written as text is not a formula to guard).
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    for row in rows:
        writer.writerow([csv_cell(value) for value in row] if guard else row)
    return buffer.getvalue().encode("utf-8-sig")
