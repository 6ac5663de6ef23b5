"""One audit chain per centre and a national one: parallel writes, incremental verification, the upgrade.

* Writes of two centres take two different locks (PostgreSQL): one does not
  wait for the other; two writes of the same centre do.
* ``audit verify`` keeps each intact chain's head as a checkpoint and the next
  run reads only what came after it; a change made before the checkpoint is
  caught by ``--full`` only (the monthly run), a change to the checkpoint's own
  entry by any run.
* A log written before there was a chain per centre verifies after the upgrade,
  as the national chain's first entries.
* A purge across provinces leaves every chain verifiable.
"""

from __future__ import annotations

import re
import threading
import time
import uuid
from datetime import UTC, date, datetime
from types import SimpleNamespace

import pytest
from flask_migrate import upgrade
from sqlalchemy import JSON, column, select, table, text, update
from sqlalchemy.exc import OperationalError

from tests.databases import scratch_database
from traceability import create_app
from traceability.audit.chain import verify_chain
from traceability.audit.retention import RetentionPolicy, apply_purge, plan_purge
from traceability.audit.service import NATIONAL_CHAIN, chain_of, entry_hash, record_audit
from traceability.batches.recalls import recall_batch
from traceability.core.config import TestConfig
from traceability.core.database import UTCDateTime
from traceability.core.extensions import db as _db
from traceability.models.accounts import User
from traceability.models.audit import AuditCheckpoint, AuditEntry
from traceability.models.batches import Batch, BatchInput
from traceability.registry.products import create_product

ENTRIES = AuditEntry.__table__


def _products(tenant, count, start=0):
    for n in range(start, start + count):
        create_product({"name": f"Sản phẩm {n}", "producer_id": tenant.producer.id}, actor=tenant.staff)


def _verify(runner, *args):
    result = runner.invoke(args=["audit", "verify", *args])
    return result.exit_code, result.output


# Incremental verification


def test_the_next_run_reads_only_the_entries_after_the_checkpoint(runner, db, tenants):
    daklak = tenants["daklak"]
    key = chain_of(daklak.centre.id)
    _products(daklak, 5)
    db.session.commit()
    code, output = _verify(runner)  # no checkpoint yet: the whole chain
    assert code == 0, output
    assert f"OK chain={key} entries=5 read=5 head=" in output
    checkpoint = db.session.get(AuditCheckpoint, key)
    assert checkpoint.last_position == 5

    _products(daklak, 3, start=5)
    db.session.commit()
    report = verify_chain(key, full=False)
    assert report.intact and report.entries == 8
    assert report.rows_read == 4  # the checkpoint's entry and the three after it
    code, output = _verify(runner, "--centre", "66")
    assert code == 0, output
    assert f"OK chain={key} entries=8 read=4 since=5 verified_at=" in output
    assert "+07:00" in output  # when it was verified, in Vietnam time
    # Nothing new since: only the checkpoint's entry is read.
    assert verify_chain(key, full=False).rows_read == 1
    # A full walk reads everything again.
    assert verify_chain(key, full=True).rows_read == 8


def test_a_change_before_the_checkpoint_is_caught_only_by_a_full_walk(runner, db, tenants):
    daklak = tenants["daklak"]
    key = chain_of(daklak.centre.id)
    _products(daklak, 6)
    db.session.commit()
    assert _verify(runner)[0] == 0
    row = db.session.execute(select(ENTRIES).where(ENTRIES.c.chain == key, ENTRIES.c.position == 2)).one()
    db.session.execute(
        update(ENTRIES).where(ENTRIES.c.id == row.id).values(after=dict(row.after, name="Sửa lén"))
    )
    db.session.commit()
    assert _verify(runner)[0] == 0  # the nightly run starts after the checkpoint
    code, output = _verify(runner, "--full")
    assert code == 1
    assert f"BROKEN chain={key} position=2 entry={row.id} problem=altered" in output


