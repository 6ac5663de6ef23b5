"""Public lookups (scans) and consumers' problem reports."""

from __future__ import annotations

import secrets
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Connection,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    event,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from traceability.core.database import UTCDateTime
from traceability.core.dates import VIETNAM_OFFSET, add_months, utcnow, vietnam_today
from traceability.core.extensions import Model
from traceability.core.ownership import batch_owned, product_owned
from traceability.core.partitions import ensure_partitions

if TYPE_CHECKING:
    from traceability.models.accounts import User
    from traceability.models.batches import Batch, Item

DEVICE_CLASSES = ("mobile", "tablet", "desktop", "bot", "other")
REPORT_STATUSES = ("open", "closed")
# A report's reference is read out over the phone: no 0/O, 1/I/L or U (and so no accidental words).
REFERENCE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTVWXYZ"


def new_report_reference() -> str:
    """A reference of this month in Vietnam, such as ``PR-2612-7K4Q`` (unique by the column's constraint)."""
    month = utcnow().astimezone(VIETNAM_OFFSET).strftime("%y%m")
    return f"PR-{month}-{''.join(secrets.choice(REFERENCE_ALPHABET) for _ in range(4))}"


def new_status_token() -> str:
    """The secret of a report's status page: 128 random bits."""
    return secrets.token_hex(16)


class Scan(Model):
    """One open of a public QR URL; no IP address is stored.

    On PostgreSQL the table is partitioned by Vietnamese month of ``scanned_at``
    (``core.partitions``; its primary key there is ``(id, scanned_at)``), so
    retention drops whole months; the counts the dashboards read are in
    ``ScanDaily``, kept as scans are written.
    """

    __tablename__ = "scan"
    __owner__ = batch_owned(public=False)
    __table_args__ = (
        CheckConstraint(
            f"device_class IN ({', '.join(repr(d) for d in DEVICE_CLASSES)})", name="device_class"
        ),
        {"info": {"monthly_partitions": "scanned_at"}, "postgresql_partition_by": "RANGE (scanned_at)"},
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("batch.id"), index=True)
    item_id: Mapped[int | None] = mapped_column(ForeignKey("item.id"), index=True)
    scanned_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    language: Mapped[str] = mapped_column(String(5), default="vi")
    device_class: Mapped[str] = mapped_column(String(10), default="other")


@event.listens_for(Scan.__table__, "after_create")
def _first_partitions(target: Table, connection: Connection, **_kw: Any) -> None:
    """A new partitioned ``scan`` table gets its DEFAULT partition and this and next month's (PostgreSQL)."""
    today = vietnam_today()
    ensure_partitions(connection, target.name, "scanned_at", [today, add_months(today, 1)])


