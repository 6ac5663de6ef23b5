"""API: batches, key tracking events and QR codes."""

from __future__ import annotations

from typing import Any

from flask import current_app
from flask_login import current_user
from marshmallow import Schema, fields
from sqlalchemy import select

from traceability.accounts.scope import get_scoped_or_404, scoped_select
from traceability.api import schemas
from traceability.api.schemas import QuantityField
from traceability.api.spec import operation, paginate
from traceability.api.validators import Length, OneOf, Range
from traceability.batches.models import EVENT_TYPES, Batch, TraceEvent
from traceability.batches.routes import qr_png_response
from traceability.batches.service import (
    create_batch,
    local_time,
    public_url,
    quantity_remaining,
    record_event,
    scan_count,
)


class BatchInputSchema(Schema):
    batch_id = fields.Integer(required=True)
    quantity = QuantityField(required=True)


class BatchInSchema(Schema):
    product_id = fields.Integer(required=True)
    lot_code = fields.String(required=True, validate=Length(min=1, max=20))
    production_date = fields.Date(required=True)
    expiry_date = fields.Date(allow_none=True)
    quantity = QuantityField(required=True)
    unit = fields.String(required=True, validate=Length(min=2, max=3))
    location_id = fields.Integer(allow_none=True)


class BatchSchema(Schema):
    id = fields.Integer()
    product_id = fields.Integer()
    lot_code = fields.String()
    production_date = fields.Date()
    expiry_date = fields.Date(allow_none=True)
    quantity = QuantityField()
    unit = fields.String()
    location_id = fields.Integer(attribute="origin_location_id", allow_none=True)
    status = fields.String()
    public_url = fields.Method("_public_url", metadata={"type": "string", "format": "uri"})
    quantity_remaining = fields.Method("_quantity_remaining", metadata={"type": "number"})
    scan_count = fields.Method("_scan_count", metadata={"type": "integer"})

    def _public_url(self, batch: Any) -> str:
        return public_url(current_app.config["PUBLIC_BASE_URL"], batch)

    def _quantity_remaining(self, batch: Any) -> float:
        return float(quantity_remaining(batch))

    def _scan_count(self, batch: Any) -> int:
        return scan_count(batch)


class EventInSchema(Schema):
    type = fields.String(required=True, validate=OneOf(EVENT_TYPES))
    time = fields.AwareDateTime(required=True)
    location_id = fields.Integer(allow_none=True)
    quantity = QuantityField(allow_none=True)
    note = fields.String(validate=Length(max=2000))
    reference_type = fields.String(validate=Length(max=50), allow_none=True)
    reference = fields.String(validate=Length(max=100), allow_none=True)
    counterparty = fields.String(validate=Length(max=300), allow_none=True)


class EventSchema(Schema):
    id = fields.Integer()
    batch_id = fields.Integer()
    type = fields.String()
    biz_step = fields.String()
    time = fields.Method("_time", metadata={"type": "string", "format": "date-time"})
    location_id = fields.Integer(allow_none=True)
    quantity = QuantityField(allow_none=True)
    unit = fields.String(allow_none=True)
    note = fields.String()
    reference_type = fields.String(allow_none=True)
    reference = fields.String(attribute="reference_number", allow_none=True)
    counterparty = fields.String(allow_none=True)
    voids_event_id = fields.Integer(allow_none=True)

    def _time(self, event: Any) -> str:
        return local_time(event).isoformat()


class QrQuerySchema(Schema):
    size = fields.Integer(load_default=400, validate=Range(100, 2000))
    ec = fields.String(load_default="M", validate=OneOf(("M", "H")))


@operation(
    "/batches",
    "POST",
    summary="Register a production batch (lot)",
    tag="batches",
    body=BatchInSchema,
    response=BatchSchema,
    status=201,
    errors=(403, 409, 422),
)
def batches_create(data: dict[str, Any]):
    return create_batch(data, actor=current_user)


@operation(
    "/batches",
    "GET",
    summary="Batches the caller may see",
    tag="batches",
    query=schemas.PageQuerySchema,
    response=BatchSchema,
    paginated=True,
    errors=(422,),
)
def batches_list(args: dict[str, Any]):
    return paginate(scoped_select(Batch).order_by(Batch.id), args)


@operation(
    "/batches/<int:batch_id>",
    "GET",
    summary="A batch, with its public URL and what remains",
    tag="batches",
    response=BatchSchema,
    errors=(404,),
)
def batches_get(batch_id: int):
    return get_scoped_or_404(Batch, batch_id)


@operation(
    "/batches/<int:batch_id>/events",
    "POST",
    summary="Record a key tracking event",
    tag="batches",
    body=EventInSchema,
    response=EventSchema,
    status=201,
    errors=(403, 404, 422),
)
def batch_events_create(batch_id: int, data: dict[str, Any]):
    return record_event(get_scoped_or_404(Batch, batch_id), data, actor=current_user)


@operation(
    "/batches/<int:batch_id>/events",
    "GET",
    summary="A batch's key tracking events in time order",
    tag="batches",
    query=schemas.PageQuerySchema,
    response=EventSchema,
    paginated=True,
    errors=(404, 422),
)
def batch_events_list(batch_id: int, args: dict[str, Any]):
    batch = get_scoped_or_404(Batch, batch_id)
    query = (
        select(TraceEvent)
        .where(TraceEvent.batch_id == batch.id)
        .order_by(TraceEvent.event_time, TraceEvent.id)
    )
    return paginate(query, args)


@operation(
    "/batches/<int:batch_id>/qr.png",
    "GET",
    summary="The batch's QR code as PNG",
    tag="batches",
    query=QrQuerySchema,
    media_type="image/png",
    errors=(404, 422),
)
def batch_qr_png(batch_id: int, args: dict[str, Any]):
    return qr_png_response(get_scoped_or_404(Batch, batch_id))
