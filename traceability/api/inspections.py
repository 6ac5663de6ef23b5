"""API: inspections, their photos and the follow-up of a nonconformity."""

from __future__ import annotations

from typing import Any

from flask import abort, current_app, request, send_file, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from marshmallow import Schema, fields
from sqlalchemy import select

from traceability.accounts.scope import get_scoped_or_404, scoped_select
from traceability.api.errors import error_response
from traceability.api.schemas import IdField, PageQuerySchema
from traceability.api.spec import operation, paginate
from traceability.api.validators import OneOf
from traceability.core.errors import InvalidInput
from traceability.core.extensions import db
from traceability.inspections import files, queries, service
from traceability.inspections.checklists import CHECKLISTS, item_label
from traceability.inspections.contracts import AnswerSchema, CloseSchema, InspectionInSchema, ReopenSchema
from traceability.models.inspections import (
    FOLLOW_UP_KINDS,
    INSPECTION_STATUSES,
    OUTCOMES,
    SEVERITIES,
    SUBJECT_KINDS,
    Inspection,
    InspectionPhoto,
)


class PhotoSchema(Schema):
    id = fields.Integer()
    width = fields.Integer()
    height = fields.Integer()
    sha256 = fields.String()
    url = fields.Method("_url", metadata={"type": "string", "format": "uri"})
    thumbnail_url = fields.Method("_thumbnail_url", metadata={"type": "string", "format": "uri"})

    def _url(self, photo: InspectionPhoto) -> str:
        return url_for(
            "api.inspections_photo", inspection_id=photo.inspection_id, photo_id=photo.id, _external=True
        )

    def _thumbnail_url(self, photo: InspectionPhoto) -> str:
        return url_for(
            "api.inspections_photo",
            inspection_id=photo.inspection_id,
            photo_id=photo.id,
            thumbnail=1,
            _external=True,
        )


class FollowUpSchema(Schema):
    kind = fields.String(validate=OneOf(FOLLOW_UP_KINDS))
    text = fields.String()
    author_id = fields.Integer(allow_none=True)
    created_at = fields.AwareDateTime()
    photos = fields.List(fields.Nested(PhotoSchema))


class InspectionSchema(Schema):
    id = fields.Integer()
    centre_id = fields.Integer()
    producer_id = fields.Integer()
    subject_kind = fields.String(validate=OneOf(SUBJECT_KINDS))
    subject_id = fields.Function(queries.subject_id, metadata={"type": "integer"})
    subject_name = fields.Function(queries.subject_name, metadata={"type": "string"})
    location_id = fields.Integer(allow_none=True)
    batch_id = fields.Integer(allow_none=True)
    inspected_on = fields.Date()
    inspector = fields.String()
    checklist = fields.Function(
        queries.checklist_rows, metadata={"type": "array", "items": {"type": "object"}}
    )
    findings = fields.String()
    outcome = fields.String(validate=OneOf(OUTCOMES))
    severity = fields.String(allow_none=True, validate=OneOf(SEVERITIES))
    follow_up_on = fields.Date(allow_none=True)
    status = fields.String(validate=OneOf(INSPECTION_STATUSES))
    overdue = fields.Function(
        queries.is_overdue,
        metadata={"type": "boolean", "description": "Open, and the follow-up date has passed"},
    )
    photos = fields.Method("_photos", metadata={"type": "array", "items": {"type": "object"}})
    follow_ups = fields.List(fields.Nested(FollowUpSchema))
    created_by_id = fields.Integer(allow_none=True)
    created_at = fields.AwareDateTime()

    def _photos(self, inspection: Inspection) -> list[dict[str, Any]]:
        # The inspection's own photos; those sent with an answer are under follow_ups.
        return PhotoSchema(many=True).dump([p for p in inspection.photos if p.follow_up_id is None])


class InspectionQuerySchema(PageQuerySchema):
    status = fields.String(validate=OneOf(INSPECTION_STATUSES))
    outcome = fields.String(validate=OneOf(OUTCOMES))
    severity = fields.String(validate=OneOf(SEVERITIES))
    subject_kind = fields.String(validate=OneOf(SUBJECT_KINDS))
    producer_id = IdField()
    location_id = IdField()
    batch_id = IdField()


class PhotoQuerySchema(Schema):
    thumbnail = fields.Integer(load_default=0, validate=OneOf((0, 1)))


def _upload(name: str) -> bytes | None:
    upload = request.files.get(name)
    if upload is None or not upload.filename:
        return None
    return upload.stream.read(current_app.config["MAX_IMAGE_BYTES"] + 1)


@operation(
    "/inspections/checklists",
    "GET",
    summary="The checklist items of each subject kind: codes to send and their text",
    tag="inspections",
    errors=(),
)
def inspections_checklists():
    return {
        kind: [{"item": code, "label": item_label(code)} for code in items]
        for kind, items in CHECKLISTS.items()
    }