@pytest.mark.parametrize("change", ["altered", "removed"])
def test_a_checkpoint_whose_entry_changed_is_caught(runner, db, tenants, change):
    daklak = tenants["daklak"]
    key = chain_of(daklak.centre.id)
    _products(daklak, 4)
    db.session.commit()
    assert _verify(runner)[0] == 0
    last = ENTRIES.c.chain == key, ENTRIES.c.position == 4
    if change == "altered":
        db.session.execute(update(ENTRIES).where(*last).values(action="delete"))
    else:
        db.session.execute(ENTRIES.delete().where(*last))
    db.session.commit()
    code, output = _verify(runner)
    assert code == 1
    assert f"BROKEN chain={key} position=4" in output and "problem=checkpoint" in output
    assert "--full" in output


def test_verify_one_centre_or_one_chain(runner, db, tenants):
    _products(tenants["daklak"], 2)
    _products(tenants["nghean"], 3)
    record_audit("export", None, actor=tenants["ministry"], object_type="Report")
    db.session.commit()
    daklak, nghean = chain_of(tenants["daklak"].centre.id), chain_of(tenants["nghean"].centre.id)

    code, output = _verify(runner, "--centre", "40")
    assert code == 0 and f"OK chain={nghean} entries=3" in output and daklak not in output
    code, output = _verify(runner, "--chain", NATIONAL_CHAIN, "--full")
    assert code == 0 and "OK chain=national entries=1" in output and nghean not in output
    code, output = _verify(runner)
    assert code == 0
    assert all(f"OK chain={key}" in output for key in (daklak, nghean, NATIONAL_CHAIN))
    # Every chain's head kept outside, passed back at once.
    heads = re.findall(r"head=(\d+:[0-9a-f]{64})", output)
    assert len(heads) == 3
    assert _verify(runner, "--full", *(part for head in heads for part in ("--expect", head)))[0] == 0
    entry_id = int(heads[1].split(":")[0])
    db.session.execute(update(ENTRIES).where(ENTRIES.c.id == entry_id).values(action="delete"))
    db.session.commit()
    code, output = _verify(runner, "--full", *(part for head in heads for part in ("--expect", head)))
    assert code == 1 and f"entry={entry_id}" in output


@pytest.mark.parametrize(
    ("args", "message"), [(["--centre", "99"], "99"), (["--chain", "tỉnh:1"], "centre:ID")]
)
def test_an_unknown_centre_or_chain_is_refused(runner, db, tenants, args, message):
    code, output = _verify(runner, *args)
    assert code == 2
    assert message in output


# Parallel writers (PostgreSQL: SQLite serialises every write transaction, by design)


def _holding_a_write(app, staff_id, producer_id, holding, release, failures):
    """Write a product of ``producer_id`` (and its audit entry), then keep the transaction open."""
    with app.app_context():
        try:
            create_product(
                {"name": "Đang ghi", "producer_id": producer_id}, actor=_db.session.get(User, staff_id)
            )
            holding.set()
            release.wait(timeout=30)
        except Exception as error:  # noqa: BLE001 -- reported to the test, not lost in the thread
            failures.append(error)
            holding.set()
        finally:
            _db.session.rollback()
            _db.session.remove()


def test_writes_of_two_centres_do_not_wait_for_each_other(app, db, tenants):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("per-chain locks are PostgreSQL's; SQLite runs one write transaction at a time by design")
    daklak, nghean = tenants["daklak"], tenants["nghean"]
    holding, release, failures = threading.Event(), threading.Event(), []
    holder = threading.Thread(
        target=_holding_a_write,
        args=(app, daklak.staff.id, daklak.producer.id, holding, release, failures),
    )
    holder.start()
    try:
        assert holding.wait(timeout=30) and not failures, failures
        # Another province: it commits although Đắk Lắk's transaction holds its chain.
        db.session.execute(text("SET LOCAL lock_timeout = '2s'"))
        create_product({"name": "Chè Nghệ An", "producer_id": nghean.producer.id}, actor=nghean.staff)
        db.session.commit()
        # The same province waits for it: here it gives up after its lock timeout.
        db.session.execute(text("SET LOCAL lock_timeout = '300ms'"))
        with pytest.raises(OperationalError, match="lock timeout"):
            create_product({"name": "Cà phê Đắk Lắk", "producer_id": daklak.producer.id}, actor=daklak.staff)
        db.session.rollback()
    finally:
        release.set()
        holder.join(timeout=30)
    assert not failures, failures
    # Once the first writer is gone, the province writes again, and every chain verifies.
    create_product({"name": "Cà phê Đắk Lắk", "producer_id": daklak.producer.id}, actor=daklak.staff)
    db.session.commit()
    report = verify_chain()
    assert report.intact, report.problem
    assert report.chain(chain_of(nghean.centre.id)).entries == 1
    assert report.chain(chain_of(daklak.centre.id)).entries == 1


