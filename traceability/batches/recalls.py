"""Recalls: a batch and everything made from it, withdrawn at once, and how each recall ended.

A recall is open until the producer's centre closes it with an outcome:
``returned_to_sale`` (the lots are safe: they are active again and their pages
say the recall ended) or ``withdrawn`` (they stay recalled: do not use). The
outcome applies to every batch the recall reached, as the recall did; a batch
that another recall still holds stays recalled.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from flask_babel import lazy_gettext as _l
from sqlalchemy import bindparam, or_, select

from traceability.accounts.policy import is_centre_staff_of
from traceability.accounts.scope import writable_producer
from traceability.audit.service import (
    centres_of_batches,
    lock_audit_chain,
    lock_batch_chains,
    record_audit,
    snapshot,
)
from traceability.batches.service import quantity_remaining
from traceability.batches.trace import related_batch_ids
from traceability.core.dates import utcnow
from traceability.core.errors import Conflict, Forbidden, InvalidInput
from traceability.core.extensions import db
from traceability.models.accounts import User
from traceability.models.batches import RECALL_OUTCOMES, Batch, Recall, RecallBatch
from traceability.notifications import events as notify


def recall_batch(batch: Batch, reason: str, *, actor: User) -> Recall:
    """Recall ``batch``: it and every downstream batch are marked recalled in the same transaction."""
    # A suspended producer still withdraws unsafe goods: a recall needs no approval.
    producer = writable_producer(batch.product.producer_id, actor, require_approved=False)
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput(_l("Say why the batch is recalled."), {"reason": _l("This field is required.")})
    depths = _lock_downstream_chains(batch, producer.centre_id)
    open_recall = db.session.scalar(
        select(Recall.id).where(Recall.batch_id == batch.id, Recall.status == "open")
    )
    if open_recall is not None:
        raise Conflict(_l("This batch already has an open recall."))
    recall = Recall(batch_id=batch.id, reason=reason, opened_by_id=actor.id)
    db.session.add(recall)
    affected = db.session.scalars(
        select(Batch).where(Batch.id.in_(list(depths))).execution_options(populate_existing=True)
    ).all()
    status_changes = []
    for affected_batch in affected:
        recall.affected.append(RecallBatch(batch_id=affected_batch.id, depth=depths[affected_batch.id]))
        if affected_batch.status != "recalled":
            status_changes.append((affected_batch, snapshot(affected_batch)))
        affected_batch.status = "recalled"
    db.session.flush()
    record_audit(
        "recall",
        recall,
        actor=actor,
        producer_id=producer.id,
        centre_id=producer.centre_id,
        after={**snapshot(recall), "affected_batch_ids": sorted(depths)},
    )
    # Each batch's status change has its own entry, so a batch's history shows it.
    for affected_batch, before in status_changes:
        record_audit(
            "recall",
            affected_batch,
            actor=actor,
            before=before,
            producer_id=affected_batch.product.producer_id,
        )
    notify.recall_opened(recall, actor=actor)
    return recall


def _lock_downstream_chains(batch: Batch, centre_id: int) -> dict[int, int]:
    """Lock the audit chains of every lot downstream of ``batch`` (and of ``centre_id``), lowest first,
    and give those lots with their depths, read once the locks are held.

    Every lot made from a lot takes its input's chain lock first, so once the
    chains are held nothing more can be made from the lots found, and a lot
    being made right now either committed before and is found, or comes after
    and sees the recall. Every lot downstream, each once whatever the paths
    to it, and never bounded: a recall reaches them all. On PostgreSQL the
    walk runs once before the locks, to know them all and take them in
    order (see ``traceability.audit.service``), and again under them; a lot
    made in yet another province in between has its chain locked after the
    others (logged) and the walk runs again.
    """
    if db.session.get_bind().dialect.name != "postgresql":
        return {batch.id: 0, **related_batch_ids(batch.id, "downstream")}
    locked: set[int] = set()
    depths = {batch.id: 0, **related_batch_ids(batch.id, "downstream")}
    while True:
        centres = set(centres_of_batches(list(depths))) | {centre_id}
        if centres <= locked:
            return depths
        lock_audit_chain(*centres)
        locked |= centres
        depths = {batch.id: 0, **related_batch_ids(batch.id, "downstream")}


def _in_force():
    """The recalls that hold their lots: open, or closed with the lots withdrawn."""
    return or_(Recall.status == "open", Recall.outcome == "withdrawn")


def may_close_recall(recall: Recall, user: User) -> bool:
    """Whether ``user`` may close ``recall``: the staff of the producer's centre."""
    return is_centre_staff_of(user, recall.batch.product.producer)


