"""API v1 operations: tokens, producers, locations, products, batches, events, QR codes."""

from __future__ import annotations

from typing import Any

from flask import request
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, select

from traceability.accounts.scope import get_scoped_or_404, scoped_select
from traceability.accounts.service import authenticate, issue_token
from traceability.api import auth, schemas  # noqa: F401 - auth registers the token check
from traceability.api.errors import error_response
from traceability.api.spec import build_spec, operation
from traceability.batches.models import Batch, TraceEvent
from traceability.batches.routes import qr_png_response
from traceability.batches.service import create_batch, record_event
from traceability.extensions import db
from traceability.registry.models import Producer, Product
from traceability.registry.service import create_location, create_producer, create_product


def _page(query: Any, args: dict[str, Any]) -> tuple[list[Any], int, int, int]:
    page, per_page = args["page"], args["per_page"]
    total = db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    items = db.session.scalars(query.limit(per_page).offset((page - 1) * per_page)).all()
    return list(items), page, per_page, total or 0


@operation(
    "/tokens",
    "POST",
    summary="Exchange email and password for a bearer token",
    tag="auth",
    body=schemas.TokenRequestSchema,
    response=schemas.TokenSchema,
    status=201,
    auth=False,
    errors=(401,),
)
def create_token(data: dict[str, Any]):
    user = authenticate(data["email"], data["password"])
    if user is None:
        return error_response(401, _("Wrong email or password."))
    token, api_token = issue_token(user, name=data.get("name", ""))
    return {"token": token, "expires_at": api_token.expires_at}


@operation("/openapi.json", "GET", summary="This OpenAPI document", tag="meta", auth=False, errors=())
def openapi():
    return build_spec(request.url_root.rstrip("/") + "/api/v1")


@operation(
    "/producers",
    "POST",
    summary="Register a producer (approved when centre staff create it)",
    tag="registry",
    body=schemas.ProducerInSchema,
    response=schemas.ProducerSchema,
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
    response=schemas.ProducerSchema,
    errors=(404,),
)
def producers_get(producer_id: int):
    return get_scoped_or_404(Producer, producer_id)


@operation(
    "/locations",
    "POST",
    summary="Add a farm, facility or warehouse",
    tag="registry",
    body=schemas.LocationInSchema,
    response=schemas.LocationSchema,
    status=201,
    errors=(403, 409, 422),
)
def locations_create(data: dict[str, Any]):
    return create_location(data, actor=current_user)


@operation(
    "/products",
    "POST",
    summary="Register a product",
    tag="registry",
    body=schemas.ProductInSchema,
    response=schemas.ProductSchema,
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
    response=schemas.ProductSchema,
    errors=(404,),
)
def products_get(product_id: int):
    return get_scoped_or_404(Product, product_id)


@operation(
    "/products",
    "GET",
    summary="Products the caller may see, searchable",
    tag="registry",
    query=schemas.ProductQuerySchema,
    response=schemas.ProductSchema,
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
    return _page(query, args)


@operation(
    "/batches",
    "POST",
    summary="Register a production batch (lot)",
    tag="batches",
    body=schemas.BatchInSchema,
    response=schemas.BatchSchema,
    status=201,
    errors=(403, 409, 422),
)
def batches_create(data: dict[str, Any]):
    return create_batch(data, actor=current_user)


@operation(
    "/batches",
    "GET",
    summary="Batches the caller may see",
    tag="batches",
    query=schemas.PageQuerySchema,
    response=schemas.BatchSchema,
    paginated=True,
    errors=(422,),
)
def batches_list(args: dict[str, Any]):
    return _page(scoped_select(Batch).order_by(Batch.id), args)


@operation(
    "/batches/<int:batch_id>",
    "GET",
    summary="A batch, with its public URL and what remains",
    tag="batches",
    response=schemas.BatchSchema,
    errors=(404,),
)
def batches_get(batch_id: int):
    return get_scoped_or_404(Batch, batch_id)


@operation(
    "/batches/<int:batch_id>/events",
    "POST",
    summary="Record a key tracking event",
    tag="batches",
    body=schemas.EventInSchema,
    response=schemas.EventSchema,
    status=201,
    errors=(403, 404, 422),
)
def batch_events_create(batch_id: int, data: dict[str, Any]):
    return record_event(get_scoped_or_404(Batch, batch_id), data, actor=current_user)


@operation(
    "/batches/<int:batch_id>/events",
    "GET",
    summary="A batch's key tracking events in time order",
    tag="batches",
    query=schemas.PageQuerySchema,
    response=schemas.EventSchema,
    paginated=True,
    errors=(404, 422),
)
def batch_events_list(batch_id: int, args: dict[str, Any]):
    batch = get_scoped_or_404(Batch, batch_id)
    query = (
        select(TraceEvent)
        .where(TraceEvent.batch_id == batch.id)
        .order_by(TraceEvent.event_time, TraceEvent.id)
    )
    return _page(query, args)


@operation(
    "/batches/<int:batch_id>/qr.png",
    "GET",
    summary="The batch's QR code as PNG",
    tag="batches",
    query=schemas.QrQuerySchema,
    media_type="image/png",
    errors=(404, 422),
)
def batch_qr_png(batch_id: int, args: dict[str, Any]):
    return qr_png_response(get_scoped_or_404(Batch, batch_id))
