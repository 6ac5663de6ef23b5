"""Retention: when a batch's records may go, and the purge that removes them.

The rule (DESIGN.md, Circular 31/2026/TT-BCT as the benchmark): records are
kept at least ``RETENTION_MONTHS_AFTER_EXPIRY`` (12) months after the expiry
date, and ``RETENTION_MONTHS_WITHOUT_EXPIRY`` (60) months for goods without
one, counted from the production date. A batch recorded or changed later
than that date (an event, or the batch registered late) counts from its last
activity instead, so nothing is removed within the period after it was last
written.

A batch goes together with its events, items, scans, consumer reports,
lineage links and closed recalls, and only as a whole *group*: the batches
linked to it by lineage or by a recall, transitively. A group is removed when
every batch in it is past its period; one batch still inside it keeps the
whole group, so a kept batch can always be traced upstream and downstream
(TCVN 12850). A group touched by an open recall is never removed, nor one
that a record the purge does not know about refers to (an inspection, say).

Producers, products, locations, certifications and the audit log itself are
never purged. Each removed batch gets a ``purge`` audit entry with what went,
in its producer's centre's chain, so every chain stays verifiable after a purge.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import Table, delete, func, or_, select

from traceability.audit.service import centres_of_batches, lock_audit_chain, record_audit, snapshot
from traceability.core.database import UTCDateTime, table_of
from traceability.core.dates import VIETNAM_OFFSET, add_months, vietnam_today
from traceability.core.extensions import db
from traceability.core.ownership import owned_models, owner_of
from traceability.core.uploads import images_folder, remove
from traceability.models.batches import Batch, BatchInput, Item, Recall, RecallBatch, TraceEvent
from traceability.models.public import ProblemReport, Scan
from traceability.models.registry import Product

log = logging.getLogger(__name__)

# The regulation's minimums: a configuration may keep data longer, never shorter.
MINIMUM_MONTHS_AFTER_EXPIRY = 12
MINIMUM_MONTHS_WITHOUT_EXPIRY = 60
# The EPCIS query index of a batch's events: its rows go with the batch (ON DELETE CASCADE).
CASCADED_TABLES = {"epcis_query_event"}


def handled_tables() -> set[str]:
    """Tables the purge empties for a batch: its own and every model's declared ``batch_owned``.

    A reference to the batch's rows from any other table keeps the batch.
    """
    return {"batch", *(table_of(model).name for model in owned_models("batch")), *CASCADED_TABLES}


class RetentionConfigError(ValueError):
    """The configured retention is not a whole number of months at or above the minimum."""


@dataclass(frozen=True)
class RetentionPolicy:
    """How long batches are kept, in months."""

    months_after_expiry: int = MINIMUM_MONTHS_AFTER_EXPIRY
    months_without_expiry: int = MINIMUM_MONTHS_WITHOUT_EXPIRY

    @classmethod
    def from_config(cls, config: Any) -> RetentionPolicy:
        """The policy of the app's configuration; refuses periods shorter than the regulation's."""
        values = {}
        for key, minimum in (
            ("RETENTION_MONTHS_AFTER_EXPIRY", MINIMUM_MONTHS_AFTER_EXPIRY),
            ("RETENTION_MONTHS_WITHOUT_EXPIRY", MINIMUM_MONTHS_WITHOUT_EXPIRY),
        ):
            raw = config.get(key, minimum)
            try:
                months = int(raw)
            except (TypeError, ValueError):
                raise RetentionConfigError(f"{key} must be a whole number of months, not {raw!r}.") from None
            if months < minimum:
                raise RetentionConfigError(f"{key} is {months}: the regulation requires at least {minimum}.")
            values[key] = months
        return cls(values["RETENTION_MONTHS_AFTER_EXPIRY"], values["RETENTION_MONTHS_WITHOUT_EXPIRY"])


def _local_day(moment: datetime) -> date:
    return moment.astimezone(VIETNAM_OFFSET).date()


def retention_ends_on(
    policy: RetentionPolicy, *, production_date: date, expiry_date: date | None, last_activity: date | None
) -> date:
    """The last day a batch's records must be kept."""
    if expiry_date is not None:
        start, months = expiry_date, policy.months_after_expiry
    else:
        start, months = production_date, policy.months_without_expiry
    if last_activity is not None and last_activity > start:
        start = last_activity
    return add_months(start, months)


