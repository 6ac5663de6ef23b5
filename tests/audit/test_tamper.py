"""`flask audit verify` catches entries altered, removed or reordered directly in the database.

What it catches, and what it cannot:

* an entry's content changed (any field): its hash no longer matches: **altered**;
* an entry changed and its hash recomputed: the next entry still links to the
  original hash: **altered**, naming the rewritten entry;
* a middle entry deleted: a gap in the ids and a broken link: **removed**;
* two entries' ids swapped, or an entry moved: the hash covers the id, and the
  entries it links back to say where it was written: **reordered**;
* the newest entries deleted: nothing links to them, but the head row
  remembers the last entry: **truncated**; if the app wrote entries since,
  they link to the deleted one: **removed**;
* the head row deleted (**head_missing**) or entries appended behind the
  application's back (**added**).
* Not caught by the walk alone: someone who rewrites an entry, recomputes every
  later hash and moves the head. A head kept outside the database, passed back
  with ``--expect ID:HASH``, catches that too (**anchor**).
"""

from __future__ import annotations

import pytest
from sqlalchemy import delete, func, insert, select, update

from traceability.audit.chain import verify_chain
from traceability.audit.service import GENESIS_HASH, entry_hash
from traceability.models.audit import AuditEntry, AuditHead
from traceability.registry.products import create_product

ENTRIES = AuditEntry.__table__


@pytest.fixture
def chain(db, tenants):
    """Eight entries: products created by the Đắk Lắk centre's staff."""
    own = tenants["daklak"]
    for n in range(8):
        create_product({"name": f"Sản phẩm {n}", "producer_id": own.producer.id}, actor=own.staff)
    db.session.commit()
    assert db.session.scalar(select(func.max(AuditEntry.id))) == 8
    return own


def _tamper(db, *statements):
    for statement in statements:
        db.session.execute(statement)
    db.session.commit()
    db.session.expire_all()


def _verify(runner, *args):
    result = runner.invoke(args=["audit", "verify", *args])
    return result.exit_code, result.output


def _row(db, entry_id):
    return db.session.execute(select(ENTRIES).where(ENTRIES.c.id == entry_id)).one()


def test_an_intact_chain_verifies_and_prints_its_head(runner, chain, db):
    code, output = _verify(runner)
    head = db.session.get(AuditHead, 1)
    assert code == 0, output
    assert f"OK entries=8 head=8:{head.last_entry_hash}" in output
    assert head.last_entry_hash == _row(db, 8).entry_hash


def test_an_empty_log_verifies(runner, db):
    code, _output = _verify(runner)
    assert code == 0


def test_changed_after_data_is_caught_as_altered(runner, chain, db):
    after = dict(_row(db, 4).after, name="Sản phẩm đã sửa")
    _tamper(db, update(ENTRIES).where(ENTRIES.c.id == 4).values(after=after))
    code, output = _verify(runner)
    assert code == 1
    assert "BROKEN entry=4 problem=altered" in output


@pytest.mark.parametrize(
    ("column", "value"),
    [("user_id", None), ("action", "delete"), ("object_id", "999"), ("before", {"name": "x"})],
)
def test_any_changed_field_is_caught(chain, db, column, value):
    _tamper(db, update(ENTRIES).where(ENTRIES.c.id == 6).values({column: value}))
    problem = verify_chain().problem
    assert (problem.kind, problem.entry_id) == ("altered", 6)


def test_an_entry_rewritten_with_a_recomputed_hash_is_caught(runner, chain, db):
    forged = dict(_row(db, 3)._asdict())
    forged["after"] = dict(forged["after"], name="Giả mạo")
    new_hash = entry_hash(type("Row", (), forged))
    _tamper(db, update(ENTRIES).where(ENTRIES.c.id == 3).values(after=forged["after"], entry_hash=new_hash))
    code, output = _verify(runner)
    assert code == 1
    assert "BROKEN entry=3 problem=altered" in output


def test_a_deleted_middle_entry_is_caught_as_removed(runner, chain, db):
    _tamper(db, delete(ENTRIES).where(ENTRIES.c.id == 5))
    code, output = _verify(runner)
    assert code == 1
    assert "BROKEN entry=5 problem=removed" in output


def test_several_deleted_entries_are_named_as_a_range(chain, db):
    _tamper(db, delete(ENTRIES).where(ENTRIES.c.id.in_([3, 4, 5])))
    problem = verify_chain().problem
    assert (problem.kind, problem.entry_id) == ("removed", 3)
    assert "#3" in problem.message and "#5" in problem.message


