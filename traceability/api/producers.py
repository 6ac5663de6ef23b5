"""API: producers."""

from __future__ import annotations

from typing import Any

from flask import url_for
from flask_login import current_user
from marshmallow import Schema, fields

from traceability.accounts.scope import get_scoped_or_404, scoped_select
from traceability.api.schemas import PageQuerySchema
from traceability.api.spec import operation, paginate
from traceability.api.validators import Length, OneOf
from traceability.core.contracts import MAX_SEARCH_LENGTH
from traceability.core.provinces import PROVINCES
from traceability.core.text import like_pattern
from traceability.models.registry import PRODUCER_KINDS, PRODUCER_STATUSES, Producer
from traceability.registry.contracts import ProducerInSchema, ProducerUpdateSchema, ReasonSchema
from traceability.registry.producers import (
    approve_producer,
    create_producer,
    reinstate_producer,
    reject_producer,
    suspend_producer,
    update_producer,
)


class ProducerQuerySchema(PageQuerySchema):
    q = fields.String(validate=Length(max=MAX_SEARCH_LENGTH))
    province = fields.String(validate=OneOf(list(PROVINCES)))
    kind = fields.String(validate=OneOf(PRODUCER_KINDS))
    status = fields.String(validate=OneOf(PRODUCER_STATUSES))


class ProducerSchema(Schema):
    id = fields.Integer()
    centre_id = fields.Integer()
    name = fields.String()
    kind = fields.String()
    tax_code = fields.String(allow_none=True)
    province_code = fields.String()
    ward = fields.String()
    address = fields.String(attribute="street")
    address_line = fields.String()
    phone = fields.String()
    email = fields.String()
    website = fields.String()
    previous_province_code = fields.String(allow_none=True)
    previous_ward = fields.String(allow_none=True)
    previous_street = fields.String(allow_none=True)
    status = fields.String()
    status_reason = fields.String(allow_none=True)
    status_changed_at = fields.AwareDateTime(allow_none=True)
    logo_url = fields.Method("_logo_url", allow_none=True, metadata={"type": "string", "nullable": True})

    def _logo_url(self, producer: Producer) -> str | None:
        if not producer.logo_filename:
            return None
        return url_for("public.media", name=producer.logo_filename, _external=True)


@operation(
    "/producers",
    "POST",
    summary="Register a producer (approved when centre staff create it)",
    tag="registry",
    body=ProducerInSchema,
    response=ProducerSchema,
    status=201,
    errors=(403, 409, 422),
)
def producers_create(data: dict[str, Any]):
    return create_producer(data, actor=current_user)


@operation(
    "/producers/<int:producer_id>",
    "GET",
    summary="A producer",
    tag="registry",
    response=ProducerSchema,
    errors=(404,),
)
def producers_get(producer_id: int):
    return get_scoped_or_404(Producer, producer_id)


@operation(
    "/producers",
    "GET",
    summary="Producers the caller may see, searchable without diacritics",
    tag="registry",
    query=ProducerQuerySchema,
    response=ProducerSchema,
    paginated=True,
    errors=(422,),
)
def producers_list(args: dict[str, Any]):
    query = scoped_select(Producer).order_by(Producer.name, Producer.id)
    if args.get("q"):
        query = query.where(Producer.search_text.like(like_pattern(args["q"]), escape="\\"))
    for name, column in (
        ("province", Producer.province_code),
        ("kind", Producer.kind),
        ("status", Producer.status),
    ):
        if args.get(name):
            query = query.where(column == args[name])
    return paginate(query, args)


@operation(
    "/producers/<int:producer_id>",
    "PATCH",
    summary="Change a producer's profile (its administrator or its centre's staff)",
    tag="registry",
    body=ProducerUpdateSchema,
    response=ProducerSchema,
    errors=(403, 404, 409, 422),
)
def producers_update(producer_id: int, data: dict[str, Any]):
    return update_producer(get_scoped_or_404(Producer, producer_id), data, actor=current_user)


@operation(
    "/producers/<int:producer_id>/approve",
    "POST",
    summary="Approve a pending or rejected producer (staff of its centre)",
    tag="registry",
    response=ProducerSchema,
    errors=(403, 404, 409),
)
def producers_approve(producer_id: int):
    return approve_producer(get_scoped_or_404(Producer, producer_id), actor=current_user)


@operation(
    "/producers/<int:producer_id>/reject",
    "POST",
    summary="Reject a pending producer with the reason it will see (staff of its centre)",
    tag="registry",
    body=ReasonSchema,
    response=ProducerSchema,
    errors=(403, 404, 409, 422),
)
def producers_reject(producer_id: int, data: dict[str, Any]):
    return reject_producer(get_scoped_or_404(Producer, producer_id), data["reason"], actor=current_user)


@operation(
    "/producers/<int:producer_id>/suspend",
    "POST",
    summary="Suspend an approved producer with the reason it will see (staff of its centre)",
    tag="registry",
    body=ReasonSchema,
    response=ProducerSchema,
    errors=(403, 404, 409, 422),
)
def producers_suspend(producer_id: int, data: dict[str, Any]):
    return suspend_producer(get_scoped_or_404(Producer, producer_id), data["reason"], actor=current_user)


@operation(
    "/producers/<int:producer_id>/reinstate",
    "POST",
    summary="Lift a producer's suspension (staff of its centre)",
    tag="registry",
    response=ProducerSchema,
    errors=(403, 404, 409),
)
def producers_reinstate(producer_id: int):
    return reinstate_producer(get_scoped_or_404(Producer, producer_id), actor=current_user)
