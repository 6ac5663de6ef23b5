"""Calendar periods in SQL that read the same on SQLite and PostgreSQL, for GROUP BY.

The two databases truncate dates differently (``strftime`` against
``to_char``), and an instant is stored in UTC while Vietnam counts its days
at +07:00. Each construct below compiles to the right SQL for the database
in use and gives a text key (``YYYY-MM`` or ``YYYY-MM-DD``), so grouping,
ordering and the Python side never depend on the dialect.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import String
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

from traceability.core.dates import month_start

VIETNAM_ZONE = "Asia/Ho_Chi_Minh"  # +07:00 all year, no daylight saving time


class month_of_date(FunctionElement):  # named like the SQL function it is
    """``YYYY-MM`` of a DATE column."""

    type = String()
    name = "month_of_date"
    inherit_cache = True


class vietnam_day(FunctionElement):
    """``YYYY-MM-DD`` of a stored UTC instant, read in Vietnam time."""

    type = String()
    name = "vietnam_day"
    inherit_cache = True


class vietnam_month(FunctionElement):
    """``YYYY-MM`` of a stored UTC instant, read in Vietnam time."""

    type = String()
    name = "vietnam_month"
    inherit_cache = True


def _argument(element: FunctionElement, compiler: Any, **kw: Any) -> str:
    return compiler.process(next(iter(element.clauses)), **kw)


@compiles(month_of_date, "sqlite")
def _month_of_date_sqlite(element: month_of_date, compiler: Any, **kw: Any) -> str:
    return f"strftime('%Y-%m', {_argument(element, compiler, **kw)})"


@compiles(month_of_date)
def _month_of_date(element: month_of_date, compiler: Any, **kw: Any) -> str:
    return f"to_char({_argument(element, compiler, **kw)}, 'YYYY-MM')"


@compiles(vietnam_day, "sqlite")
def _vietnam_day_sqlite(element: vietnam_day, compiler: Any, **kw: Any) -> str:
    # SQLite keeps the instant as naive UTC text (see UTCDateTime).
    return f"strftime('%Y-%m-%d', {_argument(element, compiler, **kw)}, '+7 hours')"


@compiles(vietnam_day)
def _vietnam_day(element: vietnam_day, compiler: Any, **kw: Any) -> str:
    return f"to_char(({_argument(element, compiler, **kw)}) AT TIME ZONE '{VIETNAM_ZONE}', 'YYYY-MM-DD')"


@compiles(vietnam_month, "sqlite")
def _vietnam_month_sqlite(element: vietnam_month, compiler: Any, **kw: Any) -> str:
    return f"strftime('%Y-%m', {_argument(element, compiler, **kw)}, '+7 hours')"


@compiles(vietnam_month)
def _vietnam_month(element: vietnam_month, compiler: Any, **kw: Any) -> str:
    return f"to_char(({_argument(element, compiler, **kw)}) AT TIME ZONE '{VIETNAM_ZONE}', 'YYYY-MM')"


# ---------------------------------------------------------------- the same periods in Python


def month_key(day: date) -> str:
    """``YYYY-MM`` of a date, as the SQL constructs give it."""
    return f"{day.year:04d}-{day.month:02d}"


def day_key(day: date) -> str:
    return day.isoformat()


def last_months(today: date, count: int) -> list[date]:
    """The first days of the ``count`` months that end with ``today``'s month, oldest first."""
    return [month_start(today, offset) for offset in range(-count + 1, 1)]
