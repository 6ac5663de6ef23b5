"""Registering producers' farms, facilities and warehouses."""

from __future__ import annotations

import math
import secrets
from decimal import Decimal
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, select

from traceability.accounts.scope import scoped_select, writable_producer
from traceability.audit.service import record_audit, snapshot
from traceability.core.errors import Conflict, InvalidInput
from traceability.core.extensions import db
from traceability.gs1 import is_valid_gln
from traceability.models.accounts import User
from traceability.models.registry import LOCATION_KINDS, Location, Producer
from traceability.registry.validation import check_province, optional_text, text


def _coordinate(data: dict[str, Any], name: str, limit: int, errors: dict[str, Any]) -> float | None:
    value = data.get(name)
    if value is None or value == "":
        return None
    try:
        number = float(value) if isinstance(value, int | float | Decimal | str) else math.nan
    except ValueError:
        number = math.nan
    if isinstance(value, bool) or not -limit <= number <= limit:  # NaN fails both comparisons
        if name == "latitude":
            errors[name] = _l("Latitude is a number between -90 and 90.")
        else:
            errors[name] = _l("Longitude is a number between -180 and 180.")
        return None
    return number


def _location_values(data: dict[str, Any], producer: Producer, errors: dict[str, Any]) -> dict[str, Any]:
    """The cleaned columns for the fields present in ``data`` (a partial update gives only some)."""
    values: dict[str, Any] = {}
    if "name" in data:
        values["name"] = text(data, "name")
        if not values["name"]:
            errors["name"] = _l("This field is required.")
    if "kind" in data:
        values["kind"] = data["kind"]
        if data["kind"] not in LOCATION_KINDS:
            errors["kind"] = _l("Kind must be one of: %(kinds)s.", kinds=", ".join(LOCATION_KINDS))
    if "province_code" in data:
        values["province_code"] = data["province_code"] or producer.province_code
        check_province(values["province_code"], errors)
    if "ward" in data:
        values["ward"] = text(data, "ward")
    if "street" in data or "address" in data:
        values["street"] = text(data, "street" if "street" in data else "address")
    if "gln" in data:
        values["gln"] = optional_text(data, "gln")
        if values["gln"] and not is_valid_gln(values["gln"]):
            errors["gln"] = _l("A GLN has 13 digits and a correct check digit.")
    if "latitude" in data:
        values["latitude"] = _coordinate(data, "latitude", 90, errors)
    if "longitude" in data:
        values["longitude"] = _coordinate(data, "longitude", 180, errors)
    return values


def _check_gln_is_free(gln: str | None, location: Location | None = None) -> None:
    if not gln:
        return
    query = select(Location.id).where(Location.gln == gln)
    if location is not None:
        query = query.where(Location.id != location.id)
    if db.session.scalar(query):
        raise Conflict(_l("This GLN is already registered."), {"gln": _l("Already registered.")})


def _check_both_coordinates(location: Location, errors: dict[str, Any]) -> None:
    if (location.latitude is None) != (location.longitude is None):
        missing = "latitude" if location.latitude is None else "longitude"
        errors.setdefault(missing, _l("Give both latitude and longitude, or neither."))


def create_location(data: dict[str, Any], *, actor: User) -> Location:
    """Add a farm, facility or warehouse of a producer (in the producer's province unless given)."""
    producer = writable_producer(data.get("producer_id"), actor)
    errors: dict[str, Any] = {}
    values = _location_values({"name": None, "kind": None, "province_code": None, **data}, producer, errors)
    location = Location(producer_id=producer.id, internal_code="L" + secrets.token_hex(6).upper(), **values)
    _check_both_coordinates(location, errors)
    if errors:
        raise InvalidInput(_l("The location could not be saved."), errors)
    _check_gln_is_free(location.gln)
    db.session.add(location)
    db.session.flush()
    record_audit("create", location, actor=actor, producer_id=producer.id, centre_id=producer.centre_id)
    return location


def update_location(location: Location, data: dict[str, Any], *, actor: User) -> Location:
    """Change the fields given in ``data``; the internal trace code never changes."""
    producer = writable_producer(location.producer_id, actor)
    errors: dict[str, Any] = {}
    values = _location_values(
        {key: value for key, value in data.items() if key != "producer_id"}, producer, errors
    )
    if errors:
        raise InvalidInput(_l("The location could not be saved."), errors)
    if "gln" in values and values["gln"] != location.gln:
        _check_gln_is_free(values["gln"], location)
    before = snapshot(location)
    for name, value in values.items():
        setattr(location, name, value)
    _check_both_coordinates(location, errors)
    if errors:
        raise InvalidInput(_l("The location could not be saved."), errors)
    db.session.flush()
    if snapshot(location) != before:
        record_audit(
            "update",
            location,
            before=before,
            actor=actor,
            producer_id=producer.id,
            centre_id=producer.centre_id,
        )
    return location


def list_locations(producer_id: int | None = None) -> Select:
    """The caller's locations, of one producer when given, by producer then name."""
    query = scoped_select(Location)
    if producer_id:
        query = query.where(Location.producer_id == producer_id)
    return query.order_by(Location.producer_id, Location.name, Location.id)
