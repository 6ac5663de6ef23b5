"""Finding lots and changing them: the "Lots" list's search, and editing a lot until its labels exist."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from flask_babel import format_decimal
from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, exists, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import contains_eager

from traceability.accounts.scope import scoped_select, writable_producer
from traceability.audit.service import audit_type, record_audit, snapshot
from traceability.batches.lot_codes import lot_code_error
from traceability.batches.service import UNIT_PATTERN, _quantity
from traceability.core.errors import Conflict, InvalidInput
from traceability.core.extensions import db
from traceability.core.text import fold, like_pattern
from traceability.core.vocabulary import UNIT_SYMBOLS, label
from traceability.models.accounts import User
from traceability.models.audit import AuditEntry
from traceability.models.batches import Batch, BatchInput, Item, LabelJob
from traceability.models.registry import Location, Product

#: The fields of a lot its editing may change (``PATCH /batches/{id}``, the lot's edit page).
EDITABLE_FIELDS = ("lot_code", "production_date", "expiry_date", "quantity", "unit", "location_id")
#: The audit action a label sheet drawn at once (no print job) leaves on its lot.
LABELS_PRINTED = "print_labels"


def labels_printed(batch: Batch) -> bool:
    """Whether labels of the lot may exist: a print job, serialised items, or a label sheet drawn.

    From then on the lot code is printed on packages (and in the QR code of a
    product with a GTIN), so it is fixed. Downloading the lot's QR image alone
    does not count: it is how a producer looks at the code before printing.
    """
    return bool(
        db.session.scalar(
            select(
                or_(
                    exists().where(LabelJob.batch_id == batch.id),
                    exists().where(Item.batch_id == batch.id),
                    exists().where(
                        AuditEntry.object_type == audit_type(Batch),
                        AuditEntry.object_id == str(batch.id),
                        AuditEntry.action == LABELS_PRINTED,
                    ),
                )
            )
        )
    )


def note_labels_printed(batch: Batch, *, actor: User | None, template: str, count: int) -> None:
    """Keep in the audit log that a label sheet of the lot was drawn (which fixes its lot code)."""
    producer = batch.product.producer
    record_audit(
        LABELS_PRINTED,
        batch,
        before=None,
        after={"template": template, "count": count},
        actor=actor,
        producer_id=producer.id,
        centre_id=producer.centre_id,
    )


def update_batch(batch: Batch, data: dict[str, Any], *, actor: User) -> Batch:
    """Change a lot's code (until its first labels), dates, quantity, unit or origin; audited before/after."""
    producer = writable_producer(batch.product.producer_id, actor)
    changes = {name: data[name] for name in EDITABLE_FIELDS if name in data}
    errors: dict[str, Any] = {}
    if "lot_code" in changes and changes["lot_code"] != batch.lot_code:
        if (refusal := lot_code_error(changes["lot_code"])) is not None:
            errors["lot_code"] = refusal
        elif labels_printed(batch):
            errors["lot_code"] = _l(
                "The lot code cannot change any more: labels of this lot were printed with it."
            )
    else:
        changes.pop("lot_code", None)
    production_date = changes.get("production_date", batch.production_date)
    expiry_date = changes.get("expiry_date", batch.expiry_date)
    if not isinstance(production_date, date):
        errors["production_date"] = _l("Enter the production date.")
    elif expiry_date is not None and expiry_date < production_date:
        errors["expiry_date"] = _l("The expiry date cannot be before the production date.")
    used = Decimal(
        db.session.scalar(
            select(func.coalesce(func.sum(BatchInput.quantity), 0)).where(
                BatchInput.input_batch_id == batch.id
            )
        )
        or 0
    )
    if "quantity" in changes:
        quantity = _quantity(changes["quantity"], errors, "quantity")
        if quantity is not None and quantity < used:
            errors["quantity"] = _l(
                "Other lots already took %(used)s %(unit)s of this lot: the quantity cannot be less.",
                used=format_decimal(used),
                unit=label(UNIT_SYMBOLS, batch.unit),
            )
        changes["quantity"] = quantity
    if "unit" in changes:
        unit = (changes["unit"] or "").strip().upper()
        if not UNIT_PATTERN.fullmatch(unit):
            errors["unit"] = _l("Use a UN/ECE Rec 20 unit code such as KGM, LTR or H87.")
        elif unit != batch.unit and used:
            errors["unit"] = _l("Other lots took quantities of this lot in its unit: the unit cannot change.")
        changes["unit"] = unit
    location_id = changes.get("location_id")
    if location_id is not None:
        location = db.session.get(Location, location_id)
        if location is None or location.producer_id != producer.id:
            errors["location_id"] = _l("Choose one of the producer's locations.")
    if errors:
        raise InvalidInput(_l("The lot could not be saved."), errors)
    before = snapshot(batch)
    for name, value in changes.items():
        setattr(batch, "origin_location_id" if name == "location_id" else name, value)
    if snapshot(batch) == before:
        return batch
    duplicate = Conflict(
        _l("This product already has a batch with lot code %(lot)s.", lot=batch.lot_code),
        {"lot_code": _l("Already used for this product.")},
    )
    try:
        with db.session.begin_nested():
            db.session.flush()
    except IntegrityError as error:  # another lot of the product has the code
        raise duplicate from error
    record_audit(
        "update", batch, before=before, actor=actor, producer_id=producer.id, centre_id=producer.centre_id
    )
    return batch


def lot_search(
    user: User,
    *,
    query: str = "",
    product_id: int | None = None,
    produced_from: date | None = None,
    produced_to: date | None = None,
) -> Select[tuple[Batch]]:
    """The lots ``user`` may see, newest first: lot code (part of it, any case or accents), product, dates."""
    statement = scoped_select(Batch, user).join(Batch.product).options(contains_eager(Batch.product))
    if fold(query):
        # Lot codes follow the lot-code rule (no accents), so the folded query against the lowered code
        # finds "lo-26" in "LO-2026" whatever the case or accents typed; products by their folded names.
        pattern = like_pattern(query)
        statement = statement.where(
            or_(
                func.lower(Batch.lot_code).like(pattern, escape="\\"),
                Product.search_text.like(pattern, escape="\\"),
            )
        )
    if product_id:
        statement = statement.where(Batch.product_id == product_id)
    if produced_from:
        statement = statement.where(Batch.production_date >= produced_from)
    if produced_to:
        statement = statement.where(Batch.production_date <= produced_to)
    return statement.order_by(Batch.production_date.desc(), Batch.id.desc())


def products_in_scope(user: User) -> list[Product]:
    """The products whose lots ``user`` may list (the "Lots" list's product filter)."""
    return list(db.session.scalars(scoped_select(Product, user).order_by(Product.name)))
