"""A year at a fraction of the national scale on PostgreSQL: scan writes, dashboards, retention, audit, pages.

    .venv/bin/python bench/national.py --database-url postgresql://user:pass@host/db  [--scale 0.01]
                                       [--samples K] [--write-rounds R] [--page-lots L] [--duration S]

``--scale 1`` is the national year of ``docs/deployment.md``: 34 centres,
100,000 producers, 10,000,000 lots, 100,000,000 serialised items and
1,000,000,000 scans. The default, 0.01, is one hundredth of it: 1,000
producers (3 products each), 100,000 lots, 1,000,000 serialised items (100
on each of the first 10,000 lots) and 10,000,000 scans over the last twelve
months (lots scanned by Zipf's law, the lot of rank r getting a share in 1/r;
scans carry no item). Everything is loaded in bulk (``INSERT`` of many rows,
COPY through psycopg for lots, items and scans) into a scratch schema of the
given database built by the migrations (``bench/scratch.py``, dropped
afterwards); the daily counts are built by ``rebuild_daily_counts`` (as
``flask scans rebuild-daily``). Then, in one run:

1. **scan writes**: the scan writer's 500-row batches (``ScanBuffer.insert_rows``,
   the daily counts' upserts and the COPY in one transaction) against COPY
   alone, alternating (``bench/scans.py``'s ``write_throughput``);
2. **dashboards**: the dashboard (``dashboard_charts``) and the scan analytics
   (``scan_charts``, 30 days and a year) of a centre and of the ministry, the
   service functions the pages call, ``--samples`` runs each: median and p95
   (target p95 under 200 ms); the year's analytics again read from the lot
   counts (``ScanDaily``), as before the coarser counts, as the baseline;
3. **retention**: ``purge_scans`` (``flask scans purge --apply``) with
   ``SCAN_RETENTION_MONTHS=11``, which drops the oldest month's partition;
4. **audit**: one centre's chain of its share of a national year's entries
   (110,000,000 × scale / 34; inserted in bulk with their hashes computed by
   the audit service's ``entry_hash``, ``bench/audit.py``'s ``bulk_chain``),
   ``verify --full``, then 1 % more entries written through ``record_audit``
   and ``verify`` from the checkpoint;
5. **pages**: gunicorn and wrk as ``bench/public.py`` runs them (its
   functions), against this database: the bare route, random cached lot pages
   of ``--page-lots`` lots and random serialised item pages of the serialised
   lots among them, after one pass that draws each page once.

Figures are printed, never asserted; a summary table ends the run with its
duration. Needs wrk for step 5 (skipped with a message without it).
"""

from __future__ import annotations

import argparse
import base64
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import insert, text

from bench.scratch import postgresql_url, scratch_app

NATIONAL = {"producers": 100_000, "lots": 10_000_000, "items": 100_000_000, "scans": 1_000_000_000}
NATIONAL_AUDIT_ENTRIES = 110_000_000  # a year: one per lot and per event (docs/deployment.md)
PRODUCTS_PER_PRODUCER = 3
ITEMS_PER_LOT = 100
DEVICES = ("mobile",) * 17 + ("tablet", "desktop", "desktop")
TARGET_P95_MS = 200.0


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", help="a PostgreSQL database (a scratch schema is made in it)")
    parser.add_argument(
        "--scale", type=float, default=0.01, help="fraction of the national year (1 = national)"
    )
    parser.add_argument("--samples", type=int, default=20, help="runs of each dashboard")
    parser.add_argument(
        "--write-rounds", type=int, default=20, help="scan writer rounds (two 500-row batches each)"
    )
    parser.add_argument("--page-lots", type=int, default=1000, help="lots whose pages wrk asks for")
    parser.add_argument(
        "--items-per-page-lot", type=int, default=10, help="items asked for per serialised lot"
    )
    parser.add_argument("--duration", type=int, default=10, help="seconds of each wrk run")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--seed", type=int, default=20261213)
    return parser.parse_args(argv)


