"""Retention: `flask retention purge` lists, and with --apply removes, batches past their period.

Kept: anything inside its period (12 months after expiry, 60 without one, or
after the batch was last written if later), batches linked by lineage or a
recall to one still inside it, batches of an open recall, batches another
record (an inspection) refers to. Removed: the batch with its events, items,
scans, reports, lineage links and closed recalls; one audit entry per batch.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import func, select

from traceability.audit.chain import verify_chain
from traceability.audit.retention import RetentionPolicy, plan_purge, vietnam_today
from traceability.batches.service import new_public_code
from traceability.core.dates import add_months
from traceability.models.audit import AuditEntry
from traceability.models.batches import Batch, BatchInput, Item, Recall, RecallBatch, TraceEvent
from traceability.models.public import (
    ProblemReport,
    Scan,
    ScanDaily,
    ScanDailyCentre,
    ScanDailyProduct,
    ScanMonthlyProduct,
)

TODAY = vietnam_today()
TABLES = (Batch, TraceEvent, Item, Scan, ProblemReport, BatchInput, Recall, RecallBatch)


def months_ago(months: int) -> date:
    return add_months(TODAY, -months)


def _at(day: date) -> datetime:
    return datetime.combine(day, time(3), tzinfo=UTC)


def _batch(make, product, *, produced: date, expires: date | None, **overrides) -> Batch:
    """A batch recorded long ago: registered on its production day."""
    return make.batch(
        product, production_date=produced, expiry_date=expires, created_at=_at(produced), **overrides
    )


def _event(db, batch: Batch, day: date, *, recorded: date | None = None, **overrides) -> TraceEvent:
    event = TraceEvent(
        batch_id=batch.id,
        type="harvesting",
        biz_step="commissioning",
        event_time=_at(day),
        recorded_at=_at(recorded or day),
        **overrides,
    )
    db.session.add(event)
    db.session.flush()
    return event


def _item_with_scans(db, batch: Batch) -> Item:
    item = Item(batch_id=batch.id, serial="S0001", public_code=new_public_code())
    db.session.add(item)
    db.session.flush()
    db.session.add_all([Scan(batch_id=batch.id), Scan(batch_id=batch.id, item_id=item.id)])
    db.session.add(ProblemReport(batch_id=batch.id, message="Bao bì bị rách", contact=""))
    db.session.flush()
    return item


def _counts(db) -> dict[str, int]:
    db.session.expire_all()
    return {
        model.__name__: db.session.scalar(select(func.count()).select_from(model))
        for model in (*TABLES, AuditEntry)
    }


def _exists(db, batch_id: int) -> bool:
    return db.session.scalar(select(Batch.id).where(Batch.id == batch_id)) is not None


@pytest.fixture
def batches(db, make, tenants):
    """Batches on either side of their retention period."""
    own = tenants["daklak"]
    product = own.product
    made = {
        "expired_long_ago": _batch(make, product, produced=months_ago(36), expires=months_ago(24)),
        "expired_recently": _batch(make, product, produced=months_ago(20), expires=months_ago(6)),
        "old_without_expiry": _batch(make, product, produced=months_ago(62), expires=None),
        "younger_without_expiry": _batch(make, product, produced=months_ago(58), expires=None),
        "old_but_written_lately": _batch(make, product, produced=months_ago(36), expires=months_ago(24)),
    }
    gone = made["expired_long_ago"]
    _event(db, gone, months_ago(36))
    _event(db, gone, months_ago(35), note="Xuất kho")
    _item_with_scans(db, gone)
    _event(db, made["old_without_expiry"], months_ago(62))
    _event(db, made["expired_recently"], months_ago(20))
    _event(db, made["old_but_written_lately"], months_ago(30), recorded=months_ago(1))
    db.session.commit()
    return made


def test_a_dry_run_lists_what_would_go_and_changes_nothing(runner, db, batches):
    before = _counts(db)
    result = runner.invoke(args=["retention", "purge"])
    assert result.exit_code == 0, result.output
    for key in ("expired_long_ago", "old_without_expiry"):
        assert f"#{batches[key].id} {batches[key].lot_code}" in result.output
    for key in ("expired_recently", "younger_without_expiry", "old_but_written_lately"):
        assert f"#{batches[key].id} " not in result.output
    assert "--apply" in result.output
    assert _counts(db) == before


def test_apply_removes_batches_past_their_period_with_their_rows(runner, db, batches):
    gone, also_gone = batches["expired_long_ago"], batches["old_without_expiry"]
    ids = (gone.id, also_gone.id)
    gone_lot, gone_producer_id = gone.lot_code, gone.product.producer_id
    kept = {key: batch.id for key, batch in batches.items() if batch.id not in ids}
    kept_events = db.session.scalar(
        select(func.count(TraceEvent.id)).where(TraceEvent.batch_id.in_(kept.values()))
    )
    gone_counts = select(func.sum(ScanDaily.count)).where(ScanDaily.batch_id == gone.id)
    assert db.session.scalar(gone_counts) == 2  # its daily scan counts go with it too
    coarser = {
        model: db.session.scalar(select(func.coalesce(func.sum(model.count), 0)))
        for model in (ScanDailyProduct, ScanDailyCentre, ScanMonthlyProduct)
    }
    result = runner.invoke(args=["retention", "purge", "--apply"])
    assert result.exit_code == 0, result.output
    db.session.expire_all()
    assert not _exists(db, ids[0]) and not _exists(db, ids[1])
    for model in (TraceEvent, Item, Scan, ScanDaily, ProblemReport):
        assert db.session.scalar(select(func.count()).select_from(model).where(model.batch_id.in_(ids))) == 0
    # The product's and the centre's counts lose the same scans: every table tells the kept scans' total.
    kept_scans = db.session.scalar(select(func.count()).select_from(Scan))
    for model, before in coarser.items():
        assert db.session.scalar(select(func.coalesce(func.sum(model.count), 0))) == before - 2 == kept_scans
    assert all(_exists(db, batch_id) for batch_id in kept.values())
    remaining = db.session.scalar(
        select(func.count(TraceEvent.id)).where(TraceEvent.batch_id.in_(kept.values()))
    )
    assert remaining == kept_events

    entries = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "purge")).all()
    assert sorted(int(entry.object_id) for entry in entries) == sorted(ids)
    entry = next(entry for entry in entries if entry.object_id == str(ids[0]))
    assert entry.object_type == "Batch" and entry.after is None
    assert entry.before["lot_code"] == gone_lot
    assert entry.before["purge"]["removed"] == {
        "events": 2,
        "items": 1,
        "scans": 2,
        "reports": 1,
        "inputs": 0,
        "recalls": 0,
    }
    assert entry.before["purge"]["retention_ended_on"] == add_months(months_ago(24), 12).isoformat()
    assert entry.producer_id == gone_producer_id and entry.centre_id is not None
    assert entry.request_info["via"] == "cli"

    verified = runner.invoke(args=["audit", "verify"])
    assert verified.exit_code == 0, verified.output
    # Nothing more to do: a second run removes nothing and the log only grew.
    again = runner.invoke(args=["retention", "purge", "--apply"])
    assert again.exit_code == 0
    assert db.session.scalar(select(func.count(AuditEntry.id)).where(AuditEntry.action == "purge")) == 2


def test_the_audit_log_itself_is_never_purged(runner, db, batches, tenants):
    from traceability.audit.service import record_audit

    record_audit("update", batches["expired_long_ago"], actor=tenants["daklak"].producer_user)
    db.session.commit()
    before = db.session.scalar(select(func.count(AuditEntry.id)))
    runner.invoke(args=["retention", "purge", "--apply"])
    assert db.session.scalar(select(func.count(AuditEntry.id))) == before + 2
    assert verify_chain().intact


def test_a_batch_needed_by_one_inside_its_period_is_kept(runner, db, make, tenants):
    product = tenants["daklak"].product
    old_input = _batch(make, product, produced=months_ago(40), expires=months_ago(30))
    recent_output = _batch(make, product, produced=months_ago(3), expires=months_ago(-9))
    old_pair = [
        _batch(make, product, produced=months_ago(40), expires=months_ago(30)),
        _batch(make, product, produced=months_ago(39), expires=months_ago(29)),
    ]
    db.session.add_all(
        [
            BatchInput(
                output_batch_id=recent_output.id,
                input_batch_id=old_input.id,
                quantity=Decimal("10"),
                created_at=_at(months_ago(3)),
            ),
            BatchInput(
                output_batch_id=old_pair[1].id,
                input_batch_id=old_pair[0].id,
                quantity=Decimal("10"),
                created_at=_at(months_ago(39)),
            ),
        ]
    )
    db.session.commit()
    plan = plan_purge(RetentionPolicy(), TODAY)
    assert [kept.batch_id for kept in plan.kept] == [old_input.id]
    assert plan.kept[0].reason == "lineage" and plan.kept[0].detail["linked_batch_ids"] == [recent_output.id]
    assert sorted(removal.batch_id for removal in plan.removals) == sorted(b.id for b in old_pair)
    result = runner.invoke(args=["retention", "purge", "--apply"])
    assert result.exit_code == 0, result.output
    assert f"#{old_input.id} {old_input.lot_code}" in result.output  # listed as kept, with the reason
    db.session.expire_all()
    assert _exists(db, old_input.id) and _exists(db, recent_output.id)
    assert db.session.scalar(select(func.count(BatchInput.id))) == 1
    assert not any(_exists(db, batch.id) for batch in old_pair)


def _recall(db, batch: Batch, status: str) -> Recall:
    recall = Recall(
        batch_id=batch.id,
        reason="Nhiễm nấm mốc",
        status=status,
        outcome="withdrawn" if status == "closed" else None,  # a closed recall says how it ended
        opened_at=_at(months_ago(25)),
    )
    recall.affected.append(RecallBatch(batch_id=batch.id, depth=0))
    batch.status = "recalled"
    db.session.add(recall)
    db.session.flush()
    return recall


def test_batches_of_an_open_recall_are_never_removed(runner, db, make, tenants):
    product = tenants["daklak"].product
    open_one = _batch(make, product, produced=months_ago(40), expires=months_ago(30))
    closed_one = _batch(make, product, produced=months_ago(40), expires=months_ago(30))
    open_recall = _recall(db, open_one, "open")
    closed_recall = _recall(db, closed_one, "closed")
    db.session.commit()
    closed_id, closed_recall_id = closed_one.id, closed_recall.id
    plan = plan_purge(RetentionPolicy(), TODAY)
    (kept,) = plan.kept
    assert (kept.batch_id, kept.reason, kept.detail) == (
        open_one.id,
        "open_recall",
        {"recall_id": open_recall.id},
    )
    result = runner.invoke(args=["retention", "purge", "--apply"])
    assert result.exit_code == 0, result.output
    db.session.expire_all()
    assert _exists(db, open_one.id) and db.session.get(Recall, open_recall.id) is not None
    assert not _exists(db, closed_id)
    assert db.session.scalar(select(Recall.id).where(Recall.id == closed_recall_id)) is None
    assert db.session.scalar(select(func.count(RecallBatch.id))) == 1
    entry = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "purge")).one()
    assert entry.before["purge"]["recall_ids"] == [closed_recall_id]


def test_a_batch_an_inspection_refers_to_is_kept(db, make, tenants):
    inspections = pytest.importorskip("traceability.models.inspections")
    own = tenants["daklak"]
    batch = _batch(make, own.product, produced=months_ago(40), expires=months_ago(30))
    db.session.add(
        inspections.Inspection(
            centre_id=own.centre.id,
            producer_id=own.producer.id,
            subject_kind="batch",
            batch_id=batch.id,
            inspected_on=months_ago(30),
            inspector="Nguyễn Văn An",
            outcome="conforming",
            status="closed",
        )
    )
    db.session.commit()
    (kept,) = plan_purge(RetentionPolicy(), TODAY).kept
    assert (kept.batch_id, kept.reason, kept.detail) == (batch.id, "referenced", {"table": "inspection"})


@pytest.mark.parametrize(
    ("expires", "produced", "last_kept_day"),
    [
        (date(2024, 3, 31), date(2023, 3, 1), date(2025, 3, 31)),
        (date(2024, 2, 29), date(2023, 3, 1), date(2025, 2, 28)),
        (None, date(2020, 2, 29), date(2025, 2, 28)),
        (None, date(2020, 1, 31), date(2025, 1, 31)),
    ],
)
def test_the_period_ends_on_its_last_day(db, make, tenants, expires, produced, last_kept_day):
    batch = _batch(make, tenants["daklak"].product, produced=produced, expires=expires)
    db.session.commit()
    policy = RetentionPolicy()
    on_last_day = plan_purge(policy, last_kept_day)
    assert [removal.batch_id for removal in on_last_day.removals] == []
    next_day = plan_purge(policy, date.fromordinal(last_kept_day.toordinal() + 1))
    assert [removal.batch_id for removal in next_day.removals] == [batch.id]


def test_a_longer_configured_period_keeps_more(runner, app, db, batches, monkeypatch):
    monkeypatch.setitem(app.config, "RETENTION_MONTHS_AFTER_EXPIRY", 25)
    monkeypatch.setitem(app.config, "RETENTION_MONTHS_WITHOUT_EXPIRY", 120)
    result = runner.invoke(args=["retention", "purge", "--apply"])
    assert result.exit_code == 0, result.output
    assert all(_exists(db, batch.id) for batch in batches.values())
    assert "25" in result.output and "120" in result.output


@pytest.mark.parametrize(
    ("key", "value"), [("RETENTION_MONTHS_AFTER_EXPIRY", 6), ("RETENTION_MONTHS_WITHOUT_EXPIRY", "five")]
)
def test_a_period_shorter_than_the_regulation_is_refused(runner, app, db, batches, monkeypatch, key, value):
    monkeypatch.setitem(app.config, key, value)
    before = _counts(db)
    result = runner.invoke(args=["retention", "purge", "--apply"])
    assert result.exit_code == 1
    assert key in result.output
    assert _counts(db) == before


def test_removed_events_take_their_photos_with_them(runner, app, db, make, tenants):
    folder = Path(app.config["UPLOAD_FOLDER"]) / "images"
    folder.mkdir(parents=True, exist_ok=True)
    batch = _batch(make, tenants["daklak"].product, produced=months_ago(40), expires=months_ago(30))
    (folder / "old-photo.webp").write_bytes(b"photo")
    (folder / "old-photo-thumb.webp").write_bytes(b"thumb")
    _event(
        db,
        batch,
        months_ago(40),
        photo_filename="old-photo.webp",
        photo_thumbnail_filename="old-photo-thumb.webp",
    )
    db.session.commit()
    runner.invoke(args=["retention", "purge"])
    assert (folder / "old-photo.webp").exists()  # a dry run keeps them
    result = runner.invoke(args=["retention", "purge", "--apply"])
    assert result.exit_code == 0, result.output
    assert not (folder / "old-photo.webp").exists() and not (folder / "old-photo-thumb.webp").exists()


def test_add_months_keeps_the_day_or_takes_the_months_last():
    assert add_months(date(2026, 1, 31), 1) == date(2026, 2, 28)
    assert add_months(date(2024, 2, 29), 12) == date(2025, 2, 28)
    assert add_months(date(2026, 11, 22), -60) == date(2021, 11, 22)
    assert add_months(date(2026, 3, 31), -1) == date(2026, 2, 28)
