"""Public lookups (scans) and consumers' problem reports."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import CheckConstraint, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from traceability.core.database import UTCDateTime
from traceability.core.dates import utcnow
from traceability.core.extensions import Model
from traceability.core.ownership import batch_owned

if TYPE_CHECKING:
    from traceability.models.accounts import User
    from traceability.models.batches import Batch, Item

DEVICE_CLASSES = ("mobile", "tablet", "desktop", "bot", "other")
REPORT_STATUSES = ("open", "closed")


class Scan(Model):
    """One open of a public QR URL; no IP address is stored."""

    __tablename__ = "scan"
    __owner__ = batch_owned(public=False)
    __table_args__ = (
        CheckConstraint(
            f"device_class IN ({', '.join(repr(d) for d in DEVICE_CLASSES)})", name="device_class"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("batch.id"), index=True)
    item_id: Mapped[int | None] = mapped_column(ForeignKey("item.id"), index=True)
    scanned_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    language: Mapped[str] = mapped_column(String(5), default="vi")
    device_class: Mapped[str] = mapped_column(String(10), default="other")


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

    batch: Mapped[Batch] = relationship()
    item: Mapped[Item | None] = relationship()
    closed_by: Mapped[User | None] = relationship()