@dataclass
class BatchRemoval:
    """A batch the purge removes (or would), with what goes with it."""

    batch_id: int
    lot_code: str
    product_name: str
    producer_id: int
    retention_ended_on: date
    group: list[int]
    counts: dict[str, int] = field(default_factory=dict)


@dataclass
class BatchKept:
    """A batch past its period that stays, and why (``reason``: lineage, open_recall, referenced)."""

    batch_id: int
    lot_code: str
    retention_ended_on: date
    reason: str
    detail: dict[str, Any]


@dataclass
class PurgePlan:
    """What a purge removes on ``today`` under ``policy``, and what stays although past its period."""

    today: date
    policy: RetentionPolicy
    removals: list[BatchRemoval]
    kept: list[BatchKept]


def _past_retention(policy: RetentionPolicy, today: date) -> dict[int, tuple[date, Any]]:
    """Batches whose period ended before ``today``: id -> (last day kept, row)."""
    # A coarse SQL filter (a few days' margin for month ends), then the exact rule per batch.
    margin = timedelta(days=4)
    cutoff_expiry = add_months(today, -policy.months_after_expiry) + margin
    cutoff_none = add_months(today, -policy.months_without_expiry) + margin
    activity = (
        select(
            TraceEvent.batch_id,
            func.max(TraceEvent.recorded_at).label("recorded"),
            func.max(TraceEvent.event_time).label("happened"),
        )
        .group_by(TraceEvent.batch_id)
        .subquery()
    )
    rows = db.session.execute(
        select(
            Batch.id,
            Batch.lot_code,
            Batch.production_date,
            Batch.expiry_date,
            Batch.created_at,
            Product.name.label("product_name"),
            Product.producer_id,
            activity.c.recorded,
            activity.c.happened,
        )
        .join(Product, Product.id == Batch.product_id)
        .outerjoin(activity, activity.c.batch_id == Batch.id)
        .where(
            or_(
                Batch.expiry_date < cutoff_expiry,
                Batch.expiry_date.is_(None) & (Batch.production_date < cutoff_none),
            )
        )
        .order_by(Batch.id)
    ).all()
    past = {}
    for row in rows:
        # SQLite returns the aggregated instants as naive UTC text: read them through the column type.
        moments = [row.created_at, _instant(row.recorded), _instant(row.happened)]
        last_activity = max((_local_day(m) for m in moments if m is not None), default=None)
        ends_on = retention_ends_on(
            policy,
            production_date=row.production_date,
            expiry_date=row.expiry_date,
            last_activity=last_activity,
        )
        if ends_on < today:
            past[row.id] = (ends_on, row)
    return past


def _instant(value: Any) -> datetime | None:
    """An aggregated timestamp as an aware UTC datetime (SQLite gives it back as text)."""
    if value is None or (isinstance(value, datetime) and value.tzinfo is not None):
        return value
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    # The type of TraceEvent.recorded_at (and of every instant column).
    return UTCDateTime().process_result_value(value, db.session.get_bind().dialect)


def _linked(batch_ids: set[int]) -> set[int]:
    """The batches one lineage link or recall away from ``batch_ids``."""
    ids = list(batch_ids)
    linked: set[int] = set()
    for output_id, input_id in db.session.execute(
        select(BatchInput.output_batch_id, BatchInput.input_batch_id).where(
            or_(BatchInput.output_batch_id.in_(ids), BatchInput.input_batch_id.in_(ids))
        )
    ):
        linked.update((output_id, input_id))
    recalls = select(RecallBatch.recall_id).where(RecallBatch.batch_id.in_(ids))
    origins = select(Recall.id).where(Recall.batch_id.in_(ids))
    linked.update(
        db.session.scalars(
            select(RecallBatch.batch_id).where(
                or_(RecallBatch.recall_id.in_(recalls), RecallBatch.recall_id.in_(origins))
            )
        )
    )
    linked.update(
        db.session.scalars(select(Recall.batch_id).where(or_(Recall.id.in_(recalls), Recall.id.in_(origins))))
    )
    return linked - batch_ids


