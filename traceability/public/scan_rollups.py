"""The daily counts of scans (``ScanDaily`` and its coarser siblings), kept in the transaction that writes the scans.

Every dashboard and scan report counts these rows instead of the raw scans:
a year of a lot's scans is at most a few rows a day (one per language and
kind of device), whatever the number of scans. The counts are added by one
upsert (``INSERT ... ON CONFLICT DO UPDATE SET count = count + excluded.count``,
on SQLite as on PostgreSQL) in the same transaction as the scans:

- the scan writer (``scan_buffer``) calls ``add_to_daily_counts`` on its
  connection before its COPY or INSERT, so both commit or neither does;
- scans added through the ORM session (the demo data, tests, a restore's
  objects) are counted when the session flushes them (``_count_flushed_scans``).

Two coarser tables are kept beside it by the same upserts, so each chart
reads the coarsest rows that answer it: ``ScanDailyProduct`` (a product's
day, whatever the lot, language or device: the rankings of products and
producers) and ``ScanDailyCentre`` (a centre's day per language and device:
scans per day, province, language and device), and ``ScanMonthlyProduct`` (a
product's month: the whole months of a long period's rankings). A DELETE of lot counts (a
batch's retention purge) takes its scans off the coarser counts too
(``_forget_deleted_counts``), so every table keeps telling the same totals.

``rebuild_daily_counts`` (``flask scans rebuild-daily``) computes them again
from the raw rows, for the migration's backfill and for repair. What only the
raw rows can give stays on them: an item's scan count, its first scan and the
copied-code rule (``scans.item_scan_history``, ``consumer``).
"""

from __future__ import annotations

import functools
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Connection, Delete, delete, event, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import ORMExecuteState, Session
from sqlalchemy.sql.functions import FunctionElement

from traceability.core.dates import VIETNAM_OFFSET, utcnow, vietnam_midnight
from traceability.core.extensions import db
from traceability.models.batches import Batch
from traceability.models.public import Scan, ScanDaily, ScanDailyCentre, ScanDailyProduct, ScanMonthlyProduct
from traceability.models.registry import Producer, Product

KEY = ("day", "batch_id", "language", "device_class")
PRODUCT_KEY = ("day", "product_id")
CENTRE_KEY = ("day", "centre_id", "language", "device_class")
MONTH_PRODUCT_KEY = ("month", "product_id")
# Each table with the columns that make its key; every other column but ``count`` is copied on the row.
ROLLUPS: tuple[tuple[type[Any], tuple[str, ...], tuple[str, ...]], ...] = (
    (ScanDaily, KEY, ("product_id", "producer_id", "centre_id")),
    (ScanDailyProduct, PRODUCT_KEY, ("producer_id", "centre_id")),
    (ScanDailyCentre, CENTRE_KEY, ()),
    (ScanMonthlyProduct, MONTH_PRODUCT_KEY, ("producer_id", "centre_id")),
)


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


class first_of_month(FunctionElement[date]):
    """The first day of a ``date``'s month, as a ``date``."""

    inherit_cache = True
    name = "first_of_month"


@compiles(first_of_month, "sqlite")
def _first_of_month_sqlite(element: first_of_month, compiler: Any, **kw: Any) -> str:
    return f"date({compiler.process(next(iter(element.clauses)), **kw)}, 'start of month')"


@compiles(first_of_month)
def _first_of_month(element: first_of_month, compiler: Any, **kw: Any) -> str:
    return f"CAST(date_trunc('month', {compiler.process(next(iter(element.clauses)), **kw)}) AS DATE)"


def _lot_column(name: str) -> Any:
    """The column (or expression) of the lot counts that gives a coarser table's ``name``."""
    return first_of_month(ScanDaily.day) if name == "month" else getattr(ScanDaily, name)


def _upsert(
    connection: Connection, model: type[Any], key: tuple[str, ...], values: list[dict[str, Any]]
) -> None:
    """Add ``values`` to the counts of their keys in ``model``'s table, creating the missing rows.

    One statement, built once per table and dialect (building it, with its
    ``excluded`` alias of every column, cost more than running it), run over
    the rows: SQLAlchemy batches them into multi-row VALUES itself.
    """
    statement = _upsert_statement(model, key, connection.dialect.name)  # type: ignore[arg-type]  # a class hashes
    connection.execute(statement, values)