def close_recall(recall: Recall, note: str, outcome: str, *, actor: User) -> Recall:
    """Close a recall with its outcome: the lots return to sale, or stay withdrawn (recalled)."""
    if not may_close_recall(recall, actor):
        raise Forbidden(_l("Only the staff of the producer's centre can close a recall."))
    if recall.status != "open":
        raise Conflict(_l("This recall is already closed."))
    note = (note or "").strip()
    if outcome not in RECALL_OUTCOMES:
        raise InvalidInput(
            _l("Say how the recall ended."),
            {"outcome": _l("Choose returned_to_sale or withdrawn.")},
        )
    if outcome == "returned_to_sale" and not note:
        # The lots' pages tell consumers why the product is safe again: it needs saying.
        raise InvalidInput(
            _l("Say why the lots can return to sale."), {"note": _l("This field is required.")}
        )
    # As recall_batch: one recall decision at a time. The lots returned to sale are audited in their own
    # centres' chains: all of them locked up front, in order.
    lock_batch_chains(recall.batch_id, *(entry.batch_id for entry in recall.affected))
    before = snapshot(recall)
    recall.status = "closed"
    recall.outcome = outcome
    recall.closed_at = utcnow()
    recall.closed_by_id = actor.id
    recall.close_note = note or None
    db.session.flush()
    producer = recall.batch.product.producer
    record_audit(
        "close", recall, actor=actor, before=before, producer_id=producer.id, centre_id=producer.centre_id
    )
    if outcome == "returned_to_sale":
        _return_to_sale(recall, actor)
    return recall


def _return_to_sale(recall: Recall, actor: User) -> None:
    """Make the recall's batches usable again, except those another recall still holds."""
    affected_ids = [entry.batch_id for entry in recall.affected]
    held = set(
        db.session.scalars(
            select(RecallBatch.batch_id)
            .join(Recall, Recall.id == RecallBatch.recall_id)
            .where(RecallBatch.batch_id.in_(affected_ids), Recall.id != recall.id, _in_force())
        )
    )
    batches = db.session.scalars(
        select(Batch).where(Batch.id.in_(affected_ids)).execution_options(populate_existing=True)
    ).all()
    for batch in batches:
        if batch.id in held or batch.status != "recalled":
            continue
        before = snapshot(batch)
        # A lot used up before the recall is consumed again, not on sale.
        batch.status = "consumed" if quantity_remaining(batch) <= 0 else "active"
        db.session.flush()
        record_audit(
            "return_to_sale", batch, actor=actor, before=before, producer_id=batch.product.producer_id
        )


@dataclass(frozen=True)
class RecallState:
    """What the recalls reaching a batch mean for it now (the public page, the linkset, the resolver)."""

    #: Open recalls, and closed ones whose lots were withdrawn: do not use.
    in_force: list[Recall] = field(default_factory=list)
    #: Closed recalls whose lots returned to sale.
    ended: list[Recall] = field(default_factory=list)
    #: The batch's own status says recalled, whatever the recalls say.
    status_recalled: bool = False

    @property
    def recalled(self) -> bool:
        """Whether the batch must not be sold or used: no shop, no retailer link."""
        return bool(self.in_force) or self.status_recalled


def recall_state(batch: Batch) -> RecallState:
    """The recalls in force on ``batch`` and those that ended with its return to sale, newest first."""
    recalls = recalls_affecting(batch)
    return RecallState(
        in_force=[r for r in recalls if r.status == "open" or r.outcome == "withdrawn"],
        ended=[r for r in recalls if r.status == "closed" and r.outcome == "returned_to_sale"],
        status_recalled=batch.status == "recalled",
    )


# Built once (every uncached consumer page runs it): building and keying it cost more than running it.
_RECALLS_AFFECTING = (
    select(Recall)
    .join(RecallBatch, RecallBatch.recall_id == Recall.id)
    .where(RecallBatch.batch_id == bindparam("batch_id"))
    .order_by(Recall.opened_at.desc())
)


def recalls_affecting(batch: Batch) -> list[Recall]:
    """The recalls that reach ``batch``, itself or through its inputs, newest first."""
    return list(db.session.scalars(_RECALLS_AFFECTING, {"batch_id": batch.id}))
