"""API: products, their search and their images."""

from __future__ import annotations

from typing import Any

from flask import current_app, request, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from marshmallow import Schema, fields
from sqlalchemy.orm import selectinload

from traceability.accounts.scope import get_scoped_or_404
from traceability.api.schemas import IdField, PageQuerySchema
from traceability.api.spec import operation, paginate
from traceability.api.validators import Length, OneOf, Range
from traceability.core.contracts import MAX_SEARCH_LENGTH
from traceability.core.dates import vietnam_today
from traceability.core.errors import InvalidInput
from traceability.core.provinces import PROVINCES
from traceability.models.registry import OCOP_GROUPS, Product
from traceability.registry.claims import CLAIM_STATES, claim_state, loaded_claim
from traceability.registry.contracts import (
    ClaimRejectSchema,
    ProductFieldsSchema,
    ProductInSchema,
    ShopLinkSchema,
)
from traceability.registry.product_claims import reject_claim, verify_claim
from traceability.registry.product_images import add_product_image
from traceability.registry.products import create_product, search_products, update_product


class ProductOcopSchema(Schema):
    """The product's latest OCOP claim, with its state: only a verified one is ever public."""

    certification_id = fields.Integer(
        attribute="id",
        metadata={
            "description": "the claim's certification: attach the OCOP decision at /certifications/{id}/document"
        },
    )
    group = fields.String(attribute="claim_ocop_group")
    stars = fields.Integer(attribute="claim_ocop_stars")
    level = fields.Method(
        "_level", metadata={"type": "string", "description": "province (3-4 stars) or central (5 stars)"}
    )
    certificate_no = fields.Method("_number", metadata={"type": "string", "nullable": True})
    issued_on = fields.Date(attribute="valid_from", allow_none=True)
    expires_on = fields.Date(attribute="valid_to", allow_none=True)
    status = fields.Method(
        "_status",
        metadata={"type": "string", "enum": list(CLAIM_STATES), "description": "only verified is public"},
    )
    status_reason = fields.String(allow_none=True, metadata={"description": "why the centre rejected it"})

    def _level(self, claim: Any) -> str:
        return "central" if claim.claim_ocop_stars == 5 else "province"

    def _number(self, claim: Any) -> str | None:
        return claim.number or None

    def _status(self, claim: Any) -> str:
        return claim_state(claim, vietnam_today())


class ProductImageSchema(Schema):
    id = fields.Integer()
    product_id = fields.Integer()
    position = fields.Integer(metadata={"description": "0 is the main image"})
    width = fields.Integer()
    height = fields.Integer()
    sha256 = fields.String(metadata={"description": "of the uploaded file"})
    url = fields.Method("_url", metadata={"type": "string", "format": "uri"})
    thumbnail_url = fields.Method("_thumbnail_url", metadata={"type": "string", "format": "uri"})

    def _url(self, image: Any) -> str:
        return url_for("public.media", name=image.filename, _external=True)

    def _thumbnail_url(self, image: Any) -> str:
        return url_for("public.media", name=image.thumbnail_filename, _external=True)


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
    is_flagship = fields.Method(
        "_is_flagship",
        metadata={"type": "boolean", "description": "a verified flagship designation in force"},
    )
    flagship_status = fields.Method(
        "_flagship_status",
        allow_none=True,
        metadata={
            "type": "string",
            "nullable": True,
            "enum": [*CLAIM_STATES, None],
            "description": "the state of the latest flagship claim; null when none was declared",
        },
    )
    ocop = fields.Method(
        "_ocop",
        allow_none=True,
        metadata={
            "type": "object",
            "nullable": True,
            "description": "the latest OCOP claim and its status; null when none was declared",
        },
    )
    shop_links = fields.List(fields.Nested(ShopLinkSchema))
    tech_origin = fields.String(allow_none=True)
    declared_revenue_vnd = fields.Integer(allow_none=True)
    images = fields.List(fields.Nested(ProductImageSchema))

    def _ocop(self, product: Any) -> dict[str, Any] | None:
        claim = loaded_claim(product, "ocop")
        return ProductOcopSchema().dump(claim) if claim is not None else None

    def _is_flagship(self, product: Any) -> bool:
        return product.flagship_on(vietnam_today())

    def _flagship_status(self, product: Any) -> str | None:
        claim = loaded_claim(product, "flagship")
        return claim_state(claim, vietnam_today()) if claim is not None else None


