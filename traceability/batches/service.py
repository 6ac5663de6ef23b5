"""Recording batches and their key tracking events."""

from __future__ import annotations

import base64
import math
import re
import secrets
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal, InvalidOperation
from functools import partial
from typing import Any

from flask import current_app
from flask_babel import format_decimal
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import aliased, joinedload

from traceability.accounts.scope import writable_producer
from traceability.audit.service import lock_batch_chains, record_audit
from traceability.batches.lineage import add_inputs
from traceability.batches.lot_codes import lot_code_error
from traceability.core.dates import VIETNAM_OFFSET
from traceability.core.errors import Conflict, InvalidInput
from traceability.core.extensions import db
from traceability.core.transactions import on_rollback
from traceability.core.uploads import UploadRejected, images_folder, remove, store_image
from traceability.core.vocabulary import UNIT_SYMBOLS, label
from traceability.gs1 import batch_uri, item_uri
from traceability.models.accounts import User
from traceability.models.batches import ASSOCIATION, EVENT_BIZ_STEPS, Batch, BatchInput, Item, TraceEvent
from traceability.models.public import ScanDaily
from traceability.models.registry import Location, Producer, Product

UNIT_PATTERN = re.compile(r"^[A-Z0-9]{2,3}$")


def new_public_code() -> str:
    """An unguessable code for ``/t/{code}``: 80 random bits in base32."""
    return base64.b32encode(secrets.token_bytes(10)).decode().rstrip("=")


def public_url(base_url: str, batch: Batch) -> str:
    """The URL printed in the batch's QR code: GS1 Digital Link, or /t/{code}."""
    if batch.product.gtin:
        return batch_uri(base_url, batch.product.gtin, batch.lot_code)
    return f"{base_url.rstrip('/')}/t/{batch.public_code}"


def item_public_url(base_url: str, item: Item) -> str:
    """The URL printed in a serialised item's QR code: GS1 Digital Link with AI 21, or /t/{code}."""
    batch = item.batch
    if batch.product.gtin:
        return item_uri(base_url, batch.product.gtin, batch.lot_code, item.serial)
    return f"{base_url.rstrip('/')}/t/{item.public_code}"


def page_url(base_url: str, batch: Batch, item: Item | None = None) -> str:
    """The public URL of the batch, or of its serialised item when one is given."""
    return item_public_url(base_url, item) if item is not None else public_url(base_url, batch)


def by_public_code(code: str) -> tuple[Batch, Item | None] | None:
    """The batch, or the serialised item with its batch, whose ``/t/`` code is ``code``; None if none."""
    code = code.upper()
    batch = db.session.scalar(
        select(Batch).where(Batch.public_code == code).options(joinedload(Batch.product))
    )
    if batch is not None:
        return batch, None
    item = db.session.scalar(select(Item).where(Item.public_code == code))
    return (item.batch, item) if item is not None else None


def quantity_remaining(batch: Batch) -> Decimal:
    """What is left of a batch after the quantities its output batches consumed."""
    consumed = db.session.scalar(
        select(func.coalesce(func.sum(BatchInput.quantity), 0)).where(BatchInput.input_batch_id == batch.id)
    )
    return batch.quantity - Decimal(consumed or 0)


def consumed_quantities(batch_ids: Sequence[int]) -> dict[int, Decimal]:
    """What each batch's output batches took from it, in one query (batches none took from are left out)."""
    if not batch_ids:
        return {}
    rows = db.session.execute(
        select(BatchInput.input_batch_id, func.sum(BatchInput.quantity))
        .where(BatchInput.input_batch_id.in_(batch_ids))
        .group_by(BatchInput.input_batch_id)
    ).all()
    return {batch_id: Decimal(total or 0) for batch_id, total in rows}


def quantities_remaining(batches: Sequence[Batch]) -> dict[int, Decimal]:
    """``quantity_remaining`` of each batch, by id, in one query."""
    consumed = consumed_quantities([batch.id for batch in batches])
    return {batch.id: batch.quantity - consumed.get(batch.id, Decimal(0)) for batch in batches}


