"""API: locations."""

from __future__ import annotations

from typing import Any

from flask_login import current_user
from marshmallow import Schema, fields

from traceability.api.spec import operation
from traceability.api.validators import Length, OneOf, Range
from traceability.registry.locations import create_location
from traceability.registry.models import LOCATION_KINDS
from traceability.registry.provinces import PROVINCES


class LocationInSchema(Schema):
    producer_id = fields.Integer()
    name = fields.String(required=True, validate=Length(min=1, max=300))
    kind = fields.String(required=True, validate=OneOf(LOCATION_KINDS))
    province_code = fields.String(validate=OneOf(list(PROVINCES)))
    ward = fields.String(validate=Length(max=200))
    address = fields.String(validate=Length(max=300))
    gln = fields.String(validate=Length(max=13), allow_none=True)
    latitude = fields.Float(validate=Range(-90, 90), allow_none=True, allow_nan=False)
    longitude = fields.Float(validate=Range(-180, 180), allow_none=True, allow_nan=False)


class LocationSchema(Schema):
    id = fields.Integer()
    producer_id = fields.Integer()
    name = fields.String()
    kind = fields.String()
    gln = fields.String(allow_none=True)
    trace_code = fields.String()
    province_code = fields.String()
    ward = fields.String()
    address = fields.String(attribute="street")
    latitude = fields.Float(allow_none=True)
    longitude = fields.Float(allow_none=True)


@operation(
    "/locations",
    "POST",
    summary="Add a farm, facility or warehouse",
    tag="registry",
    body=LocationInSchema,
    response=LocationSchema,
    status=201,
    errors=(403, 409, 422),
)
def locations_create(data: dict[str, Any]):
    return create_location(data, actor=current_user)