def _group(batch_id: int) -> set[int]:
    """Every batch linked to ``batch_id`` by lineage or a recall, transitively, itself included."""
    group, frontier = {batch_id}, {batch_id}
    while frontier:
        frontier = _linked(frontier) - group
        group |= frontier
    return group


def _open_recall(group: set[int]) -> int | None:
    ids = list(group)
    return db.session.scalar(
        select(Recall.id)
        .where(
            Recall.status == "open",
            or_(
                Recall.batch_id.in_(ids),
                Recall.id.in_(select(RecallBatch.recall_id).where(RecallBatch.batch_id.in_(ids))),
            ),
        )
        .limit(1)
    )


def _row_ids(group: set[int]) -> dict[str, list[int]]:
    """The ids of the group's own rows that other tables may point at."""
    ids = list(group)
    return {
        "batch": ids,
        "item": list(db.session.scalars(select(Item.id).where(Item.batch_id.in_(ids)))),
        "trace_event": list(db.session.scalars(select(TraceEvent.id).where(TraceEvent.batch_id.in_(ids)))),
        "recall": list(db.session.scalars(select(Recall.id).where(Recall.batch_id.in_(ids)))),
    }


def _foreign_references(group: set[int]) -> str | None:
    """The name of a table the purge does not empty that still refers to the group's rows, if any."""
    row_ids: dict[str, list[int]] | None = None
    handled = handled_tables()
    for table in db.metadata.sorted_tables:
        if table.name in handled:
            continue
        for key in table.foreign_keys:
            target = key.column.table.name
            if target not in ("batch", "item", "trace_event", "recall"):
                continue
            row_ids = row_ids if row_ids is not None else _row_ids(group)
            if row_ids[target] and _references(table, key.parent, row_ids[target]):
                return table.name
    return None


def _references(table: Table, column: Any, ids: Iterable[int]) -> bool:
    return db.session.execute(select(column).where(column.in_(list(ids))).limit(1)).first() is not None


def plan_purge(policy: RetentionPolicy, today: date | None = None) -> PurgePlan:
    """What a purge on ``today`` removes, and which batches past their period stay, and why."""
    today = today or vietnam_today()
    past = _past_retention(policy, today)
    removals: list[BatchRemoval] = []
    kept: list[BatchKept] = []
    seen: set[int] = set()
    for batch_id in past:
        if batch_id in seen:
            continue
        group = _group(batch_id)
        seen |= group
        members = sorted(group)
        still_kept = [other for other in members if other not in past]
        detail: dict[str, Any]
        reason, detail = None, {}
        if still_kept:
            reason, detail = "lineage", {"linked_batch_ids": still_kept}
        elif (recall_id := _open_recall(group)) is not None:
            reason, detail = "open_recall", {"recall_id": recall_id}
        elif (table := _foreign_references(group)) is not None:
            reason, detail = "referenced", {"table": table}
        for member in members:
            if member not in past:
                continue
            ends_on, row = past[member]
            if reason is not None:
                kept.append(BatchKept(member, row.lot_code, ends_on, reason, detail))
            else:
                removals.append(
                    BatchRemoval(
                        member,
                        row.lot_code,
                        row.product_name,
                        row.producer_id,
                        ends_on,
                        [other for other in members if other != member],
                        _counts(member),
                    )
                )
    removals.sort(key=lambda removal: removal.batch_id)
    kept.sort(key=lambda entry: entry.batch_id)
    return PurgePlan(today, policy, removals, kept)


def _count(model: Any, *conditions: Any) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*conditions)) or 0


