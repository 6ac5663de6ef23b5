"""API: locations (farms, facilities, warehouses)."""

from __future__ import annotations

from typing import Any

from flask_login import current_user
from marshmallow import Schema, fields

from traceability.accounts.scope import get_scoped_or_404
from traceability.api.schemas import IdField, PageQuerySchema
from traceability.api.spec import operation, paginate
from traceability.models.registry import Location
from traceability.registry.contracts import LocationFieldsSchema, LocationInSchema
from traceability.registry.locations import create_location, list_locations, update_location


class LocationSchema(Schema):
    id = fields.Integer()
    producer_id = fields.Integer()
    name = fields.String()
    kind = fields.String()
    gln = fields.String(allow_none=True)
    trace_code = fields.String(metadata={"description": "the GLN when there is one, else an internal code"})
    province_code = fields.String()
    ward = fields.String()
    address = fields.String(attribute="street")
    latitude = fields.Float(allow_none=True)
    longitude = fields.Float(allow_none=True)


class LocationQuerySchema(PageQuerySchema):
    producer_id = IdField()


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


@operation(
    "/locations",
    "GET",
    summary="Locations the caller may see, of one producer when producer_id is given",
    tag="registry",
    query=LocationQuerySchema,
    response=LocationSchema,
    paginated=True,
    errors=(422,),
)
def locations_list(args: dict[str, Any]):
    return paginate(list_locations(args.get("producer_id")), args)


@operation(
    "/locations/<int:location_id>",
    "GET",
    summary="A location",
    tag="registry",
    response=LocationSchema,
    errors=(404,),
)
def locations_get(location_id: int):
    return get_scoped_or_404(Location, location_id)


@operation(
    "/locations/<int:location_id>",
    "PATCH",
    summary="Change a location: only the fields given change",
    tag="registry",
    body=LocationFieldsSchema,
    response=LocationSchema,
    errors=(403, 404, 409, 422),
)
def locations_update(location_id: int, data: dict[str, Any]):
    return update_location(get_scoped_or_404(Location, location_id), data, actor=current_user)
