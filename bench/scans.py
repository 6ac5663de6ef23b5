"""Scans for a national year on PostgreSQL: writing them with their daily counts, and the dashboards reading them.

    .venv/bin/python bench/scans.py --database-url postgresql://user:pass@host/db  [--year-scans N] [--rounds R]

Makes the schema as ``flask db upgrade`` does, in a scratch schema of the
given database (``bench_scans_PID``, dropped afterwards), with 34 centres,
340 producers, 1,020 products and 10,200 lots (bulk inserts); the scans fall on
the lots by Zipf's law (the lot of rank r gets a share in 1/r: a few lots of
popular products take most scans), then:

1. **Write throughput**: ``--rounds`` rounds of two 500-row batches (the scan
   writer's), one written as the writer did before the daily counts (COPY
   alone) and one as it does now (``ScanBuffer.insert_rows``: the counts'
   upsert and the COPY in one transaction), alternating so both see the same
   server; prints the rows per second of each and their ratio.
2. **A year of scans**: ``--year-scans`` (default 2,000,000) scans over the
   last twelve months, loaded with COPY into their month partitions, the
   daily counts made by ``rebuild_daily_counts`` (as ``flask scans
   rebuild-daily``), ``VACUUM ANALYZE``; then the ministry's and one centre's
   year of scan figures (per day, per province or producer, per product, per
   language, per device: the scan analytics page's five charts), read as the
   app reads them (the daily counts) against the same ``GROUP BY`` over the raw
   scans (what the app ran before), median of ``--samples`` runs each.

The database URL comes from ``--database-url``, else ``BENCH_DATABASE_URL``
or ``TEST_DATABASE_URL``. Figures are printed, never asserted.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from datetime import date, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import insert, text

from bench.scratch import postgresql_url, scratch_app

WRITER_ROWS = 500
DEVICES = ("mobile",) * 17 + ("tablet", "desktop", "desktop")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", help="a PostgreSQL database (a scratch schema is made in it)")
    parser.add_argument("--year-scans", type=int, default=2_000_000)
    parser.add_argument("--rounds", type=int, default=40, help="write rounds (two 500-row batches each)")
    parser.add_argument("--samples", type=int, default=5, help="runs of each dashboard reading")
    parser.add_argument("--seed", type=int, default=20261212)
    return parser.parse_args(argv)


def seed() -> tuple[list[int], int]:
    """Centres, producers, products and lots in bulk; the lot ids and one centre's id."""
    from traceability.core.extensions import db
    from traceability.core.provinces import PROVINCES
    from traceability.models.batches import Batch
    from traceability.models.registry import Centre, Producer, Product

    db.session.execute(
        insert(Centre),
        [{"province_code": code, "name": f"Trung tâm {name}"} for code, name in PROVINCES.items()],
    )
    centres = dict(db.session.execute(text("SELECT province_code, id FROM centre")).all())
    db.session.execute(
        insert(Producer),
        [
            {
                "centre_id": centre_id,
                "name": f"HTX {code}-{n}",
                "kind": "cooperative",
                "province_code": code,
                "status": "approved",
            }
            for code, centre_id in centres.items()
            for n in range(10)
        ],
    )
    producers = db.session.scalars(text("SELECT id FROM producer")).all()
    db.session.execute(
        insert(Product),
        [
            {"producer_id": p, "name": f"Sản phẩm {p}-{n}", "category": "Nông sản"}
            for p in producers
            for n in range(3)
        ],
    )
    products = db.session.scalars(text("SELECT id FROM product")).all()
    made = date.today() - timedelta(days=400)
    db.session.execute(
        insert(Batch),
        [
            {
                "product_id": product,
                "lot_code": f"L{product}-{n}",
                "public_code": f"B{product:06d}{n:02d}".ljust(16, "X"),
                "production_date": made,
                "quantity": 100,
                "unit": "KGM",
                "status": "active",
            }
            for product in products
            for n in range(10)
        ],
    )
    db.session.commit()
    return list(db.session.scalars(text("SELECT id FROM batch"))), centres["66"]


def _rows(
    count: int, batch_ids: list[int], rng: random.Random, start: datetime, span: timedelta
) -> list[dict]:
    # Consumers scan some lots far more than others: the lot of rank r gets a share in 1/r (Zipf).
    chosen = rng.choices(batch_ids, cum_weights=_zipf(len(batch_ids)), k=count)
    return [
        {
            "batch_id": chosen[index],
            "item_id": None,
            "scanned_at": start + span * (index / count),
            "language": "vi" if rng.random() < 0.9 else "en",
            "device_class": rng.choice(DEVICES),
        }
        for index in range(count)
    ]


