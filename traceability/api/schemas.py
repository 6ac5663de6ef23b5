"""Marshmallow schemas of the API's bodies and answers."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from flask import current_app
from flask_babel import gettext as _
from marshmallow import Schema, ValidationError, fields

from traceability.api.validators import Length, OneOf, Range
from traceability.batches.models import EVENT_TYPES
from traceability.batches.service import local_time, public_url, quantity_remaining, scan_count
from traceability.registry.models import LOCATION_KINDS, OCOP_GROUPS, PRODUCER_KINDS
from traceability.registry.provinces import PROVINCES


class QuantityField(fields.Decimal):
    """A quantity: a JSON number or numeric string in, a JSON number out."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(places=None, allow_nan=False, **kwargs)

    def _serialize(self, value: Any, attr: Any, obj: Any, **kwargs: Any) -> float | None:
        return None if value is None else float(value)

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> Decimal:
        if isinstance(value, bool):
            raise ValidationError(_("Not a valid number."))
        return super()._deserialize(value, attr, data, **kwargs)


class TokenRequestSchema(Schema):
    email = fields.String(required=True, validate=Length(max=254))
    password = fields.String(required=True, load_only=True, validate=Length(max=200))
    name = fields.String(validate=Length(max=100))


class TokenSchema(Schema):
    token = fields.String(required=True)
    expires_at = fields.AwareDateTime()


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


class OcopSchema(Schema):
    group = fields.String(required=True, validate=OneOf(OCOP_GROUPS))
    stars = fields.Integer(required=True, strict=True, validate=Range(3, 5))
    certificate_no = fields.String(validate=Length(max=100), allow_none=True)
    issued_on = fields.Date(allow_none=True)
    expires_on = fields.Date(allow_none=True)


class ShopLinkSchema(Schema):
    name = fields.String(required=True, validate=Length(min=1, max=100))
    url = fields.Url(required=True, schemes={"http", "https"})


class ProductInSchema(Schema):
    producer_id = fields.Integer()
    name = fields.String(required=True, validate=Length(min=1, max=300))
    name_en = fields.String(validate=Length(max=300), allow_none=True)
    description = fields.String(validate=Length(max=5000))
    category = fields.String(validate=Length(max=100))
    brand = fields.String(validate=Length(max=200))
    gtin = fields.String(validate=Length(max=14), allow_none=True)
    standards = fields.String(validate=Length(max=500))
    is_flagship = fields.Boolean()
    ocop = fields.Nested(OcopSchema, allow_none=True)
    shop_links = fields.List(fields.Nested(ShopLinkSchema), validate=Length(max=20))
    tech_origin = fields.String(validate=Length(max=500), allow_none=True)
    declared_revenue_vnd = fields.Integer(strict=True, validate=Range(0, 10**15), allow_none=True)


class ProductOcopSchema(Schema):
    group = fields.String(attribute="ocop_group")
    stars = fields.Integer(attribute="ocop_stars")
    certificate_no = fields.String(attribute="ocop_certificate_no", allow_none=True)
    issued_on = fields.Date(attribute="ocop_issued_on", allow_none=True)
    expires_on = fields.Date(attribute="ocop_expires_on", allow_none=True)


class ProductSchema(Schema):
    id = fields.Integer()
    producer_id = fields.Integer()
    name = fields.String()
    name_en = fields.String(allow_none=True)
    description = fields.String()
    category = fields.String()
    brand = fields.String()
    gtin = fields.String(allow_none=True)
    standards = fields.String()
    is_flagship = fields.Boolean()
    ocop = fields.Method("_ocop", allow_none=True, metadata={"type": "object", "nullable": True})
    shop_links = fields.List(fields.Nested(ShopLinkSchema))
    declared_revenue_vnd = fields.Integer(allow_none=True)

    def _ocop(self, product: Any) -> dict[str, Any] | None:
        return ProductOcopSchema().dump(product) if product.ocop_stars else None


class ProductQuerySchema(Schema):
    q = fields.String(validate=Length(max=100))
    province = fields.String(validate=OneOf(list(PROVINCES)))
    ocop_stars = fields.Integer(validate=Range(3, 5))
    page = fields.Integer(load_default=1, validate=Range(min=1))
    per_page = fields.Integer(load_default=20, validate=Range(1, 100))


class PageQuerySchema(Schema):
    page = fields.Integer(load_default=1, validate=Range(min=1))
    per_page = fields.Integer(load_default=20, validate=Range(1, 100))


class BatchInputSchema(Schema):
    batch_id = fields.Integer(required=True)
    quantity = QuantityField(required=True)


class BatchInSchema(Schema):
    product_id = fields.Integer(required=True)
    lot_code = fields.String(required=True, validate=Length(min=1, max=20))
    production_date = fields.Date(required=True)
    expiry_date = fields.Date(allow_none=True)
    quantity = QuantityField(required=True)
    unit = fields.String(required=True, validate=Length(min=2, max=3))
    location_id = fields.Integer(allow_none=True)


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

    def _public_url(self, batch: Any) -> str:
        return public_url(current_app.config["PUBLIC_BASE_URL"], batch)

    def _quantity_remaining(self, batch: Any) -> float:
        return float(quantity_remaining(batch))

    def _scan_count(self, batch: Any) -> int:
        return scan_count(batch)


class EventInSchema(Schema):
    type = fields.String(required=True, validate=OneOf(EVENT_TYPES))
    time = fields.AwareDateTime(required=True)
    location_id = fields.Integer(allow_none=True)
    quantity = QuantityField(allow_none=True)
    note = fields.String(validate=Length(max=2000))
    reference_type = fields.String(validate=Length(max=50), allow_none=True)
    reference = fields.String(validate=Length(max=100), allow_none=True)
    counterparty = fields.String(validate=Length(max=300), allow_none=True)


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

    def _time(self, event: Any) -> str:
        return local_time(event).isoformat()


class QrQuerySchema(Schema):
    size = fields.Integer(load_default=400, validate=Range(100, 2000))
    ec = fields.String(load_default="M", validate=OneOf(("M", "H")))
