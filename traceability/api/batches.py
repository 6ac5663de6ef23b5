"""API: batches, key tracking events and QR codes."""

from __future__ import annotations

from typing import Any

from flask import abort, current_app, url_for
from flask_login import current_user
from marshmallow import Schema, fields
from sqlalchemy import select

from traceability.accounts.scope import get_scoped_or_404, scoped_select
from traceability.api import schemas
from traceability.api.schemas import QuantityField
from traceability.api.spec import operation, paginate
from traceability.api.validators import OneOf
from traceability.batches.contracts import (
    BatchInSchema,
    BatchUpdateSchema,
    EventCorrectionSchema,
    EventInSchema,
    EventRetractionSchema,
    RecallCloseSchema,
    RecallInSchema,
)
from traceability.batches.event_photos import event_photo_response
from traceability.batches.lots import labels_printed, update_batch
from traceability.batches.recalls import close_recall, recall_batch
from traceability.batches.service import (
    correct_event,
    create_batch,
    event_photo_state,
    local_time,
    public_url,
    quantity_remaining,
    record_event,
    retract_event,
    scan_count,
)
from traceability.batches.trace import trace
from traceability.core.extensions import db
from traceability.models.batches import RECALL_OUTCOMES, Batch, Recall, TraceEvent


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
    lot_code_fixed = fields.Method(
        "_lot_code_fixed",
        metadata={
            "type": "boolean",
            "description": "True once labels were printed: the lot code cannot change",
        },
    )

    def _lot_code_fixed(self, batch: Any) -> bool:
        return labels_printed(batch)

    def _public_url(self, batch: Any) -> str:
        return public_url(current_app.config["PUBLIC_BASE_URL"], batch)

    def _quantity_remaining(self, batch: Any) -> float:
        return float(quantity_remaining(batch))

    def _scan_count(self, batch: Any) -> int:
        return scan_count(batch)


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
    void_reason = fields.String(allow_none=True)
    is_retraction = fields.Boolean()
    latitude = fields.Float(allow_none=True)
    longitude = fields.Float(allow_none=True)
    position_accuracy = fields.Float(allow_none=True, metadata={"description": "metres"})
    photo_url = fields.Method(
        "_photo_url",
        metadata={
            "type": "string",
            "format": "uri",
            "nullable": True,
            "description": "The public photo; once the event is withdrawn or corrected, "
            "its address in this API (a bearer token needed)",
        },
    )

    def _photo_url(self, event: Any) -> str | None:
        if not event.photo_filename:
            return None
        if event_photo_state(event.photo_filename) == "voided":
            return url_for(
                "api.batch_event_photo", batch_id=event.batch_id, event_id=event.id, _external=True
            )
        return url_for("public.media", name=event.photo_filename, _external=True)

    def _time(self, event: Any) -> str:
        return local_time(event).isoformat()


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
    "/batches/<int:batch_id>",
    "PATCH",
    summary="Change a batch: only the fields given change; the lot code is fixed once labels were printed",
    tag="batches",
    body=BatchUpdateSchema,
    response=BatchSchema,
    errors=(403, 404, 409, 422),
)
def batches_update(batch_id: int, data: dict[str, Any]):
    return update_batch(get_scoped_or_404(Batch, batch_id), data, actor=current_user)


