"""Lineage: which batches went into a batch, and how much of each (mass balance)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from flask_babel import format_decimal
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from traceability.accounts.scope import tenant_clause
from traceability.audit.service import lock_batch_chains, record_audit, snapshot
from traceability.batches.trace import related_batch_ids
from traceability.core.errors import InvalidInput
from traceability.core.extensions import db
from traceability.models.accounts import User
from traceability.models.batches import LINEAGE_KINDS, Batch, BatchInput


def _consumed(batch_id: int) -> Decimal:
    total = db.session.scalar(
        select(func.coalesce(func.sum(BatchInput.quantity), 0)).where(BatchInput.input_batch_id == batch_id)
    )
    return Decimal(total or 0)


def _lock_inputs(batch_ids: list[int], output: Batch, actor: User) -> dict[int, Batch]:
    """The input batches the actor may use, locked on PostgreSQL so two requests can't both take the rest.

    The audit chain locks of the inputs' centres and the output's come first, together (see
    ``lock_audit_chain``: a caller that audited the output already took them all up front, as
    ``create_batch`` does), and the rows are read again as they are now: a recall committed a
    moment ago must show.
    """
    lock_batch_chains(*batch_ids, centre_ids=(output.product.producer.centre_id,))
    query = (
        select(Batch)
        .where(Batch.id.in_(batch_ids), tenant_clause(Batch, actor))
        .order_by(Batch.id)
        .execution_options(populate_existing=True)
    )
    if db.session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(of=Batch)
    return {batch.id: batch for batch in db.session.scalars(query)}


def add_inputs(output: Batch, inputs: list[dict[str, Any]], *, kind: str, actor: User) -> list[BatchInput]:
    """Record that ``output`` was made from ``inputs`` (``[{batch_id, quantity}]``), keeping the mass balance.

    More cannot be taken from an input than it has left; the refusal says how
    much is left. An input used up completely becomes ``consumed``. Inputs are
    batches the actor can see (its own producer's, or its centre's).
    """
    errors: dict[str, Any] = {}
    if kind not in LINEAGE_KINDS:
        errors["kind"] = _l("Kind must be one of: %(kinds)s.", kinds=", ".join(LINEAGE_KINDS))
    ids = [entry.get("batch_id") for entry in inputs]
    if len(set(ids)) != len(ids):
        errors["inputs"] = _l("Each input batch may be listed once.")
    if errors:
        raise InvalidInput(_l("The inputs could not be recorded."), errors)
    batches = _lock_inputs([i for i in ids if isinstance(i, int)], output, actor)
    downstream = related_batch_ids(output.id, "downstream") if output.id else {}
    links = []
    for index, entry in enumerate(inputs):
        field = f"inputs.{index}"
        batch_id = entry.get("batch_id")
        source = batches.get(batch_id) if isinstance(batch_id, int) else None
        quantity = entry.get("quantity")
        if source is None:
            errors[field] = _l("Unknown input batch.")
            continue
        if source.id == output.id or source.id in downstream:
            errors[field] = _l("A batch cannot be made from itself or from what was made from it.")
            continue
        if source.status == "recalled":
            errors[field] = _l("Lot %(lot)s is recalled and cannot be used.", lot=source.lot_code)
            continue
        if not isinstance(quantity, Decimal) or quantity <= 0:
            errors[field] = _l(
                "Enter the quantity taken from lot %(lot)s, more than zero.", lot=source.lot_code
            )
            continue
        left = source.quantity - _consumed(source.id)
        if quantity > left:
            errors[field] = _l(
                "Only %(left)s %(unit)s of lot %(lot)s is left; %(asked)s %(unit)s cannot be taken.",
                left=format_decimal(left),
                asked=format_decimal(quantity),
                unit=source.unit,
                lot=source.lot_code,
            )
            continue
        links.append((source, quantity, left))
    if errors:
        raise InvalidInput(_l("The inputs could not be recorded."), errors)
    created, used_up = [], []
    for source, quantity, left in links:
        link = BatchInput(output_batch_id=output.id, input_batch_id=source.id, quantity=quantity, kind=kind)
        db.session.add(link)
        if quantity == left:
            used_up.append((source, snapshot(source)))
            source.status = "consumed"
        created.append(link)
    db.session.flush()
    for link in created:
        record_audit("create", link, actor=actor, producer_id=output.product.producer_id)
    for source, before in used_up:
        record_audit("consume", source, actor=actor, before=before, producer_id=source.product.producer_id)
    return created
