"""The field app's services: the producer's open lots, a scanned code's lot, and one queued event sent."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from marshmallow import EXCLUDE, Schema, ValidationError, fields
from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import contains_eager, selectinload
from werkzeug.datastructures import FileStorage, MultiDict

from traceability.accounts.scope import scoped_select
from traceability.batches.service import by_public_code, consumed_quantities, local_time, record_event
from traceability.core.database import MAX_ID
from traceability.core.errors import DomainError, InvalidInput
from traceability.core.extensions import db
from traceability.core.text import like_pattern
from traceability.core.vocabulary import UNIT_SYMBOLS, label
from traceability.gs1 import DigitalLinkError, parse_path
from traceability.http.i18n import translate_messages
from traceability.idempotency import StoredAnswer, claim, read_key, store_answer
from traceability.models.accounts import User
from traceability.models.batches import Batch, TraceEvent
from traceability.models.registry import Location, Product
from traceability.public.walk_up import lookup_path

#: The open lots the phone keeps for offline use: the most recently produced.
OFFLINE_LOTS = 200
#: The most lots one search answers.
SEARCH_LOTS = 50
#: The longest search text and scanned code taken.
QUERY_MAX_LENGTH = 200
#: The most places the phone is offered.
MAX_LOCATIONS = 500
NOTE_MAX_LENGTH = 2000


class UnknownLot(DomainError):
    """Not one of the user's producer's lots (or not open): as unknown as a lot that does not exist."""

    status = 404
    code = "not_found"


NOT_YOURS = _l("This code is not one of your producer's open lots.")


def _ids_in_range(value: int) -> None:
    if not 1 <= value <= MAX_ID:
        raise ValidationError(_("Unknown record."))


def _note_length(value: str) -> None:
    if len(value) > NOTE_MAX_LENGTH:
        raise ValidationError(_("Write at most %(max)d characters.", max=NOTE_MAX_LENGTH))


class FieldEventSchema(Schema):
    """One event as the field app sends it (multipart form): the service checks the rest of each value."""

    class Meta:
        unknown = EXCLUDE  # the CSRF token, when a form sends it as a field

    batch_id = fields.Integer(required=True, strict=False, validate=_ids_in_range)
    type = fields.String(required=True)
    time = fields.AwareDateTime(required=True)
    location_id = fields.Integer(load_default=None, validate=_ids_in_range)
    quantity = fields.String(load_default=None)
    note = fields.String(load_default="", validate=_note_length)
    latitude = fields.String(load_default=None)
    longitude = fields.String(load_default=None)
    position_accuracy = fields.String(load_default=None)


def _open_lots(user: Any) -> Select:
    return scoped_select(Batch, user).join(Batch.product).where(Batch.status == "active")


def lot_summary(batch: Batch, consumed: Decimal = Decimal(0)) -> dict[str, Any]:
    """A lot as the phone keeps it: what the picker shows and what the event form defaults to."""
    product = batch.product
    return {
        "id": batch.id,
        "lot_code": batch.lot_code,
        "product_name": product.name,
        "gtin": product.gtin,
        "public_code": batch.public_code,
        "production_date": batch.production_date.isoformat(),
        "unit": batch.unit,
        "unit_name": label(UNIT_SYMBOLS, batch.unit),
        "quantity_left": float(batch.quantity - consumed),
        "location_id": batch.origin_location_id,
        "location_name": batch.origin_location.name if batch.origin_location else None,
    }


def open_lots(user: User, query: str = "") -> list[dict[str, Any]]:
    """The producer's open lots, newest first: the OFFLINE_LOTS most recent, or SEARCH_LOTS matching ``query``.

    ``query`` is a part of the lot code or of the product's name (without
    diacritics, any case).
    """
    statement = (
        _open_lots(user)
        .options(contains_eager(Batch.product), selectinload(Batch.origin_location))
        .order_by(Batch.production_date.desc(), Batch.id.desc())
    )
    query = (query or "").strip()[:QUERY_MAX_LENGTH]
    if query:
        pattern = like_pattern(query)
        statement = statement.where(
            or_(
                func.lower(Batch.lot_code).like(pattern, escape="\\"),
                Product.search_text.like(pattern, escape="\\"),
            )
        ).limit(SEARCH_LOTS)
    else:
        statement = statement.limit(OFFLINE_LOTS)
    batches = list(db.session.scalars(statement))
    consumed = consumed_quantities([batch.id for batch in batches])
    return [lot_summary(batch, consumed.get(batch.id, Decimal(0))) for batch in batches]


def places(user: User) -> list[dict[str, Any]]:
    """The producer's locations, by name: where an event may happen."""
    statement = scoped_select(Location, user).order_by(Location.name, Location.id).limit(MAX_LOCATIONS)
    return [{"id": location.id, "name": location.name} for location in db.session.scalars(statement)]


