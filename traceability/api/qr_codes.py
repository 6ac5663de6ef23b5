"""API: the QR codes of batches and serialised items, PNG and SVG."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields

from traceability.accounts.scope import get_scoped_or_404
from traceability.api.spec import operation
from traceability.api.validators import OneOf, Range
from traceability.batches.qr_images import (
    DEFAULT_PNG_PX,
    ERROR_CORRECTION_LEVELS,
    QR_MAX_PX,
    QR_MIN_PX,
    batch_qr_response,
    item_qr_response,
)
from traceability.models.batches import Batch, Item

_SIZE: dict[str, Any] = {
    "validate": Range(QR_MIN_PX, QR_MAX_PX),
    "metadata": {"description": "Width in pixels"},
}
_EC: dict[str, Any] = {
    "load_default": "M",
    "validate": OneOf(ERROR_CORRECTION_LEVELS),
    "metadata": {"description": "Error correction: M (15 %, the default) or H (30 %)"},
}


class QrQuerySchema(Schema):
    size = fields.Integer(load_default=DEFAULT_PNG_PX, **_SIZE)
    ec = fields.String(**_EC)


class SvgQuerySchema(Schema):
    size = fields.Integer(load_default=None, **_SIZE)
    ec = fields.String(**_EC)


@operation(
    "/batches/<int:batch_id>/qr.png",
    "GET",
    summary="The batch's QR code as PNG (strong ETag; If-None-Match answers 304)",
    tag="batches",
    query=QrQuerySchema,
    media_type="image/png",
    errors=(404, 422),
)
def batch_qr_png(batch_id: int, args: dict[str, Any]):
    return batch_qr_response(get_scoped_or_404(Batch, batch_id), "png", args["size"], args["ec"])


@operation(
    "/batches/<int:batch_id>/qr.svg",
    "GET",
    summary="The batch's QR code as SVG, for print (strong ETag; If-None-Match answers 304)",
    tag="batches",
    query=SvgQuerySchema,
    media_type="image/svg+xml",
    errors=(404, 422),
)
def batch_qr_svg(batch_id: int, args: dict[str, Any]):
    return batch_qr_response(get_scoped_or_404(Batch, batch_id), "svg", args["size"], args["ec"])


@operation(
    "/items/<int:item_id>/qr.png",
    "GET",
    summary="A serialised item's QR code as PNG (strong ETag; If-None-Match answers 304)",
    tag="batches",
    query=QrQuerySchema,
    media_type="image/png",
    errors=(404, 422),
)
def item_qr_png(item_id: int, args: dict[str, Any]):
    return item_qr_response(get_scoped_or_404(Item, item_id), "png", args["size"], args["ec"])


@operation(
    "/items/<int:item_id>/qr.svg",
    "GET",
    summary="A serialised item's QR code as SVG, for print (strong ETag; If-None-Match answers 304)",
    tag="batches",
    query=SvgQuerySchema,
    media_type="image/svg+xml",
    errors=(404, 422),
)
def item_qr_svg(item_id: int, args: dict[str, Any]):
    return item_qr_response(get_scoped_or_404(Item, item_id), "svg", args["size"], args["ec"])
