"""The audit chains on PostgreSQL: parallel writers of different centres against one centre, full against
incremental verification.

    .venv/bin/python bench/audit.py --database-url postgresql://user:pass@host/db  [--writers N] [--entries E]
        [--work-ms W] [--chain-entries M] [--new-entries K]

Makes the schema as ``flask db upgrade`` does, in a scratch schema of the
given database (``bench_audit_PID``, dropped afterwards), then:

- **writers**: ``--writers`` threads, each on its own connection, each
  writing ``--entries`` audit entries through ``record_audit``, one
  transaction per entry that stays open ``--work-ms`` after the entry is
  written (``pg_sleep``: the rest of a request's statements, which run while
  its chain's lock is held) and then commits. Once with every writer in a
  different centre's chain, once with all of them in the same centre's
  chain (what every write was before there was one chain per centre): the
  entries per second of each and their ratio;
- **verify**: one centre's chain of ``--chain-entries`` entries (bulk
  inserted with their hashes), a full walk (``audit verify --full``), its
  checkpoint kept, ``--new-entries`` more written through ``record_audit``,
  then an incremental walk (``audit verify``): the time and rows read of
  each and their ratio.

The database URL comes from ``--database-url``, else ``BENCH_DATABASE_URL``
or ``TEST_DATABASE_URL``. Figures are printed, never asserted.
"""

from __future__ import annotations

import argparse
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import insert, text

from bench.scratch import postgresql_url, scratch_app

PROVINCES = ("66", "40", "01", "79", "48", "92", "46", "38", "68", "75", "82", "91", "22", "24", "31", "37")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", help="a PostgreSQL database (a scratch schema is made in it)")
    parser.add_argument("--writers", type=int, default=8, help="parallel writers (at most 12)")
    parser.add_argument("--entries", type=int, default=100, help="entries per writer")
    parser.add_argument(
        "--work-ms", type=float, default=5.0, help="time each transaction stays open after its entry"
    )
    parser.add_argument("--chain-entries", type=int, default=100_000, help="entries of the verified chain")
    parser.add_argument("--new-entries", type=int, default=1_000, help="entries written after the checkpoint")
    return parser.parse_args(argv)


def make_centres(count: int) -> list[int]:
    from traceability.core.extensions import db
    from traceability.models.registry import Centre

    centres = [Centre(province_code=code, name=f"Trung tâm {code}") for code in PROVINCES[:count]]
    db.session.add_all(centres)
    db.session.commit()
    return [centre.id for centre in centres]


def writers(app, centre_ids: list[int], entries: int, work_ms: float) -> float:
    """Entries per second written by one thread per centre id (repeat an id for writers of one centre)."""
    from traceability.audit.service import record_audit
    from traceability.core.extensions import db

    start = threading.Barrier(len(centre_ids) + 1)
    failures: list[BaseException] = []

    def write(centre_id: int) -> None:
        with app.app_context():
            try:
                start.wait()
                for n in range(entries):
                    record_audit("update", None, object_type="Bench", object_id=n, centre_id=centre_id)
                    if work_ms:
                        db.session.execute(text("SELECT pg_sleep(:s)"), {"s": work_ms / 1000})
                    db.session.commit()
            except BaseException as error:  # noqa: BLE001 -- reported after the run
                failures.append(error)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=write, args=(centre_id,)) for centre_id in centre_ids]
    for thread in threads:
        thread.start()
    start.wait()
    began = time.perf_counter()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - began
    if failures:
        raise failures[0]
    return len(centre_ids) * entries / elapsed