def scan_count(batch: Batch) -> int:
    """How many times the batch's public page (or one of its items') was opened."""
    return db.session.scalar(select(func.sum(ScanDaily.count)).where(ScanDaily.batch_id == batch.id)) or 0


def local_time(event: TraceEvent) -> datetime:
    """The event's time in the offset it was recorded with."""
    sign = -1 if event.time_zone_offset.startswith("-") else 1
    hours, minutes = event.time_zone_offset[1:].split(":")
    offset = timezone(sign * timedelta(hours=int(hours), minutes=int(minutes)))
    return event.event_time.astimezone(offset)


def event_party(event: TraceEvent) -> Producer:
    """Who did an event's work: the operator of the place it happened at, else the batch's producer.

    Never the account that typed the record: centre staff may record a harvest the producer did.
    """
    if event.location is not None:
        return event.location.producer
    return event.batch.product.producer


def person_label(user: User) -> str:
    """A user as management pages name who recorded something: name or email, and centre or producer."""
    who = user.name or user.email
    organisation = user.producer or user.centre
    return f"{who} ({organisation.name})" if organisation is not None else who


def _quantity(value: Any, errors: dict[str, Any], field: str) -> Decimal | None:
    try:
        quantity = Decimal(str(value))
    except (InvalidOperation, ValueError):
        errors[field] = _l("Enter a number.")
        return None
    if not quantity.is_finite() or quantity < 0:
        errors[field] = _l("Enter a number of zero or more.")
        return None
    # The size first: quantize() raises on a number with more digits than the context keeps.
    if quantity >= Decimal("1e15") or quantity != quantity.quantize(Decimal("0.001")):
        errors[field] = _l("Use at most three decimals and fewer than 15 digits.")
        return None
    return quantity


def create_batch(data: dict[str, Any], *, actor: User) -> Batch:
    """Register a production batch (lot) of a product, with the input batches it was made from."""
    product = db.session.get(Product, data.get("product_id") or 0)
    if product is None:
        raise InvalidInput(_l("Choose a product."), {"product_id": _l("Unknown product.")})
    # Only an approved producer records batches: writable_producer says why not to the others.
    producer = writable_producer(product.producer_id, actor)
    errors: dict[str, Any] = {}
    lot_code = data.get("lot_code") or ""
    if (lot_code_refusal := lot_code_error(lot_code)) is not None:
        errors["lot_code"] = lot_code_refusal
    production_date = data.get("production_date")
    expiry_date = data.get("expiry_date")
    if not isinstance(production_date, date):
        errors["production_date"] = _l("Enter the production date.")
    elif expiry_date is not None and expiry_date < production_date:
        errors["expiry_date"] = _l("The expiry date cannot be before the production date.")
    quantity = _quantity(data.get("quantity"), errors, "quantity")
    unit = (data.get("unit") or "").strip().upper()
    if not UNIT_PATTERN.fullmatch(unit):
        errors["unit"] = _l("Use a UN/ECE Rec 20 unit code such as KGM, LTR or H87.")
    location_id = data.get("location_id")
    if location_id is not None:
        location = db.session.get(Location, location_id)
        if location is None or location.producer_id != producer.id:
            errors["location_id"] = _l("Choose one of the producer's locations.")
    if errors:
        raise InvalidInput(_l("The batch could not be saved."), errors)
    batch = Batch(
        product_id=product.id,
        lot_code=lot_code,
        public_code=new_public_code(),
        production_date=production_date,
        expiry_date=expiry_date,
        quantity=quantity,
        unit=unit,
        origin_location_id=location_id,
        created_by_id=actor.id,
    )
    duplicate = Conflict(
        _l("This product already has a batch with lot code %(lot)s.", lot=lot_code),
        {"lot_code": _l("Already used for this product.")},
    )
    if data.get("inputs"):
        # Its entries and its inputs' go to the chains of its centre and of the inputs' centres: all locked
        # now, in order (traceability.audit.service), before the first entry takes its own centre's.
        input_ids = [entry.get("batch_id") for entry in data["inputs"] if isinstance(entry, dict)]
        lock_batch_chains(*(i for i in input_ids if isinstance(i, int)), centre_ids=(producer.centre_id,))
    if db.session.scalar(select(Batch.id).where(Batch.product_id == product.id, Batch.lot_code == lot_code)):
        raise duplicate
    try:
        with db.session.begin_nested():
            db.session.add(batch)
    except IntegrityError as error:  # a concurrent request took the lot code first
        raise duplicate from error
    record_audit("create", batch, actor=actor, producer_id=producer.id, centre_id=producer.centre_id)
    if data.get("inputs"):
        # Made from other batches: the inputs and their consumed quantities, mass balance kept.
        add_inputs(batch, data["inputs"], kind=data.get("input_kind") or "transformation", actor=actor)
    return batch