def test_a_deleted_first_entry_is_caught(chain, db):
    _tamper(db, delete(ENTRIES).where(ENTRIES.c.id == 1))
    problem = verify_chain().problem
    assert (problem.kind, problem.entry_id) == ("removed", 1)


def _swap(first, second):
    return (
        update(ENTRIES).where(ENTRIES.c.id == first).values(id=-1),
        update(ENTRIES).where(ENTRIES.c.id == second).values(id=first),
        update(ENTRIES).where(ENTRIES.c.id == -1).values(id=second),
    )


@pytest.mark.parametrize(("first", "second"), [(4, 5), (3, 7)])
def test_swapped_ids_are_caught_as_reordered(runner, chain, db, first, second):
    _tamper(db, *_swap(first, second))
    code, output = _verify(runner)
    assert code == 1
    assert f"BROKEN entry={first} problem=reordered" in output
    # The entry now in the first place says where it was written.
    assert f"#{second}" in output


def test_an_entry_moved_to_the_end_is_caught_as_reordered(chain, db):
    _tamper(db, update(ENTRIES).where(ENTRIES.c.id == 2).values(id=100))
    problem = verify_chain().problem
    assert (problem.kind, problem.entry_id) == ("reordered", 2)


def test_a_deleted_last_entry_is_caught_by_the_head(runner, chain, db):
    _tamper(db, delete(ENTRIES).where(ENTRIES.c.id == 8))
    code, output = _verify(runner)
    assert code == 1
    assert "BROKEN entry=8 problem=truncated" in output


def test_a_cut_tail_stays_visible_after_new_entries(runner, chain, db):
    _tamper(db, delete(ENTRIES).where(ENTRIES.c.id.in_([7, 8])))
    create_product({"name": "Sau khi cắt", "producer_id": chain.producer.id}, actor=chain.staff)
    db.session.commit()
    assert db.session.scalar(select(func.max(AuditEntry.id))) == 9  # the app kept counting from the head
    code, output = _verify(runner)
    assert code == 1
    assert "BROKEN entry=7 problem=removed" in output


def test_a_deleted_head_is_caught(chain, db):
    _tamper(db, delete(AuditHead))
    problem = verify_chain().problem
    assert problem.kind == "head_missing"


def test_an_entry_added_behind_the_applications_back_is_caught(chain, db):
    last = _row(db, 8)
    forged = {**last._asdict(), "id": 9, "prev_hash": last.entry_hash, "action": "update"}
    forged["entry_hash"] = entry_hash(type("Row", (), forged))
    _tamper(db, insert(ENTRIES).values(forged))
    problem = verify_chain().problem
    assert (problem.kind, problem.entry_id) == ("added", 9)


def test_a_rewritten_chain_is_caught_only_against_a_head_kept_outside(runner, chain, db):
    kept_outside = f"8:{_row(db, 8).entry_hash}"
    assert _verify(runner, "--expect", kept_outside)[0] == 0
    # Rewrite entry 5 and every later hash, then move the head: the walk alone cannot tell.
    previous_hash = _row(db, 4).entry_hash
    for entry_id in range(5, 9):
        values = dict(_row(db, entry_id)._asdict(), prev_hash=previous_hash)
        if entry_id == 5:
            values["after"] = dict(values["after"], name="Lịch sử viết lại")
        values["entry_hash"] = entry_hash(type("Row", (), values))
        _tamper(
            db,
            update(ENTRIES)
            .where(ENTRIES.c.id == entry_id)
            .values(after=values["after"], prev_hash=values["prev_hash"], entry_hash=values["entry_hash"]),
        )
        previous_hash = values["entry_hash"]
    _tamper(db, update(AuditHead).values(last_entry_hash=previous_hash))
    assert _verify(runner)[0] == 0
    code, output = _verify(runner, "--expect", kept_outside)
    assert code == 1
    assert "BROKEN entry=8 problem=anchor" in output


def test_a_malformed_anchor_is_refused(runner, chain):
    code, output = _verify(runner, "--expect", "8:not-a-hash")
    assert code == 2
    assert "ID:HASH" in output


def test_the_walk_streams_in_small_batches(chain, db):
    report = verify_chain(batch_size=3)
    assert report.intact and report.entries == 8
    _tamper(db, delete(ENTRIES).where(ENTRIES.c.id == 7))
    problem = verify_chain(batch_size=3).problem
    assert (problem.kind, problem.entry_id) == ("removed", 7)


def test_the_first_entry_starts_from_the_genesis_hash(chain, db):
    assert _row(db, 1).prev_hash == GENESIS_HASH
