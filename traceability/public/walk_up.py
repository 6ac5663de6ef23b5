"""Walk-up: a product's page for a GTIN with no lot, or with a lot or serial nobody registered; the code field.

GS1's resolver rules say a resolver that does not know a key qualifier walks
up to the level it knows: ``/01/{gtin}/10/{unknown}`` answers the product's
page, with a notice that the code is not registered, rather than a dead end.
A product is public at this level when it has a GTIN and its producer is
approved (the directory's rule for producers; a pending, rejected or
suspended producer's products stay 404). A walk-up view is not a scan: no lot
was identified.

``lookup_path`` reads what a consumer types into the code field of the home
and 404 pages: a barcode number, the code printed under the QR code, a GS1
element string or a pasted link (a compressed Digital Link too).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload

from traceability.batches.service import by_public_code
from traceability.core.extensions import db
from traceability.gs1 import DigitalLink, DigitalLinkError, is_valid_gtin
from traceability.gs1.compression import expand
from traceability.models.registry import Producer, Product

GTIN_LENGTHS = (8, 12, 13, 14)
LOOKUP_MAX_LENGTH = 200
# "(01)08930000008885(10)MO-2611(21)Q7K2": a GS1 element string, as printed under a barcode.
ELEMENT_STRING = re.compile(r"^\(01\)(\d{14})(?:\(10\)([^()]+))?(?:\(21\)([^()]+))?$")
PUBLIC_CODE = re.compile(r"^[A-Z2-7]{8,32}$")


def walk_up_product(gtin14: str) -> Product | None:
    """The product with this GTIN-14 when its producer is approved; None when unknown or not public."""
    return db.session.scalar(
        select(Product)
        .join(Product.producer)
        .where(Product.gtin == gtin14, Producer.status == "approved")
        .options(joinedload(Product.producer).joinedload(Producer.centre), selectinload(Product.images))
    )


def product_uri(base_url: str, product: Product) -> str:
    """``{base}/01/{gtin14}``: the product's own Digital Link."""
    return f"{base_url.rstrip('/')}/01/{product.gtin}"


@dataclass(frozen=True)
class Lookup:
    """Where a typed code leads (``path``), or why it leads nowhere (``error``, with its HTTP status)."""

    path: str | None = None
    error: str | None = None
    status: int = 200


NOT_FOUND = _l("No product registered here has this code. Check it and try again.")


def lookup_path(text: str) -> Lookup:
    """The page for what a consumer typed: a barcode number, a QR code's printed code, a GS1 string, a link."""
    text = (text or "").strip()
    if not text:
        return Lookup(error=_l("Type the code printed under the QR code, or the barcode number."), status=400)
    if len(text) > LOOKUP_MAX_LENGTH:
        return Lookup(error=_l("This code is too long."), status=400)
    if "://" in text or text.startswith("/"):
        # A pasted link: only its path is kept, so the answer never leads to another site.
        path = urlsplit(text).path
        if path.startswith(("/01/", "/t/")):
            return Lookup(path=path)
        try:
            return Lookup(path=expand(path).path)  # a compressed Digital Link: its uncompressed page
        except DigitalLinkError:
            return Lookup(error=_l("This link is not a product code of this registry."), status=400)
    digits = re.sub(r"[\s.-]", "", text)
    if digits.isascii() and digits.isdigit():
        if len(digits) not in GTIN_LENGTHS:
            return Lookup(error=_l("A barcode number has 8, 12, 13 or 14 digits."), status=400)
        if not is_valid_gtin(digits):
            return Lookup(
                error=_l(
                    "This barcode number is not valid: check the digits (the last one is a check digit)."
                ),
                status=400,
            )
        if walk_up_product(digits.zfill(14)) is None:
            return Lookup(error=NOT_FOUND, status=404)
        return Lookup(path=f"/01/{digits.zfill(14)}")
    element = ELEMENT_STRING.match(re.sub(r"\s", "", text))
    if element:
        gtin, lot, serial = element.groups()
        if serial is not None and lot is None:
            return Lookup(error=_l("This code has a serial number but no lot."), status=400)
        try:
            path = DigitalLink(gtin=gtin, lot=lot, serial=serial).validate().path()
        except DigitalLinkError:
            return Lookup(error=_l("This GS1 code is not valid: check its digits and letters."), status=400)
        return Lookup(path=path)
    code = re.sub(r"\s", "", text).upper().removeprefix("T/")
    if PUBLIC_CODE.fullmatch(code) and by_public_code(code) is not None:
        return Lookup(path=f"/t/{code}")
    return Lookup(error=NOT_FOUND, status=404)
