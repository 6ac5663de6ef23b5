"""The registry's input contracts: producers, products and their claims, locations, certifications
and GTIN disputes.

One schema per operation, loaded by the API (``traceability/api/``) and by the
web form of the same operation (``traceability.http.forms.SchemaForm``); the
lengths come from the model columns (``core.contracts.text``).
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from marshmallow import Schema, fields

from traceability.core.contracts import IdField, Length, OneOf, Range, text, when_missing
from traceability.core.provinces import PROVINCES
from traceability.models.registry import (
    CERTIFICATION_SCOPES,
    CERTIFICATION_TYPES,
    GTIN_DISPUTE_OUTCOMES,
    LOCATION_KINDS,
    OCOP_GROUPS,
    PRODUCER_KINDS,
    Certification,
    GtinDispute,
    Location,
    Producer,
    Product,
)
from traceability.registry import certifications, gtin_disputes, producers, products

#: A product's description (a Text column).
MAX_DESCRIPTION_LENGTH = 5000
#: The largest yearly revenue a producer declares, in đồng.
MAX_REVENUE_VND = 10**15
LATITUDE_REFUSAL = _l("Latitude is a number between -90 and 90.")
LONGITUDE_REFUSAL = _l("Longitude is a number between -180 and 180.")


# Producers


class ProducerInSchema(Schema):
    """Registering a producer: ``POST /producers`` and the sign-up form."""

    name = text(Producer.name, required=True)
    kind = fields.String(required=True, validate=OneOf(PRODUCER_KINDS))
    tax_code = text(Producer.tax_code)
    province_code = fields.String(required=True, validate=OneOf(list(PROVINCES)))
    ward = text(Producer.ward)
    address = text(Producer.street)
    phone = text(Producer.phone)
    email = text(Producer.email)
    website = text(Producer.website)
    previous_province_code = fields.String(validate=OneOf(list(PROVINCES)), allow_none=True)
    previous_ward = text(Producer.previous_ward)
    previous_street = text(Producer.previous_street)


class ProducerUpdateSchema(Schema):
    """A profile change: only the fields sent change. The province cannot change here."""

    name = text(Producer.name, min_length=1)
    kind = fields.String(validate=OneOf(PRODUCER_KINDS))
    tax_code = text(Producer.tax_code)
    province_code = fields.String(validate=OneOf(list(PROVINCES)))
    ward = text(Producer.ward)
    address = text(Producer.street, attribute="street")
    phone = text(Producer.phone)
    email = text(Producer.email)
    website = text(Producer.website)
    previous_province_code = fields.String(validate=OneOf(list(PROVINCES)), allow_none=True)
    previous_ward = text(Producer.previous_ward)
    previous_street = text(Producer.previous_street)


class ReasonSchema(Schema):
    """Why the centre rejects or suspends a producer: the producer reads it."""

    reason = text(producers.MAX_REASON_LENGTH, required=True)


# Products and their claims


class OcopSchema(Schema):
    # The service's words for a missing group or stars.
    group = fields.String(
        required=True,
        validate=OneOf(OCOP_GROUPS),
        error_messages=when_missing(_l("Choose the OCOP group of the product.")),
    )
    stars = fields.Integer(
        required=True,
        strict=True,
        validate=Range(3, 5),
        error_messages=when_missing(_l("OCOP stars are 3, 4 or 5.")),
    )
    certificate_no = text(Certification.number, allow_none=True)
    issued_on = fields.Date(allow_none=True)
    expires_on = fields.Date(
        allow_none=True, metadata={"description": "36 months after issued_on when left out"}
    )


class ShopLinkSchema(Schema):
    name = text(products.MAX_SHOP_NAME_LENGTH)
    url = fields.Url(required=True, schemes={"http", "https"})
    price_vnd = fields.Integer(
        strict=True,
        validate=Range(1, products.MAX_PRICE_VND),
        allow_none=True,
        metadata={"description": "the shop's retail price in đồng; gives the page's schema.org Offer"},
    )


class ProductFieldsSchema(Schema):
    """The product's own fields, every one optional: what PATCH takes."""

    name = text(Product.name, min_length=1)
    name_en = text(Product.name_en)
    description = text(MAX_DESCRIPTION_LENGTH)
    category = text(Product.category)
    brand = text(Product.brand)
    gtin = text(
        Product.gtin,
        metadata={"description": "GTIN-8, -12, -13 or -14; stored and answered as 14 digits"},
    )
    standards = text(Product.standards, metadata={"description": "TCVN/QCVN codes"})
    is_flagship = fields.Boolean(
        metadata={
            "description": "declares a flagship product of the province, public once its centre verifies it"
        }
    )
    ocop = fields.Nested(
        OcopSchema,
        allow_none=True,
        metadata={
            "description": "declares the product's OCOP rating, public once its centre verifies it; "
            "null withdraws it"
        },
    )
    shop_links = fields.List(fields.Nested(ShopLinkSchema), validate=Length(max=products.MAX_SHOP_LINKS))
    tech_origin = text(Product.tech_origin)
    declared_revenue_vnd = fields.Integer(strict=True, validate=Range(0, MAX_REVENUE_VND), allow_none=True)


