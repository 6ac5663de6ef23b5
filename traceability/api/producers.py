"""API: producers."""

from __future__ import annotations

from typing import Any

from flask_login import current_user
from marshmallow import Schema, fields

from traceability.accounts.scope import get_scoped_or_404
from traceability.api.spec import operation
from traceability.api.validators import Length, OneOf
from traceability.registry.models import PRODUCER_KINDS, Producer
from traceability.registry.producers import create_producer
from traceability.registry.provinces import PROVINCES


class ProducerInSchema(Schema):
    name = fields.String(required=True, validate=Length(min=1, max=300))
    kind = fields.String(required=True, validate=OneOf(PRODUCER_KINDS))
    tax_code = fields.String(validate=Length(max=14), allow_none=True)
    province_code = fields.String(required=True, validate=OneOf(list(PROVINCES)))
    ward = fields.String(validate=Length(max=200))
    address = fields.String(validate=Length(max=300))
    phone = fields.String(validate=Length(max=30))
    email = fields.String(validate=Length(max=254))
    website = fields.String(validate=Length(max=500))
    previous_province_code = fields.String(validate=OneOf(list(PROVINCES)), allow_none=True)
    previous_ward = fields.String(validate=Length(max=200), allow_none=True)
    previous_street = fields.String(validate=Length(max=300), allow_none=True)


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
