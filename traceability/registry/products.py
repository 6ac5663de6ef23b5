"""Registering products: GTIN, standards, shop links, their OCOP and flagship claims; finding them."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, exists, select

from traceability.accounts.scope import scoped_select, writable_producer
from traceability.audit.service import record_audit, snapshot
from traceability.core.errors import Conflict, InvalidInput
from traceability.core.extensions import db
from traceability.core.text import like_pattern, parse_vnd
from traceability.gs1 import normalise_gtin
from traceability.models.accounts import User
from traceability.models.batches import Batch
from traceability.models.registry import Producer, Product
from traceability.registry.product_claims import declare_flagship, declare_ocop, ocop_claim_values
from traceability.registry.validation import optional_text, text

MAX_SHOP_LINKS = 10
MAX_SHOP_NAME_LENGTH = 100
MAX_SHOP_URL_LENGTH = 500
MAX_PRICE_VND = 10**12  # a thousand billion đồng: far above any retail price, within every integer type
# Standards are listed one after another, separated by commas, semicolons or new lines.
STANDARD_SEPARATORS = re.compile(r"[,;\n]")


def _gtin(value: Any, errors: dict[str, Any]) -> str | None:
    code = (value or "").strip()
    if not code:
        return None
    try:
        return normalise_gtin(code)
    except ValueError:
        errors["gtin"] = _l("A GTIN has 8, 12, 13 or 14 digits and a correct check digit.")
        return None


def _standards(value: Any, errors: dict[str, Any]) -> str:
    """The standards one after another, trimmed, without repeats: "TCVN 5250:2015, QCVN 8-2:2011/BYT"."""
    codes: list[str] = []
    for part in STANDARD_SEPARATORS.split(value or ""):
        code = " ".join(part.split())
        if code and code.casefold() not in {c.casefold() for c in codes}:
            codes.append(code)
    joined = ", ".join(codes)
    if len(joined) > 500:
        errors["standards"] = _l("At most 500 characters of standards.")
    return joined


def _is_web_address(url: str) -> bool:
    """An http or https address with a host: never javascript:, data: or the like."""
    try:
        parts = urlsplit(url)
    except ValueError:  # an unbalanced [ in the host, say
        return False
    return (
        parts.scheme.lower() in ("http", "https")
        and bool(parts.hostname)
        and not any(c.isspace() for c in url)
    )


def _shop_links(links: Any, errors: dict[str, Any]) -> list[dict[str, Any]]:
    """Shop links as [{name, url, price_vnd?}]: web addresses only (http or https), named
    by their site if unnamed, with the shop's retail price in đồng when one is given."""
    cleaned, problems = [], []
    for number, link in enumerate(links or [], start=1):
        name = " ".join(str(link.get("name") or "").split())
        url = str(link.get("url") or "").strip()
        price = link.get("price_vnd")
        price_vnd = None if price in (None, "") else parse_vnd(price)
        if not _is_web_address(url):
            problems.append(_l("Link %(n)s: the address must start with http:// or https://.", n=number))
        elif len(url) > MAX_SHOP_URL_LENGTH or len(name) > MAX_SHOP_NAME_LENGTH:
            problems.append(_l("Link %(n)s is too long.", n=number))
        elif price not in (None, "") and (price_vnd is None or not 0 < price_vnd <= MAX_PRICE_VND):
            problems.append(
                _l("Link %(n)s: the price must be a whole number of đồng, such as 185.000.", n=number)
            )
        else:
            cleaned.append(
                {"name": name or urlsplit(url).hostname, "url": url}
                | ({"price_vnd": price_vnd} if price_vnd is not None else {})
            )
    if len(cleaned) + len(problems) > MAX_SHOP_LINKS:
        problems.append(_l("At most %(n)s shop links.", n=MAX_SHOP_LINKS))
    if problems:
        errors["shop_links"] = " ".join(str(problem) for problem in problems)
    return cleaned


def _product_values(data: dict[str, Any], errors: dict[str, Any]) -> dict[str, Any]:
    """The cleaned columns for the fields present in ``data`` (a partial update gives only some)."""
    values: dict[str, Any] = {}
    if "name" in data:
        values["name"] = text(data, "name")
        if not values["name"]:
            errors["name"] = _l("This field is required.")
    for name in ("description", "category", "brand"):
        if name in data:
            values[name] = text(data, name)
    for name in ("name_en", "tech_origin"):
        if name in data:
            values[name] = optional_text(data, name)
    if "gtin" in data:
        values["gtin"] = _gtin(data["gtin"], errors)
    if "standards" in data:
        values["standards"] = _standards(data["standards"], errors)
    if "shop_links" in data:
        values["shop_links"] = _shop_links(data["shop_links"], errors)
    if "declared_revenue_vnd" in data:
        revenue = data["declared_revenue_vnd"]
        if revenue is not None and revenue < 0:
            errors["declared_revenue_vnd"] = _l("Revenue cannot be negative.")
        values["declared_revenue_vnd"] = revenue
    if data.get("ocop"):
        ocop_claim_values(data["ocop"], errors)  # checked with the rest; recorded as a claim
    return values