def _recalling(app, staff_id, batch_id, failures):
    """Recall lot ``batch_id`` as ``staff_id`` in a transaction of its own."""
    with app.app_context():
        try:
            recall_batch(
                _db.session.get(Batch, batch_id), "Nhiễm khuẩn", actor=_db.session.get(User, staff_id)
            )
            _db.session.commit()
        except Exception as error:  # noqa: BLE001 -- reported to the test, not lost in the thread
            failures.append(error)
        finally:
            _db.session.rollback()
            _db.session.remove()


def _made_from(make, source, tenant):
    """A lot of ``tenant``'s producer made from ``source``: lineage across provinces when they differ."""
    lot = make.batch(tenant.product)
    _db.session.add(
        BatchInput(output_batch_id=lot.id, input_batch_id=source.id, quantity=1, kind="transformation")
    )
    return lot


def _advisory_waiters():
    with _db.engine.connect() as connection:
        return connection.scalar(
            text("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted")
        )


@pytest.mark.parametrize("round_", range(3))
def test_recalls_across_two_provinces_in_opposite_orders_both_commit(app, db, make, tenants, round_, caplog):
    """Each recall writes both provinces' chains, one starting from each: neither is cancelled as a deadlock.

    On PostgreSQL both wait behind a transaction holding the two chains, so
    they start together; each then takes its chains in one order (the lowest
    centre first), whichever lot it recalls. SQLite runs them one at a time.
    """
    daklak, nghean = tenants["daklak"], tenants["nghean"]
    from_daklak, from_nghean = make.batch(daklak.product), make.batch(nghean.product)
    reaches_nghean = _made_from(make, from_daklak, nghean)
    reaches_daklak = _made_from(make, from_nghean, daklak)
    db.session.commit()
    failures: list[Exception] = []
    threads = [
        threading.Thread(target=_recalling, args=(app, daklak.staff.id, from_daklak.id, failures)),
        threading.Thread(target=_recalling, args=(app, nghean.staff.id, from_nghean.id, failures)),
    ]
    db.session.rollback()  # reading the ids began a transaction: on SQLite it would hold the write lock
    if db.engine.dialect.name == "postgresql":
        with db.engine.connect() as holder, holder.begin():
            for centre in (daklak.centre, nghean.centre):
                holder.execute(text("SELECT pg_advisory_xact_lock(720372026, :c)"), {"c": centre.id})
            for thread in threads:
                thread.start()
            for _ in range(500):  # both recalls wait for a chain's lock
                if _advisory_waiters() == 2:
                    break
                time.sleep(0.02)
        # Released together: each recall now takes its two chains.
    else:
        for thread in threads:
            thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not failures, failures
    assert "out of order" not in caplog.text
    db.session.expire_all()
    for lot in (from_daklak, from_nghean, reaches_nghean, reaches_daklak):
        assert db.session.get(Batch, lot.id).status == "recalled"
    report = verify_chain()
    assert report.intact, report.problem
    for tenant in (daklak, nghean):
        assert report.chain(chain_of(tenant.centre.id)).entries >= 3  # its recall and both lots' entries


# Retention


