"""`flask audit verify` catches entries altered, removed or reordered directly in the database, in every chain.

Each centre has its own chain and the ministry's entries form the national
chain; every case below is run in each of them, and the report names the
chain that broke while the others stay intact. What it catches, and what it cannot:

* an entry's content changed (any field, its id too): its hash no longer matches: **altered**;
* an entry changed and its hash recomputed: the next entry still links to the
  original hash: **altered**, naming the rewritten entry;
* a middle entry deleted: a gap in the chain's positions: **removed**;
* two entries' positions swapped, or an entry moved: the hash covers the
  position, and the entries it links back to say where it was written: **reordered**;
* the newest entries deleted: nothing links to them, but the chain's head
  row remembers the last entry: **truncated**; if the app wrote entries
  since, they link to the deleted one: **removed**;
* the head row deleted (**head_missing**) or entries appended behind the
  application's back (**added**).
* Not caught by the walk alone: someone who rewrites an entry, recomputes every
  later hash and moves the head. A head kept outside the database, passed back
  with ``--expect ID:HASH``, catches that too (**anchor**).
"""

from __future__ import annotations

import pytest
from sqlalchemy import delete, insert, select, update

from traceability.audit.chain import verify_chain
from traceability.audit.service import GENESIS_HASH, NATIONAL_CHAIN, chain_of, entry_hash, record_audit
from traceability.models.audit import AuditHead
from traceability.registry.products import create_product

ENTRIES = AuditHead.metadata.tables["audit_entry"]
CHAINS = ("daklak", "nghean", "national")


@pytest.fixture
def keys(tenants):
    """The chain key of each chain the tests tamper with."""
    return {
        "daklak": chain_of(tenants["daklak"].centre.id),
        "nghean": chain_of(tenants["nghean"].centre.id),
        "national": NATIONAL_CHAIN,
    }


def _write(tenants, which, n):
    """One entry in the chain ``which``: a product of a centre's producer, or a ministry action."""
    if which == "national":
        ministry = tenants["ministry"]
        return record_audit("export", None, actor=ministry, object_type="Report", after={"n": n})
    own = tenants[which]
    return create_product({"name": f"Sản phẩm {n}", "producer_id": own.producer.id}, actor=own.staff)


@pytest.fixture(params=CHAINS)
def chain(request, db, tenants, keys):
    """Eight entries in each of three chains, written interleaved; the parameter is the chain tampered with."""
    for n in range(8):
        for which in CHAINS:
            _write(tenants, which, n)
    db.session.commit()
    key = keys[request.param]
    positions = db.session.scalars(select(ENTRIES.c.position).where(ENTRIES.c.chain == key)).all()
    assert sorted(positions) == list(range(1, 9))
    return key


def _tamper(db, *statements):
    for statement in statements:
        db.session.execute(statement)
    db.session.commit()
    db.session.expire_all()


def _verify(runner, *args):
    result = runner.invoke(args=["audit", "verify", "--full", *args])
    return result.exit_code, result.output


def _at(chain, position):
    return (ENTRIES.c.chain == chain) & (ENTRIES.c.position == position)


def _row(db, chain, position):
    return db.session.execute(select(ENTRIES).where(_at(chain, position))).one()


def _only_problem(chain):
    """The one problem of the walk, which must be in ``chain``: the other chains stay intact."""
    report = verify_chain()
    assert len(report.problems) == 1, report.problems
    problem = report.problem
    assert problem.chain == chain
    return problem


def test_an_intact_log_verifies_and_prints_each_chains_head(runner, chain, db, keys):
    code, output = _verify(runner)
    assert code == 0, output
    for key in keys.values():
        head = db.session.get(AuditHead, key)
        last = _row(db, key, 8)
        assert head.last_entry_hash == last.entry_hash and head.last_entry_id == last.id
        assert f"OK chain={key} entries=8 read=8 head={last.id}:{last.entry_hash}" in output


def test_an_empty_log_verifies(runner, db):
    code, _output = _verify(runner)
    assert code == 0


def test_changed_after_data_is_caught_as_altered(runner, chain, db, keys):
    row = _row(db, chain, 4)
    _tamper(db, update(ENTRIES).where(_at(chain, 4)).values(after=dict(row.after, name="Đã sửa")))
    code, output = _verify(runner)
    assert code == 1
    assert f"BROKEN chain={chain} position=4 entry={row.id} problem=altered" in output
    for key in set(keys.values()) - {chain}:
        assert f"OK chain={key} entries=8" in output


@pytest.mark.parametrize(
    ("column", "value"),
    [("user_id", None), ("action", "delete"), ("object_id", "999"), ("before", {"name": "x"}), ("id", 9999)],
)
def test_any_changed_field_is_caught(chain, db, column, value):
    _tamper(db, update(ENTRIES).where(_at(chain, 6)).values({column: value}))
    problem = _only_problem(chain)
    assert (problem.kind, problem.position) == ("altered", 6)


def test_an_entry_rewritten_with_a_recomputed_hash_is_caught(runner, chain, db):
    forged = dict(_row(db, chain, 3)._asdict())
    forged["after"] = dict(forged["after"], name="Giả mạo")
    new_hash = entry_hash(type("Row", (), forged))
    _tamper(db, update(ENTRIES).where(_at(chain, 3)).values(after=forged["after"], entry_hash=new_hash))
    code, output = _verify(runner)
    assert code == 1
    assert f"BROKEN chain={chain} position=3 entry={forged['id']} problem=altered" in output