class ProductQuerySchema(PageQuerySchema):
    q = fields.String(
        validate=Length(max=MAX_SEARCH_LENGTH),
        metadata={
            "description": "words of the name, English name, brand, category or GTIN; "
            "diacritics and case are ignored"
        },
    )
    province = fields.String(validate=OneOf(list(PROVINCES)))
    producer_id = IdField()
    ocop_group = fields.String(validate=OneOf(OCOP_GROUPS))
    ocop_stars = fields.Integer(validate=Range(3, 5))
    flagship = fields.Boolean()


@operation(
    "/products",
    "POST",
    summary="Register a product",
    tag="registry",
    body=ProductInSchema,
    response=ProductSchema,
    status=201,
    errors=(403, 409, 422),
)
def products_create(data: dict[str, Any]):
    return create_product(data, actor=current_user)


@operation(
    "/products/<int:product_id>",
    "GET",
    summary="A product",
    tag="registry",
    response=ProductSchema,
    errors=(404,),
)
def products_get(product_id: int):
    return get_scoped_or_404(Product, product_id)


@operation(
    "/products/<int:product_id>",
    "PATCH",
    summary="Change a product: only the fields given change; the GTIN is fixed once it has batches",
    tag="registry",
    body=ProductFieldsSchema,
    response=ProductSchema,
    errors=(403, 404, 409, 422),
)
def products_update(product_id: int, data: dict[str, Any]):
    return update_product(get_scoped_or_404(Product, product_id), data, actor=current_user)


@operation(
    "/products",
    "GET",
    summary="Products the caller may see, searchable",
    tag="registry",
    query=ProductQuerySchema,
    response=ProductSchema,
    paginated=True,
    errors=(422,),
)
def products_list(args: dict[str, Any]):
    filters = {name: args.get(name) for name in ("q", "province", "producer_id", "ocop_group", "ocop_stars")}
    query = search_products(**filters, flagship=args.get("flagship")).options(
        selectinload(Product.images), selectinload(Product.claims)
    )
    return paginate(query, args)


@operation(
    "/products/<int:product_id>/images",
    "POST",
    summary="Add a product image: send multipart/form-data with the PNG, JPEG or WebP file in the "
    "field `file` (at most MAX_IMAGE_BYTES, 40 megapixels, 16 for PNG or WebP)",
    tag="registry",
    response=ProductImageSchema,
    status=201,
    errors=(403, 404, 413, 422),
)
def product_images_create(product_id: int):
    product = get_scoped_or_404(Product, product_id)
    upload = request.files.get("file")
    if upload is None:
        raise InvalidInput(
            _l("Send the image as multipart/form-data in the field file."),
            {"file": _l("Choose an image file.")},
        )
    # One byte over the limit is enough to refuse it; no need to read the rest.
    data = upload.read(current_app.config["MAX_IMAGE_BYTES"] + 1)
    return add_product_image(product, data, actor=current_user)


@operation(
    "/products/<int:product_id>/ocop/verify",
    "POST",
    summary="Verify the product's declared OCOP rating against its decision (staff of the producer's centre)",
    tag="registry",
    response=ProductSchema,
    errors=(403, 404, 409),
)
def products_ocop_verify(product_id: int):
    product = get_scoped_or_404(Product, product_id)
    verify_claim(product, "ocop", actor=current_user)
    return product


@operation(
    "/products/<int:product_id>/ocop/reject",
    "POST",
    summary="Reject the product's declared OCOP rating, with a reason the producer sees",
    tag="registry",
    body=ClaimRejectSchema,
    response=ProductSchema,
    errors=(403, 404, 409, 422),
)
def products_ocop_reject(product_id: int, data: dict[str, Any]):
    product = get_scoped_or_404(Product, product_id)
    reject_claim(product, "ocop", data["reason"], actor=current_user)
    return product


@operation(
    "/products/<int:product_id>/flagship/verify",
    "POST",
    summary="Verify the product's declared flagship designation (staff of the producer's centre)",
    tag="registry",
    response=ProductSchema,
    errors=(403, 404, 409),
)
def products_flagship_verify(product_id: int):
    product = get_scoped_or_404(Product, product_id)
    verify_claim(product, "flagship", actor=current_user)
    return product


@operation(
    "/products/<int:product_id>/flagship/reject",
    "POST",
    summary="Reject the product's declared flagship designation, with a reason the producer sees",
    tag="registry",
    body=ClaimRejectSchema,
    response=ProductSchema,
    errors=(403, 404, 409, 422),
)
def products_flagship_reject(product_id: int, data: dict[str, Any]):
    product = get_scoped_or_404(Product, product_id)
    reject_claim(product, "flagship", data["reason"], actor=current_user)
    return product
