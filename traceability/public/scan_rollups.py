"""The daily counts of scans (``ScanDaily``), kept in the transaction that writes the scans.

Every dashboard and scan report counts these rows instead of the raw scans:
a year of a lot's scans is at most a few rows a day (one per language and
kind of device), whatever the number of scans. The counts are added by one
upsert (``INSERT ... ON CONFLICT DO UPDATE SET count = count + excluded.count``,
on SQLite as on PostgreSQL) in the same transaction as the scans:

- the scan writer (``scan_buffer``) calls ``add_to_daily_counts`` on its
  connection before its COPY or INSERT, so both commit or neither does;
- scans added through the ORM session (the demo data, tests, a restore's
  objects) are counted when the session flushes them (``_count_flushed_scans``).

``rebuild_daily_counts`` (``flask scans rebuild-daily``) computes them again
from the raw rows, for the migration's backfill and for repair. What only the
raw rows can give stays on them: an item's scan count, its first scan and the
copied-code rule (``scans.item_scan_history``, ``consumer``).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Connection, delete, event, func, insert, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql.functions import FunctionElement

from traceability.core.dates import VIETNAM_OFFSET, utcnow, vietnam_midnight
from traceability.core.extensions import db
from traceability.models.batches import Batch
from traceability.models.public import Scan, ScanDaily
from traceability.models.registry import Producer, Product

KEY = ("day", "batch_id", "language", "device_class")


class vietnam_date(FunctionElement[date]):
    """The Vietnamese calendar date of a stored UTC instant, as a ``date``."""

    inherit_cache = True
    name = "vietnam_date"


@compiles(vietnam_date, "sqlite")
def _vietnam_date_sqlite(element: vietnam_date, compiler: Any, **kw: Any) -> str:
    # SQLite keeps the instant as naive UTC text (``UTCDateTime``); a Date column keeps YYYY-MM-DD.
    return f"date({compiler.process(next(iter(element.clauses)), **kw)}, '+7 hours')"


@compiles(vietnam_date)
def _vietnam_date(element: vietnam_date, compiler: Any, **kw: Any) -> str:
    return f"CAST(({compiler.process(next(iter(element.clauses)), **kw)}) AT TIME ZONE 'Asia/Ho_Chi_Minh' AS DATE)"


def _upsert(connection: Connection, values: list[dict[str, Any]]) -> None:
    """Add ``values`` to the counts of their keys, creating the missing rows.

    One cached statement run over the rows (SQLAlchemy batches them into
    multi-row VALUES itself), rather than a statement compiled afresh per call.
    """
    dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
    statement = dialect.insert(ScanDaily)
    connection.execute(
        statement.on_conflict_do_update(
            index_elements=list(KEY), set_={"count": ScanDaily.count + statement.excluded["count"]}
        ),
        values,
    )


def add_to_daily_counts(connection: Connection, rows: Iterable[dict[str, Any]]) -> None:
    """Count ``rows`` (the columns of ``Scan``) in the daily counts, on ``connection``'s transaction.

    A row without ``scanned_at`` gets the time now, written into the row so the
    scan and its count agree on the day. A row naming a lot that no longer
    exists is left out here: the scan's own insert refuses it.
    """
    rows = list(rows)
    if not rows:
        return
    counts: Counter[tuple[date, int, str, str]] = Counter()
    for row in rows:
        moment = row.setdefault("scanned_at", utcnow())
        counts[
            (
                moment.astimezone(VIETNAM_OFFSET).date(),
                int(row["batch_id"]),
                (row.get("language") or "vi")[:5],
                row.get("device_class") or "other",
            )
        ] += 1
    owners = {
        batch_id: (product_id, producer_id, centre_id)
        for batch_id, product_id, producer_id, centre_id in connection.execute(
            select(Batch.id, Batch.product_id, Product.producer_id, Producer.centre_id)
            .join(Product, Product.id == Batch.product_id)
            .join(Producer, Producer.id == Product.producer_id)
            .where(Batch.id.in_({key[1] for key in counts}))
        )
    }
    # Sorted, so two writers adding to the same days take their row locks in one order (no deadlock).
    values = [
        {
            "day": day,
            "batch_id": batch_id,
            "product_id": owners[batch_id][0],
            "producer_id": owners[batch_id][1],
            "centre_id": owners[batch_id][2],
            "language": language,
            "device_class": device,
            "count": count,
        }
        for (day, batch_id, language, device), count in sorted(counts.items())
        if batch_id in owners
    ]
    if values:
        _upsert(connection, values)


def _scan_row(scan: Scan) -> dict[str, Any]:
    return {
        "batch_id": scan.batch_id,
        "scanned_at": scan.scanned_at,
        "language": scan.language,
        "device_class": scan.device_class,
    }


@event.listens_for(Session, "after_flush")
def _count_flushed_scans(session: Session, _context: Any) -> None:
    """Scans an ORM session inserts are counted in the same transaction."""
    added = [instance for instance in session.new if isinstance(instance, Scan)]
    if added:
        add_to_daily_counts(session.connection(), [_scan_row(scan) for scan in added])


@dataclass(frozen=True)
class Rebuilt:
    """What ``rebuild_daily_counts`` did: from which day, how many count rows and scans."""

    since: date | None
    rows: int
    scans: int


def rebuild_daily_counts(since: date | None = None) -> Rebuilt:
    """Compute the daily counts again from the raw scans, from ``since`` (Vietnam day) on.

    Days before the oldest raw scan keep their counts: their scans may have gone
    with ``SCAN_RETENTION_MONTHS`` while their counts are kept. Without
    ``since``, from the oldest raw scan. Flushes, never commits.
    """
    oldest = db.session.scalar(select(func.min(Scan.scanned_at)))
    if oldest is None:
        return Rebuilt(since, 0, 0)
    first_day = oldest.astimezone(VIETNAM_OFFSET).date()
    since = first_day if since is None or since < first_day else since
    db.session.execute(delete(ScanDaily).where(ScanDaily.day >= since))
    day = vietnam_date(Scan.scanned_at)
    source = (
        select(
            day,
            Scan.batch_id,
            Batch.product_id,
            Product.producer_id,
            Producer.centre_id,
            Scan.language,
            Scan.device_class,
            func.count(),
        )
        .join(Batch, Batch.id == Scan.batch_id)
        .join(Product, Product.id == Batch.product_id)
        .join(Producer, Producer.id == Product.producer_id)
        .where(Scan.scanned_at >= vietnam_midnight(since))
        .group_by(
            day,
            Scan.batch_id,
            Batch.product_id,
            Product.producer_id,
            Producer.centre_id,
            Scan.language,
            Scan.device_class,
        )
    )
    columns = [
        "day",
        "batch_id",
        "product_id",
        "producer_id",
        "centre_id",
        "language",
        "device_class",
        "count",
    ]
    db.session.execute(insert(ScanDaily).from_select(columns, source))
    rows, scans = db.session.execute(
        select(func.count(), func.coalesce(func.sum(ScanDaily.count), 0)).where(ScanDaily.day >= since)
    ).one()
    return Rebuilt(since, int(rows), int(scans))
