"""Registering producers and their life cycle with the centre."""

from __future__ import annotations

import re
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from traceability.accounts.models import User
from traceability.audit.service import record_audit
from traceability.errors import Conflict, Forbidden, InvalidInput
from traceability.extensions import db
from traceability.registry.centres import centre_for_province
from traceability.registry.models import PRODUCER_KINDS, Producer
from traceability.registry.validation import check_province, require

# Vietnamese tax codes (MST): 10 digits, or 10 digits, a dash and 3 for a branch.
TAX_CODE_PATTERN = re.compile(r"^\d{10}(-\d{3})?$")


def create_producer(data: dict[str, Any], *, actor: User | None) -> Producer:
    """Register a producer: approved when centre staff create it, pending on sign-up."""
    errors: dict[str, Any] = {}
    require(data, errors, "name", "kind", "province_code")
    if data.get("kind") and data["kind"] not in PRODUCER_KINDS:
        errors["kind"] = _l("Kind must be one of: %(kinds)s.", kinds=", ".join(PRODUCER_KINDS))
    check_province(data.get("province_code"), errors)
    check_province(data.get("previous_province_code"), errors, "previous_province_code")
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
