"""API: products."""

from __future__ import annotations

from typing import Any

from flask_login import current_user
from marshmallow import Schema, fields
from sqlalchemy import select

from traceability.accounts.scope import get_scoped_or_404, scoped_select
from traceability.api.spec import operation, paginate
from traceability.api.validators import Length, OneOf, Range
from traceability.registry.models import OCOP_GROUPS, Producer, Product
from traceability.registry.products import create_product
from traceability.registry.provinces import PROVINCES


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
    query = scoped_select(Product).order_by(Product.id)
    if args.get("q"):
        query = query.where(Product.name.ilike(f"%{args['q']}%"))
    if args.get("province"):
        query = query.where(
            Product.producer_id.in_(select(Producer.id).where(Producer.province_code == args["province"]))
        )
    if args.get("ocop_stars"):
        query = query.where(Product.ocop_stars == args["ocop_stars"])
    return paginate(query, args)