def _counts(batch_id: int) -> dict[str, int]:
    """How many rows of each kind go with a batch."""
    items = select(Item.id).where(Item.batch_id == batch_id)
    return {
        "events": _count(TraceEvent, TraceEvent.batch_id == batch_id),
        "items": _count(Item, Item.batch_id == batch_id),
        "scans": _count(Scan, or_(Scan.batch_id == batch_id, Scan.item_id.in_(items))),
        "reports": _count(ProblemReport, ProblemReport.batch_id == batch_id),
        "inputs": _count(
            BatchInput, or_(BatchInput.output_batch_id == batch_id, BatchInput.input_batch_id == batch_id)
        ),
        "recalls": _count(Recall, Recall.batch_id == batch_id),
    }


def apply_purge(plan: PurgePlan) -> list[str]:
    """Remove the planned batches with their rows, one audit entry per batch (flushes, never commits).

    Returns the stored photo files to delete once the transaction is committed.
    """
    ids = [removal.batch_id for removal in plan.removals]
    if not ids:
        return []
    events = db.session.execute(
        select(
            TraceEvent.id, TraceEvent.batch_id, TraceEvent.photo_filename, TraceEvent.photo_thumbnail_filename
        ).where(TraceEvent.batch_id.in_(ids))
    ).all()
    files = [name for row in events for name in (row.photo_filename, row.photo_thumbnail_filename) if name]
    batches = {batch.id: batch for batch in db.session.scalars(select(Batch).where(Batch.id.in_(ids)))}
    # Each removal is audited in its producer's centre's chain: take those chains' locks up front, in
    # one order, so a purge spanning provinces cannot deadlock with another writer of two of them.
    lock_audit_chain(*centres_of_batches(ids))
    for removal in plan.removals:
        batch = batches[removal.batch_id]
        recall_ids = db.session.scalars(
            select(Recall.id).where(Recall.batch_id == batch.id).order_by(Recall.id)
        )
        record_audit(
            "purge",
            batch,
            before={
                **snapshot(batch),
                "purge": {
                    "retention_ended_on": removal.retention_ended_on,
                    "months_after_expiry": plan.policy.months_after_expiry,
                    "months_without_expiry": plan.policy.months_without_expiry,
                    "removed": removal.counts,
                    "event_ids": sorted(row.id for row in events if row.batch_id == batch.id),
                    "recall_ids": list(recall_ids),
                    "linked_batch_ids": removal.group,
                },
            },
            after=None,
            producer_id=removal.producer_id,
        )
    # Every row declared as a lot's (traceability.core.ownership), children before the rows they point at.
    owned = {table_of(model): model for model in owned_models("batch")}
    for table in reversed(db.metadata.sorted_tables):
        if (model := owned.get(table)) is not None and (owner := owner_of(model)) is not None:
            statement = delete(model).where(or_(*(column.in_(ids) for column in owner.columns(model))))
            db.session.execute(statement.execution_options(synchronize_session=False))
    for batch in batches.values():
        # Through the session, so whatever listens for changed records (the page cache) hears of it;
        # the collections are reloaded (now empty) rather than trusted from memory.
        db.session.expire(batch, ["events", "items"])
        db.session.delete(batch)
    db.session.flush()
    return files


def remove_files(files: list[str]) -> None:
    """Delete the removed events' photos (after the commit: a rolled-back purge keeps them)."""
    remove(images_folder(), *files)


def purge_now(policy: RetentionPolicy) -> PurgePlan:
    """Remove every batch past its retention period (audited) and commit, then their files; the plan."""
    plan = plan_purge(policy)
    try:
        files = apply_purge(plan)
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    remove_files(files)
    return plan


def scheduled_purge() -> int:
    """The worker's job ``retention.purge``, on ``RETENTION_PURGE_SCHEDULE``: how many batches went."""
    plan = purge_now(RetentionPolicy.from_config(current_app.config))
    for removal in plan.removals:
        log.info(
            "retention: removed batch %s (%s), kept until %s",
            removal.batch_id,
            removal.lot_code,
            removal.retention_ended_on.isoformat(),
        )
    log.info("retention: removed %d batches, kept %d past their period", len(plan.removals), len(plan.kept))
    return len(plan.removals)
