"""The scans' months: partitions made ahead of time, and whole months dropped past ``SCAN_RETENTION_MONTHS``.

On PostgreSQL ``scan`` is partitioned by Vietnamese month (``core.partitions``).
The worker's ``scans.partitions`` job makes this month's and the next
``MONTHS_AHEAD`` months' partitions every day (and when a worker starts); a
scan outside them lands in the DEFAULT partition, and the next run moves
such rows into their month's partition once it exists.

``SCAN_RETENTION_MONTHS`` (empty or 0: scans are kept for ever) keeps every
scan younger than that many months: the worker's ``scans.purge`` job and
``flask scans purge --apply`` detach and drop the partitions of the months
before the first day of the month that many months ago (one statement each,
whatever their size), delete the DEFAULT partition's rows before it, and on
SQLite delete the rows before it. Each run that removed something writes one
``purge_scans`` audit entry. The daily counts (``ScanDaily``) of those days are
kept: they are what the dashboards and yearly figures read, a few rows per lot
and day, and ``rebuild-daily`` never rebuilds a day before the oldest raw scan.
A batch's own retention purge still removes its scans and counts with it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from flask import current_app
from sqlalchemy import TableClause, column, delete, func, select, table

from traceability.audit.service import record_audit
from traceability.core.database import UTCDateTime
from traceability.core.dates import add_months, month_start, vietnam_midnight, vietnam_today
from traceability.core.extensions import db
from traceability.core.partitions import (
    default_partition_name,
    drop_partition,
    ensure_partitions,
    month_partitions,
)
from traceability.models.public import Scan

log = logging.getLogger(__name__)

TABLE = "scan"
COLUMN = "scanned_at"
MONTHS_AHEAD = 2


def _default_partition() -> TableClause:
    return table(default_partition_name(TABLE), column(COLUMN, UTCDateTime()))


def retention_months(config: Any) -> int:
    """``SCAN_RETENTION_MONTHS`` as a whole number of months, 0 when scans are kept for ever."""
    raw = config.get("SCAN_RETENTION_MONTHS") or 0
    months = int(raw)
    if months < 0:
        raise ValueError("SCAN_RETENTION_MONTHS must be 0 (keep every scan) or a number of months")
    return months


def make_partitions(today: date | None = None) -> list[str]:
    """The DEFAULT partition and those of this month and the next ``MONTHS_AHEAD``; the names made.

    The worker's job ``scans.partitions``; nothing on SQLite.
    """
    today = today or vietnam_today()
    connection = db.session.connection()
    made = ensure_partitions(
        connection, TABLE, COLUMN, [add_months(today, n) for n in range(MONTHS_AHEAD + 1)]
    )
    db.session.commit()
    for name in made:
        log.info("scans: partition %s made", name)
    return made


@dataclass
class ScanPurge:
    """What a purge of old scans removes: the month partitions, and the rows of other tables."""

    months: int
    cutoff: date | None  # scans before the first instant of this Vietnamese day go
    partitions: list[str] = field(default_factory=list)
    rows: int = 0  # rows deleted one by one: SQLite's table, PostgreSQL's DEFAULT partition
    partition_rows: int = 0  # rows of the dropped partitions

    @property
    def removes_anything(self) -> bool:
        return bool(self.partitions or self.rows)


def plan_scan_purge(today: date | None = None) -> ScanPurge:
    """What ``purge_scans`` would remove today; nothing when ``SCAN_RETENTION_MONTHS`` is 0."""
    months = retention_months(current_app.config)
    if months == 0:
        return ScanPurge(0, None)
    cutoff = month_start(today or vietnam_today(), -months)
    plan = ScanPurge(months, cutoff)
    connection = db.session.connection()
    before = vietnam_midnight(cutoff)
    if connection.dialect.name == "postgresql":
        for partition in month_partitions(connection, TABLE):
            if partition.month < cutoff:
                plan.partitions.append(partition.name)
                counted = select(func.count()).select_from(table(partition.name))
                plan.partition_rows += int(connection.scalar(counted) or 0)
        default = _default_partition()
        older = select(func.count()).select_from(default).where(default.c[COLUMN] < before)
        plan.rows = int(connection.scalar(older) or 0)
    else:
        plan.rows = int(
            db.session.scalar(select(func.count()).select_from(Scan).where(Scan.scanned_at < before)) or 0
        )
    return plan


def purge_scans(*, apply: bool, today: date | None = None) -> ScanPurge:
    """Remove the scans older than ``SCAN_RETENTION_MONTHS`` (audited) when ``apply``; what goes."""
    plan = plan_scan_purge(today)
    if not apply or not plan.removes_anything or plan.cutoff is None:
        db.session.rollback()
        return plan
    connection = db.session.connection()
    before = vietnam_midnight(plan.cutoff)
    if connection.dialect.name == "postgresql":
        for partition in month_partitions(connection, TABLE):
            if partition.name in plan.partitions:
                drop_partition(connection, TABLE, partition)
        default = _default_partition()
        connection.execute(delete(default).where(default.c[COLUMN] < before))
    else:
        db.session.execute(delete(Scan).where(Scan.scanned_at < before))
    record_audit(
        "purge_scans",
        None,
        object_type="Scan",
        before={
            "retention_months": plan.months,
            "before": plan.cutoff.isoformat(),
            "partitions": plan.partitions,
            "rows": plan.rows + plan.partition_rows,
        },
        after=None,
    )
    db.session.commit()
    log.info(
        "scans: removed %d scans before %s (%d partitions)",
        plan.rows + plan.partition_rows,
        plan.cutoff,
        len(plan.partitions),
    )
    return plan


def scheduled_scan_purge() -> int:
    """The worker's job ``scans.purge``: how many scans went (none while the setting is 0)."""
    plan = purge_scans(apply=True)
    return plan.rows + plan.partition_rows if plan.removes_anything else 0