def test_a_purge_across_provinces_keeps_every_chain_verifiable(db, tenants):
    plan = plan_purge(RetentionPolicy(), today=date(2100, 1, 1))
    assert {removal.batch_id for removal in plan.removals} == {
        tenants["daklak"].batch.id,
        tenants["nghean"].batch.id,
    }
    apply_purge(plan)
    db.session.commit()
    report = verify_chain()
    assert report.intact, report.problem
    for name in ("daklak", "nghean"):
        key = chain_of(tenants[name].centre.id)
        actions = db.session.scalars(select(AuditEntry.action).where(AuditEntry.chain == key)).all()
        assert actions == ["purge"]
        assert report.chain(key).entries == 1


# The upgrade from one national chain


@pytest.fixture
def empty_database_url(database_url, tmp_path):
    if database_url.startswith("sqlite"):
        yield f"sqlite:///{tmp_path / 'before.sqlite3'}"
        return
    with scratch_database(database_url, f"chains_{uuid.uuid4().hex[:12]}") as url:
        yield url


LEGACY_ENTRIES = table(
    "audit_entry",
    *(column(name) for name in ("id", "user_id", "role", "centre_id", "producer_id", "action")),
    *(column(name) for name in ("object_type", "object_id", "prev_hash", "entry_hash")),
    column("occurred_at", UTCDateTime()),
    column("before", JSON()),
    column("after", JSON()),
    column("request_info", JSON()),
)


def _legacy_log(connection):
    """Three entries hashed as the single national chain hashed them (two of a centre), and its head."""
    previous = "0" * 64
    for entry_id, centre_id in ((1, None), (2, 1), (3, 1)):
        values = {
            "id": entry_id,
            "occurred_at": datetime(2026, 11, 1, 3, entry_id, tzinfo=UTC),
            "user_id": None,
            "role": None,
            "centre_id": centre_id,
            "producer_id": None,
            "action": "create",
            "object_type": "Centre",
            "object_id": str(entry_id),
            "before": None,
            "after": {"name": f"Mục {entry_id}"},
            "request_info": {"via": "cli"},
            "prev_hash": previous,
        }
        values["entry_hash"] = entry_hash(SimpleNamespace(**values, hash_version=1))
        connection.execute(LEGACY_ENTRIES.insert().values(values))
        previous = values["entry_hash"]
    connection.execute(
        text("INSERT INTO audit_head (id, last_entry_id, last_entry_hash, updated_at) VALUES (1, 3, :h, :t)"),
        {"h": previous, "t": datetime(2026, 11, 1, 3, 3, tzinfo=UTC).isoformat()},
    )
    return previous


def test_a_log_written_before_chains_per_centre_verifies_after_the_upgrade(empty_database_url):
    class BeforeConfig(TestConfig):
        DATABASE_URL = empty_database_url

    app = create_app(BeforeConfig)
    with app.app_context():
        upgrade(revision="7a1c0b13d011")
        with _db.engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO centre (id, province_code, name, address, phone, email, created_at) "
                    "VALUES (1, '66', 'Trung tâm Đắk Lắk', '', '', '', CURRENT_TIMESTAMP)"
                )
            )
            legacy_head = _legacy_log(connection)
        upgrade()
        try:
            report = verify_chain(expect=(3, legacy_head))
            assert report.intact, report.problem
            assert report.chain(NATIONAL_CHAIN).entries == 3  # the old entries, all in the national chain
            # New entries: the national chain goes on from the old head, the centre starts its own.
            national = record_audit("export", None, object_type="Report")
            centre = record_audit("update", None, object_type="Centre", centre_id=1)
            _db.session.commit()
            assert (national.chain, national.position, national.prev_hash) == (NATIONAL_CHAIN, 4, legacy_head)
            assert (centre.chain, centre.position, centre.id) == ("centre:1", 1, 5)
            report = verify_chain()
            assert report.intact, report.problem
            assert report.chain("centre:1").entries == 1
            # The old entries are still guarded: a change to one is caught.
            _db.session.execute(update(AuditEntry).where(AuditEntry.id == 2).values(action="delete"))
            _db.session.commit()
            problem = verify_chain().problem
            assert (problem.chain, problem.position, problem.kind) == (NATIONAL_CHAIN, 2, "altered")
        finally:
            _db.session.remove()
            _db.engine.dispose()