def bulk_chain(centre_id: int, count: int) -> None:
    """``count`` entries of the centre's chain with their hashes, inserted in bulk, and the chain's head."""
    from traceability.audit.service import GENESIS_HASH, HASH_VERSION, chain_of, entry_hash
    from traceability.core.extensions import db
    from traceability.models.audit import AuditEntry, AuditHead

    chain = chain_of(centre_id)
    next_id = int(db.session.scalar(text("SELECT nextval(pg_get_serial_sequence('audit_entry', 'id'))")))
    moment = datetime(2026, 1, 1, tzinfo=UTC)
    previous, rows = GENESIS_HASH, []
    for position in range(1, count + 1):
        row = {
            "id": next_id + position - 1,
            "occurred_at": moment + timedelta(seconds=position),
            "user_id": None,
            "role": "centre_staff",
            "centre_id": centre_id,
            "producer_id": None,
            "action": "update",
            "object_type": "Product",
            "object_id": str(position),
            "before": {"name": f"Cà phê {position}"},
            "after": {"name": f"Cà phê rang {position}"},
            "request_info": {"via": "web", "method": "POST", "path": "/manage/products"},
            "chain": chain,
            "position": position,
            "hash_version": HASH_VERSION,
            "prev_hash": previous,
        }
        row["entry_hash"] = previous = entry_hash(SimpleNamespace(**row))
        rows.append(row)
        if len(rows) == 5_000:
            db.session.execute(insert(AuditEntry), rows)
            rows = []
    if rows:
        db.session.execute(insert(AuditEntry), rows)
    last_id = next_id + count - 1
    db.session.execute(
        text("SELECT setval(pg_get_serial_sequence('audit_entry', 'id'), :last)"), {"last": last_id}
    )
    db.session.add(
        AuditHead(
            chain=chain,
            last_position=count,
            last_entry_id=last_id,
            last_entry_hash=previous,
            updated_at=moment,
        )
    )
    db.session.commit()


def timed_verify(chain: str, *, full: bool):
    from traceability.audit.chain import keep_checkpoints, verify_chain

    began = time.perf_counter()
    report = verify_chain(chain, full=full)
    elapsed = time.perf_counter() - began
    assert report.intact, report.problem
    keep_checkpoints(report)
    return elapsed, report.rows_read


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    url = postgresql_url(args.database_url)
    if url is None:
        print("bench/audit.py needs a PostgreSQL database: --database-url postgresql://user:pass@host/db")
        return 2
    if not 1 <= args.writers <= 12:  # the pool holds 15 connections
        print("bench/audit.py: --writers is 1 to 12")
        return 2
    with scratch_app(url, "audit") as app:
        from traceability.audit.service import chain_of, record_audit
        from traceability.core.extensions import db

        *centre_ids, verified = make_centres(args.writers + 1)  # the last one's chain is verified
        # Each case once untimed first, so both meet warm connections.
        writers(app, centre_ids, 5, args.work_ms)
        apart = writers(app, centre_ids, args.entries, args.work_ms)
        together = writers(app, [centre_ids[0]] * args.writers, args.entries, args.work_ms)
        print(
            f"   {args.writers} writers × {args.entries} entries, each transaction open {args.work_ms:g} ms "
            f"after its entry:"
        )
        print(f"     different centres: {apart:,.0f} entries/s")
        print(f"     the same centre:   {together:,.0f} entries/s")
        print(f"     ratio: {apart / together:.1f}× (different centres against one chain for all)")

        chain = chain_of(verified)
        began = time.perf_counter()
        bulk_chain(verified, args.chain_entries)
        print(f"   {args.chain_entries:,} entries of {chain} inserted in {time.perf_counter() - began:.1f} s")
        full_seconds, full_rows = timed_verify(chain, full=True)
        for n in range(args.new_entries):
            record_audit("update", None, object_type="Bench", object_id=n, centre_id=verified)
            if n % 100 == 99:
                db.session.commit()
        db.session.commit()
        incremental_seconds, incremental_rows = timed_verify(chain, full=False)
        full_again, _rows = timed_verify(chain, full=True)
        print(f"     verify --full:      {full_seconds * 1000:,.0f} ms, {full_rows:,} rows read")
        print(
            f"     verify (from the checkpoint, {args.new_entries:,} new): {incremental_seconds * 1000:,.0f} ms, "
            f"{incremental_rows:,} rows read"
        )
        print(f"     verify --full again: {full_again * 1000:,.0f} ms")
        print(f"     ratio: incremental takes {incremental_seconds / full_again:.3f} of the full walk")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
