"""Scans by month: partitions on PostgreSQL (made ahead, a DEFAULT one), and whole months dropped by retention."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select, text

from tests.conftest import database_kind
from traceability.core.dates import add_months, month_start, vietnam_midnight, vietnam_today
from traceability.jobs.catalogue import JOBS
from traceability.models.audit import AuditEntry
from traceability.models.public import Scan, ScanDaily
from traceability.public.scan_retention import make_partitions

TODAY = vietnam_today()
postgresql_only = pytest.mark.skipif(
    database_kind() != "postgresql", reason="partitions are PostgreSQL's; SQLite keeps one table"
)


def _partitions(db) -> set[str]:
    return set(
        db.session.scalars(
            text(
                "SELECT child.relname FROM pg_inherits JOIN pg_class child ON child.oid = inhrelid "
                "WHERE inhparent = 'scan'::regclass"
            )
        )
    )


def _where(db, scan_id: int) -> str:
    return db.session.scalar(
        text("SELECT tableoid::regclass::text FROM scan WHERE id = :id"), {"id": scan_id}
    )


def _scan(db, batch, moment) -> Scan:
    scan = Scan(batch_id=batch.id, scanned_at=moment, language="vi", device_class="mobile")
    db.session.add(scan)
    db.session.commit()
    return scan


def _month_name(month: date) -> str:
    return f"scan_y{month.year:04d}m{month.month:02d}"


@postgresql_only
def test_scan_is_partitioned_by_month_with_a_default_partition(app, db):
    strategy = db.session.scalar(
        text("SELECT partstrat FROM pg_partitioned_table WHERE partrelid = 'scan'::regclass")
    )
    assert strategy == "r"  # RANGE
    assert {"scan_default", _month_name(TODAY), _month_name(add_months(TODAY, 1))} <= _partitions(db)
    key = db.session.scalar(
        text(
            "SELECT string_agg(attname, ',' ORDER BY attname) FROM pg_index JOIN pg_attribute "
            "ON attrelid = indrelid AND attnum = ANY(indkey) WHERE indrelid = 'scan'::regclass AND indisprimary"
        )
    )
    assert key == "id,scanned_at"


@postgresql_only
def test_a_scan_lands_in_its_months_partition_and_one_outside_in_default(app, db, tenants):
    batch = tenants["daklak"].batch
    # 23:30 on the last day of last month, Vietnam time, is last month's even though UTC says so too;
    # 00:30 on the first of this month is this month's although it is still last month in UTC.
    first = month_start(TODAY)
    this_month = _scan(db, batch, vietnam_midnight(first) + timedelta(minutes=30))
    assert _where(db, this_month.id) == _month_name(TODAY)
    far = _scan(db, batch, vietnam_midnight(date(2019, 5, 17)))
    assert _where(db, far.id) == "scan_default"
    # The partition-maker, run for that month, moves the row out of DEFAULT into its own partition.
    made = make_partitions(today=date(2019, 5, 1))
    assert made == ["scan_y2019m05", "scan_y2019m06", "scan_y2019m07"]
    assert _where(db, far.id) == "scan_y2019m05"
    assert db.session.scalar(select(func.count()).select_from(Scan)) == 2


@postgresql_only
def test_the_worker_job_makes_the_coming_months_partitions(app, db):
    job = next(job for job in JOBS if job.name == "scans.partitions")
    assert job.periodic and job.at_worker_start == ()
    coming = add_months(TODAY, 2)
    db.session.execute(text(f"DROP TABLE IF EXISTS {_month_name(coming)}"))
    db.session.commit()
    assert _month_name(coming) not in _partitions(db)
    assert job.load()() == [_month_name(coming)]
    assert _month_name(coming) in _partitions(db)
    assert job.load()() == []  # made once


def test_the_purge_drops_scans_older_than_the_setting_and_keeps_their_daily_counts(
    app, db, tenants, runner, monkeypatch
):
    batch = tenants["daklak"].batch
    old_month = month_start(TODAY, -4)
    make_partitions(today=old_month)  # PostgreSQL: that month's partition; SQLite: nothing
    old = [_scan(db, batch, vietnam_midnight(old_month) + timedelta(hours=hour)) for hour in (1, 2, 3)]
    recent = _scan(db, batch, vietnam_midnight(TODAY) + timedelta(hours=1))
    if database_kind() == "postgresql":
        assert _where(db, old[0].id) == _month_name(old_month)

    # Kept for ever by default: nothing to do.
    result = runner.invoke(args=["scans", "purge", "--apply"])
    assert result.exit_code == 0 and "0" in result.output
    assert db.session.scalar(select(func.count()).select_from(Scan)) == 4

    monkeypatch.setitem(app.config, "SCAN_RETENTION_MONTHS", 2)
    dry = runner.invoke(args=["scans", "purge"])
    assert dry.exit_code == 0, dry.output
    assert "3" in dry.output and "--apply" in dry.output
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(Scan)) == 4

    applied = runner.invoke(args=["scans", "purge", "--apply"])
    assert applied.exit_code == 0, applied.output
    db.session.expire_all()
    assert list(db.session.scalars(select(Scan.id))) == [recent.id]
    if database_kind() == "postgresql":
        assert _month_name(old_month) not in _partitions(db)  # the whole month went at once
        assert _month_name(TODAY) in _partitions(db)
    # The dashboards' counts of those days are kept.
    assert db.session.scalar(select(ScanDaily.count).where(ScanDaily.day == old_month)) == 3
    entry = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "purge_scans")).one()
    assert entry.object_type == "Scan"
    assert entry.before["rows"] == 3 and entry.before["before"] == month_start(TODAY, -2).isoformat()
    verified = runner.invoke(args=["audit", "verify"])
    assert verified.exit_code == 0, verified.output


def test_a_negative_retention_is_refused(app, runner, monkeypatch):
    monkeypatch.setitem(app.config, "SCAN_RETENTION_MONTHS", -1)
    result = runner.invoke(args=["scans", "purge"])
    assert result.exit_code != 0
    assert "SCAN_RETENTION_MONTHS" in result.output
