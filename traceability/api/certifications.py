"""API: certifications, their documents and the centre's verification."""

from __future__ import annotations

from typing import Any

from flask import current_app, request
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from marshmallow import Schema, fields

from traceability.accounts.scope import get_scoped_or_404, scoped_select
from traceability.api.schemas import IdField, PageQuerySchema
from traceability.api.spec import operation, paginate
from traceability.api.validators import OneOf
from traceability.core.errors import InvalidInput
from traceability.models.registry import (
    CERTIFICATION_STATUSES,
    CERTIFICATION_TYPES,
    Certification,
)
from traceability.registry import certifications as service
from traceability.registry.contracts import CertificationInSchema, RejectSchema


class CertificationSchema(Schema):
    id = fields.Integer()
    producer_id = fields.Integer()
    scope = fields.String()
    subject_id = fields.Function(service.subject_id, metadata={"type": "integer"})
    location_id = fields.Integer(allow_none=True)
    product_id = fields.Integer(allow_none=True)
    type = fields.String()
    number = fields.String()
    issuer = fields.String()
    valid_from = fields.Date()
    valid_to = fields.Date(allow_none=True)
    status = fields.String()
    state = fields.Function(
        service.certification_state,
        metadata={
            "type": "string",
            "enum": list(service.CERTIFICATION_STATES),
            "description": "The status, or expired once valid_to has passed",
        },
    )
    is_valid = fields.Function(
        lambda certification: certification.is_valid_on(service.vietnam_today()),
        metadata={"type": "boolean", "description": "Verified and within its validity dates today"},
    )
    status_reason = fields.String(allow_none=True)
    verified_by_id = fields.Integer(allow_none=True)
    verified_at = fields.AwareDateTime(allow_none=True)
    has_document = fields.Function(
        lambda certification: certification.document_filename is not None, metadata={"type": "boolean"}
    )
    document_sha256 = fields.String(allow_none=True)
    document_content_type = fields.String(allow_none=True)
    document_size = fields.Integer(allow_none=True)
    document_name = fields.String(attribute="document_original_name", allow_none=True)
    created_at = fields.AwareDateTime()


class CertificationQuerySchema(PageQuerySchema):
    status = fields.String(validate=OneOf(CERTIFICATION_STATUSES))
    state = fields.String(validate=OneOf(service.CERTIFICATION_STATES))
    type = fields.String(validate=OneOf(CERTIFICATION_TYPES))
    producer_id = IdField()


@operation(
    "/certifications",
    "POST",
    summary="Record a certification, pending the centre's verification",
    tag="registry",
    body=CertificationInSchema,
    response=CertificationSchema,
    status=201,
    errors=(403, 409, 422),
)
def certifications_create(data: dict[str, Any]):
    return service.create_certification(data, actor=current_user)


@operation(
    "/certifications/<int:certification_id>",
    "GET",
    summary="A certification, with its state and its document's SHA-256",
    tag="registry",
    response=CertificationSchema,
    errors=(404,),
)
def certifications_get(certification_id: int):
    return get_scoped_or_404(Certification, certification_id)


@operation(
    "/certifications",
    "GET",
    summary="Certifications the caller may see",
    tag="registry",
    query=CertificationQuerySchema,
    response=CertificationSchema,
    paginated=True,
    errors=(422,),
)
def certifications_list(args: dict[str, Any]):
    query = scoped_select(Certification).order_by(Certification.id)
    if args.get("status"):
        query = query.where(Certification.status == args["status"])
    if args.get("state"):
        query = query.where(service.state_clause(args["state"]))
    if args.get("type"):
        query = query.where(Certification.type == args["type"])
    if args.get("producer_id") is not None:
        query = query.where(Certification.producer_id == args["producer_id"])
    return paginate(query, args)


@operation(
    "/certifications/<int:certification_id>/document",
    "POST",
    summary="Attach or replace the document (multipart/form-data, field `file`: PDF, JPEG, PNG or WebP); "
    "the certification goes back to pending",
    tag="registry",
    response=CertificationSchema,
    errors=(403, 404, 422),
)
def certifications_document(certification_id: int):
    certification = get_scoped_or_404(Certification, certification_id)
    upload = request.files.get("file")
    if upload is None:
        raise InvalidInput(
            _l("Send the document as multipart/form-data in the field file."),
            {"file": _l("This field is required.")},
        )
    limit = current_app.config["MAX_DOCUMENT_BYTES"]
    try:
        return service.update_certification(
            certification,
            {},
            actor=current_user,
            document=upload.stream.read(limit + 1),
            document_name=upload.filename,
        )
    except InvalidInput as error:
        # The web form calls the field "document"; here it is "file".
        if "document" in error.fields:
            error.fields["file"] = error.fields.pop("document")
        raise


@operation(
    "/certifications/<int:certification_id>/verify",
    "POST",
    summary="The producer's centre verifies the certification against its document",
    tag="registry",
    response=CertificationSchema,
    errors=(403, 404, 409),
)
def certifications_verify(certification_id: int):
    certification = get_scoped_or_404(Certification, certification_id)
    return service.verify_certification(certification, actor=current_user)


@operation(
    "/certifications/<int:certification_id>/reject",
    "POST",
    summary="The producer's centre rejects the certification, with a reason the producer sees",
    tag="registry",
    body=RejectSchema,
    response=CertificationSchema,
    errors=(403, 404, 409, 422),
)
def certifications_reject(data: dict[str, Any], certification_id: int):
    certification = get_scoped_or_404(Certification, certification_id)
    return service.reject_certification(certification, data["reason"], actor=current_user)