def lot_for_code(user: User, code: str) -> dict[str, Any]:
    """The open lot of the user's producer that a scanned QR code (or typed code) names; UnknownLot if none.

    Takes what the consumer's code field takes (``public.walk_up.lookup_path``):
    a Digital Link, compressed or not, a ``/t/`` link or code, a GS1 element string.
    An item's code names its lot.
    """
    found = lookup_path((code or "")[:QUERY_MAX_LENGTH])
    if found.path is None:
        raise UnknownLot(found.error or NOT_YOURS)
    batch: Batch | None = None
    if found.path.startswith("/t/"):
        match = by_public_code(found.path.removeprefix("/t/"))
        batch = match[0] if match is not None else None
    else:
        try:
            link = parse_path(found.path)
        except DigitalLinkError:
            raise UnknownLot(NOT_YOURS) from None
        if link.lot is None:
            raise UnknownLot(_l("This code names a product, not a lot: scan the lot's own label."))
        batch = db.session.scalar(
            select(Batch).join(Batch.product).where(Product.gtin == link.gtin14, Batch.lot_code == link.lot)
        )
    if batch is None or db.session.scalar(_open_lots(user).where(Batch.id == batch.id)) is None:
        raise UnknownLot(NOT_YOURS)
    return lot_summary(batch, consumed_quantities([batch.id]).get(batch.id, Decimal(0)))


def _present(form: MultiDict[str, str]) -> dict[str, str]:
    """The form's fields that hold something: an empty field is a value left out."""
    return {name: value for name, value in form.items() if value.strip()}


def _field_messages(messages: Any) -> dict[str, str]:
    """Marshmallow's messages by field, translated, each field's as one line."""
    if not isinstance(messages, dict):
        return {"": " ".join(map(str, translate_messages(messages)))}
    return {
        name: " ".join(str(text) for text in value) if isinstance(value, list) else str(value)
        for name, value in translate_messages(messages).items()
    }


def event_answer(event: TraceEvent) -> dict[str, Any]:
    """What the phone is told of an event it sent: enough to show it as stored."""
    return {
        "id": event.id,
        "batch_id": event.batch_id,
        "lot_code": event.batch.lot_code,
        "type": event.type,
        "time": local_time(event).isoformat(),
        "quantity": float(event.quantity) if event.quantity is not None else None,
        "unit": event.unit,
        "has_photo": event.photo_filename is not None,
        "has_position": event.latitude is not None,
    }


def sync_event(
    user: User, key_header: str | None, fingerprint: str, form: MultiDict[str, str], photo: FileStorage | None
) -> StoredAnswer:
    """Store one event the phone queued, once: its answer (201), or the answer its key got before.

    Refusals: 400 (a malformed key), 422 (a field to fix, or the key reused
    for another event), 404 (not the producer's lot), 409 (the lot was
    recalled or used up since, or has less left than the event says), 403 (the
    producer may not write now). Never commits: the request boundary does.
    """
    key = read_key(key_header)
    try:
        data = FieldEventSchema().load(_present(form))
    except ValidationError as error:
        raise InvalidInput(_l("The event could not be saved."), _field_messages(error.messages)) from None
    found = claim(user.id, key, fingerprint) if key is not None else None
    if isinstance(found, StoredAnswer):
        return found
    batch = db.session.scalar(scoped_select(Batch, user).where(Batch.id == data.pop("batch_id")))
    if batch is None:
        raise UnknownLot(_l("This lot is not one of your producer's lots."), {"batch_id": NOT_YOURS})
    content = photo.read() if photo is not None else None
    event = record_event(batch, data, actor=user, photo=content or None, open_lot=True)
    body = json.dumps(event_answer(event), ensure_ascii=False).encode()
    headers = {"Content-Type": "application/json"}
    if found is None:
        return StoredAnswer(201, body, headers)
    return store_answer(found, 201, body, headers)
