"""Registering producers' farms, facilities and warehouses."""

from __future__ import annotations

import secrets
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from traceability.accounts.models import User
from traceability.accounts.scope import writable_producer
from traceability.audit.service import record_audit
from traceability.errors import Conflict, InvalidInput
from traceability.extensions import db
from traceability.gs1 import is_valid_gln
from traceability.registry.models import LOCATION_KINDS, Location
from traceability.registry.validation import check_province, require


def create_location(data: dict[str, Any], *, actor: User) -> Location:
    """Add a farm, facility or warehouse of a producer."""
    producer = writable_producer(data.get("producer_id"), actor)
    errors: dict[str, Any] = {}
    require(data, errors, "name", "kind")
    if data.get("kind") and data["kind"] not in LOCATION_KINDS:
        errors["kind"] = _l("Kind must be one of: %(kinds)s.", kinds=", ".join(LOCATION_KINDS))
    province_code = data.get("province_code") or producer.province_code
    check_province(province_code, errors)
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