class ProductInSchema(ProductFieldsSchema):
    producer_id = IdField(metadata={"description": "a producer user's own producer when left out"})
    name = text(Product.name, required=True)


class ClaimRejectSchema(Schema):
    """Why the centre rejects a product's OCOP rating or flagship designation."""

    reason = text(certifications.MAX_REASON_LENGTH, required=True)


# Locations


class LocationFieldsSchema(Schema):
    """A location's own fields, every one optional: what PATCH takes."""

    name = text(Location.name, min_length=1)
    kind = fields.String(validate=OneOf(LOCATION_KINDS))
    province_code = fields.String(
        validate=OneOf(list(PROVINCES)), metadata={"description": "the producer's province when left out"}
    )
    ward = text(Location.ward)
    address = text(Location.street, metadata={"description": "street address or hamlet"})
    gln = text(Location.gln, metadata={"description": "13 digits with a correct check digit"})
    latitude = fields.Float(
        validate=Range(-90, 90, error=LATITUDE_REFUSAL),
        allow_none=True,
        allow_nan=False,
    )
    longitude = fields.Float(
        validate=Range(-180, 180, error=LONGITUDE_REFUSAL),
        allow_none=True,
        allow_nan=False,
    )


class LocationInSchema(LocationFieldsSchema):
    producer_id = IdField(metadata={"description": "a producer user's own producer when left out"})
    name = text(Location.name, required=True)
    kind = fields.String(required=True, validate=OneOf(LOCATION_KINDS))


# Certifications


class CertificationInSchema(Schema):
    scope = fields.String(required=True, validate=OneOf(CERTIFICATION_SCOPES))
    subject_id = IdField(strict=True, metadata={"description": "The producer, location or product id"})
    type = fields.String(required=True, validate=OneOf(CERTIFICATION_TYPES))
    number = text(Certification.number, required=True)
    issuer = text(Certification.issuer, required=True)
    valid_from = fields.Date(required=True)
    valid_to = fields.Date(required=True)


class RejectSchema(Schema):
    """Why the centre rejects a certification: the producer reads it."""

    reason = text(certifications.MAX_REASON_LENGTH, required=True)


# GTIN disputes


class GtinDisputeInSchema(Schema):
    gtin = text(GtinDispute.gtin, required=True)
    product_id = IdField(
        required=True,
        strict=True,
        metadata={
            "description": "The claimant's own product (without batches) that takes the GTIN if granted"
        },
    )
    gs1_membership_no = text(
        GtinDispute.gs1_membership_no, metadata={"description": "GS1 Vietnam membership certificate number"}
    )
    gs1_company_prefix = text(
        GtinDispute.gs1_company_prefix, metadata={"description": "GS1 company prefix the GTIN starts with"}
    )
    note = text(gtin_disputes.MAX_NOTE_LENGTH)


class DecideSchema(Schema):
    outcome = fields.String(required=True, validate=OneOf(GTIN_DISPUTE_OUTCOMES))
    reason = text(gtin_disputes.MAX_REASON_LENGTH, required=True)
