"""Storage per row on PostgreSQL: scans, and the batches, events and audit entries behind them.

    .venv/bin/python bench/scan_rows.py --database-url postgresql://user:pass@host/db  [--scans N] [--batches B]

Makes the schema as ``flask db upgrade`` does, in a scratch schema of the
given database (``bench_scan_rows_PID``, dropped afterwards, the database's
own tables untouched), then:

- records ``--batches`` lots with ``--events`` key events each through the
  services (``create_batch``, ``record_event``), so each carries its audit
  entry as in production (a note and a reference number on each event);
- inserts ``--scans`` scans (default 100,000) of those lots in the scan
  writer's 500-row batches, the first half as multi-row INSERTs (the
  baseline), the second as the writer does (``ScanBuffer.insert_rows``: COPY),
  printing the rows per second of each way and their ratio, in time order
  over a year, of random lots, 90 % Vietnamese, mostly phones; lot scans, so
  ``item_id`` is empty (an item's scan holds one integer more);
- runs ``VACUUM ANALYZE`` (as autovacuum would) and prints, per table, the
  rows, the heap and index sizes and the bytes per row of
  ``pg_total_relation_size`` (heap, indexes, TOAST, free-space and
  visibility maps); for ``scan``, partitioned by month on PostgreSQL, the
  sums over its partitions (``pg_partition_tree``: the parent has no
  storage of its own).

The database URL comes from ``--database-url``, else ``BENCH_DATABASE_URL``
or ``TEST_DATABASE_URL``. Figures are printed, never asserted.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import insert, text

from bench.scratch import postgresql_url, scratch_app

TABLES = ("scan", "batch", "trace_event", "audit_entry")
WRITER_ROWS = 500  # scan_buffer.ScanBuffer's batch_size: one INSERT per queue
PASSWORD = "bench-rows-2026"  # a throwaway user in a throwaway schema
EVENT_TYPES = ("harvesting", "storing", "inspecting", "packing", "shipping")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", help="a PostgreSQL database (a scratch schema is made in it)")
    parser.add_argument("--scans", type=int, default=100_000)
    parser.add_argument("--batches", type=int, default=1_000, help="lots recorded through the services")
    parser.add_argument("--events", type=int, default=5, help="key events per lot")
    parser.add_argument("--seed", type=int, default=20261206)
    return parser.parse_args(argv)


def seed(batches: int, events: int) -> list[int]:
    """Lots and their events through the services, committed every 100 lots; their ids."""
    from bench.cooperative import daklak_cooperative
    from traceability.batches.service import create_batch, record_event
    from traceability.core.dates import VIETNAM_OFFSET
    from traceability.core.extensions import db
    from traceability.registry.locations import create_location
    from traceability.registry.products import create_product

    producer, user = daklak_cooperative(
        domain="rows.example.vn",
        producer_email="htx@rows.example.vn",
        password=PASSWORD,
        name="Hợp tác xã Nông nghiệp Cà phê Ea Tu",
    )
    farm = create_location(
        {"producer_id": producer.id, "name": "Vườn cà phê thôn 3", "kind": "farm"}, actor=user
    )
    product = create_product(
        {"producer_id": producer.id, "name": "Cà phê Robusta rang xay", "category": "Cà phê"}, actor=user
    )
    made = date.today() - timedelta(days=30)
    ids = []
    for number in range(batches):
        batch = create_batch(
            {
                "product_id": product.id,
                "lot_code": f"RX-2026-{number:05d}",
                "production_date": made,
                "expiry_date": made + timedelta(days=365),
                "quantity": Decimal("500"),
                "unit": "KGM",
                "location_id": farm.id,
            },
            actor=user,
        )
        for step, event_type in enumerate(EVENT_TYPES[:events]):
            record_event(
                batch,
                {
                    "type": event_type,
                    "time": datetime.combine(made, datetime.min.time(), VIETNAM_OFFSET)
                    + timedelta(days=step, hours=7),
                    "location_id": farm.id,
                    "quantity": Decimal("500"),
                    "note": "Thu hái chín đều, phơi trên sân xi măng.",
                    "reference_type": "Phiếu xuất kho",
                    "reference": f"PXK-{number:05d}-{step}",
                },
                actor=user,
            )
        ids.append(batch.id)
        if number % 100 == 99:
            db.session.commit()
    db.session.commit()
    return ids


def insert_scans(count: int, batch_ids: list[int], rng: random.Random) -> dict[str, float]:
    """The scans in time order, in the scan writer's 500-row batches; rows per second of each way.

    The first half goes in as multi-row INSERTs (the baseline), the second as
    the scan writer writes them (``ScanBuffer.insert_rows``: COPY on PostgreSQL).
    """
    from traceability.core.extensions import db
    from traceability.models.public import Scan
    from traceability.public.scan_buffer import ScanBuffer

    writer = ScanBuffer(db.engine)
    start_of_year = datetime(2026, 1, 1, tzinfo=UTC)
    step = timedelta(days=365) / count
    devices = ("mobile",) * 17 + ("tablet", "desktop", "desktop")
    seconds = {"INSERT": 0.0, "writer": 0.0}
    written = 0
    while written < count:
        rows = [
            {
                "batch_id": rng.choice(batch_ids),
                "item_id": None,
                # In time order, as they arrive: the scanned_at index fills its pages as in production.
                "scanned_at": start_of_year + (written + index) * step,
                "language": "vi" if rng.random() < 0.9 else "en",
                "device_class": rng.choice(devices),
            }
            for index in range(min(WRITER_ROWS, count - written))
        ]
        way = "INSERT" if written < count // 2 else "writer"
        started = time.perf_counter()
        if way == "INSERT":
            with db.engine.begin() as connection:
                connection.execute(insert(Scan), rows)
        else:
            writer.insert_rows(rows)
        seconds[way] += time.perf_counter() - started
        written += len(rows)
    half = count // 2
    return {"INSERT": half / seconds["INSERT"], "writer": (count - half) / seconds["writer"]}


# A partitioned table (``scan``, by month) has no storage of its own: its partitions hold the rows and the
# indexes. The table and every partition in its tree (none for a plain table), each once.
_SIZES = text(
    """
    SELECT count(*) - 1,
           coalesce(sum(pg_relation_size(relid)), 0),
           coalesce(sum(pg_indexes_size(relid)), 0),
           coalesce(sum(pg_total_relation_size(relid)), 0)
    FROM (SELECT CAST(:t AS regclass) AS relid UNION SELECT relid FROM pg_partition_tree(CAST(:t AS regclass))) AS tree
    """
)


def measure() -> list[tuple[str, int, int, int, int, int]]:
    """Per table: rows, heap bytes, index bytes, total bytes (after VACUUM ANALYZE), summed over its
    partitions, and how many partitions it has (0: not partitioned)."""
    from traceability.core.extensions import db

    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        for table in TABLES:
            connection.execute(text(f'VACUUM ANALYZE "{table}"'))  # a partitioned table's partitions too
        sizes = []
        for table in TABLES:
            rows = connection.scalar(text(f'SELECT count(*) FROM "{table}"'))
            partitions, heap, indexes, total = connection.execute(_SIZES, {"t": table}).one()
            sizes.append((table, rows, heap, indexes, total, partitions))
    return sizes


def _mib(size: int) -> str:
    return f"{size / 2**20:,.1f}"


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    url = postgresql_url(args.database_url)
    if url is None:
        print("bench/scan_rows.py needs a PostgreSQL database: --database-url postgresql://user:pass@host/db")
        return 2
    with scratch_app(url, "scan_rows"):
        started = time.perf_counter()
        batch_ids = seed(args.batches, args.events)
        print(
            f"   {args.batches:,} lots and {args.batches * args.events:,} events through the services "
            f"in {time.perf_counter() - started:.1f} s"
        )
        rates = insert_scans(args.scans, batch_ids, random.Random(args.seed))
        print(
            f"   {args.scans:,} scans in 500-row batches: multi-row INSERT {rates['INSERT']:,.0f} rows/s, "
            f"the scan writer's COPY {rates['writer']:,.0f} rows/s "
            f"({rates['writer'] / rates['INSERT']:.1f}× the INSERT)"
        )
        sizes = measure()

    print()
    print(f"{'table':<12} {'rows':>9} {'heap MiB':>9} {'index MiB':>10} {'total MiB':>10} {'bytes/row':>10}")
    for table, rows, heap, indexes, total, partitions in sizes:
        per_row = total / rows if rows else 0
        print(
            f"{table:<12} {rows:>9,} {_mib(heap):>9} {_mib(indexes):>10} {_mib(total):>10} {per_row:>10.1f}"
            + (f"  (summed over {partitions} partitions)" if partitions else "")
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