def _declare_claims(product: Product, data: dict[str, Any], actor: User) -> None:
    """The OCOP rating and flagship designation in ``data`` become claims for the centre to verify."""
    if "ocop" in data:
        declare_ocop(product, data["ocop"], actor=actor)
    if "is_flagship" in data:
        declare_flagship(product, bool(data["is_flagship"]), actor=actor)


class GtinHeld(Conflict):
    """The GTIN is held by another producer's product: the web form offers to dispute it."""

    def __init__(self, message: Any, fields: dict[str, Any], *, gtin: str) -> None:
        super().__init__(message, fields)
        self.gtin = gtin


def _check_gtin_is_free(gtin: str | None, producer: Producer, product: Product | None = None) -> None:
    """Refuse a GTIN another product holds; another producer's can be disputed (see gtin_disputes)."""
    if not gtin:
        return
    query = select(Product.producer_id).where(Product.gtin == gtin)
    if product is not None:
        query = query.where(Product.id != product.id)
    holder_producer_id = db.session.scalar(query)
    if holder_producer_id is None:
        return
    if holder_producer_id == producer.id:
        raise Conflict(
            _l("Another of your products already has this GTIN."), {"gtin": _l("Already registered.")}
        )
    raise GtinHeld(
        _l(
            "This GTIN is held by another producer's product. If the GTIN is yours, save the product "
            "without it and open a GTIN dispute with your GS1 Vietnam evidence: the centre decides."
        ),
        {"gtin": _l("Held by another producer: open a GTIN dispute.")},
        gtin=gtin,
    )


def create_product(data: dict[str, Any], *, actor: User) -> Product:
    """Register a product of a producer, with its GTIN (stored as 14 digits); OCOP and flagship are claims."""
    producer = writable_producer(data.get("producer_id"), actor)
    errors: dict[str, Any] = {}
    values = _product_values({"name": None, **data}, errors)
    if errors:
        raise InvalidInput(_l("The product could not be saved."), errors)
    _check_gtin_is_free(values.get("gtin"), producer)
    product = Product(producer_id=producer.id, **values)
    product.producer = producer
    db.session.add(product)
    db.session.flush()
    record_audit("create", product, actor=actor, producer_id=producer.id, centre_id=producer.centre_id)
    _declare_claims(product, data, actor)
    return product


def update_product(product: Product, data: dict[str, Any], *, actor: User) -> Product:
    """Change the fields given in ``data``; the GTIN stays once batches carry it in their QR codes."""
    producer = writable_producer(product.producer_id, actor)
    errors: dict[str, Any] = {}
    values = _product_values({key: value for key, value in data.items() if key != "producer_id"}, errors)
    if errors:
        raise InvalidInput(_l("The product could not be saved."), errors)
    if "gtin" in values and values["gtin"] != product.gtin:
        if db.session.scalar(select(exists().where(Batch.product_id == product.id))):
            raise Conflict(
                _l("The GTIN cannot change once the product has batches: their printed QR codes carry it."),
                {"gtin": _l("Keep %(gtin)s: batches already carry it.", gtin=product.gtin or "-")},
            )
        _check_gtin_is_free(values["gtin"], producer, product)
    before = snapshot(product)
    for name, value in values.items():
        setattr(product, name, value)
    db.session.flush()
    if snapshot(product) != before:
        record_audit(
            "update",
            product,
            before=before,
            actor=actor,
            producer_id=producer.id,
            centre_id=producer.centre_id,
        )
    _declare_claims(product, data, actor)
    return product


def search_products(
    *,
    q: str | None = None,
    province: str | None = None,
    ocop_group: str | None = None,
    ocop_stars: int | None = None,
    flagship: bool | None = None,
    producer_id: int | None = None,
) -> Select:
    """The caller's products matching the filters; ``q`` ignores diacritics and case ("ca phe" finds "Cà phê")."""
    query = scoped_select(Product)
    if q and q.strip():
        query = query.where(Product.search_text.like(like_pattern(q), escape="\\"))
    if province:
        query = query.where(
            Product.producer_id.in_(select(Producer.id).where(Producer.province_code == province))
        )
    if ocop_group:
        query = query.where(Product.ocop_group == ocop_group)
    if ocop_stars:
        query = query.where(Product.ocop_stars == ocop_stars)
    if flagship is not None:
        query = query.where(Product.is_flagship == flagship)
    if producer_id:
        query = query.where(Product.producer_id == producer_id)
    return query.order_by(Product.name, Product.id)
