"""Recalls: a batch and everything made from it, withdrawn at once."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from traceability.accounts.models import User
from traceability.accounts.scope import writable_producer
from traceability.audit.service import lock_audit_chain, record_audit, snapshot
from traceability.batches.models import Batch, Recall, RecallBatch
from traceability.batches.trace import related_batch_ids
from traceability.database import utcnow
from traceability.errors import Conflict, Forbidden, InvalidInput
from traceability.extensions import db

CENTRE_ROLES = ("centre_admin", "centre_staff")


def recall_batch(batch: Batch, reason: str, *, actor: User) -> Recall:
    """Recall ``batch``: it and every downstream batch are marked recalled in the same transaction."""
    producer = writable_producer(batch.product.producer_id, actor)
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput(_l("Say why the batch is recalled."), {"reason": _l("This field is required.")})
    # Before reading what was made from the batch: a lot being made from it right now
    # either commits first and is reached, or comes after and sees the recall.
    lock_audit_chain()
    open_recall = db.session.scalar(
        select(Recall.id).where(Recall.batch_id == batch.id, Recall.status == "open")
    )
    if open_recall is not None:
        raise Conflict(_l("This batch already has an open recall."))
    recall = Recall(batch_id=batch.id, reason=reason, opened_by_id=actor.id)
    db.session.add(recall)
    depths = {batch.id: 0, **related_batch_ids(batch.id, "downstream")}
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
    return recall


def close_recall(recall: Recall, note: str, *, actor: User) -> Recall:
    """Close a recall once the centre is satisfied; the batches stay recalled."""
    if actor.role not in CENTRE_ROLES or actor.centre_id != recall.batch.product.producer.centre_id:
        raise Forbidden(_l("Only the staff of the producer's centre can close a recall."))
    if recall.status != "open":
        raise Conflict(_l("This recall is already closed."))
    before = snapshot(recall)
    recall.status = "closed"
    recall.closed_at = utcnow()
    recall.closed_by_id = actor.id
    recall.close_note = (note or "").strip() or None
    db.session.flush()
    record_audit(
        "close",
        recall,
        actor=actor,
        before=before,
        producer_id=recall.batch.product.producer_id,
        centre_id=recall.batch.product.producer.centre_id,
    )
    return recall


def recalls_affecting(batch: Batch) -> list[Recall]:
    """The recalls that reach ``batch``, itself or through its inputs, newest first."""
    return list(
        db.session.scalars(
            select(Recall)
            .join(RecallBatch, RecallBatch.recall_id == Recall.id)
            .where(RecallBatch.batch_id == batch.id)
            .order_by(Recall.opened_at.desc())
        )
    )