class ScanDaily(Model):
    """How many scans one lot had on one Vietnamese day, in one language, from one kind of device.

    Kept in the transaction that writes the scans (``public.scan_rollups``),
    so every dashboard and scan report counts these rows, a few per lot and
    day, instead of the raw scans. The lot's product, producer and centre are
    copied on the row (a lot never changes product, nor a product producer):
    each reader's scope and grouping is then one indexed column.
    """

    __tablename__ = "scan_daily"
    __owner__ = batch_owned(public=False)
    __table_args__ = (
        UniqueConstraint("day", "batch_id", "language", "device_class"),
        Index("ix_scan_daily_batch_day", "batch_id", "day"),
        Index("ix_scan_daily_producer_day", "producer_id", "day"),
        Index("ix_scan_daily_centre_day", "centre_id", "day"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[date] = mapped_column(Date)  # in Vietnam time
    batch_id: Mapped[int] = mapped_column(ForeignKey("batch.id"))
    product_id: Mapped[int] = mapped_column(ForeignKey("product.id"))
    producer_id: Mapped[int] = mapped_column(ForeignKey("producer.id"))
    centre_id: Mapped[int] = mapped_column(ForeignKey("centre.id"))
    language: Mapped[str] = mapped_column(String(5))
    device_class: Mapped[str] = mapped_column(String(10))
    count: Mapped[int] = mapped_column(default=0)


class ScanDailyProduct(Model):
    """How many scans one product had on one Vietnamese day, whatever the lot, language or device.

    The coarser sibling of ``ScanDaily``, kept in the same transaction
    (``public.scan_rollups``): the ministry's and the centres' rankings of
    products and producers read it, one row per product and day instead of
    a few per lot.
    """

    __tablename__ = "scan_daily_product"
    __owner__ = product_owned(public=False)
    __table_args__ = (
        UniqueConstraint("day", "product_id"),
        Index("ix_scan_daily_product_product_day", "product_id", "day"),
        Index("ix_scan_daily_product_centre_day", "centre_id", "day"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[date] = mapped_column(Date)  # in Vietnam time
    product_id: Mapped[int] = mapped_column(ForeignKey("product.id"))
    producer_id: Mapped[int] = mapped_column(ForeignKey("producer.id"))
    centre_id: Mapped[int] = mapped_column(ForeignKey("centre.id"))
    count: Mapped[int] = mapped_column(default=0)


class ScanMonthlyProduct(Model):
    """How many scans one product had in one Vietnamese month (``month`` is its first day).

    Kept with the daily counts (``public.scan_rollups``): a year's ranking of
    producers reads twelve rows per product here and only the period's
    partial months from ``ScanDailyProduct``; the ranking of products reads
    each month's rows in order of their counts and stops at the top
    (``reports.scan_analytics._top_products``).
    """

    __tablename__ = "scan_monthly_product"
    __owner__ = product_owned(public=False)
    __table_args__ = (
        UniqueConstraint("month", "product_id"),
        Index("ix_scan_monthly_product_month_count", "month", "count"),
        Index("ix_scan_monthly_product_centre_month_count", "centre_id", "month", "count"),
        Index("ix_scan_monthly_product_product_month", "product_id", "month"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    month: Mapped[date] = mapped_column(Date)  # the first day of the Vietnamese month
    product_id: Mapped[int] = mapped_column(ForeignKey("product.id"))
    producer_id: Mapped[int] = mapped_column(ForeignKey("producer.id"))
    centre_id: Mapped[int] = mapped_column(ForeignKey("centre.id"))
    count: Mapped[int] = mapped_column(default=0)


class ScanDailyCentre(Model):
    """How many scans one centre's producers had on one Vietnamese day, per language and kind of device.

    The coarsest of the daily counts (at most 34 centres × languages × devices
    rows a day), kept in the same transaction as ``ScanDaily``: the ministry's
    and the centres' scans per day, per province, per language and per device
    read it.
    """

    __tablename__ = "scan_daily_centre"
    __table_args__ = (
        UniqueConstraint("day", "centre_id", "language", "device_class"),
        Index("ix_scan_daily_centre_centre_day", "centre_id", "day"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[date] = mapped_column(Date)  # in Vietnam time
    centre_id: Mapped[int] = mapped_column(ForeignKey("centre.id"))
    language: Mapped[str] = mapped_column(String(5))
    device_class: Mapped[str] = mapped_column(String(10))
    count: Mapped[int] = mapped_column(default=0)


class ProblemReport(Model):
    """A consumer's report of a problem with a batch; it reaches the centre's work list."""

    __tablename__ = "report"
    # The object type its audit entries have carried since they were first written: the chain's
    # hashes cover it, and the audit log's filter finds old and new entries under one name.
    __audit_type__ = "Report"
    __owner__ = batch_owned(public=False)
    __table_args__ = (
        CheckConstraint(f"status IN ({', '.join(repr(s) for s in REPORT_STATUSES)})", name="status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("batch.id"), index=True)
    # The serialised item whose code was scanned, when it was one: a copied code is per serial.
    item_id: Mapped[int | None] = mapped_column(ForeignKey("item.id"), index=True)
    message: Mapped[str] = mapped_column(Text)
    contact: Mapped[str] = mapped_column(String(200), default="")
    status: Mapped[str] = mapped_column(String(10), default="open")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    close_note: Mapped[str | None] = mapped_column(Text)
    # What the consumer reads out over the phone (``PR-2612-7K4Q``); it opens nothing by itself.
    reference: Mapped[str] = mapped_column(String(12), unique=True, default=new_report_reference)
    # The secret of the consumer's status page, ``/report/status/{status_token}``.
    status_token: Mapped[str] = mapped_column(String(32), unique=True, default=new_status_token)
    # The consumer's language when they sent it: the replies are emailed in it.
    language: Mapped[str] = mapped_column(String(5), default="vi")

    batch: Mapped[Batch] = relationship()
    item: Mapped[Item | None] = relationship()
    closed_by: Mapped[User | None] = relationship()
    replies: Mapped[list[ProblemReportReply]] = relationship(
        back_populates="report", order_by="ProblemReportReply.id"
    )


REPLY_SIDES = ("centre", "producer")


class ProblemReportReply(Model):
    """An answer to a consumer's problem report, from the centre's staff or the producer; shown on its status page."""

    __tablename__ = "report_reply"
    # The report's lot, kept on the reply so it is the lot's like the report (tenant scope, retention).
    __owner__ = batch_owned(public=False)
    __table_args__ = (CheckConstraint(f"side IN ({', '.join(repr(s) for s in REPLY_SIDES)})", name="side"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("report.id"), index=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("batch.id"), index=True)
    body: Mapped[str] = mapped_column(Text)
    # Who answered, as the consumer reads it: the provincial centre or the producer; never a person's name.
    side: Mapped[str] = mapped_column(String(10))
    author_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    report: Mapped[ProblemReport] = relationship(back_populates="replies")
    author: Mapped[User | None] = relationship()


class ItemScan(Model):
    """The running tally of one serialised item's scans: what its page shows and the copied-code rule reads.

    One row per scanned item, changed by one atomic UPDATE per scan
    (``public.item_scans``), so a page never counts the ``scan`` rows. Times
    are epoch milliseconds and days Vietnam day numbers: the UPDATE compares
    them with plain arithmetic on both databases. The row keeps the tally of
    every scan *but the latest* and the latest apart: each new scan folds the
    latest into the tally and takes its place, so the UPDATE returns exactly
    the earlier scans the page of this scan shows (``copied_codes``).
    """

    __tablename__ = "item_scan"
    __owner__ = batch_owned(public=False)

    item_id: Mapped[int] = mapped_column(ForeignKey("item.id"), primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("batch.id"), index=True)
    # The earlier scans: how many, the first, on how many days (and the last of them), each
    # kind of device's latest, and whether two kinds were ever scanned within the window.
    scan_count: Mapped[int] = mapped_column(BigInteger, default=0)
    first_ms: Mapped[int | None] = mapped_column(BigInteger)
    days: Mapped[int] = mapped_column(Integer, default=0)
    last_day: Mapped[int | None] = mapped_column(Integer)
    mobile_ms: Mapped[int | None] = mapped_column(BigInteger)
    tablet_ms: Mapped[int | None] = mapped_column(BigInteger)
    desktop_ms: Mapped[int | None] = mapped_column(BigInteger)
    devices_at_once: Mapped[bool] = mapped_column(Boolean, default=False)
    # The latest scan, not in the tally yet.
    latest_ms: Mapped[int] = mapped_column(BigInteger)
    latest_day: Mapped[int] = mapped_column(Integer)
    latest_device: Mapped[str] = mapped_column(String(10))
