"""Registering the provincial centres."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from traceability.audit.service import record_audit
from traceability.core.errors import Conflict, InvalidInput
from traceability.core.extensions import db
from traceability.models.accounts import User
from traceability.models.registry import Centre
from traceability.registry.validation import check_province


def create_centre(*, province_code: str, name: str, actor: User | None = None, **contact: str) -> Centre:
    """Create the centre of a province (one per province)."""
    errors: dict[str, Any] = {}
    check_province(province_code, errors)
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
