"""Batches (lots), serialised items, key tracking events, lineage and recalls."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from traceability.core.database import Quantity, UTCDateTime
from traceability.core.dates import utcnow
from traceability.core.extensions import Model
from traceability.core.ownership import batch_owned, product_owned
from traceability.labels.layout import TEMPLATES as LABEL_TEMPLATES

if TYPE_CHECKING:
    from traceability.models.accounts import User
    from traceability.models.registry import Location, Product

BATCH_STATUSES = ("active", "recalled", "expired", "consumed")
# UN/ECE Recommendation 20 codes a producer is offered; the column takes any 2-3 letters.
UNITS = ("KGM", "GRM", "TNE", "LTR", "MLT", "H87", "XBX", "XBO", "XPK", "XBG")

# Key tracking event types and the CBV 2.0 bizStep each maps to. CBV has no
# growing or harvesting step: those commission the lot (DESIGN.md, EPCIS).
EVENT_BIZ_STEPS: dict[str, str] = {
    "growing": "commissioning",
    "harvesting": "commissioning",
    "processing": "transforming",
    "packing": "packing",
    "storing": "storing",
    "shipping": "shipping",
    "receiving": "receiving",
    "inspecting": "inspecting",
    "selling": "retail_selling",
    "other": "other",
}
EVENT_TYPES = tuple(EVENT_BIZ_STEPS)
# Sensors or devices attached to (or detached from) a lot or a pallet: an EPCIS
# AssociationEvent, recorded only by capture, with its identifiers in ``association``.
ASSOCIATION = "association"
STORED_EVENT_TYPES = (*EVENT_TYPES, ASSOCIATION)
LINEAGE_KINDS = ("transformation", "aggregation", "split")
RECALL_STATUSES = ("open", "closed")
# How a closed recall ended: the lots went back on sale, or they stay withdrawn (do not use).
RECALL_OUTCOMES = ("returned_to_sale", "withdrawn")


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class Batch(Model):
    """A production batch (lot) of a product."""

    __tablename__ = "batch"
    __owner__ = product_owned()
    __table_args__ = (
        UniqueConstraint("product_id", "lot_code"),
        CheckConstraint(_in("status", BATCH_STATUSES), name="status"),
        CheckConstraint("quantity >= 0", name="quantity"),
        CheckConstraint("expiry_date IS NULL OR expiry_date >= production_date", name="dates"),
        CheckConstraint("length(lot_code) BETWEEN 1 AND 20", name="lot_code_length"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("product.id"), index=True)
    lot_code: Mapped[str] = mapped_column(String(20))
    # The /t/{code} of products without a GTIN: random, so codes can't be enumerated.
    public_code: Mapped[str] = mapped_column(String(32), unique=True)
    production_date: Mapped[date] = mapped_column(Date)
    expiry_date: Mapped[date | None] = mapped_column(Date)
    quantity: Mapped[Decimal] = mapped_column(Quantity)
    unit: Mapped[str] = mapped_column(String(3))
    origin_location_id: Mapped[int | None] = mapped_column(ForeignKey("location.id"), index=True)
    status: Mapped[str] = mapped_column(String(20), default="active")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    product: Mapped[Product] = relationship(back_populates="batches")
    origin_location: Mapped[Location | None] = relationship()
    created_by: Mapped[User | None] = relationship()
    events: Mapped[list[TraceEvent]] = relationship(back_populates="batch", order_by="TraceEvent.event_time")
    items: Mapped[list[Item]] = relationship(back_populates="batch")


class Item(Model):
    """A serialised unit of a batch, with its own QR code."""

    __tablename__ = "item"
    __owner__ = batch_owned()
    __table_args__ = (UniqueConstraint("batch_id", "serial"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("batch.id"), index=True)
    serial: Mapped[str] = mapped_column(String(20))
    public_code: Mapped[str] = mapped_column(String(32), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    batch: Mapped[Batch] = relationship(back_populates="items")


class TraceEvent(Model):
    """A key tracking event of a batch: what, when, where, who, why.

    Append-only: a correction is a new event whose ``voids_event_id`` names the
    event it replaces.
    """

    __tablename__ = "trace_event"
    __owner__ = batch_owned()
    __table_args__ = (
        CheckConstraint(_in("type", STORED_EVENT_TYPES), name="type"),
        CheckConstraint("quantity IS NULL OR quantity >= 0", name="quantity"),
        CheckConstraint("voids_event_id IS NULL OR void_reason IS NOT NULL", name="void_has_reason"),
        CheckConstraint("NOT is_retraction OR voids_event_id IS NOT NULL", name="retraction_voids"),
        CheckConstraint("latitude IS NULL OR (latitude BETWEEN -90 AND 90)", name="latitude"),
        CheckConstraint("longitude IS NULL OR (longitude BETWEEN -180 AND 180)", name="longitude"),
        CheckConstraint("(latitude IS NULL) = (longitude IS NULL)", name="position_whole"),
        CheckConstraint("position_accuracy IS NULL OR position_accuracy >= 0", name="position_accuracy"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("batch.id"), index=True)
    type: Mapped[str] = mapped_column(String(20))
    biz_step: Mapped[str] = mapped_column(String(40))
    event_time: Mapped[datetime] = mapped_column(UTCDateTime)
    time_zone_offset: Mapped[str] = mapped_column(String(6), default="+07:00")
    location_id: Mapped[int | None] = mapped_column(ForeignKey("location.id"), index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    quantity: Mapped[Decimal | None] = mapped_column(Quantity)
    unit: Mapped[str | None] = mapped_column(String(3))
    note: Mapped[str] = mapped_column(Text, default="")
    reference_type: Mapped[str | None] = mapped_column(String(50))
    reference_number: Mapped[str | None] = mapped_column(String(100))
    counterparty: Mapped[str | None] = mapped_column(String(300))  # recipient or source
    # Indexed: /media/ looks a name up here to refuse a withdrawn event's photo.
    photo_filename: Mapped[str | None] = mapped_column(String(100), index=True)
    photo_thumbnail_filename: Mapped[str | None] = mapped_column(String(100), index=True)
    # A correction (voids_event_id set) either replaces the voided event with
    # its own data or, as a retraction, only withdraws it.
    is_retraction: Mapped[bool] = mapped_column(Boolean, default=False)
    voids_event_id: Mapped[int | None] = mapped_column(ForeignKey("trace_event.id"), unique=True)
    # The EPCIS event ID (ni:///sha-256;...): lets capture drop events it already has.
    epcis_event_id: Mapped[str | None] = mapped_column(String(200), unique=True)
    void_reason: Mapped[str | None] = mapped_column(Text)
    # An association's action and identifiers: {"action", "parentID", "childEPCs", "childQuantityList"}.
    association: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # Where the phone was when the event was recorded in the field app (WGS 84), when the user
    # allowed it, and the radius in metres the phone vouched for. Shown on management pages only.
    latitude: Mapped[float | None]
    longitude: Mapped[float | None]
    position_accuracy: Mapped[float | None]
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    batch: Mapped[Batch] = relationship(back_populates="events")
    location: Mapped[Location | None] = relationship()
    actor: Mapped[User | None] = relationship()


class BatchInput(Model):
    """Lineage: an input batch and the quantity of it an output batch consumed."""

    __tablename__ = "batch_input"
    __owner__ = batch_owned("output_batch_id", "input_batch_id")
    __table_args__ = (
        UniqueConstraint("output_batch_id", "input_batch_id"),
        CheckConstraint("output_batch_id != input_batch_id", name="not_self"),
        CheckConstraint("quantity > 0", name="quantity"),
        CheckConstraint(_in("kind", LINEAGE_KINDS), name="kind"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    output_batch_id: Mapped[int] = mapped_column(ForeignKey("batch.id"), index=True)
    input_batch_id: Mapped[int] = mapped_column(ForeignKey("batch.id"), index=True)
    quantity: Mapped[Decimal] = mapped_column(Quantity)
    kind: Mapped[str] = mapped_column(String(20), default="transformation")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    output_batch: Mapped[Batch] = relationship(foreign_keys=[output_batch_id])
    input_batch: Mapped[Batch] = relationship(foreign_keys=[input_batch_id])


class Recall(Model):
    """A recall of a batch and, through lineage, of everything made from it."""

    __tablename__ = "recall"
    __owner__ = batch_owned()
    __table_args__ = (
        CheckConstraint(_in("status", RECALL_STATUSES), name="status"),
        CheckConstraint(f"outcome IS NULL OR {_in('outcome', RECALL_OUTCOMES)}", name="outcome"),
        # A closed recall always says how it ended; an open one has no outcome yet.
        CheckConstraint("(status = 'open') = (outcome IS NULL)", name="outcome_when_closed"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("batch.id"), index=True)
    reason: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20), default="open")
    opened_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    closed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    close_note: Mapped[str | None] = mapped_column(Text)
    outcome: Mapped[str | None] = mapped_column(String(20))

    batch: Mapped[Batch] = relationship()
    opened_by: Mapped[User | None] = relationship(foreign_keys=[opened_by_id])
    closed_by: Mapped[User | None] = relationship(foreign_keys=[closed_by_id])
    affected: Mapped[list[RecallBatch]] = relationship(
        back_populates="recall", order_by="RecallBatch.depth", cascade="all, delete-orphan"
    )


class RecallBatch(Model):
    """A batch a recall affects: the recalled batch (depth 0) and everything made from it."""

    __tablename__ = "recall_batch"
    __owner__ = batch_owned()
    __table_args__ = (
        UniqueConstraint("recall_id", "batch_id"),
        CheckConstraint("depth >= 0", name="depth"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    recall_id: Mapped[int] = mapped_column(ForeignKey("recall.id", ondelete="CASCADE"), index=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("batch.id"), index=True)
    depth: Mapped[int] = mapped_column(Integer, default=0)

    recall: Mapped[Recall] = relationship(back_populates="affected")
    batch: Mapped[Batch] = relationship()


LABEL_JOB_STATUSES = ("queued", "running", "done", "failed")
LABEL_JOB_ACTIVE = "status IN ('queued', 'running')"


class LabelJob(Model):
    """A label sheet printed in the background: progress while it runs, then the PDF to download.

    ``first_item_id``..``last_item_id`` are the serialised items it prints, one
    label each; without them it prints ``count`` copies of the batch's code.
    ``claim_token`` names the runner holding the job and ``heartbeat_at`` shows
    it is alive: a running job whose heartbeat stops was left by a dead
    process and may be claimed again (``traceability.batches.label_jobs``).
    ``started_at`` is its first start, kept when it runs again: its time limit
    counts from it.
    """

    __tablename__ = "label_job"
    __owner__ = batch_owned(public=False)
    __table_args__ = (
        CheckConstraint(_in("status", LABEL_JOB_STATUSES), name="status"),
        CheckConstraint(_in("template", tuple(LABEL_TEMPLATES)), name="template"),
        CheckConstraint("error_correction IN ('M', 'H')", name="error_correction"),
        CheckConstraint("count > 0", name="count"),
        CheckConstraint("progress >= 0 AND progress <= count", name="progress"),
        CheckConstraint("(first_item_id IS NULL) = (last_item_id IS NULL)", name="item_range"),
        # One job at a time per lot: a second print request finds the first (label_jobs).
        Index(
            "uq_label_job_active_batch_id",
            "batch_id",
            unique=True,
            sqlite_where=text(LABEL_JOB_ACTIVE),
            postgresql_where=text(LABEL_JOB_ACTIVE),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("batch.id"), index=True)
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    template: Mapped[str] = mapped_column(String(20))
    error_correction: Mapped[str] = mapped_column(String(1), default="M")
    # The language of whoever asked for the sheet: the worker draws the sheet's words in it.
    locale: Mapped[str] = mapped_column(String(5), default="vi")
    count: Mapped[int] = mapped_column(Integer)
    first_item_id: Mapped[int | None] = mapped_column(Integer)
    last_item_id: Mapped[int | None] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(10), default="queued", index=True)
    progress: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text)
    file_name: Mapped[str | None] = mapped_column(String(100))
    claim_token: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    batch: Mapped[Batch] = relationship()
    requested_by: Mapped[User | None] = relationship()