def test_a_deleted_middle_entry_is_caught_as_removed(runner, chain, db):
    _tamper(db, delete(ENTRIES).where(_at(chain, 5)))
    code, output = _verify(runner)
    assert code == 1
    assert f"BROKEN chain={chain} position=5 problem=removed" in output


def test_several_deleted_entries_are_named_as_a_range(chain, db):
    _tamper(db, delete(ENTRIES).where(ENTRIES.c.chain == chain, ENTRIES.c.position.in_([3, 4, 5])))
    problem = _only_problem(chain)
    assert (problem.kind, problem.position) == ("removed", 3)
    assert "3" in problem.message and "5" in problem.message and chain in problem.message


def test_a_deleted_first_entry_is_caught(chain, db):
    _tamper(db, delete(ENTRIES).where(_at(chain, 1)))
    problem = _only_problem(chain)
    assert (problem.kind, problem.position) == ("removed", 1)


def _swap(chain, first, second):
    return (
        update(ENTRIES).where(_at(chain, first)).values(position=-1),
        update(ENTRIES).where(_at(chain, second)).values(position=first),
        update(ENTRIES).where(_at(chain, -1)).values(position=second),
    )


@pytest.mark.parametrize(("first", "second"), [(4, 5), (3, 7)])
def test_swapped_positions_are_caught_as_reordered(runner, chain, db, first, second):
    _tamper(db, *_swap(chain, first, second))
    code, output = _verify(runner)
    assert code == 1
    assert f"BROKEN chain={chain} position={first}" in output and "problem=reordered" in output
    # The entry now in the first place says where it was written (in Vietnamese, the command line's language).
    assert f"đã được ghi ở vị trí {second}" in output


def test_an_entry_moved_to_the_end_is_caught_as_reordered(chain, db):
    _tamper(db, update(ENTRIES).where(_at(chain, 2)).values(position=100))
    problem = _only_problem(chain)
    assert (problem.kind, problem.position) == ("reordered", 2)


def test_a_deleted_last_entry_is_caught_by_the_head(runner, chain, db):
    _tamper(db, delete(ENTRIES).where(_at(chain, 8)))
    code, output = _verify(runner)
    assert code == 1
    assert f"BROKEN chain={chain} position=8 problem=truncated" in output


def test_a_cut_tail_stays_visible_after_new_entries(runner, chain, db, tenants, keys):
    _tamper(db, delete(ENTRIES).where(ENTRIES.c.chain == chain, ENTRIES.c.position.in_([7, 8])))
    which = next(name for name, key in keys.items() if key == chain)
    _write(tenants, which, 9)
    db.session.commit()
    assert _row(db, chain, 9).action  # the app kept counting from the chain's head
    code, output = _verify(runner)
    assert code == 1
    assert f"BROKEN chain={chain} position=7 problem=removed" in output


def test_a_deleted_head_is_caught(chain, db):
    _tamper(db, delete(AuditHead).where(AuditHead.chain == chain))
    problem = _only_problem(chain)
    assert problem.kind == "head_missing"


def test_an_entry_added_behind_the_applications_back_is_caught(chain, db):
    last = _row(db, chain, 8)
    forged = {**last._asdict(), "id": 9999, "position": 9, "prev_hash": last.entry_hash, "action": "update"}
    forged["entry_hash"] = entry_hash(type("Row", (), forged))
    _tamper(db, insert(ENTRIES).values(forged))
    problem = _only_problem(chain)
    assert (problem.kind, problem.position) == ("added", 9)


def test_a_rewritten_chain_is_caught_only_against_a_head_kept_outside(runner, chain, db):
    last = _row(db, chain, 8)
    kept_outside = f"{last.id}:{last.entry_hash}"
    assert _verify(runner, "--expect", kept_outside)[0] == 0
    # Rewrite entry 5 and every later hash, then move the head: the walk alone cannot tell.
    previous_hash = _row(db, chain, 4).entry_hash
    for position in range(5, 9):
        values = dict(_row(db, chain, position)._asdict(), prev_hash=previous_hash)
        if position == 5:
            values["after"] = dict(values["after"], name="Lịch sử viết lại")
        values["entry_hash"] = entry_hash(type("Row", (), values))
        _tamper(
            db,
            update(ENTRIES)
            .where(_at(chain, position))
            .values(after=values["after"], prev_hash=values["prev_hash"], entry_hash=values["entry_hash"]),
        )
        previous_hash = values["entry_hash"]
    _tamper(db, update(AuditHead).where(AuditHead.chain == chain).values(last_entry_hash=previous_hash))
    assert _verify(runner)[0] == 0
    code, output = _verify(runner, "--expect", kept_outside)
    assert code == 1
    assert f"BROKEN chain={chain} position=8 entry={last.id} problem=anchor" in output


def test_a_malformed_anchor_is_refused(runner, chain):
    code, output = _verify(runner, "--expect", "8:not-a-hash")
    assert code == 2
    assert "ID:HASH" in output


def test_the_walk_streams_in_small_batches(chain, db):
    report = verify_chain(chain, batch_size=3)
    assert report.intact and report.entries == 8
    _tamper(db, delete(ENTRIES).where(_at(chain, 7)))
    problem = verify_chain(chain, batch_size=3).problem
    assert (problem.kind, problem.position) == ("removed", 7)


def test_each_chain_starts_from_the_genesis_hash(chain, db):
    assert _row(db, chain, 1).prev_hash == GENESIS_HASH
