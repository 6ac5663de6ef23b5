"""Serialised items: random, unguessable serial numbers for the units of a batch.

A serial is 65 random bits written in Crockford's base32 (digits and capital
letters without I, L, O and U, so nobody misreads a printed serial): 13
characters, valid for GS1 AI 21 (set 82, at most 20). Each item also gets its
own ``/t/{code}`` short code (80 random bits, like a batch's), used in its URL
when the product has no GTIN. Guessing a serial or a code is hopeless, so
items can't be enumerated from one printed label.
"""

from __future__ import annotations

import hashlib
import secrets
from typing import Any

from flask import current_app
from flask_babel import format_number
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, insert, select
from sqlalchemy.exc import IntegrityError

from traceability.accounts.scope import writable_producer
from traceability.audit.service import record_audit
from traceability.batches.service import new_public_code
from traceability.core.dates import utcnow
from traceability.core.errors import Conflict, Forbidden, InvalidInput
from traceability.core.extensions import db
from traceability.models.accounts import User
from traceability.models.batches import Batch, Item

SERIAL_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford's base32
SERIAL_LENGTH = 13  # 65 random bits
MAX_SERIALS_PER_REQUEST = 10_000
ATTEMPTS = 3  # a clash of 65 random bits is a once-in-a-universe event; retry anyway


def new_serial() -> str:
    """A random serial: 13 Crockford base32 characters (65 bits), valid for GS1 AI 21."""
    value = secrets.randbits(5 * SERIAL_LENGTH)
    return "".join(SERIAL_ALPHABET[(value >> (5 * i)) & 31] for i in range(SERIAL_LENGTH))


def check_count(count: Any) -> int:
    """``count`` as a whole number from 1 to MAX_SERIALS_PER_REQUEST, or InvalidInput saying so."""
    if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= MAX_SERIALS_PER_REQUEST:
        message = _l("Enter a whole number from 1 to %(max)s.", max=format_number(MAX_SERIALS_PER_REQUEST))
        raise InvalidInput(message, {"count": message})
    return count


def check_serialisable(batch: Batch, actor: User | None) -> None:
    """Refuse items for a batch the actor may not change, of a producer that is not approved, or recalled.

    ``actor`` None is the command line: whoever runs it has the server.
    """
    producer = batch.product.producer
    if actor is not None:
        writable_producer(producer.id, actor)  # refuses a producer that is not approved, too
    elif producer.status != "approved":
        raise Forbidden(_l("This producer is not approved (or is suspended), so it cannot create items."))
    if batch.status == "recalled":
        raise Conflict(
            _l("This batch is recalled: its items must not reach consumers, so no new ones are made.")
        )


def check_lot_room(batch: Batch, count: int) -> None:
    """InvalidInput when ``count`` more items would take the lot past MAX_ITEMS_PER_LOT.

    Locks the batch row first (PostgreSQL; SQLite writers queue anyway), so two
    requests at once cannot both fit under the limit and pass it together.
    """
    limit = current_app.config["MAX_ITEMS_PER_LOT"]
    db.session.execute(select(Batch.id).where(Batch.id == batch.id).with_for_update())
    existing = item_count(batch)
    if existing + count <= limit:
        return
    message = _l(
        "A lot has at most %(max)s serialised items and this one has %(existing)s: "
        "at most %(room)s more can be made.",
        max=format_number(limit),
        existing=format_number(existing),
        room=format_number(max(limit - existing, 0)),
    )
    raise InvalidInput(message, {"count": message})


def create_serials(batch: Batch, count: Any, *, actor: User | None) -> list[Item]:
    """Create ``count`` serialised items of ``batch`` in one bulk insert, with one audit entry.

    At most MAX_SERIALS_PER_REQUEST at once, and MAX_ITEMS_PER_LOT in all.
    """
    count = check_count(count)
    check_serialisable(batch, actor)
    check_lot_room(batch, count)
    for _attempt in range(ATTEMPTS):
        now = utcnow()
        serials = {new_serial() for _ in range(count)}
        codes = {new_public_code() for _ in range(count)}
        if len(serials) < count or len(codes) < count:
            continue
        rows = [
            {"batch_id": batch.id, "serial": serial, "public_code": code, "created_at": now}
            for serial, code in zip(sorted(serials), codes, strict=True)
        ]
        try:
            # A savepoint: a clash with a stored serial or code (or one a concurrent request
            # took an instant earlier) undoes only this insert, and the loop draws new values.
            with db.session.begin_nested():
                items = sorted(
                    db.session.scalars(insert(Item).returning(Item), rows), key=lambda item: item.id
                )
        except IntegrityError:
            continue
        break
    else:
        raise Conflict(_l("The serial numbers could not be made unique; try again."))
    producer = batch.product.producer
    digest = hashlib.sha256("\n".join(item.serial for item in items).encode()).hexdigest()
    record_audit(
        "create_serials",
        batch,
        after={
            "count": len(items),
            "first_item_id": items[0].id,
            "last_item_id": items[-1].id,
            "first_serial": items[0].serial,
            "last_serial": items[-1].serial,
            "serials_sha256": digest,  # of the serials in id order, one per line
        },
        actor=actor,
        producer_id=producer.id,
        centre_id=producer.centre_id,
    )
    return items


def item_count(batch: Batch) -> int:
    """How many serialised items the batch has."""
    return db.session.scalar(select(func.count(Item.id)).where(Item.batch_id == batch.id)) or 0
