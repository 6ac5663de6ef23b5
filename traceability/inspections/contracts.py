"""The input contracts of inspections: recording one, and the follow-up of a nonconformity.

One schema per operation, loaded by the API (``traceability/api/inspections.py``)
and by the web form of the same operation (``traceability.http.forms.SchemaForm``);
the lengths come from the model columns (``core.contracts.text``).
"""

from __future__ import annotations

from marshmallow import Schema, fields

from traceability.core.contracts import IdField, OneOf, text
from traceability.inspections.service import MAX_NOTE, MAX_TEXT
from traceability.models.inspections import ANSWERS, OUTCOMES, SEVERITIES, SUBJECT_KINDS, Inspection


class ChecklistAnswerSchema(Schema):
    item = fields.String(
        required=True, metadata={"description": "An item code of the subject kind's checklist"}
    )
    answer = fields.String(required=True, validate=OneOf(ANSWERS))
    note = text(MAX_NOTE, load_default="")


class InspectionInSchema(Schema):
    subject_kind = fields.String(required=True, validate=OneOf(SUBJECT_KINDS))
    subject_id = IdField(
        required=True, strict=True, metadata={"description": "The producer, location or batch id"}
    )
    inspected_on = fields.Date(required=True)
    inspector = text(Inspection.inspector, required=True)
    checklist = fields.List(
        fields.Nested(ChecklistAnswerSchema),
        required=True,
        metadata={"description": "Every item of the subject kind's checklist (GET /inspections/checklists)"},
    )
    findings = text(MAX_TEXT, load_default="")
    outcome = fields.String(required=True, validate=OneOf(OUTCOMES))
    severity = fields.String(
        allow_none=True, validate=OneOf(SEVERITIES), metadata={"description": "Only for a nonconformity"}
    )
    follow_up_on = fields.Date(allow_none=True, metadata={"description": "Required for a nonconformity"})


class AnswerSchema(Schema):
    response = text(MAX_TEXT, required=True)


class CloseSchema(Schema):
    note = text(MAX_TEXT, load_default="")


class ReopenSchema(Schema):
    reason = text(MAX_TEXT, required=True)
    follow_up_on = fields.Date(allow_none=True)