@operation(
    "/inspections",
    "POST",
    summary="Centre staff record an inspection of a producer, location or batch of their centre",
    tag="inspections",
    body=InspectionInSchema,
    response=InspectionSchema,
    status=201,
    errors=(403, 422),
)
def inspections_create(data: dict[str, Any]):
    return service.create_inspection(data, actor=current_user)


@operation(
    "/inspections",
    "GET",
    summary="Inspections the caller may see",
    tag="inspections",
    query=InspectionQuerySchema,
    response=InspectionSchema,
    paginated=True,
    errors=(422,),
)
def inspections_list(args: dict[str, Any]):
    query = queries.with_subjects(scoped_select(Inspection)).order_by(Inspection.id)
    for name in ("status", "outcome", "severity", "subject_kind"):
        if args.get(name):
            query = query.where(getattr(Inspection, name) == args[name])
    for name in ("producer_id", "location_id", "batch_id"):
        if args.get(name) is not None:
            query = query.where(getattr(Inspection, name) == args[name])
    return paginate(query, args)


@operation(
    "/inspections/<int:inspection_id>",
    "GET",
    summary="An inspection with its checklist, photos and follow-up",
    tag="inspections",
    response=InspectionSchema,
    errors=(404,),
)
def inspections_get(inspection_id: int):
    return get_scoped_or_404(Inspection, inspection_id)


@operation(
    "/inspections/<int:inspection_id>/photos",
    "POST",
    summary="Centre staff add a photo (multipart/form-data, field `file`: JPEG, PNG or WebP)",
    tag="inspections",
    response=InspectionSchema,
    status=201,
    errors=(403, 404, 422),
)
def inspections_add_photo(inspection_id: int):
    inspection = get_scoped_or_404(Inspection, inspection_id)
    photo = _upload("file")
    if photo is None:
        raise InvalidInput(
            _l("Send the photo as multipart/form-data in the field file."),
            {"file": _l("This field is required.")},
        )
    service.add_photo(inspection, photo, actor=current_user)
    return inspection


@operation(
    "/inspections/<int:inspection_id>/photos/<int:photo_id>",
    "GET",
    summary="A photo of the inspection as JPEG (`?thumbnail=1` for the small one)",
    tag="inspections",
    query=PhotoQuerySchema,
    media_type="image/jpeg",
    errors=(404,),
)
def inspections_photo(args: dict[str, Any], inspection_id: int, photo_id: int):
    inspection = get_scoped_or_404(Inspection, inspection_id)
    row = db.session.scalar(
        select(InspectionPhoto).where(
            InspectionPhoto.id == photo_id, InspectionPhoto.inspection_id == inspection.id
        )
    )
    found = row and files.photo_file(row, thumbnail=args["thumbnail"] == 1)
    if not found:
        abort(404)
    response = send_file(found.path, mimetype="image/jpeg", download_name=found.download_name, max_age=0)
    response.headers["Cache-Control"] = "private, no-cache"
    return response


@operation(
    "/inspections/<int:inspection_id>/answer",
    "POST",
    summary="The producer answers an open nonconformity: JSON `{response}`, or multipart/form-data "
    "with the field `response` and an optional photo in the field `photo`",
    tag="inspections",
    response=InspectionSchema,
    errors=(400, 403, 404, 409, 422),
)
def inspections_answer(inspection_id: int):
    inspection = get_scoped_or_404(Inspection, inspection_id)
    if request.mimetype == "multipart/form-data":
        data = AnswerSchema().load({"response": request.form.get("response", "")})
        photo = _upload("photo")
    else:
        payload = request.get_json(silent=True)
        if not isinstance(payload, dict):
            return error_response(
                400, _("Send a JSON object with Content-Type: application/json, or multipart/form-data.")
            )
        data, photo = AnswerSchema().load(payload), None
    return service.answer_inspection(inspection, data["response"], actor=current_user, photo=photo)


@operation(
    "/inspections/<int:inspection_id>/close",
    "POST",
    summary="Centre staff close an answered nonconformity, with an optional note",
    tag="inspections",
    body=CloseSchema,
    response=InspectionSchema,
    errors=(403, 404, 409, 422),
)
def inspections_close(data: dict[str, Any], inspection_id: int):
    inspection = get_scoped_or_404(Inspection, inspection_id)
    return service.close_inspection(inspection, data.get("note"), actor=current_user)


@operation(
    "/inspections/<int:inspection_id>/reopen",
    "POST",
    summary="Centre staff reopen an answered or closed nonconformity, saying why (the producer sees it)",
    tag="inspections",
    body=ReopenSchema,
    response=InspectionSchema,
    errors=(403, 404, 409, 422),
)
def inspections_reopen(data: dict[str, Any], inspection_id: int):
    inspection = get_scoped_or_404(Inspection, inspection_id)
    return service.reopen_inspection(
        inspection, data["reason"], actor=current_user, follow_up_on=data.get("follow_up_on")
    )
