"""Registering centres, producers, locations and products."""

from __future__ import annotations

import re
import secrets
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from traceability.accounts.models import User
from traceability.accounts.scope import writable_producer
from traceability.audit.service import record_audit
from traceability.errors import Conflict, Forbidden, InvalidInput
from traceability.extensions import db
from traceability.gs1 import is_valid_gln, normalise_gtin
from traceability.registry.models import (
    LOCATION_KINDS,
    OCOP_GROUPS,
    PRODUCER_KINDS,
    Centre,
    Location,
    Producer,
    Product,
)
from traceability.registry.provinces import PROVINCES

# Vietnamese tax codes (MST): 10 digits, or 10 digits, a dash and 3 for a branch.
TAX_CODE_PATTERN = re.compile(r"^\d{10}(-\d{3})?$")


def _require(data: dict[str, Any], errors: dict[str, Any], *names: str) -> None:
    for name in names:
        value = data.get(name)
        if value is None or (isinstance(value, str) and not value.strip()):
            errors[name] = _l("This field is required.")


def _check_province(code: Any, errors: dict[str, Any], field: str = "province_code") -> None:
    if code is not None and code not in PROVINCES:
        errors[field] = _l("Unknown province code.")


def create_centre(*, province_code: str, name: str, actor: User | None = None, **contact: str) -> Centre:
    """Create the centre of a province (one per province)."""
    errors: dict[str, Any] = {}
    _check_province(province_code, errors)
    if not name.strip():
        errors["name"] = _l("This field is required.")
    if errors:
        raise InvalidInput(_l("The centre could not be created."), errors)
    if db.session.scalar(select(Centre.id).where(Centre.province_code == province_code)):
        raise Conflict(
            _l("This province already has a centre."), {"province_code": _l("Already has a centre.")}
        )
    centre = Centre(province_code=province_code, name=name.strip(), **contact)
    db.session.add(centre)
    db.session.flush()
    record_audit("create", centre, actor=actor, centre_id=centre.id)
    return centre


def centre_for_province(province_code: str) -> Centre | None:
    return db.session.scalar(select(Centre).where(Centre.province_code == province_code))


def create_producer(data: dict[str, Any], *, actor: User | None) -> Producer:
    """Register a producer: approved when centre staff create it, pending on sign-up."""
    errors: dict[str, Any] = {}
    _require(data, errors, "name", "kind", "province_code")
    if data.get("kind") and data["kind"] not in PRODUCER_KINDS:
        errors["kind"] = _l("Kind must be one of: %(kinds)s.", kinds=", ".join(PRODUCER_KINDS))
    _check_province(data.get("province_code"), errors)
    _check_province(data.get("previous_province_code"), errors, "previous_province_code")
    tax_code = (data.get("tax_code") or "").strip() or None
    if tax_code and not TAX_CODE_PATTERN.fullmatch(tax_code):
        errors["tax_code"] = _l("A tax code has 10 digits, or 10 digits, a dash and 3 digits.")
    if errors:
        raise InvalidInput(_l("The producer could not be registered."), errors)
    centre = centre_for_province(data["province_code"])
    if centre is None:
        raise InvalidInput(
            _l("No centre serves this province yet."), {"province_code": _l("No centre here yet.")}
        )
    by_centre_staff = actor is not None and actor.role in ("centre_admin", "centre_staff")
    if actor is not None and not by_centre_staff and actor.role != "ministry":
        raise Forbidden(_l("Only centre staff register producers; producers sign up themselves."))
    if by_centre_staff and actor.centre_id != centre.id:
        raise Forbidden(
            _l("You can register producers of your own province only."),
            {"province_code": _l("Outside your province.")},
        )
    if tax_code and db.session.scalar(select(Producer.id).where(Producer.tax_code == tax_code)):
        raise Conflict(
            _l("A producer with this tax code is already registered."),
            {"tax_code": _l("Already registered.")},
        )
    producer = Producer(
        centre_id=centre.id,
        name=data["name"].strip(),
        kind=data["kind"],
        tax_code=tax_code,
        province_code=data["province_code"],
        ward=(data.get("ward") or "").strip(),
        street=(data.get("street") or data.get("address") or "").strip(),
        phone=(data.get("phone") or "").strip(),
        email=(data.get("email") or "").strip(),
        website=(data.get("website") or "").strip(),
        previous_province_code=data.get("previous_province_code") or None,
        previous_ward=(data.get("previous_ward") or "").strip() or None,
        previous_street=(data.get("previous_street") or "").strip() or None,
        status="approved" if by_centre_staff else "pending",
    )
    db.session.add(producer)
    db.session.flush()
    record_audit("create", producer, actor=actor, centre_id=centre.id, producer_id=producer.id)
    return producer


def create_location(data: dict[str, Any], *, actor: User) -> Location:
    """Add a farm, facility or warehouse of a producer."""
    producer = writable_producer(data.get("producer_id"), actor)
    errors: dict[str, Any] = {}
    _require(data, errors, "name", "kind")
    if data.get("kind") and data["kind"] not in LOCATION_KINDS:
        errors["kind"] = _l("Kind must be one of: %(kinds)s.", kinds=", ".join(LOCATION_KINDS))
    province_code = data.get("province_code") or producer.province_code
    _check_province(province_code, errors)
    gln = (data.get("gln") or "").strip() or None
    if gln and not is_valid_gln(gln):
        errors["gln"] = _l("A GLN has 13 digits and a correct check digit.")
    if errors:
        raise InvalidInput(_l("The location could not be saved."), errors)
    if gln and db.session.scalar(select(Location.id).where(Location.gln == gln)):
        raise Conflict(_l("This GLN is already registered."), {"gln": _l("Already registered.")})
    location = Location(
        producer_id=producer.id,
        name=data["name"].strip(),
        kind=data["kind"],
        gln=gln,
        internal_code="L" + secrets.token_hex(6).upper(),
        province_code=province_code,
        ward=(data.get("ward") or "").strip(),
        street=(data.get("street") or data.get("address") or "").strip(),
        latitude=data.get("latitude"),
        longitude=data.get("longitude"),
    )
    db.session.add(location)
    db.session.flush()
    record_audit("create", location, actor=actor, producer_id=producer.id, centre_id=producer.centre_id)
    return location


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
        "ocop_certificate_no": ocop.get("certificate_no"),
        "ocop_issued_on": issued,
        "ocop_expires_on": expires,
    }


def create_product(data: dict[str, Any], *, actor: User) -> Product:
    """Register a product of a producer, with its GTIN (stored as 14 digits) and OCOP data."""
    producer = writable_producer(data.get("producer_id"), actor)
    errors: dict[str, Any] = {}
    _require(data, errors, "name")
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