@operation(
    "/batches/<int:batch_id>/events",
    "POST",
    summary="Record a key tracking event",
    tag="batches",
    body=EventInSchema,
    response=EventSchema,
    status=201,
    errors=(403, 404, 409, 422),
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


class TraceQuerySchema(Schema):
    direction = fields.String(load_default="upstream", validate=OneOf(("upstream", "downstream")))


class TraceNodeSchema(Schema):
    id = fields.Integer()
    product_id = fields.Integer()
    product_name = fields.String(attribute="product.name")
    producer_id = fields.Integer(attribute="product.producer_id")
    producer_name = fields.String(attribute="product.producer.name")
    lot_code = fields.String()
    production_date = fields.Date()
    expiry_date = fields.Date(allow_none=True)
    quantity = QuantityField()
    unit = fields.String()
    status = fields.String()
    depth = fields.Integer()
    events = fields.List(fields.Nested(EventSchema))


class TraceEdgeSchema(Schema):
    input_batch_id = fields.Integer()
    output_batch_id = fields.Integer()
    quantity = QuantityField()
    kind = fields.String()


class TraceSchema(Schema):
    batch_id = fields.Integer()
    direction = fields.String()
    nodes = fields.List(fields.Nested(TraceNodeSchema))
    edges = fields.List(fields.Nested(TraceEdgeSchema))
    truncated = fields.Boolean(
        metadata={
            "description": "True when the chain has more batches than node_limit: nodes are then this batch "
            "and the node_limit nearest ones, edges the links between them"
        }
    )
    total_nodes = fields.Integer(metadata={"description": "Batches in the whole chain, this one included"})
    node_limit = fields.Integer(
        metadata={"description": "The most batches answered besides this one (CHAIN_MAX_LOTS)"}
    )


@operation(
    "/batches/<int:batch_id>/trace",
    "GET",
    summary="Every batch upstream (inputs, to the origins) or downstream (everything made from it), each once, "
    "the nearest CHAIN_MAX_LOTS at most",
    tag="batches",
    query=TraceQuerySchema,
    response=TraceSchema,
    errors=(404, 422),
)
def batch_trace(batch_id: int, args: dict[str, Any]):
    result = trace(get_scoped_or_404(Batch, batch_id), args["direction"])
    nodes = []
    for node in result.nodes:
        # Not a column: an attribute of the loaded lot for TraceNodeSchema to show, never stored.
        node.depth = result.depths[node.id]  # type: ignore[attr-defined]
        nodes.append(node)
    return {
        "batch_id": batch_id,
        "direction": result.direction,
        "nodes": nodes,
        "edges": result.edges,
        "truncated": result.truncated,
        "total_nodes": result.total + 1,
        "node_limit": result.max_lots,
    }


class RecallSchema(Schema):
    id = fields.Integer()
    batch_id = fields.Integer()
    reason = fields.String()
    status = fields.String()
    opened_at = fields.AwareDateTime()
    closed_at = fields.AwareDateTime(allow_none=True)
    close_note = fields.String(allow_none=True)
    outcome = fields.String(
        allow_none=True,
        metadata={
            "enum": list(RECALL_OUTCOMES),
            "description": "How a closed recall ended: returned_to_sale (the lots are active again, "
            "their pages say the recall ended) or withdrawn (they stay recalled); null while open",
        },
    )
    affected_batch_ids = fields.Method("_affected", metadata={"type": "array", "items": {"type": "integer"}})

    def _affected(self, recall: Any) -> list[int]:
        return [entry.batch_id for entry in recall.affected]


@operation(
    "/batches/<int:batch_id>/recall",
    "POST",
    summary="Recall a batch: it and every batch made from it are marked recalled at once",
    tag="recalls",
    body=RecallInSchema,
    response=RecallSchema,
    status=201,
    errors=(403, 404, 409, 422),
)
def batch_recall(batch_id: int, data: dict[str, Any]):
    return recall_batch(get_scoped_or_404(Batch, batch_id), data["reason"], actor=current_user)


@operation(
    "/recalls/<int:recall_id>",
    "GET",
    summary="A recall and the batches it affects",
    tag="recalls",
    response=RecallSchema,
    errors=(404,),
)
def recalls_get(recall_id: int):
    return get_scoped_or_404(Recall, recall_id)


@operation(
    "/recalls/<int:recall_id>/close",
    "POST",
    summary="Close a recall with its outcome (centre staff of the producer's centre); "
    "the outcome applies to every batch the recall reached",
    tag="recalls",
    body=RecallCloseSchema,
    response=RecallSchema,
    errors=(403, 404, 409, 422),
)
def recalls_close(recall_id: int, data: dict[str, Any]):
    recall = get_scoped_or_404(Recall, recall_id)
    return close_recall(recall, data.get("note", ""), data["outcome"], actor=current_user)


def _scoped_event(batch_id: int, event_id: int) -> TraceEvent:
    batch = get_scoped_or_404(Batch, batch_id)
    event = db.session.get(TraceEvent, event_id)
    if event is None or event.batch_id != batch.id:
        abort(404)
    return event


@operation(
    "/batches/<int:batch_id>/events/<int:event_id>/correct",
    "POST",
    summary="Correct an event: a new event replaces it and says why; the original stays, voided",
    tag="batches",
    body=EventCorrectionSchema,
    response=EventSchema,
    status=201,
    errors=(403, 404, 409, 422),
)
def batch_event_correct(batch_id: int, event_id: int, data: dict[str, Any]):
    reason = data.pop("reason")
    return correct_event(_scoped_event(batch_id, event_id), data, reason, actor=current_user)


@operation(
    "/batches/<int:batch_id>/events/<int:event_id>/retract",
    "POST",
    summary="Withdraw an event recorded by mistake; a new entry voids it, nothing is deleted",
    tag="batches",
    body=EventRetractionSchema,
    response=EventSchema,
    status=201,
    errors=(403, 404, 409, 422),
)
def batch_event_retract(batch_id: int, event_id: int, data: dict[str, Any]):
    return retract_event(_scoped_event(batch_id, event_id), data["reason"], actor=current_user)


class EventPhotoQuerySchema(Schema):
    thumbnail = fields.Integer(load_default=0, validate=OneOf((0, 1)))


@operation(
    "/batches/<int:batch_id>/events/<int:event_id>/photo",
    "GET",
    summary="An event's photo (`?thumbnail=1` for the small one), withdrawn or not: "
    "the public /media/ address refuses a withdrawn event's photo",
    tag="batches",
    query=EventPhotoQuerySchema,
    media_type="image/jpeg",
    errors=(404,),
)
def batch_event_photo(args: dict[str, Any], batch_id: int, event_id: int):
    return event_photo_response(_scoped_event(batch_id, event_id), thumbnail=args["thumbnail"] == 1)