_ZIPF: dict[int, list[float]] = {}


def _zipf(size: int) -> list[float]:
    if size not in _ZIPF:
        total, cumulative = 0.0, []
        for rank in range(1, size + 1):
            total += 1 / rank
            cumulative.append(total)
        _ZIPF[size] = cumulative
    return _ZIPF[size]


def write_throughput(rounds: int, batch_ids: list[int], rng: random.Random) -> tuple[float, float]:
    """Rows per second of the scan writer without and with the daily counts, alternating."""
    from traceability.core.dates import utcnow
    from traceability.core.extensions import db
    from traceability.public import scan_buffer
    from traceability.public.scan_buffer import ScanBuffer

    writer = ScanBuffer(db.engine, interval=3600)
    counting = scan_buffer.add_to_daily_counts
    seconds = {"without": 0.0, "with": 0.0}
    now = utcnow()
    for number in range(rounds):
        for way in ("without", "with") if number % 2 == 0 else ("with", "without"):
            rows = _rows(WRITER_ROWS, batch_ids, rng, now - timedelta(minutes=5), timedelta(minutes=5))
            scan_buffer.add_to_daily_counts = counting if way == "with" else (lambda _connection, _rows: None)  # type: ignore[assignment]
            started = time.perf_counter()
            writer.insert_rows(rows)
            seconds[way] += time.perf_counter() - started
    scan_buffer.add_to_daily_counts = counting
    writer.close()
    total = rounds * WRITER_ROWS
    return total / seconds["without"], total / seconds["with"]


def load_year(count: int, batch_ids: list[int], rng: random.Random) -> tuple[float, float, int]:
    """A year of scans by COPY into their month partitions, then their daily counts; seconds of each."""
    from traceability.core.dates import add_months, utcnow, vietnam_today
    from traceability.core.extensions import db
    from traceability.core.partitions import ensure_partitions
    from traceability.public.scan_rollups import rebuild_daily_counts

    today = vietnam_today()
    months = [add_months(today, -n) for n in range(13)]
    ensure_partitions(db.session.connection(), "scan", "scanned_at", months)
    db.session.commit()
    end = utcnow() - timedelta(hours=1)
    start = end - timedelta(days=365)
    started = time.perf_counter()
    with db.engine.begin() as connection:
        cursor = connection.connection.driver_connection.cursor()
        columns = "batch_id, item_id, scanned_at, language, device_class"
        with cursor.copy(f"COPY scan ({columns}) FROM STDIN") as copy:
            for offset in range(0, count, 100_000):
                chunk = min(100_000, count - offset)
                for row in _rows(
                    chunk,
                    batch_ids,
                    rng,
                    start + (end - start) * (offset / count),
                    (end - start) * (chunk / count),
                ):
                    copy.write_row(tuple(row.values()))
        cursor.close()
    loaded = time.perf_counter() - started
    started = time.perf_counter()
    rebuilt = rebuild_daily_counts()
    db.session.commit()
    counted = time.perf_counter() - started
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("VACUUM ANALYZE scan"))
        connection.execute(text("VACUUM ANALYZE scan_daily"))
    return loaded, counted, rebuilt.rows


RAW = {
    # What the scan analytics ran before the daily counts: the same figures over the raw rows.
    "per-day": "SELECT to_char(scan.scanned_at AT TIME ZONE 'Asia/Ho_Chi_Minh', 'YYYY-MM-DD') AS d, count(scan.id) "
    "FROM scan {join} WHERE {scope} scan.scanned_at >= :start AND scan.scanned_at < :end GROUP BY d",
    "per-product": "SELECT product.id, product.name, producer.name, count(scan.id) FROM scan "
    "JOIN batch ON batch.id = scan.batch_id JOIN product ON product.id = batch.product_id "
    "JOIN producer ON producer.id = product.producer_id WHERE {scope} scan.scanned_at >= :start "
    "AND scan.scanned_at < :end GROUP BY product.id, product.name, producer.name",
    "where": "SELECT {where}, count(scan.id) FROM scan JOIN batch ON batch.id = scan.batch_id "
    "JOIN product ON product.id = batch.product_id JOIN producer ON producer.id = product.producer_id "
    "JOIN centre ON centre.id = producer.centre_id WHERE {scope} scan.scanned_at >= :start "
    "AND scan.scanned_at < :end GROUP BY {where}",
    "per-language": "SELECT scan.language, count(scan.id) FROM scan {join} WHERE {scope} "
    "scan.scanned_at >= :start AND scan.scanned_at < :end GROUP BY scan.language",
    "per-device": "SELECT scan.device_class, count(scan.id) FROM scan {join} WHERE {scope} "
    "scan.scanned_at >= :start AND scan.scanned_at < :end GROUP BY scan.device_class",
}
CENTRE_JOIN = (
    "JOIN batch ON batch.id = scan.batch_id JOIN product ON product.id = batch.product_id "
    "JOIN producer ON producer.id = product.producer_id"
)