@functools.cache
def _upsert_statement(model: type[Any], key: tuple[str, ...], dialect_name: str) -> Any:
    dialect = postgresql if dialect_name == "postgresql" else sqlite
    statement = dialect.insert(model)
    return statement.on_conflict_do_update(
        index_elements=list(key), set_={"count": model.count + statement.excluded["count"]}
    )


def _coarser(
    values: list[dict[str, Any]], key: tuple[str, ...], copied: tuple[str, ...]
) -> list[dict[str, Any]]:
    """The lot counts ``values`` summed by ``key`` (the ``copied`` columns follow the key), in key order."""
    sums: Counter[tuple[Any, ...]] = Counter()
    extra: dict[tuple[Any, ...], tuple[Any, ...]] = {}
    for value in values:
        group = tuple(value[name] for name in key)
        sums[group] += value["count"]
        extra[group] = tuple(value[name] for name in copied)
    return [
        {**dict(zip(key, group, strict=True)), **dict(zip(copied, extra[group], strict=True)), "count": count}
        for group, count in sorted(sums.items())
    ]


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
    values: list[dict[str, Any]] = [
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
        # The lot's counts first, then the coarser ones: every writer takes its row locks in one order.
        _upsert(connection, ScanDaily, KEY, values)
        for value in values:
            value["month"] = value["day"].replace(day=1)
        for model, key, copied in ROLLUPS[1:]:
            _upsert(connection, model, key, _coarser(values, key, copied))


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


@event.listens_for(Session, "do_orm_execute")
def _forget_deleted_counts(state: ORMExecuteState) -> None:
    """A DELETE of lot counts through the session takes the same scans off the coarser counts first.

    The batch retention purge deletes a lot's ``ScanDaily`` rows with its scans:
    the product's and the centre's counts of those days lose them too, and rows
    left at zero go. ``rebuild_daily_counts`` rebuilds the coarser counts
    itself (``coarser_counts_rebuilt``).
    """
    statement = state.statement
    if not (
        isinstance(statement, Delete)
        and getattr(statement.table, "name", None) == ScanDaily.__tablename__
        and not state.execution_options.get("coarser_counts_rebuilt")
    ):
        return
    session = state.session
    for model, key, _copied in ROLLUPS[1:]:
        # One correlated UPDATE per table: each coarser row loses the deleted lot counts of its key.
        same_key = [_lot_column(name) == getattr(model, name) for name in key]
        deleted = [statement.whereclause] if statement.whereclause is not None else []
        gone = select(func.sum(ScanDaily.count)).where(*same_key, *deleted).scalar_subquery()
        touched = select(ScanDaily.id).where(*same_key, *deleted).exists()
        session.execute(
            update(model)
            .where(touched)
            .values(count=model.count - gone)
            .execution_options(synchronize_session=False)
        )
        session.execute(delete(model).where(model.count <= 0).execution_options(synchronize_session=False))


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
    db.session.execute(
        delete(ScanDaily).where(ScanDaily.day >= since).execution_options(coarser_counts_rebuilt=True)
    )
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
    for model, key, copied in ROLLUPS[1:]:
        # A month's row sums its days: rebuilt from the first day of ``since``'s month (kept lot counts).
        start = since.replace(day=1) if "month" in key else since
        first = model.month if "month" in key else model.day
        db.session.execute(delete(model).where(first >= start))
        grouped = [_lot_column(name) for name in (*key, *copied)]
        db.session.execute(
            insert(model).from_select(
                [*key, *copied, "count"],
                select(*grouped, func.sum(ScanDaily.count)).where(ScanDaily.day >= start).group_by(*grouped),
            )
        )
    rows, scans = db.session.execute(
        select(func.count(), func.coalesce(func.sum(ScanDaily.count), 0)).where(ScanDaily.day >= since)
    ).one()
    return Rebuilt(since, int(rows), int(scans))
