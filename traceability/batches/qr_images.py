"""QR code downloads of batches and items: the options, the image and its caching headers.

An image is fully determined by the public URL it encodes and its options:
a batch's URL never changes (the GTIN is fixed once a product has batches,
the lot code and the short code are fixed), nor an item's. So the answer
carries a strong ETag (a hash of the URL, the format and the options) and a
year's lifetime; a browser that asks again with If-None-Match gets 304
without the image being drawn. The lifetime is ``private``: the downloads
sit behind a sign-in, and a shared cache must not hand them to others.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from flask import Response, abort, current_app, request
from flask_babel import gettext as _

from traceability.batches.service import item_public_url, public_url
from traceability.labels.qr import QrSizeError, image_tag, qr_png, qr_svg

if TYPE_CHECKING:
    from traceability.models.batches import Batch, Item

QR_MIN_PX, QR_MAX_PX = 100, 2000
DEFAULT_PNG_PX = 400
ERROR_CORRECTION_LEVELS = ("M", "H")
MEDIA_TYPES = {"png": "image/png", "svg": "image/svg+xml"}
CACHE_CONTROL = "private, max-age=31536000, immutable"


def qr_options_from_query(image_format: str) -> tuple[int | None, str]:
    """``?size=`` (pixels) and ``?ec=`` (M or H) of a web request; 400 saying what to fix otherwise."""
    size: int | None = DEFAULT_PNG_PX if image_format == "png" else None
    if "size" in request.args:
        text = request.args["size"].strip()
        if not (text.isascii() and text.isdigit()):
            abort(400, _("Size must be a whole number of pixels."))
        digits = text.lstrip("0") or "0"
        # More digits than any allowed size is out of range; int() would refuse 4300 of them.
        size = int(digits) if len(digits) <= len(str(QR_MAX_PX)) else QR_MAX_PX + 1
    if size is not None and not QR_MIN_PX <= size <= QR_MAX_PX:
        abort(400, _("Size must be between %(min)d and %(max)d pixels.", min=QR_MIN_PX, max=QR_MAX_PX))
    error_correction = request.args.get("ec", default="M").upper()
    if error_correction not in ERROR_CORRECTION_LEVELS:
        abort(400, _("Error correction must be M or H."))
    return size, error_correction


def qr_response(
    url: str, image_format: str, filename_stem: str, *, size_px: int | None, error_correction: str
) -> Response:
    """The QR image of ``url`` with a strong ETag, a long private lifetime, and 304 when unchanged."""
    tag = image_tag(url, image_format, size_px=size_px, error_correction=error_correction)
    if request.if_none_match.contains(tag):
        response = Response(status=304)
    else:
        try:
            if image_format == "png":
                image = qr_png(url, size_px=size_px or DEFAULT_PNG_PX, error_correction=error_correction)
            else:
                image = qr_svg(url, size_px=size_px, error_correction=error_correction)
        except QrSizeError as error:
            abort(400, _("This code needs at least %(min)d pixels.", min=error.minimum_px))
        response = Response(image, mimetype=MEDIA_TYPES[image_format])
        filename = re.sub(r"[^A-Za-z0-9._-]", "_", f"{filename_stem}.{image_format}")
        response.headers["Content-Disposition"] = f'inline; filename="{filename}"'
    response.set_etag(tag)
    response.headers["Cache-Control"] = CACHE_CONTROL
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def batch_qr_response(
    batch: Batch, image_format: str, size_px: int | None, error_correction: str
) -> Response:
    """The QR image of the batch's public URL (the web pages and the API share it)."""
    return qr_response(
        public_url(current_app.config["PUBLIC_BASE_URL"], batch),
        image_format,
        f"qr-{batch.product_id}-{batch.lot_code}",
        size_px=size_px,
        error_correction=error_correction,
    )


def item_qr_response(item: Item, image_format: str, size_px: int | None, error_correction: str) -> Response:
    """The QR image of a serialised item's public URL (the web pages and the API share it)."""
    return qr_response(
        item_public_url(current_app.config["PUBLIC_BASE_URL"], item),
        image_format,
        f"qr-{item.batch.product_id}-{item.batch.lot_code}-{item.serial}",
        size_px=size_px,
        error_correction=error_correction,
    )
