"""The EPCIS 2.0 repository's own rows: the query index of exported events, and capture jobs.

``EpcisQueryEvent`` holds each event the EPCIS export of a lot gives (the lot's
key events, the lineage events that made it, its recalls), as that export
builds it, with the fields the standard query filters on in their own indexed
columns and the identifiers of each event in ``EpcisQueryValue``. It is an
index, kept by ``epcis_index`` at every commit that changes what a lot's export
shows, and rebuilt whole by ``flask epcis reindex``; the trace events stay the
record. ``EpcisCaptureJob`` is one ``POST /epcis/capture`` and what came of it.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, Boolean, CheckConstraint, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from traceability.core.database import Quantity, UTCDateTime
from traceability.core.dates import utcnow
from traceability.core.extensions import Model

# Where an exported event comes from: a key event (TraceEvent.id), the lineage of a lot
# (Batch.id: its TransformationEvent or AggregationEvent), a recall (Recall.id) and its end.
QUERY_EVENT_SOURCES = ("event", "transformation", "aggregation", "recall", "recall_ended")
# The multi-valued fields of an event the query matches on, as ``EpcisQueryValue.field``.
QUERY_VALUE_FIELDS = (
    "epc",  # epcList
    "childEPC",
    "parentID",
    "inputEPC",
    "outputEPC",
    "epcClass",  # quantityList
    "childEPCClass",
    "inputEPCClass",
    "outputEPCClass",
    "correctiveEventID",
    "bizTransaction",
    "source",
    "destination",
)
CAPTURE_ERROR_BEHAVIOURS = ("rollback", "proceed")


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class EpcisQueryEvent(Model):
    """One event of a lot's EPCIS export, as the query interface answers it."""

    __tablename__ = "epcis_query_event"
    __table_args__ = (
        UniqueConstraint("batch_id", "source", "source_id"),
        CheckConstraint(_in("source", QUERY_EVENT_SOURCES), name="source"),
        Index("ix_epcis_query_event_time_order", "event_time", "id"),
        Index("ix_epcis_query_event_record_order", "record_time", "id"),
        Index("ix_epcis_query_event_producer_time", "producer_id", "event_time", "id"),
        Index("ix_epcis_query_event_producer_record", "producer_id", "record_time", "id"),
        Index("ix_epcis_query_event_centre_time", "centre_id", "event_time", "id"),
        Index("ix_epcis_query_event_centre_record", "centre_id", "record_time", "id"),
        Index("ix_epcis_query_event_type_time", "event_type", "event_time", "id"),
        Index("ix_epcis_query_event_step_time", "biz_step", "event_time", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # The lot whose export gives the event; its producer (and the producer's centre, kept here
    # too so that each role's events come in time order from one index) decides who may read it.
    batch_id: Mapped[int] = mapped_column(ForeignKey("batch.id", ondelete="CASCADE"))
    producer_id: Mapped[int] = mapped_column(ForeignKey("producer.id"))
    centre_id: Mapped[int] = mapped_column(ForeignKey("centre.id"))
    source: Mapped[str] = mapped_column(String(20))
    source_id: Mapped[int] = mapped_column(Integer)
    event_id: Mapped[str] = mapped_column(String(200), index=True)
    event_type: Mapped[str] = mapped_column(String(40))
    event_time: Mapped[datetime] = mapped_column(UTCDateTime)
    # When the repository recorded the event as it now reads: its source's time when first
    # indexed, the time of the change (an error declared, say) when it changed since.
    record_time: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    action: Mapped[str | None] = mapped_column(String(10))
    # bizStep and disposition as exported: a bare CBV name, or a URI outside CBV.
    biz_step: Mapped[str | None] = mapped_column(String(300))
    disposition: Mapped[str | None] = mapped_column(String(300))
    read_point: Mapped[str | None] = mapped_column(String(300), index=True)
    biz_location: Mapped[str | None] = mapped_column(String(300), index=True)
    error_declared_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    error_reason: Mapped[str | None] = mapped_column(String(300))
    # Withdrawn by a retraction (did not occur): answered only to a query about error declarations.
    retracted: Mapped[bool] = mapped_column(Boolean, default=False)
    document: Mapped[dict[str, Any]] = mapped_column(JSON)


class EpcisQueryValue(Model):
    """An identifier (or another multi-valued field) of an indexed event, in its canonical form."""

    __tablename__ = "epcis_query_value"
    __table_args__ = (
        CheckConstraint(_in("field", QUERY_VALUE_FIELDS), name="field"),
        Index("ix_epcis_query_value_value_field", "value", "field"),
        Index("ix_epcis_query_value_gtin_field", "gtin", "field"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    query_event_id: Mapped[int] = mapped_column(
        ForeignKey("epcis_query_event.id", ondelete="CASCADE"), index=True
    )
    field: Mapped[str] = mapped_column(String(20))
    # A business transaction's, source's or destination's type (a bare CBV name or a URI).
    kind: Mapped[str | None] = mapped_column(String(300))
    value: Mapped[str] = mapped_column(String(300))
    # The GTIN of an item, lot or product key: what a pattern of every instance of a GTIN matches.
    gtin: Mapped[str | None] = mapped_column(String(14))
    quantity: Mapped[Decimal | None] = mapped_column(Quantity)


class EpcisCaptureJob(Model):
    """One capture through the EPCIS REST binding: who sent it, when, and what came of it."""

    __tablename__ = "epcis_capture_job"
    __table_args__ = (
        CheckConstraint(_in("error_behaviour", CAPTURE_ERROR_BEHAVIOURS), name="error_behaviour"),
        Index("ix_epcis_capture_job_owner_created", "owner_id", "created_at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # The captureID in URLs: random, so jobs cannot be enumerated.
    capture_id: Mapped[str] = mapped_column(String(32), unique=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    # The owner's centre (its producer's, for a producer): that centre's staff read the job too.
    centre_id: Mapped[int | None] = mapped_column(ForeignKey("centre.id"), index=True)
    error_behaviour: Mapped[str] = mapped_column(String(10), default="rollback")
    running: Mapped[bool] = mapped_column(Boolean, default=True)
    success: Mapped[bool] = mapped_column(Boolean, default=True)
    event_count: Mapped[int] = mapped_column(Integer, default=0)
    captured: Mapped[int] = mapped_column(Integer, default=0)
    duplicates: Mapped[int] = mapped_column(Integer, default=0)
    ignored: Mapped[int] = mapped_column(Integer, default=0)
    event_ids: Mapped[list[str]] = mapped_column(JSON, default=list)
    # RFC 7807 problems, one per event refused (its index in ``instance``), or of the document.
    errors: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
