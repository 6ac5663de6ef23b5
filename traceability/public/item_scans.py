"""The running tally of each serialised item's scans (``ItemScan``): one atomic UPDATE per scan.

An item's page shows its earlier scans (how many, the first) and the
copied-code warning (``copied_codes``). Counting the ``scan`` rows for that
cost a page two queries over a growing history; instead each scan folds
into the item's one row, by one UPDATE ... RETURNING that the database
serialises on the row: N parallel scans of one code end at N, each page
showing the scans before its own. The fold is ``ScanTally.add`` written in
SQL, held to the rule by the tests.

An item scanned before the tally existed (or never) gets its row at its
next scan, from its ``scan`` rows (the latest ``SCAN_MARKS_READ``). The
``scan`` rows themselves are still written, one per page served
(``scans.record_scan``). Statements run on a connection of their own, never
the request's session, so the page cache does not hear of them.
"""

from __future__ import annotations

import functools
import sqlite3
import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from weakref import WeakKeyDictionary

from sqlalchemy import (
    BigInteger,
    Connection,
    Engine,
    Integer,
    String,
    and_,
    bindparam,
    case,
    cast,
    create_engine,
    event,
    exists,
    false,
    func,
    literal,
    literal_column,
    or_,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, scoped_session
from sqlalchemy.sql.elements import ColumnElement

from traceability.models.batches import Batch, Item
from traceability.models.public import ItemScan, Scan
from traceability.models.registry import Product
from traceability.public.copied_codes import (
    KNOWN_DEVICES,
    ScanMark,
    ScanTally,
    epoch_ms,
    tally_of,
    vietnam_day,
)

# The latest scans read when an item's tally starts from its history; a longer one is past the scan threshold.
SCAN_MARKS_READ = 500

_scan = ItemScan.__table__.c
Reader = Connection | Session | scoped_session[Any]  # where an item and its stored scans are read


# The WSGI environ's key for a scan ``fast_path`` counted before handing the request to the app.
COUNTED_SCAN = "traceability.counted_scan"


@dataclass(frozen=True)
class CountedItem:
    """A scanned item and the tally its page shows: its earlier scans, or all of them when not a scan."""

    item_id: int
    batch_id: int
    serial: str
    public_code: str
    tally: ScanTally


@dataclass(frozen=True)
class CountedScan:
    """A scan counted in its item's tally before the app answers: the app shows it and counts it no more."""

    mark: ScanMark
    counted: CountedItem


_tally_engines: WeakKeyDictionary[Engine, Engine] = WeakKeyDictionary()
_tally_engines_lock = threading.Lock()


def tally_engine(engine: Engine) -> Engine:
    """The engine the tallies are written with: ``engine``'s database, its own small pool, made once.

    Its connections don't wait for the disk at commit: a tally, like the queued
    scans, is analytics (PostgreSQL's ``synchronous_commit = off``; SQLite's
    WAL with ``synchronous = NORMAL``); a crash may lose the last fraction of a
    second of increments, never corrupt a row, and the registry's own writes
    keep their durability. On PostgreSQL each statement commits by itself
    (autocommit): a scan is one round trip, its UPDATE ... RETURNING. Nor does
    the pool ping a connection at each checkout: a connection the server
    dropped fails one scan, which the app then counts (``fast_path``), and is
    replaced.
    """
    with _tally_engines_lock:
        tally = _tally_engines.get(engine)
        if tally is None:
            options: dict[str, Any] = {"pool_pre_ping": False}
            if engine.dialect.name == "postgresql":
                options["isolation_level"] = "AUTOCOMMIT"
            tally = create_engine(engine.url, **options)
            event.listen(tally, "connect", _without_waiting_for_the_disk)
            event.listen(engine, "engine_disposed", lambda _engine: tally.dispose())
            _tally_engines[engine] = tally
        return tally


def _without_waiting_for_the_disk(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    if isinstance(dbapi_connection, sqlite3.Connection):
        if cursor.execute("PRAGMA synchronous").fetchone()[0] > 1:  # FULL or EXTRA; OFF stays OFF
            cursor.execute("PRAGMA synchronous = NORMAL")
    else:
        cursor.execute("SET synchronous_commit = off")
    cursor.close()


@dataclass(frozen=True)
class ItemRef:
    """An item named by its id, its Digital Link or its ``/t/`` code: a kind of lookup and its values.

    The statements of each kind are built once and reused (``_statements``):
    building them cost more than running them.
    """

    kind: str
    values: tuple[tuple[str, Any], ...]


def item_by_id(item_id: int) -> ItemRef:
    return ItemRef("id", (("ref_item_id", item_id),))


def item_at_digital_link(gtin14: str, lot: str, serial: str) -> ItemRef:
    """The item at ``/01/{gtin14}/10/{lot}/21/{serial}``."""
    return ItemRef("link", (("gtin", gtin14), ("lot", lot), ("serial", serial)))


def item_of_code(code: str) -> ItemRef:
    """The item whose ``/t/`` code is ``code``."""
    return ItemRef("code", (("code", code.upper()),))


def _item_id(kind: str) -> Any:
    """The id of the item a reference of ``kind`` names, from bound parameters."""
    if kind == "id":
        return bindparam("ref_item_id")
    return _items(kind, Item.id).scalar_subquery()


@functools.cache
def _statements(kind: str) -> tuple[Any, Any, Any]:
    """The fold, the tally's read and the item's read for references of ``kind``, built once."""
    item_id = _item_id(kind)
    return (
        _fold(item_id),
        select(*_returned()).where(_scan.item_id == item_id),
        select(Item.id, Item.batch_id, Item.serial, Item.public_code).where(Item.id == item_id),
    )


def _fold_values(ref: ItemRef, mark: ScanMark, window: timedelta) -> dict[str, Any]:
    return {
        **dict(ref.values),
        "at": epoch_ms(mark.scanned_at),
        "day": vietnam_day(mark.scanned_at),
        "device": mark.device_class,
        "window_ms": int(window / timedelta(milliseconds=1)),
    }


def count_item_scan(
    connection: Connection,
    ref: ItemRef,
    mark: ScanMark,
    window: timedelta,
    *,
    reader: Reader | None = None,
    start: bool = True,
) -> CountedItem | None:
    """Fold one scan into the item's tally; its earlier scans, or None when there is no such item.

    Runs in the caller's transaction on ``connection``: committing it counts the scan. An item
    without a tally row gets one from its stored scans, read through ``reader`` (the request's
    session, a replica's when there is one; ``connection`` by default); with ``start=False``, None.
    """
    row = connection.execute(_statements(ref.kind)[0], _fold_values(ref, mark, window)).first()
    if row is None:
        return _start_tally(connection, reader or connection, ref, mark, window) if start else None
    return _counted(row)


def read_item_tally(connection: Reader, ref: ItemRef, window: timedelta) -> CountedItem | None:
    """Every scan of the item so far, counting none (a crawler, a HEAD); None when there is no such item."""
    row = connection.execute(_statements(ref.kind)[1], dict(ref.values)).first()
    if row is not None:
        counted = _counted(row)
        return CountedItem(**{**counted.__dict__, "tally": counted.tally.folded(window)})
    item = connection.execute(_statements(ref.kind)[2], dict(ref.values)).first()
    if item is None:
        return None
    return CountedItem(
        item.id,
        item.batch_id,
        item.serial,
        item.public_code,
        _history(connection, item.id, window).folded(window),
    )


def _fold(item_id: Any) -> Any:
    """``ScanTally.add`` as one UPDATE: the latest scan folds into the tally, the new one becomes the latest.

    Every right-hand side reads the row as it was (SQL), so the order of the assignments is free.
    Parameters: the item's, ``at``, ``day``, ``device`` and ``window_ms``.
    """
    window_ms: Any = bindparam("window_ms")

    def near(column: Any) -> ColumnElement[bool]:
        return and_(column.is_not(None), func.abs(_scan.latest_ms - column) < window_ms)

    seen = {"mobile": _scan.mobile_ms, "tablet": _scan.tablet_ms, "desktop": _scan.desktop_ms}
    at_once = or_(
        *(
            and_(
                _scan.latest_device == device,
                or_(*(near(column) for other, column in seen.items() if other != device)),
            )
            for device in KNOWN_DEVICES
        )
    )
    new_day = or_(_scan.last_day.is_(None), _scan.latest_day > _scan.last_day)
    return (
        update(ItemScan)
        .where(_scan.item_id == item_id)
        .values(
            scan_count=_scan.scan_count + 1,
            first_ms=case(
                (or_(_scan.first_ms.is_(None), _scan.latest_ms < _scan.first_ms), _scan.latest_ms),
                else_=_scan.first_ms,
            ),
            days=_scan.days + case((new_day, 1), else_=0),
            last_day=case((new_day, _scan.latest_day), else_=_scan.last_day),
            devices_at_once=or_(_scan.devices_at_once, at_once),
            **{
                f"{device}_ms": case((_scan.latest_device == device, _scan.latest_ms), else_=column)
                for device, column in seen.items()
            },
            latest_ms=bindparam("at"),
            latest_day=bindparam("day"),
            latest_device=bindparam("device"),
        )
        .returning(*_returned())
    )


_RETURNED_ITEM: Any = literal_column("item_scan.item_id")


def _returned() -> list[Any]:
    """The row's columns and the item's serial and code (subqueries: SQLite's RETURNING names one table)."""
    return [
        *_scan,
        # The returned row's item_id by name: SQLAlchemy correlates a subquery to an UPDATE's table, not an INSERT's.
        select(Item.serial).where(Item.id == _RETURNED_ITEM).scalar_subquery().label("serial"),
        select(Item.public_code).where(Item.id == _RETURNED_ITEM).scalar_subquery().label("public_code"),
    ]


def _counted(row: Any) -> CountedItem:
    latest = ScanMark(_datetime(row.latest_ms), row.latest_device)
    tally = ScanTally(
        count=row.scan_count,
        first_ms=row.first_ms,
        days=row.days,
        last_day=row.last_day,
        mobile_ms=row.mobile_ms,
        tablet_ms=row.tablet_ms,
        desktop_ms=row.desktop_ms,
        devices_at_once=bool(row.devices_at_once),
        latest=latest,
    )
    return CountedItem(row.item_id, row.batch_id, row.serial, row.public_code, tally)


def _datetime(milliseconds: int) -> datetime:
    return datetime.fromtimestamp(milliseconds / 1000, tz=UTC)


@functools.cache
def _history_statements() -> tuple[Any, Any]:
    """The count and first of an item's stored scans, and its latest ``SCAN_MARKS_READ``: built once."""
    item_id: Any = bindparam("history_item_id")
    return (
        select(func.count(Scan.id), func.min(Scan.scanned_at)).where(Scan.item_id == item_id),
        select(Scan.scanned_at, Scan.device_class)
        .where(Scan.item_id == item_id)
        .order_by(Scan.scanned_at.desc())
        .limit(SCAN_MARKS_READ),
    )


def _history(connection: Reader, item_id: int, window: timedelta) -> ScanTally:
    """The tally of the item's stored scans (its latest ``SCAN_MARKS_READ``, and the count and first of all)."""
    totals, latest = _history_statements()
    total, first = connection.execute(totals, {"history_item_id": item_id}).one()
    if not total:
        return ScanTally()
    rows = connection.execute(latest, {"history_item_id": item_id}).all()
    tally = tally_of((ScanMark(_aware(row.scanned_at), row.device_class) for row in rows), window)
    # The latest is kept apart: the tally holds the others, of which the first is the first of all.
    return ScanTally(
        **{**tally.__dict__, "count": total - 1, "first_ms": epoch_ms(_aware(first)) if total > 1 else None}
    )


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


@functools.cache
def _start_statement(dialect_name: str) -> Any:
    """The tally's first row, unless another scan's came first: built once per dialect (building cost more than running)."""
    dialect = postgresql if dialect_name == "postgresql" else sqlite
    # RETURNING tells whether the row went in: psycopg's rowcount is -1 after ON CONFLICT DO NOTHING in autocommit.
    return (
        dialect.insert(ItemScan)
        .on_conflict_do_nothing(index_elements=["item_id"])
        .returning(ItemScan.item_id)
    )


def _items(kind: str, *columns: Any) -> Any:
    """``columns`` of the item a reference of ``kind`` names, from bound parameters."""
    query = select(*columns).select_from(Item)
    if kind == "id":
        return query.where(Item.id == bindparam("ref_item_id"))
    if kind == "code":
        return query.where(Item.public_code == bindparam("code"))
    return (
        query.join(Batch, Batch.id == Item.batch_id)
        .join(Product, Product.id == Batch.product_id)
        .where(
            Product.gtin == bindparam("gtin"),
            Batch.lot_code == bindparam("lot"),
            Item.serial == bindparam("serial"),
        )
    )


@functools.cache
def _fresh_statement(kind: str, dialect_name: str) -> Any:
    """The tally of an item never scanned, started by its first scan, in one statement: built once.

    ``ScanTally().add(mark)``: no earlier scan, ``mark`` the latest. Nothing is
    inserted (and nothing returned) when the item has stored scans (its tally
    starts from them), another scan's row came first, or there is no such item.
    """
    dialect = postgresql if dialect_name == "postgresql" else sqlite
    source = _items(
        kind,
        Item.id,
        Item.batch_id,
        literal(0, BigInteger),
        literal(0, Integer),
        false(),
        cast(bindparam("at"), BigInteger),
        cast(bindparam("day"), Integer),
        cast(bindparam("device"), String),
    ).where(~exists().where(Scan.item_id == Item.id))
    columns = [
        "item_id",
        "batch_id",
        "scan_count",
        "days",
        "devices_at_once",
        "latest_ms",
        "latest_day",
        "latest_device",
    ]
    return (
        dialect.insert(ItemScan)
        .from_select(columns, source)
        .on_conflict_do_nothing(index_elements=["item_id"])
        .returning(*_returned())
    )


def _start_tally(
    connection: Connection, reader: Reader, ref: ItemRef, mark: ScanMark, window: timedelta
) -> CountedItem | None:
    """The item's first counted scan: its row from its stored scans and ``mark``; None when no such item."""
    fresh = connection.execute(
        _fresh_statement(ref.kind, connection.dialect.name), _fold_values(ref, mark, window)
    ).first()
    if fresh is not None:  # never scanned before: one statement
        return _counted(fresh)
    item = reader.execute(_statements(ref.kind)[2], dict(ref.values)).first()
    if item is None:
        return None
    history = _history(reader, item.id, window)
    tally = history.add(mark, window)
    values = {
        "item_id": item.id,
        "batch_id": item.batch_id,
        "scan_count": tally.count,
        "first_ms": tally.first_ms,
        "days": tally.days,
        "last_day": tally.last_day,
        "mobile_ms": tally.mobile_ms,
        "tablet_ms": tally.tablet_ms,
        "desktop_ms": tally.desktop_ms,
        "devices_at_once": tally.devices_at_once,
        "latest_ms": epoch_ms(mark.scanned_at),
        "latest_day": vietnam_day(mark.scanned_at),
        "latest_device": mark.device_class,
    }
    inserted = connection.execute(_start_statement(connection.dialect.name), values).first()
    if inserted is None:  # another scan of the same code started it meanwhile: fold into that
        row = connection.execute(
            _statements("id")[0], _fold_values(item_by_id(item.id), mark, window)
        ).first()
        return _counted(row) if row is not None else None
    return CountedItem(item.id, item.batch_id, item.serial, item.public_code, tally)