def _event_time(value: Any, errors: dict[str, Any]) -> datetime | None:
    if isinstance(value, datetime):
        if value.tzinfo is None:
            errors["time"] = _l("Give the time with its offset, such as +07:00.")
            return None
        return value
    errors["time"] = _l("Enter the time of the event.")
    return None


def _offset_text(moment: datetime) -> str:
    offset = moment.utcoffset() or timedelta(0)
    minutes = int(offset.total_seconds() // 60)
    sign = "+" if minutes >= 0 else "-"
    return f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


# Steps that send the finished lot on, so they cannot happen before its production date
# (growing, harvesting, receiving raw materials and processing come before it by nature).
AFTER_PRODUCTION = ("shipping", "selling")


def _store_photo(photo: bytes) -> tuple[str, str]:
    folder = images_folder()
    try:
        stored = store_image(photo, folder, max_bytes=current_app.config["MAX_IMAGE_BYTES"])
    except UploadRejected as error:
        messages = {
            "too_large": _l(
                "The photo is larger than %(mb)s MB.",
                mb=current_app.config["MAX_IMAGE_BYTES"] // (1024 * 1024),
            ),
            "too_many_pixels": _l(
                "The photo has too many pixels (more than 40 megapixels, or 16 for a PNG or WebP image)."
            ),
            "damaged": _l("The photo file is damaged."),
        }
        message = messages.get(error.reason, _l("The photo must be a PNG, JPEG or WebP image."))
        raise InvalidInput(message, {"photo": message}) from error
    on_rollback(partial(remove, folder, stored.filename, stored.thumbnail_filename))
    return stored.filename, stored.thumbnail_filename


def _position(data: dict[str, Any], errors: dict[str, Any]) -> dict[str, float | None]:
    """Where the phone was (WGS 84 degrees, and the accuracy in metres), when ``data`` says."""
    bounds: dict[str, int | None] = {"latitude": 90, "longitude": 180, "position_accuracy": None}
    values: dict[str, float | None] = {}
    for name, bound in bounds.items():
        raw = data.get(name)
        if raw is None or raw == "":
            values[name] = None
            continue
        try:
            value = float(raw)
        except (TypeError, ValueError):
            value = float("nan")
        if isinstance(raw, bool) or not math.isfinite(value):
            errors[name] = _l("Enter a number.")
        elif bound is not None and not -bound <= value <= bound:
            errors[name] = _l("Enter a number from %(low)s to %(high)s.", low=-bound, high=bound)
        elif bound is None and value < 0:
            errors[name] = _l("Enter a number of zero or more.")
        values[name] = value
    if (values["latitude"] is None) != (values["longitude"] is None):
        errors["latitude"] = _l("Give both the latitude and the longitude, or neither.")
    return values


def _event_fields(batch: Batch, data: dict[str, Any], producer_id: int) -> dict[str, Any]:
    """The checked columns of an event from ``data``, or InvalidInput naming each bad field."""
    errors: dict[str, Any] = {}
    event_type = data.get("type")
    association = data.get("association") if event_type == ASSOCIATION else None
    if event_type not in EVENT_BIZ_STEPS and not association:  # associations come only from capture
        errors["type"] = _l("Type must be one of: %(types)s.", types=", ".join(EVENT_BIZ_STEPS))
    moment = _event_time(data.get("time"), errors)
    if moment is not None:
        local_day = moment.date()
        if local_day < batch.production_date - timedelta(days=366):
            errors["time"] = _l("The event is more than a year before the batch's production date.")
        elif event_type in AFTER_PRODUCTION and local_day < batch.production_date:
            errors["time"] = _l(
                "The lot cannot be shipped or sold before its production date (%(day)s).",
                day=batch.production_date.strftime("%d/%m/%Y"),
            )
        if moment > datetime.now(UTC) + timedelta(minutes=5):
            errors["time"] = _l("The event cannot be in the future.")
    quantity = None
    if data.get("quantity") is not None:
        quantity = _quantity(data["quantity"], errors, "quantity")
    location_id = data.get("location_id")
    if location_id is not None:
        location = db.session.get(Location, location_id)
        if location is None or location.producer_id != producer_id:
            errors["location_id"] = _l("Choose one of the producer's locations.")
    position = _position(data, errors)
    if errors or moment is None or not isinstance(event_type, str):  # no time or no type: errors say so
        raise InvalidInput(_l("The event could not be saved."), errors)
    return {
        "type": event_type,
        # A captured EPCIS event keeps the bizStep and eventID it came with.
        "biz_step": data.get("biz_step") or EVENT_BIZ_STEPS.get(event_type, ""),
        "epcis_event_id": data.get("epcis_event_id"),
        "event_time": moment,
        "time_zone_offset": _offset_text(moment),
        "location_id": location_id,
        "quantity": quantity,
        "unit": batch.unit if quantity is not None else None,
        "note": (data.get("note") or "").strip(),
        "reference_type": (data.get("reference_type") or "").strip() or None,
        "reference_number": (data.get("reference") or data.get("reference_number") or "").strip() or None,
        "counterparty": (data.get("counterparty") or "").strip() or None,
        "association": association,
        **position,
    }


def _add_event(batch: Batch, fields: dict[str, Any], *, actor: User, photo: bytes | None) -> TraceEvent:
    producer = batch.product.producer
    photo_names = _store_photo(photo) if photo else (None, None)
    event = TraceEvent(
        batch_id=batch.id,
        actor_id=actor.id,
        photo_filename=photo_names[0],
        photo_thumbnail_filename=photo_names[1],
        **fields,
    )
    db.session.add(event)
    db.session.flush()  # a refusal from here on rolls back, and the photo goes with it (_store_photo)
    record_audit("create", event, actor=actor, producer_id=producer.id, centre_id=producer.centre_id)
    return event


def quantity_at(batch: Batch, moment: datetime) -> Decimal:
    """What the lot had at ``moment``: its quantity less what other lots took of it until then."""
    taken = db.session.scalar(
        select(func.coalesce(func.sum(BatchInput.quantity), 0)).where(
            BatchInput.input_batch_id == batch.id, BatchInput.created_at <= moment
        )
    )
    return batch.quantity - Decimal(taken or 0)


def check_event_quantity(batch: Batch, quantity: Decimal | None, moment: datetime) -> None:
    """The one quantity rule of events: an event cannot say more than its lot had at the event's time.

    9,000 kg on a 5,000 kg lot is refused (409), wherever the event comes from
    (web, API, field app, EPCIS capture); so is 100 kg recorded now on a lot
    other lots already took 20 kg of, while the harvest of the whole lot, at
    its time, may still be recorded after the lot was used.
    """
    if quantity is None:
        return
    left = quantity_at(batch, moment)
    if quantity > left:
        message = _l(
            "Only %(left)s %(unit)s of lot %(lot)s is left; this event says %(asked)s %(unit)s.",
            left=format_decimal(left),
            asked=format_decimal(quantity),
            unit=label(UNIT_SYMBOLS, batch.unit),
            lot=batch.lot_code,
        )
        raise Conflict(message, {"quantity": message})


def _check_open_lot(batch: Batch) -> None:
    """Refuse an event meant for an open lot if the lot was recalled or used up since.

    The batch is read again as it is now, after its centre's audit chain lock
    (the lock every recall and lineage write of the lot takes first), so a
    recall or a use committed a moment ago shows and none can slip in before
    this commits.
    """
    lock_batch_chains(batch.id)
    db.session.refresh(batch)
    if batch.status == "recalled":
        raise Conflict(
            _l("Lot %(lot)s was recalled: no event can be added to it from the field.", lot=batch.lot_code),
            {"batch_id": _l("Recalled.")},
        )
    if batch.status == "consumed" or quantity_remaining(batch) <= 0:
        raise Conflict(
            _l("Lot %(lot)s is used up (closed): nothing of it is left.", lot=batch.lot_code),
            {"batch_id": _l("Used up.")},
        )


def record_event(
    batch: Batch,
    data: dict[str, Any],
    *,
    actor: User,
    photo: bytes | None = None,
    open_lot: bool = False,
) -> TraceEvent:
    """Append a key tracking event (what, when, where, who, why) to a batch, with an optional photo.

    Its quantity cannot be more than the lot had at its time (``check_event_quantity``).
    ``open_lot``: the event was recorded for a lot that was open then (the field
    app, offline): it is refused (409) if the lot has been recalled or used up
    since, and its quantity is checked against what the lot has left now.
    """
    producer = writable_producer(batch.product.producer_id, actor)
    fields = _event_fields(batch, data, producer.id)
    if open_lot:
        _check_open_lot(batch)
    # The phone offered what was left when it recorded: its event is checked against the lot as it is now.
    moment = datetime.now(UTC) if open_lot else fields["event_time"]
    check_event_quantity(batch, fields["quantity"], moment)
    return _add_event(batch, fields, actor=actor, photo=photo)


def _voidable(event: TraceEvent, reason: str, actor: User) -> str:
    writable_producer(event.batch.product.producer_id, actor)
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput(_l("Say why the event is corrected."), {"reason": _l("This field is required.")})
    if event.is_retraction:
        raise Conflict(_l("A retraction cannot itself be corrected."))
    if db.session.scalar(select(TraceEvent.id).where(TraceEvent.voids_event_id == event.id)) is not None:
        raise Conflict(_l("This event was already corrected; correct the newer event instead."))
    return reason


def correct_event(
    event: TraceEvent, data: dict[str, Any], reason: str, *, actor: User, photo: bytes | None = None
) -> TraceEvent:
    """Replace an event by a new one that says why; the original stays, marked as voided."""
    reason = _voidable(event, reason, actor)
    fields = _event_fields(event.batch, data, event.batch.product.producer_id)
    check_event_quantity(event.batch, fields["quantity"], fields["event_time"])
    return _add_event(
        event.batch, {**fields, "voids_event_id": event.id, "void_reason": reason}, actor=actor, photo=photo
    )


def retract_event(event: TraceEvent, reason: str, *, actor: User) -> TraceEvent:
    """Withdraw an event recorded by mistake: a new entry voids it; nothing is deleted."""
    reason = _voidable(event, reason, actor)
    now = datetime.now(VIETNAM_OFFSET)
    fields = {
        "type": event.type,
        "biz_step": event.biz_step,
        "event_time": now,
        "time_zone_offset": _offset_text(now),
        "note": "",
        "is_retraction": True,
        "voids_event_id": event.id,
        "void_reason": reason,
    }
    return _add_event(event.batch, fields, actor=actor, photo=None)


def event_photo_state(name: str) -> str | None:
    """Whether a stored image is an event's photo: ``standing``, ``voided`` (withdrawn or corrected), or None."""
    correction = aliased(TraceEvent)
    row = db.session.execute(
        select(
            TraceEvent.id,
            select(correction.id).where(correction.voids_event_id == TraceEvent.id).exists().label("voided"),
        )
        .where(or_(TraceEvent.photo_filename == name, TraceEvent.photo_thumbnail_filename == name))
        .limit(1)
    ).first()
    if row is None:
        return None
    return "voided" if row.voided else "standing"


def current_events(events: list[TraceEvent]) -> list[TraceEvent]:
    """The events that stand: neither voided by a correction nor retraction entries themselves."""
    voided = {event.voids_event_id for event in events if event.voids_event_id}
    return [event for event in events if event.id not in voided and not event.is_retraction]
