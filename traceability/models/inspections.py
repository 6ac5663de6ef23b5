"""Inspections: a centre's audit visit to a producer, one of its locations or one of its batches."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING

from sqlalchemy import CheckConstraint, Date, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from traceability.core.database import UTCDateTime
from traceability.core.dates import utcnow
from traceability.core.extensions import Model
from traceability.core.ownership import producer_owned

if TYPE_CHECKING:
    from traceability.models.accounts import User
    from traceability.models.batches import Batch
    from traceability.models.registry import Centre, Location, Producer

SUBJECT_KINDS = ("producer", "location", "batch")
OUTCOMES = ("conforming", "nonconformity")
SEVERITIES = ("minor", "major", "critical")
# A nonconformity is open until the producer answers it, then the centre closes
# or reopens it; a conforming inspection has nothing to follow up and is closed.
INSPECTION_STATUSES = ("open", "answered", "closed")
ANSWERS = ("yes", "no", "na")
FOLLOW_UP_KINDS = ("answer", "close", "reopen")


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class Inspection(Model):
    """A centre's inspection: its checklist, findings, photos, outcome and follow-up."""

    __tablename__ = "inspection"
    __owner__ = producer_owned(public=False)
    __table_args__ = (
        CheckConstraint(_in("subject_kind", SUBJECT_KINDS), name="subject_kind"),
        CheckConstraint(_in("outcome", OUTCOMES), name="outcome"),
        CheckConstraint(f"severity IS NULL OR {_in('severity', SEVERITIES)}", name="severity_value"),
        CheckConstraint(_in("status", INSPECTION_STATUSES), name="status"),
        CheckConstraint(
            "(outcome = 'conforming' AND severity IS NULL) OR (outcome = 'nonconformity' AND severity IS NOT NULL)",
            name="severity_for_nonconformity",
        ),
        CheckConstraint("outcome != 'nonconformity' OR follow_up_on IS NOT NULL", name="follow_up_required"),
        CheckConstraint("follow_up_on IS NULL OR follow_up_on >= inspected_on", name="follow_up_after"),
        CheckConstraint("outcome = 'nonconformity' OR status = 'closed'", name="conforming_closed"),
        CheckConstraint("subject_kind != 'location' OR location_id IS NOT NULL", name="location_subject"),
        CheckConstraint("subject_kind != 'batch' OR batch_id IS NOT NULL", name="batch_subject"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # The centre that inspected; tenancy follows the producer, always set whatever the subject.
    centre_id: Mapped[int] = mapped_column(ForeignKey("centre.id"), index=True)
    producer_id: Mapped[int] = mapped_column(ForeignKey("producer.id"), index=True)
    subject_kind: Mapped[str] = mapped_column(String(20))
    location_id: Mapped[int | None] = mapped_column(ForeignKey("location.id"), index=True)
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("batch.id"), index=True)
    inspected_on: Mapped[date] = mapped_column(Date)
    inspector: Mapped[str] = mapped_column(String(200))
    findings: Mapped[str] = mapped_column(Text, default="")
    outcome: Mapped[str] = mapped_column(String(20))
    severity: Mapped[str | None] = mapped_column(String(20))
    follow_up_on: Mapped[date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(20), index=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    centre: Mapped[Centre] = relationship()
    producer: Mapped[Producer] = relationship()
    location: Mapped[Location | None] = relationship()
    batch: Mapped[Batch | None] = relationship()
    created_by: Mapped[User | None] = relationship()
    checks: Mapped[list[InspectionCheck]] = relationship(
        back_populates="inspection", order_by="InspectionCheck.position", cascade="all, delete-orphan"
    )
    photos: Mapped[list[InspectionPhoto]] = relationship(
        back_populates="inspection", order_by="InspectionPhoto.id", cascade="all, delete-orphan"
    )
    follow_ups: Mapped[list[InspectionFollowUp]] = relationship(
        back_populates="inspection", order_by="InspectionFollowUp.id", cascade="all, delete-orphan"
    )


class InspectionCheck(Model):
    """One checklist item's answer: yes, no or not applicable, with a note."""

    __tablename__ = "inspection_check"
    __table_args__ = (
        UniqueConstraint("inspection_id", "item"),
        CheckConstraint(_in("answer", ANSWERS), name="answer"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    inspection_id: Mapped[int] = mapped_column(ForeignKey("inspection.id", ondelete="CASCADE"), index=True)
    item: Mapped[str] = mapped_column(String(40))
    position: Mapped[int] = mapped_column(Integer, default=0)
    answer: Mapped[str] = mapped_column(String(3))
    note: Mapped[str] = mapped_column(Text, default="")

    inspection: Mapped[Inspection] = relationship(back_populates="checks")


class InspectionFollowUp(Model):
    """A step of a nonconformity's follow-up: the producer's answer, the centre's closing or reopening."""

    __tablename__ = "inspection_follow_up"
    __table_args__ = (CheckConstraint(_in("kind", FOLLOW_UP_KINDS), name="kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    inspection_id: Mapped[int] = mapped_column(ForeignKey("inspection.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    text: Mapped[str] = mapped_column(Text, default="")
    author_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    inspection: Mapped[Inspection] = relationship(back_populates="follow_ups")
    author: Mapped[User | None] = relationship()
    photos: Mapped[list[InspectionPhoto]] = relationship(
        back_populates="follow_up", order_by="InspectionPhoto.id"
    )


class InspectionPhoto(Model):
    """A photo taken at the inspection, or sent with the producer's answer; kept private."""

    __tablename__ = "inspection_photo"
    __table_args__ = (CheckConstraint("width > 0 AND height > 0", name="size"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    inspection_id: Mapped[int] = mapped_column(ForeignKey("inspection.id", ondelete="CASCADE"), index=True)
    follow_up_id: Mapped[int | None] = mapped_column(
        ForeignKey("inspection_follow_up.id", ondelete="CASCADE"), index=True
    )
    filename: Mapped[str] = mapped_column(String(100), unique=True)
    thumbnail_filename: Mapped[str] = mapped_column(String(100), unique=True)
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    inspection: Mapped[Inspection] = relationship(back_populates="photos")
    follow_up: Mapped[InspectionFollowUp | None] = relationship(back_populates="photos")
