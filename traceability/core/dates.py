"""Vietnam time and calendar dates: the one module every other reads the clock and the offset from.

Stored instants are UTC (``utcnow``); what a person reads is Vietnam's time,
UTC+07:00 all year, with no daylight saving time (``VIETNAM_OFFSET``), and the
registry's days (validity, expiry, retention, report periods) are Vietnam's
days (``vietnam_today``, ``vietnam_midnight``).
"""

from __future__ import annotations

import calendar
from datetime import UTC, date, datetime, time, timedelta, timezone

#: Vietnam's time, UTC+07:00 all year (no daylight saving time): the registry's days are Vietnam's.
VIETNAM_OFFSET = timezone(timedelta(hours=7))


def utcnow() -> datetime:
    """The current time, timezone-aware in UTC (a callable for column defaults)."""
    return datetime.now(UTC)


def vietnam_today() -> date:
    """Today's date in Vietnam: the day dates of validity and expiry are read against."""
    return datetime.now(VIETNAM_OFFSET).date()


def vietnam_midnight(day: date) -> datetime:
    """The instant a Vietnamese calendar day begins, for comparing with stored instants."""
    return datetime.combine(day, time(0), tzinfo=VIETNAM_OFFSET)


def add_months(day: date, months: int) -> date:
    """``day`` moved by ``months`` calendar months, on the month's last day if it is shorter."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    return date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))


def month_start(day: date, months: int = 0) -> date:
    """The first day of the month ``months`` after (or before, when negative) ``day``'s month."""
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)
