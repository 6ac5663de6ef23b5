"""The input contracts of batches: lots, key tracking events and their corrections, recalls,
serialised items and label sheets.

One schema per operation, loaded by the API (``traceability/api/``) and by the
web form of the same operation (``traceability.http.forms.SchemaForm``); the
lengths come from the model columns (``core.contracts.text``).
"""

from __future__ import annotations

from marshmallow import Schema, fields

from traceability.batches.label_sheets import ERROR_CORRECTION_LEVELS, MAX_COPIES
from traceability.batches.lot_codes import LOT_CODE_HINT, LotCode
from traceability.batches.serials import MAX_SERIALS_PER_REQUEST
from traceability.core.contracts import IdField, Length, OneOf, QuantityField, Range, column_length, text
from traceability.labels.sheets import TEMPLATES
from traceability.models.batches import (
    EVENT_TYPES,
    LINEAGE_KINDS,
    RECALL_OUTCOMES,
    Batch,
    TraceEvent,
)

#: An event's note, a recall's reason and its closing note, a correction's reason (Text columns).
MAX_NOTE_LENGTH = 2000
MAX_REASON_LENGTH = 2000
#: The input batches one lot lists.
MAX_INPUTS = 50


class BatchInputSchema(Schema):
    batch_id = IdField(required=True)
    quantity = QuantityField(required=True, validate=Range(min=0))


def lot_code_field(*, required: bool = False) -> fields.String:
    """A lot code: at most the column's length, and the lot-code rule (``lot_codes``)."""
    field = text(Batch.lot_code, required=required, metadata={"description": str(LOT_CODE_HINT)})
    field.validators.append(LotCode())
    return field


class BatchInSchema(Schema):
    product_id = IdField(required=True)
    lot_code = lot_code_field(required=True)
    production_date = fields.Date(required=True)
    expiry_date = fields.Date(allow_none=True)
    quantity = QuantityField(required=True, validate=Range(min=0))
    unit = fields.String(required=True, validate=Length(min=2, max=column_length(Batch.unit)))
    location_id = IdField(allow_none=True)
    inputs = fields.List(fields.Nested(BatchInputSchema), validate=Length(max=MAX_INPUTS))
    input_kind = fields.String(validate=OneOf(LINEAGE_KINDS), load_default="transformation")


class BatchUpdateSchema(Schema):
    """``PATCH /batches/{id}``: the fields to change; the lot code only until the lot's first labels."""

    lot_code = lot_code_field()
    production_date = fields.Date()
    expiry_date = fields.Date(allow_none=True)
    quantity = QuantityField(validate=Range(min=0))
    unit = fields.String(validate=Length(min=2, max=column_length(Batch.unit)))
    location_id = IdField(allow_none=True)


class EventInSchema(Schema):
    type = fields.String(required=True, validate=OneOf(EVENT_TYPES))
    time = fields.AwareDateTime(required=True)
    location_id = IdField(allow_none=True)
    quantity = QuantityField(allow_none=True, validate=Range(min=0))
    note = text(MAX_NOTE_LENGTH)
    reference_type = text(TraceEvent.reference_type)
    reference = text(TraceEvent.reference_number)
    counterparty = text(TraceEvent.counterparty)
    # Where the phone was (WGS 84), as the field app sends it: both or neither.
    latitude = fields.Float(allow_none=True, allow_nan=False, validate=Range(-90, 90))
    longitude = fields.Float(allow_none=True, allow_nan=False, validate=Range(-180, 180))
    position_accuracy = fields.Float(allow_none=True, allow_nan=False, validate=Range(0, 1e7))


class EventCorrectionSchema(EventInSchema):
    reason = text(MAX_REASON_LENGTH, required=True)


class EventRetractionSchema(Schema):
    reason = text(MAX_REASON_LENGTH, required=True)


class RecallInSchema(Schema):
    reason = text(MAX_REASON_LENGTH, required=True)


class RecallCloseSchema(Schema):
    note = text(
        MAX_NOTE_LENGTH,
        metadata={"description": "What was found and done; required to return the lots to sale"},
    )
    outcome = fields.String(
        required=True,
        validate=OneOf(RECALL_OUTCOMES),
        metadata={
            "description": "returned_to_sale: the lots are safe and on sale again, their pages say the "
            "recall ended and why; withdrawn: they stay recalled and their pages keep saying do not use"
        },
    )


class SerialsInSchema(Schema):
    count = fields.Integer(required=True, strict=True, validate=Range(1, MAX_SERIALS_PER_REQUEST))


class LabelQuerySchema(Schema):
    template = fields.String(
        required=True,
        validate=OneOf(tuple(TEMPLATES)),
        metadata={
            "description": "Label stock: " + "; ".join(f"{t.name}: {t.stock}" for t in TEMPLATES.values())
        },
    )
    ec = fields.String(
        load_default="M",
        validate=OneOf(ERROR_CORRECTION_LEVELS),
        metadata={"description": "Error correction: M (15 %, the default) or H (30 %)"},
    )
    copies = fields.Integer(
        validate=Range(1, MAX_COPIES),
        metadata={
            "description": "Labels of the batch code when the batch has no serialised items (default: a full sheet)"
        },
    )
