"""Registering products: GTIN, OCOP data, flagship flag."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from traceability.accounts.models import User
from traceability.accounts.scope import writable_producer
from traceability.audit.service import record_audit
from traceability.errors import Conflict, InvalidInput
from traceability.extensions import db
from traceability.gs1 import normalise_gtin
from traceability.registry.models import OCOP_GROUPS, Product
from traceability.registry.validation import require


def _ocop_fields(ocop: dict[str, Any] | None, errors: dict[str, Any]) -> dict[str, Any]:
    if not ocop:
        return {}
    group, stars = ocop.get("group"), ocop.get("stars")
    if group not in OCOP_GROUPS:
        errors["ocop.group"] = _l("OCOP group must be one of: %(groups)s.", groups=", ".join(OCOP_GROUPS))
    if not isinstance(stars, int) or not 3 <= stars <= 5:
        errors["ocop.stars"] = _l("OCOP stars are 3, 4 or 5.")
    issued, expires = ocop.get("issued_on"), ocop.get("expires_on")
    if issued and expires and expires <= issued:
        errors["ocop.expires_on"] = _l("The expiry date must be after the issue date.")
    if issued and not expires:
        # An OCOP certificate is valid 36 months (Decision 148/QĐ-TTg).
        try:
            expires = issued.replace(year=issued.year + 3)
        except ValueError:  # 29 February
            expires = issued.replace(year=issued.year + 3, day=28)
    return {
        "ocop_group": group,
        "ocop_stars": stars,
        "ocop_level": "central" if stars == 5 else "province",
        "ocop_certificate_no": ocop.get("certificate_no"),
        "ocop_issued_on": issued,
        "ocop_expires_on": expires,
    }


def create_product(data: dict[str, Any], *, actor: User) -> Product:
    """Register a product of a producer, with its GTIN (stored as 14 digits) and OCOP data."""
    producer = writable_producer(data.get("producer_id"), actor)
    errors: dict[str, Any] = {}
    require(data, errors, "name")
    gtin = (data.get("gtin") or "").strip() or None
    if gtin:
        try:
            gtin = normalise_gtin(gtin)
        except ValueError:
            errors["gtin"] = _l("A GTIN has 8, 12, 13 or 14 digits and a correct check digit.")
    ocop = _ocop_fields(data.get("ocop"), errors)
    revenue = data.get("declared_revenue_vnd")
    if revenue is not None and revenue < 0:
        errors["declared_revenue_vnd"] = _l("Revenue cannot be negative.")
    if errors:
        raise InvalidInput(_l("The product could not be saved."), errors)
    if gtin and db.session.scalar(select(Product.id).where(Product.gtin == gtin)):
        raise Conflict(_l("Another product already has this GTIN."), {"gtin": _l("Already registered.")})
    product = Product(
        producer_id=producer.id,
        name=data["name"].strip(),
        name_en=(data.get("name_en") or "").strip() or None,
        description=(data.get("description") or "").strip(),
        category=(data.get("category") or "").strip(),
        brand=(data.get("brand") or "").strip(),
        gtin=gtin,
        standards=(data.get("standards") or "").strip(),
        is_flagship=bool(data.get("is_flagship")),
        shop_links=list(data.get("shop_links") or []),
        tech_origin=(data.get("tech_origin") or "").strip() or None,
        declared_revenue_vnd=revenue,
        **ocop,
    )
    db.session.add(product)
    db.session.flush()
    record_audit("create", product, actor=actor, producer_id=producer.id, centre_id=producer.centre_id)
    return product