def _raw_figures(connection: Any, user: Any, period: Any) -> int:
    from traceability.core.dates import vietnam_midnight

    ministry = user.role == "ministry"
    scope = "" if ministry else "producer.centre_id = :centre AND"
    params = {
        "start": vietnam_midnight(period.start),
        "end": vietnam_midnight(period.end + timedelta(days=1)),
        "centre": getattr(user, "centre_id", None),
    }
    total = 0
    for key, sql in RAW.items():
        statement = sql.format(
            join="" if ministry else CENTRE_JOIN,
            scope=scope,
            where="centre.province_code" if ministry else "producer.id, producer.name",
        )
        rows = connection.execute(text(statement), params).all()
        total += sum(row[-1] for row in rows) if key == "per-day" else 0
    return total


def _median_ms(samples: int, run: Any) -> tuple[float, Any]:
    times, result = [], None
    for _ in range(samples):
        started = time.perf_counter()
        result = run()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times), result


def dashboards(samples: int, centre_id: int) -> list[tuple[str, float, float, int, int]]:
    """Per reader: median ms from the daily counts, from the raw scans, and the year's totals of each."""
    from traceability.core.dates import vietnam_today
    from traceability.core.extensions import db
    from traceability.reports.scan_analytics import Period, daily_counts, scan_charts

    period = Period.ending(vietnam_today(), 366)
    readers = {
        "ministry": SimpleNamespace(
            role="ministry", is_authenticated=True, centre_id=None, producer_id=None, id=0
        ),
        "a centre (Đắk Lắk)": SimpleNamespace(
            role="centre_staff", is_authenticated=True, centre_id=centre_id, producer_id=None, id=0
        ),
    }
    results = []
    for name, user in readers.items():
        rollup_ms, _charts = _median_ms(samples, lambda user=user: scan_charts(user, period))
        rollup_total = sum(daily_counts(user, period).values())
        db.session.rollback()
        with db.engine.connect() as connection:
            raw_ms, raw_total = _median_ms(
                samples, lambda user=user, c=connection: _raw_figures(c, user, period)
            )
        results.append((name, rollup_ms, raw_ms, rollup_total, raw_total))
    return results


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    url = postgresql_url(args.database_url)
    if url is None:
        print("bench/scans.py needs a PostgreSQL database: --database-url postgresql://user:pass@host/db")
        return 2
    rng = random.Random(args.seed)
    with scratch_app(url, "scans"):
        batch_ids, centre_id = seed()
        print(f"   34 centres, 340 producers, 1,020 products, {len(batch_ids):,} lots")
        without, with_counts = write_throughput(args.rounds, batch_ids, rng)
        print(
            f"1. scan writer, {args.rounds * WRITER_ROWS:,} scans each way in 500-row batches: "
            f"COPY alone {without:,.0f} rows/s, COPY with the daily counts {with_counts:,.0f} rows/s "
            f"(ratio {with_counts / without:.2f})"
        )
        loaded, counted, rollup_rows = load_year(args.year_scans, batch_ids, rng)
        print(
            f"2. a year of {args.year_scans:,} scans: COPY into 13 month partitions {loaded:.1f} s; "
            f"rebuild-daily {counted:.1f} s -> {rollup_rows:,} daily count rows "
            f"({args.year_scans / max(rollup_rows, 1):.1f} scans per row)"
        )
        print(f"   the scan analytics' five charts over 366 days, median of {args.samples} runs:")
        for name, rollup_ms, raw_ms, rollup_total, raw_total in dashboards(args.samples, centre_id):
            agree = (
                "same totals" if rollup_total == raw_total else f"TOTALS DIFFER {rollup_total} {raw_total}"
            )
            print(
                f"   {name:<20} daily counts {rollup_ms:8.1f} ms   raw scans {raw_ms:8.1f} ms   "
                f"raw / counts {raw_ms / rollup_ms:6.1f}x   ({rollup_total:,} scans, {agree})"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
