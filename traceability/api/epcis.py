"""API: EPCIS 2.0 documents out (a batch's whole chain) and in (capture)."""

from __future__ import annotations

import json

from flask import Response, request
from flask_babel import gettext as _
from flask_login import current_user
from marshmallow import Schema, fields

from traceability.accounts.scope import get_scoped_or_404
from traceability.api.errors import error_response
from traceability.api.spec import operation
from traceability.batches.epcis import export_batch_chain
from traceability.batches.epcis_capture import capture_document, capture_event
from traceability.models.batches import Batch

EPCIS_MEDIA_TYPE = "application/ld+json"


class CaptureResultSchema(Schema):
    captured = fields.Integer(metadata={"description": "Events written"})
    duplicates = fields.Integer(
        metadata={"description": "Events already held (same eventID), not written again"}
    )
    ignored = fields.Integer(
        metadata={"description": "Events declared erroneous that this registry does not hold"}
    )
    event_ids = fields.List(fields.String(), metadata={"description": "The eventIDs of the events written"})


@operation(
    "/batches/<int:batch_id>/epcis",
    "GET",
    summary="The batch's whole chain, upstream and downstream, as an EPCIS 2.0 JSON-LD document",
    tag="epcis",
    media_type=EPCIS_MEDIA_TYPE,
    errors=(404,),
)
def batch_epcis(batch_id: int):
    document = export_batch_chain(get_scoped_or_404(Batch, batch_id))
    return Response(json.dumps(document, ensure_ascii=False), mimetype=EPCIS_MEDIA_TYPE)


@operation(
    "/epcis/capture",
    "POST",
    summary=(
        "Capture an EPCIS 2.0 document (JSON-LD body): events about registered lots, items and locations "
        "are recorded, events already held are dropped; an invalid document is refused with the errors "
        "of each event (a schema refusal names the JSON path and the rule) and nothing is written; a bare "
        "event or an EPCISQueryDocument answers 400"
    ),
    tag="epcis",
    response=CaptureResultSchema,
    status=201,
    errors=(400, 403, 422),
)
def epcis_capture():
    # The body is any EPCIS document: GS1's JSON Schema validates it, not a marshmallow schema.
    document = request.get_json(silent=True)
    if not isinstance(document, dict):
        return error_response(
            400, _("Send an EPCIS 2.0 document as JSON (Content-Type: application/ld+json).")
        )
    return capture_document(document, actor=current_user)


@operation(
    "/epcis/events",
    "POST",
    summary=(
        "Capture one bare EPCIS 2.0 event (the REST binding's single event capture), as a document "
        "holding only that event would be"
    ),
    tag="epcis",
    response=CaptureResultSchema,
    status=201,
    errors=(400, 403, 422),
)
def epcis_capture_event():
    event = request.get_json(silent=True)
    if not isinstance(event, dict):
        return error_response(400, _("Send one EPCIS 2.0 event as JSON (Content-Type: application/ld+json)."))
    return capture_event(event, actor=current_user)