def sizes(scale: float) -> dict[str, int]:
    """How many of each at ``scale``."""
    made = {name: max(1, round(count * scale)) for name, count in NATIONAL.items()}
    made["products"] = made["producers"] * PRODUCTS_PER_PRODUCER
    made["serialised_lots"] = min(made["lots"], made["items"] // ITEMS_PER_LOT)
    made["items"] = made["serialised_lots"] * ITEMS_PER_LOT
    made["audit"] = max(100, round(NATIONAL_AUDIT_ENTRIES * scale / 34))
    return made


def _code(number: int) -> str:
    """A unique short code in the base32 alphabet of real ``/t/`` codes (16 characters)."""
    return base64.b32encode(number.to_bytes(10, "big")).decode()


def _copy(table: str, columns: str, lines: Iterator[str]) -> None:
    """COPY text lines into ``table`` through psycopg, in one transaction."""
    from traceability.core.extensions import db

    with db.engine.begin() as connection:
        cursor = connection.connection.driver_connection.cursor()
        with cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
            chunk: list[str] = []
            for line in lines:
                chunk.append(line)
                if len(chunk) == 50_000:
                    copy.write("".join(chunk))
                    chunk = []
            if chunk:
                copy.write("".join(chunk))
        cursor.close()


def load_registry(made: dict[str, int]) -> tuple[list[int], dict[str, int]]:
    """Centres, producers, products with GTINs, lots and items in bulk; the lot ids and the centres by province."""
    from bench.trace import _gtin
    from traceability.core.extensions import db
    from traceability.core.provinces import PROVINCES
    from traceability.models.registry import Centre, Producer, Product

    db.session.execute(
        insert(Centre),
        [{"province_code": code, "name": f"Trung tâm {name}"} for code, name in PROVINCES.items()],
    )
    centres = dict(db.session.execute(text("SELECT province_code, id FROM centre")).all())
    provinces = list(centres.items())
    db.session.execute(
        insert(Producer),
        [
            {
                "centre_id": provinces[n % len(provinces)][1],
                "name": f"HTX {n}",
                "kind": "cooperative",
                "province_code": provinces[n % len(provinces)][0],
                "status": "approved",
            }
            for n in range(made["producers"])
        ],
    )
    producers = db.session.scalars(text("SELECT id FROM producer ORDER BY id")).all()
    db.session.execute(
        insert(Product),
        [
            {"producer_id": p, "name": f"Sản phẩm {p}-{n}", "category": "Nông sản"}
            for p in producers
            for n in range(PRODUCTS_PER_PRODUCER)
        ],
    )
    db.session.execute(
        text("UPDATE product SET gtin = :g WHERE id = :id"),
        [{"g": _gtin(pid), "id": pid} for pid in db.session.scalars(text("SELECT id FROM product"))],
    )
    db.session.commit()
    products = db.session.scalars(text("SELECT id FROM product ORDER BY id")).all()
    made_on = (date.today() - timedelta(days=400)).isoformat()
    expires = (date.today() + timedelta(days=400)).isoformat()
    _copy(
        "batch",
        "product_id, lot_code, public_code, production_date, expiry_date, quantity, unit, status, created_at",
        (
            f"{products[n % len(products)]}\tL{n}\t{_code(n)}\t{made_on}\t{expires}\t100\tKGM\tactive\t{made_on}\n"
            for n in range(made["lots"])
        ),
    )
    lots = list(db.session.scalars(text("SELECT id FROM batch ORDER BY id")))
    _copy(
        "item",
        "batch_id, serial, public_code, created_at",
        (
            f"{lots[n // ITEMS_PER_LOT]}\tS{n:012d}\t{_code(2**70 + n)}\t{made_on}\n"
            for n in range(made["items"])
        ),
    )
    return lots, centres


def _zipf(size: int) -> list[float]:
    total, cumulative = 0.0, []
    for rank in range(1, size + 1):
        total += 1 / rank
        cumulative.append(total)
    return cumulative


def load_scans(count: int, lots: list[int], rng: random.Random) -> float:
    """A year of scans by COPY into their month partitions; the seconds it took."""
    from traceability.core.dates import add_months, utcnow, vietnam_today
    from traceability.core.extensions import db
    from traceability.core.partitions import ensure_partitions

    today = vietnam_today()
    ensure_partitions(
        db.session.connection(), "scan", "scanned_at", [add_months(today, -n) for n in range(13)]
    )
    db.session.commit()
    end = utcnow() - timedelta(hours=1)
    start = end - timedelta(days=365)
    step = (end - start).total_seconds() / count
    weights = _zipf(len(lots))
    languages = ["vi"] * 9 + ["en"]

    def lines() -> Iterator[str]:
        for offset in range(0, count, 100_000):
            chunk = min(100_000, count - offset)
            chosen = rng.choices(lots, cum_weights=weights, k=chunk)
            for index in range(chunk):
                moment = start + timedelta(seconds=step * (offset + index))
                yield (
                    f"{chosen[index]}\t\\N\t{moment.isoformat()}\t{rng.choice(languages)}\t{rng.choice(DEVICES)}\n"
                )

    started = time.perf_counter()
    _copy("scan", "batch_id, item_id, scanned_at, language, device_class", lines())
    return time.perf_counter() - started


def build_counts() -> tuple[float, dict[str, int]]:
    """The daily counts from the raw scans (``rebuild_daily_counts``), ``VACUUM ANALYZE``; seconds and rows."""
    from traceability.core.extensions import db
    from traceability.public.scan_rollups import rebuild_daily_counts

    started = time.perf_counter()
    rebuild_daily_counts()
    db.session.commit()
    seconds = time.perf_counter() - started
    rows = {}
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        for table in ("scan", "scan_daily", "scan_daily_product", "scan_daily_centre", "batch", "item"):
            connection.execute(text(f"VACUUM ANALYZE {table}"))
            rows[table] = int(connection.scalar(text(f"SELECT count(*) FROM {table}")))
    return seconds, rows


def _timings(samples: int, run: Callable[[], Any]) -> tuple[float, float]:
    """Median and p95 (nearest rank) in ms of ``samples`` runs, after one untimed run."""
    from traceability.core.extensions import db

    run()
    db.session.rollback()
    times = []
    for _ in range(samples):
        started = time.perf_counter()
        run()
        times.append((time.perf_counter() - started) * 1000)
        db.session.rollback()
    times.sort()
    return statistics.median(times), times[min(len(times) - 1, max(0, round(0.95 * len(times)) - 1))]


def dashboards(samples: int, centre_id: int) -> list[tuple[str, float, float]]:
    """Median and p95 of each page's service functions for a centre and the ministry."""
    from traceability.core.dates import vietnam_today
    from traceability.reports import scan_analytics
    from traceability.reports.dashboard import dashboard_charts
    from traceability.reports.scan_analytics import Period, scan_charts

    today = vietnam_today()
    readers = {
        "ministry": SimpleNamespace(
            role="ministry", is_authenticated=True, centre_id=None, producer_id=None, id=0
        ),
        "centre": SimpleNamespace(
            role="centre_staff", is_authenticated=True, centre_id=centre_id, producer_id=None, id=0
        ),
    }
    year, month = Period.ending(today, 366), Period.ending(today, 30)
    results = []
    for name, user in readers.items():
        results.append((f"{name} dashboard", *_timings(samples, lambda u=user: dashboard_charts(u, today))))
        results.append(
            (f"{name} scan analytics, 30 days", *_timings(samples, lambda u=user: scan_charts(u, month)))
        )
        results.append(
            (f"{name} scan analytics, a year", *_timings(samples, lambda u=user: scan_charts(u, year)))
        )
    # The baseline: the same year read from the lot counts, as every chart did before the coarser counts.
    coarsest = scan_analytics._counts
    scan_analytics._counts = lambda _user, _by: scan_analytics.ScanDaily  # type: ignore[assignment]
    try:
        for name, user in readers.items():
            results.append(
                (
                    f"{name} scan analytics, a year, lot counts (before)",
                    *_timings(max(3, samples // 4), lambda u=user: scan_charts(u, year)),
                )
            )
    finally:
        scan_analytics._counts = coarsest  # type: ignore[assignment]
    return results


def totals_agree(centre_id: int) -> str:
    """The year's scans from each count table and from the raw rows (they must be equal)."""
    from traceability.core.extensions import db

    sums = [
        int(db.session.scalar(text(f"SELECT coalesce(sum(count), 0) FROM {table}")))
        for table in ("scan_daily", "scan_daily_product", "scan_daily_centre")
    ]
    raw = int(db.session.scalar(text("SELECT count(*) FROM scan")))
    db.session.rollback()
    return f"{raw:,} raw = {sums[0]:,} lot = {sums[1]:,} product = {sums[2]:,} centre counts" + (
        "" if len({raw, *sums}) == 1 else "  ** DIFFER **"
    )


def retention() -> tuple[float, Any]:
    """``purge_scans`` dropping the oldest month (``SCAN_RETENTION_MONTHS=11``); seconds and its plan."""
    from flask import current_app

    from traceability.public.scan_retention import purge_scans

    current_app.config["SCAN_RETENTION_MONTHS"] = 11
    started = time.perf_counter()
    plan = purge_scans(apply=True)
    return time.perf_counter() - started, plan


def audit(centre_id: int, entries: int) -> dict[str, float]:
    """A centre's chain in bulk, verified in full, 1 % more through ``record_audit``, verified incrementally."""
    from bench.audit import bulk_chain, timed_verify
    from traceability.audit.service import chain_of, record_audit
    from traceability.core.extensions import db

    chain = chain_of(centre_id)
    started = time.perf_counter()
    bulk_chain(centre_id, entries)
    loaded = time.perf_counter() - started
    full, full_rows = timed_verify(chain, full=True)
    new = max(1, entries // 100)
    for n in range(new):
        record_audit("update", None, object_type="Bench", object_id=n, centre_id=centre_id)
        if n % 100 == 99:
            db.session.commit()
    db.session.commit()
    incremental, incremental_rows = timed_verify(chain, full=False)
    return {
        "entries": entries,
        "loaded": loaded,
        "full": full,
        "full_rows": full_rows,
        "new": new,
        "incremental": incremental,
        "incremental_rows": incremental_rows,
    }


def pages(url: str, args: argparse.Namespace, serialised_lots: int) -> dict[str, Any] | None:
    """bench/public.py's gunicorn and wrk on this database: bare route, cached lot pages, item pages."""
    if shutil.which("wrk") is None:
        print("   pages: skipped, wrk is missing (apt-get install wrk)")
        return None
    from bench import public
    from traceability.core.extensions import db

    rng = random.Random(args.seed)
    lot_ids = sorted(
        rng.sample(range(1, int(db.session.scalar(text("SELECT max(id) FROM batch"))) + 1), args.page_lots)
    )
    item_lot_ids = rng.sample(
        range(1, serialised_lots + 1), min(serialised_lots, max(1, args.page_lots // 10))
    )
    lot_rows = db.session.execute(
        text(
            "SELECT batch.id, product.gtin, batch.lot_code FROM batch JOIN product ON product.id = batch.product_id "
            "WHERE batch.id = ANY(:ids)"
        ),
        {"ids": sorted({*lot_ids, *item_lot_ids})},
    ).all()
    lot_path = {batch_id: f"/01/{gtin}/10/{lot}" for batch_id, gtin, lot in lot_rows}
    item_rows = db.session.execute(
        text(
            "SELECT batch_id, serial FROM (SELECT batch_id, serial, row_number() OVER (PARTITION BY batch_id "
            "ORDER BY id) AS n FROM item WHERE batch_id = ANY(:ids)) AS numbered WHERE n <= :per"
        ),
        {"ids": item_lot_ids, "per": args.items_per_page_lot},
    ).all()
    db.session.rollback()
    lot_paths = [lot_path[batch_id] for batch_id in lot_ids]
    item_paths = [f"{lot_path[batch_id]}/21/{serial}" for batch_id, serial in item_rows]
    first_items = list({path.rsplit("/21/", 1)[0]: path for path in item_paths}.values())
    with tempfile.TemporaryDirectory(prefix="bench-national-") as name:
        folder = Path(name)
        common = public.WRK_COMMON % {"agent": public.PHONE}
        scripts = {}
        for key, paths, shape in (
            ("lots", lot_paths, public.WRK_RANDOM % {"seed": args.seed}),
            ("every-lot", lot_paths, public.WRK_EVERY % {"threads": args.threads}),
            ("items", item_paths, public.WRK_RANDOM % {"seed": args.seed}),
            ("first-items", first_items, public.WRK_EVERY % {"threads": args.threads}),
        ):
            (folder / f"{key}.txt").write_text("\n".join(paths) + "\n")
            scripts[key] = folder / f"{key}.lua"
            scripts[key].write_text(common + public.PATHS % {"paths": folder / f"{key}.txt"} + shape)
        scripts["bare"] = folder / "bare.lua"
        scripts["bare"].write_text(common)
        env = {
            "DATABASE_URL": url,
            "SECRET_KEY": "bench-only-" + "x" * 32,
            "TRACEABILITY_ENV": "production",
            "PUBLIC_BASE_URL": "https://truyxuat.example.vn",
            "PAGE_CACHE_URL": str(folder / "page-cache"),
            "LOG_REQUESTS": "false",
        }
        app_server = public.Server("wsgi:app", folder, env, args.workers)
        bare_server = public.Server("bench.public:bare", folder, {}, args.workers)
        results: dict[str, Any] = {}
        try:
            app_server.wait_ready("/healthz")
            bare_server.wait_ready("/")
            public.wrk(bare_server.url, args, scripts["bare"], 3)  # warm-up
            app_server.lots = len(lot_paths)
            results["cold lots"] = public.wrk(
                app_server.url, args, scripts["every-lot"], 24 * 3600, until=app_server
            )
            app_server.lots = len(first_items)
            results["cold items"] = public.wrk(
                app_server.url, args, scripts["first-items"], 24 * 3600, until=app_server
            )
            results["bare"] = public.wrk(bare_server.url, args, scripts["bare"], args.duration)
            results["lots"] = public.wrk(app_server.url, args, scripts["lots"], args.duration)
            results["items"] = public.wrk(app_server.url, args, scripts["items"], args.duration)
        finally:
            bare_server.stop()
            app_server.stop()
        results["paths"] = (len(lot_paths), len(item_paths))
        return results


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    url = postgresql_url(args.database_url)
    if url is None:
        print("bench/national.py needs a PostgreSQL database: --database-url postgresql://user:pass@host/db")
        return 2
    began = time.perf_counter()
    made = sizes(args.scale)
    rng = random.Random(args.seed)
    print(
        f"bench/national.py: scale {args.scale:g} of the national year: {made['producers']:,} producers, "
        f"{made['products']:,} products, {made['lots']:,} lots, {made['items']:,} items on "
        f"{made['serialised_lots']:,} lots, {made['scans']:,} scans; load average {os.getloadavg()[0]:.1f} "
        f"on {os.cpu_count()} cores",
        flush=True,
    )
    summary: list[tuple[str, str]] = []
    with scratch_app(url, "national"):
        from bench.scans import write_throughput
        from traceability.core.extensions import db

        started = time.perf_counter()
        lots, centres = load_registry(made)
        registry_seconds = time.perf_counter() - started
        print(f"   registry (centres to items) in {registry_seconds:.1f} s", flush=True)
        scan_seconds = load_scans(made["scans"], lots, rng)
        print(
            f"   {made['scans']:,} scans by COPY into 13 month partitions in {scan_seconds:.1f} s", flush=True
        )
        count_seconds, rows = build_counts()
        print(
            f"   rebuild-daily in {count_seconds:.1f} s: {rows['scan_daily']:,} lot, "
            f"{rows['scan_daily_product']:,} product, {rows['scan_daily_centre']:,} centre count rows",
            flush=True,
        )
        summary += [
            ("load: registry, lots and items (bulk)", f"{registry_seconds:.0f} s"),
            (
                f"load: {made['scans']:,} scans (COPY)",
                f"{scan_seconds:.0f} s ({made['scans'] / scan_seconds:,.0f} rows/s)",
            ),
            (
                "load: rebuild-daily (lot, product, centre counts)",
                f"{count_seconds:.0f} s → {rows['scan_daily']:,} / {rows['scan_daily_product']:,} / "
                f"{rows['scan_daily_centre']:,} rows",
            ),
        ]
        # Before the writes: their COPY-alone half stores scans without counts, on purpose.
        print(f"   totals: {totals_agree(centres['66'])}", flush=True)
        print("1. scan writes", flush=True)
        alone, counted = write_throughput(args.write_rounds, lots, rng)
        print(
            f"   COPY alone {alone:,.0f} rows/s, the scan writer with the daily counts {counted:,.0f} rows/s",
            flush=True,
        )
        summary.append(
            (
                "scan writer (500-row batches): with counts / COPY alone",
                f"{counted:,.0f} / {alone:,.0f} rows/s ({counted / alone:.2f})",
            )
        )

        print(f"2. dashboards, {args.samples} runs each (median / p95 ms)", flush=True)
        timed = dashboards(args.samples, centres["66"])
        for name, median, p95 in timed:
            mark = "" if "before" in name else ("  ok" if p95 < TARGET_P95_MS else "  OVER 200 ms")
            print(f"   {name:<55}{median:9.1f}{p95:9.1f}{mark}", flush=True)
            summary.append((name, f"{median:,.1f} / {p95:,.1f} ms{mark}"))
        by_name = {name: p95 for name, _median, p95 in timed}
        for who in ("ministry", "centre"):
            before, after = (
                by_name[f"{who} scan analytics, a year, lot counts (before)"],
                by_name[f"{who} scan analytics, a year"],
            )
            summary.append((f"{who}'s year: lot counts / coarsest counts (p95)", f"{before / after:.1f}×"))

        print("3. retention", flush=True)
        seconds, plan = retention()
        dropped = plan.rows + plan.partition_rows
        print(
            f"   purge_scans: {', '.join(plan.partitions) or 'no partition'} and {plan.rows:,} rows, "
            f"{dropped:,} scans in {seconds:.2f} s",
            flush=True,
        )
        summary.append(
            (f"retention: drop {len(plan.partitions)} month(s), {dropped:,} scans", f"{seconds:.2f} s")
        )

        print("4. audit", flush=True)
        chain = audit(centres["66"], made["audit"])
        print(
            f"   {chain['entries']:,} entries in bulk in {chain['loaded']:.1f} s; verify --full {chain['full']:.2f} s "
            f"({chain['full_rows']:,} read); {chain['new']:,} new, verify {chain['incremental']:.3f} s "
            f"({chain['incremental_rows']:,} read)",
            flush=True,
        )
        summary += [
            (f"audit verify --full, one centre ({chain['entries']:,} entries)", f"{chain['full']:.2f} s"),
            (
                f"audit verify from the checkpoint ({chain['new']:,} new)",
                f"{chain['incremental']:.3f} s ({chain['incremental'] / chain['full']:.3f} of full)",
            ),
        ]

        print("5. pages (gunicorn, wrk)", flush=True)
        app_url = db.engine.url.render_as_string(hide_password=False)
        db.session.commit()
        result = pages(app_url, args, made["serialised_lots"])
        if result is not None:
            from bench.public import line

            bare = result["bare"]["rps"]
            for key in ("cold lots", "bare", "lots", "items"):
                print(line(key, result[key], None if key == "bare" else bare), flush=True)
            lots_count, items_count = result["paths"]
            summary += [
                ("bare Flask route", f"{bare:,.0f} req/s, p99 {result['bare']['p99_us'] / 1000:.1f} ms"),
                (
                    f"cached lot pages ({lots_count:,} lots)",
                    f"{result['lots']['rps']:,.0f} req/s ({result['lots']['rps'] / bare:.2f} of bare), "
                    f"p99 {result['lots']['p99_us'] / 1000:.1f} ms, {result['lots']['errors']} errors",
                ),
                (
                    f"serialised item pages ({items_count:,} items)",
                    f"{result['items']['rps']:,.0f} req/s ({result['items']['rps'] / bare:.2f} of bare), "
                    f"p99 {result['items']['p99_us'] / 1000:.1f} ms, {result['items']['errors']} errors",
                ),
            ]
    total = time.perf_counter() - began
    width = max(len(name) for name, _ in summary)
    print(f"\nsummary (scale {args.scale:g}, {total / 60:.1f} minutes in all)")
    for name, figure in summary:
        print(f"  {name:<{width}}  {figure}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
