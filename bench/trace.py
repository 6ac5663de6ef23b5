"""Benchmark: trace queries as one recursive CTE against the naive traversal, and the chain spreadsheet.

    .venv/bin/python bench/trace.py [--database sqlite|postgresql|both] [--batches N] [--events M] [--samples K]

Builds a synthetic registry (default 100,000 batches and 1,000,000 events) with
lineage six steps deep: harvest lots → collection → processing → packing →
distribution → retail, every batch after the first step made from 2 to 4
batches of the step before, so each batch also feeds about three of the next
(fan-in and fan-out). Then, in the same process and on the same data, it times

- ``related_batch_ids`` (one recursive CTE) and a naive traversal (one ORM
  query per batch, as code without the CTE would do) upstream from random
  retail lots, downstream from random harvest lots, and both ways from random
  batches of any step;
- the chain spreadsheet (XLSX and CSV) of retail lots, whose chain spans all
  six steps.

Figures are printed, never asserted: timings belong here, not in the test
suite. SQLite runs in a fresh file under a temporary directory (WAL,
synchronous=OFF for this file only). PostgreSQL runs in a fresh database
created on the server of ``BENCH_DATABASE_URL`` or ``TEST_DATABASE_URL`` (and
dropped afterwards), else on a throwaway server started by
``scripts/pg_throwaway.sh``; without PostgreSQL that part is skipped with a
message.
"""

from __future__ import annotations

import argparse
import base64
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, event, insert, select, text
from sqlalchemy.engine import make_url

STEPS = ("harvest", "collection", "processing", "packing", "distribution", "retail")
STEP_SHARE = (0.25, 0.15, 0.15, 0.15, 0.15, 0.15)  # of the batches
STEP_EVENTS = {
    "harvest": ("growing", "growing", "harvesting", "storing", "inspecting", "shipping"),
    "collection": ("receiving", "storing", "inspecting", "processing", "shipping"),
    "processing": ("receiving", "processing", "processing", "inspecting", "storing", "shipping"),
    "packing": ("receiving", "packing", "inspecting", "storing", "shipping"),
    "distribution": ("receiving", "storing", "storing", "inspecting", "shipping"),
    "retail": ("receiving", "storing", "selling", "selling", "inspecting"),
}
PROVINCES = ("66", "68", "52", "40")
PRODUCERS = 400
PRODUCTS_PER_STEP = 60
CHUNK = 20_000
NO_POSTGRES = 97  # scripts/pg_throwaway.sh's exit status when it finds no server
TARGET_RATIO, TARGET_P95_MS, TARGET_SHEET_S = 10, 50, 1.0


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--batches", type=int, default=100_000)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--samples", type=int, default=200, help="random batches timed per case")
    parser.add_argument("--sheets", type=int, default=5, help="chain spreadsheets timed")
    parser.add_argument("--seed", type=int, default=20261122)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)  # run by pg_throwaway.sh
    args = parser.parse_args(argv)
    if args.batches < 60:
        parser.error("--batches must be at least 60 (six steps of ten)")
    return args


# --- the application on a given database ---------------------------------------------------------


def make_app(url: str):
    """The application on ``url``, configured as in development but for this database."""
    from traceability import create_app
    from traceability.core.config import Config

    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]

    class BenchConfig(Config):
        DATABASE_URL = url
        SECRET_KEY = "bench-only"

    return create_app(BenchConfig)


def sqlite_fast_pragmas(engine: Any) -> None:
    """WAL and no fsync, for the benchmark's own file only: it is rebuilt every run."""

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=OFF")
        cursor.close()


# --- the synthetic registry -----------------------------------------------------------------------


class Layout:
    """Which batch ids belong to which step: consecutive ranges, harvest lots first."""

    def __init__(self, batches: int) -> None:
        sizes = [int(batches * share) for share in STEP_SHARE]
        sizes[0] += batches - sum(sizes)
        self.ranges: list[range] = []
        start = 1
        for size in sizes:
            self.ranges.append(range(start, start + size))
            start += size
        self.total = batches


def _gtin(product_id: int) -> str:
    from traceability.gs1.identifiers import gtin_check_digit

    body = f"0893500{product_id:06d}"
    return body + str(gtin_check_digit(body))


def _chunks(rows: Iterator[dict[str, Any]], size: int = CHUNK) -> Iterator[list[dict[str, Any]]]:
    chunk: list[dict[str, Any]] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def load(batches: int, events: int, rng: random.Random) -> tuple[Layout, dict[str, int]]:
    """Fill the empty schema with bulk inserts (Core executemany in chunks, one transaction)."""
    from traceability.core.extensions import db
    from traceability.models.batches import EVENT_BIZ_STEPS, Batch, BatchInput, TraceEvent
    from traceability.models.registry import Centre, Location, Producer, Product

    layout = Layout(batches)
    connection = db.session.connection()
    now = datetime.now(UTC)

    def bulk(model: Any, rows: Iterator[dict[str, Any]] | list[dict[str, Any]]) -> int:
        count = 0
        for chunk in _chunks(iter(rows)):
            connection.execute(insert(model.__table__), chunk)
            count += len(chunk)
        return count

    bulk(
        Centre,
        [
            {"id": i + 1, "province_code": code, "name": f"Trung tâm {code}", "created_at": now}
            for i, code in enumerate(PROVINCES)
        ],
    )
    producer_rows = []
    for n in range(1, PRODUCERS + 1):
        centre = n % len(PROVINCES)
        producer_rows.append(
            {
                "id": n,
                "centre_id": centre + 1,
                "name": f"HTX Nông sản {n}",
                "kind": "cooperative",
                "tax_code": f"{6100000000 + n}",
                "province_code": PROVINCES[centre],
                "ward": "Xã Ea Tu",
                "street": f"{n} Lê Duẩn",
                "status": "approved",
                "search_text": f"htx nong san {n}",
                "created_at": now,
                "updated_at": now,
            }
        )
    bulk(Producer, producer_rows)
    bulk(
        Location,
        [
            {
                "id": n,
                "producer_id": n,
                "name": f"Cơ sở {n}",
                "kind": "facility",
                "gln": None,
                "internal_code": f"LBENCH{n:06d}",
                "province_code": PROVINCES[n % len(PROVINCES)],
                "ward": "Xã Ea Tu",
                "created_at": now,
            }
            for n in range(1, PRODUCERS + 1)
        ],
    )
    product_producer: dict[int, int] = {}
    product_rows = []
    for step_index, step in enumerate(STEPS):
        for k in range(PRODUCTS_PER_STEP):
            product_id = step_index * PRODUCTS_PER_STEP + k + 1
            product_producer[product_id] = rng.randint(1, PRODUCERS)
            product_rows.append(
                {
                    "id": product_id,
                    "producer_id": product_producer[product_id],
                    "name": f"Cà phê {step} {k + 1}",
                    "gtin": _gtin(product_id) if step in ("packing", "retail") else None,
                    "search_text": f"ca phe {step} {k + 1}",
                    "created_at": now,
                    "updated_at": now,
                }
            )
    bulk(Product, product_rows)

    batch_product: dict[int, int] = {}
    batch_day: dict[int, date] = {}

    def batch_rows() -> Iterator[dict[str, Any]]:
        for step_index, ids in enumerate(layout.ranges):
            for batch_id in ids:
                product_id = step_index * PRODUCTS_PER_STEP + rng.randrange(PRODUCTS_PER_STEP) + 1
                day = date(2025, 1, 1) + timedelta(days=step_index * 10 + rng.randrange(300))
                batch_product[batch_id] = product_id
                batch_day[batch_id] = day
                yield {
                    "id": batch_id,
                    "product_id": product_id,
                    "lot_code": f"L{step_index}-{batch_id:07d}",
                    # base32, the alphabet of real short codes (batches.service.new_public_code):
                    # a code outside it is not a page the fast path answers (canonical_paths).
                    "public_code": base64.b32encode(batch_id.to_bytes(8, "big")).decode().rstrip("="),
                    "production_date": day,
                    "expiry_date": day + timedelta(days=540),
                    "quantity": Decimal(1000 - step_index * 100),
                    "unit": "KGM",
                    "origin_location_id": product_producer[product_id],
                    "status": "active",
                    "created_at": now,
                }

    counts = {"batches": bulk(Batch, batch_rows())}

    def link_rows() -> Iterator[dict[str, Any]]:
        # Inputs come from a neighbourhood of the step before (the same region's
        # suppliers), so every batch also feeds about three of the next step.
        for step_index in range(1, len(STEPS)):
            outputs, inputs = layout.ranges[step_index], layout.ranges[step_index - 1]
            for position, output_id in enumerate(outputs):
                centre = inputs.start + position * len(inputs) // len(outputs)
                low = max(inputs.start, centre - 40)
                high = min(inputs.stop, low + 80)
                for input_id in rng.sample(range(low, high), rng.randint(2, 4)):
                    yield {
                        "output_batch_id": output_id,
                        "input_batch_id": input_id,
                        "quantity": Decimal(10),
                        "kind": "aggregation" if STEPS[step_index] == "distribution" else "transformation",
                        "created_at": now,
                    }

    counts["links"] = bulk(BatchInput, link_rows())

    per_batch = [events // batches] * batches
    for index in rng.sample(range(batches), events % batches):
        per_batch[index] += 1

    def event_rows() -> Iterator[dict[str, Any]]:
        for step_index, ids in enumerate(layout.ranges):
            yield from step_events(STEP_EVENTS[STEPS[step_index]], ids)

    def step_events(kinds: tuple[str, ...], ids: range) -> Iterator[dict[str, Any]]:
        for batch_id in ids:
            start = datetime.combine(batch_day[batch_id], datetime.min.time(), UTC) - timedelta(days=3)
            location = product_producer[batch_product[batch_id]]
            for n in range(per_batch[batch_id - 1]):
                kind = kinds[n % len(kinds)]
                shipping = kind == "shipping"
                yield {
                    "batch_id": batch_id,
                    "type": kind,
                    "biz_step": EVENT_BIZ_STEPS[kind],
                    "event_time": start + timedelta(hours=7 * n + rng.randrange(6)),
                    "time_zone_offset": "+07:00",
                    "location_id": location,
                    "quantity": Decimal(rng.randrange(5, 200)) if n % 3 == 0 else None,
                    "unit": "KGM" if n % 3 == 0 else None,
                    "note": "Ghi chép của cơ sở" if n % 4 == 0 else "",
                    "reference_type": "Phiếu xuất kho" if shipping else None,
                    "reference_number": f"PXK-{batch_id}-{n}" if shipping else None,
                    "counterparty": f"Khách hàng {rng.randrange(1000)}" if shipping else None,
                    "recorded_at": now,
                }

    counts["events"] = bulk(TraceEvent, event_rows())
    db.session.commit()
    if db.engine.dialect.name == "postgresql":
        # Explicit ids were inserted: move the sequences past them, then gather statistics.
        with db.engine.begin() as conn:
            for table in ("centre", "producer", "location", "product", "batch"):
                conn.execute(
                    text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), max(id)) FROM {table}")
                )
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("ANALYZE"))
    return layout, counts


# --- the two ways of tracing ----------------------------------------------------------------------


def naive_related(batch_id: int, direction: str) -> dict[int, int]:
    """The naive traversal: one ORM query per batch, breadth first, each batch at its shortest depth."""
    from traceability.core.extensions import db
    from traceability.models.batches import BatchInput

    if direction == "upstream":
        key, target = BatchInput.output_batch_id, "input_batch_id"
    else:
        key, target = BatchInput.input_batch_id, "output_batch_id"
    depths: dict[int, int] = {}
    seen = {batch_id}
    frontier, depth = [batch_id], 0
    while frontier:
        depth += 1
        following = []
        for node in frontier:
            for link in db.session.scalars(select(BatchInput).where(key == node)):
                other = getattr(link, target)
                if other not in seen:
                    seen.add(other)
                    depths[other] = depth
                    following.append(other)
        frontier = following
    return depths


def _timed(function: Callable[[], Any]) -> tuple[float, Any]:
    from traceability.core.extensions import db

    db.session.remove()  # no warm identity map from the sample before
    started = time.perf_counter()
    result = function()
    return time.perf_counter() - started, result


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def measure_traces(roots: list[tuple[int, str]]) -> dict[str, Any]:
    """Time the CTE and the naive traversal for each (batch, direction), alternating which runs first."""
    from traceability.batches.trace import related_batch_ids

    for batch_id, direction in roots[:5]:  # warm the caches and the statement cache
        related_batch_ids(batch_id, direction)
        naive_related(batch_id, direction)
    cte_times, naive_times, sizes = [], [], []
    for index, (batch_id, direction) in enumerate(roots):
        runs = [
            ("cte", lambda b=batch_id, d=direction: related_batch_ids(b, d)),
            ("naive", lambda b=batch_id, d=direction: naive_related(b, d)),
        ]
        if index % 2:
            runs.reverse()
        results = {}
        for name, function in runs:
            results[name] = _timed(function)
        (cte_time, cte_result), (naive_time, naive_result) = results["cte"], results["naive"]
        if cte_result != naive_result:
            raise AssertionError(f"batch {batch_id} {direction}: the CTE and the naive traversal disagree")
        cte_times.append(cte_time)
        naive_times.append(naive_time)
        sizes.append(len(cte_result))
    return {
        "nodes": statistics.median(sizes),
        "max_nodes": max(sizes),
        "cte_median": statistics.median(cte_times),
        "cte_p95": _p95(cte_times),
        "naive_median": statistics.median(naive_times),
        "naive_p95": _p95(naive_times),
    }


def measure_sheets(batch_ids: list[int]) -> dict[str, Any]:
    """Time the chain spreadsheet, XLSX and CSV, of each batch (a request context, Vietnamese)."""
    from flask import current_app

    from traceability.batches.chain_export import chain_csv, chain_rows, chain_xlsx
    from traceability.core.extensions import db
    from traceability.models.batches import Batch

    xlsx_times, csv_times, rows, batches = [], [], [], []
    with current_app.test_request_context(headers={"Accept-Language": "vi"}):
        for batch_id in batch_ids:
            elapsed, _ = _timed(lambda b=batch_id: chain_xlsx(db.session.get(Batch, b), "vi"))
            xlsx_times.append(elapsed)
            elapsed, _ = _timed(lambda b=batch_id: chain_csv(db.session.get(Batch, b), "vi"))
            csv_times.append(elapsed)
            sheet = chain_rows(db.session.get(Batch, batch_id), "vi")
            rows.append(len(sheet))
            batches.append(len({row["lot_code"] for row in sheet}))
    return {
        "rows": statistics.median(rows),
        "batches": statistics.median(batches),
        "xlsx_median": statistics.median(xlsx_times),
        "xlsx_max": max(xlsx_times),
        "csv_median": statistics.median(csv_times),
        "csv_max": max(csv_times),
    }


# --- one database ---------------------------------------------------------------------------------


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def run(url: str, label: str, args: argparse.Namespace) -> bool:
    """Build the registry on ``url``, measure, print the figures; True when every target is met."""
    from traceability.core.extensions import db

    rng = random.Random(args.seed)
    app = make_app(url)
    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            sqlite_fast_pragmas(db.engine)
        version = db.session.execute(
            text("SELECT sqlite_version()" if db.engine.dialect.name == "sqlite" else "SHOW server_version")
        ).scalar()
        print(f"\n== {label} {version} ==", flush=True)
        db.session.remove()
        db.create_all()
        started = time.perf_counter()
        layout, counts = load(args.batches, args.events, rng)
        print(
            f"load: {counts['batches']:,} batches, {counts['links']:,} lineage links, "
            f"{counts['events']:,} events in {time.perf_counter() - started:.1f} s (bulk inserts, then ANALYZE)",
            flush=True,
        )
        retail, harvest = list(layout.ranges[-1]), list(layout.ranges[0])
        samples = min(args.samples, len(retail))
        cases = {
            "upstream from a retail lot": [(b, "upstream") for b in rng.sample(retail, samples)],
            "downstream from a harvest lot": [(b, "downstream") for b in rng.sample(harvest, samples)],
            "any batch, either direction": [
                (b, rng.choice(("upstream", "downstream")))
                for b in rng.sample(range(1, layout.total + 1), samples)
            ],
        }
        print(f"trace queries, {samples} random batches per case (ms; the same batches for both ways):")
        header = f"  {'case':<31}{'batches':>8}{'CTE median':>12}{'p95':>9}{'naive median':>14}{'p95':>9}{'naive/CTE':>11}"
        print(header)
        met = True
        for name, roots in cases.items():
            figures = measure_traces(roots)
            ratio = figures["naive_median"] / figures["cte_median"]
            print(
                f"  {name:<31}{figures['nodes']:>8.0f}{figures['cte_median'] * 1000:>12.2f}"
                f"{figures['cte_p95'] * 1000:>9.2f}{figures['naive_median'] * 1000:>14.2f}"
                f"{figures['naive_p95'] * 1000:>9.2f}{ratio:>10.1f}×",
                flush=True,
            )
            if name != "any batch, either direction":  # the six-step chains are what the targets are about
                met &= ratio >= TARGET_RATIO
            met &= figures["cte_p95"] * 1000 < TARGET_P95_MS
        sheet_roots = [b for b, _ in cases["upstream from a retail lot"][: args.sheets]]
        sheets = measure_sheets(sheet_roots)
        print(
            f"chain spreadsheet of a retail lot (six steps, {sheets['batches']:.0f} batches, {sheets['rows']:,.0f} rows; "
            f"{len(sheet_roots)} lots): XLSX median {sheets['xlsx_median']:.2f} s (max {sheets['xlsx_max']:.2f} s), "
            f"CSV median {sheets['csv_median']:.2f} s (max {sheets['csv_max']:.2f} s)",
            flush=True,
        )
        met &= sheets["xlsx_median"] < TARGET_SHEET_S and sheets["csv_median"] < TARGET_SHEET_S
        print(
            f"targets (naive/CTE ≥ {TARGET_RATIO}× on six-step chains, CTE p95 < {TARGET_P95_MS} ms, "
            f"spreadsheet < {TARGET_SHEET_S:.0f} s): {'met' if met else 'NOT MET'}"
        )
        db.session.remove()
        db.engine.dispose()
    return met


def run_sqlite(args: argparse.Namespace) -> bool:
    with tempfile.TemporaryDirectory(prefix="bench-trace-") as folder:
        return run(f"sqlite:///{Path(folder) / 'bench.sqlite3'}", "SQLite", args)


def run_postgresql(server_url: str, args: argparse.Namespace) -> bool:
    """Create a fresh database on the server of ``server_url``, run there, drop it."""
    url = make_url(server_url.replace("postgresql://", "postgresql+psycopg://", 1))
    name = f"bench_trace_{os.getpid()}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as error:  # noqa: BLE001 - any failure means: no database to run in
        print(f"\n== PostgreSQL skipped: could not create a database on {url.host}: {error}")
        admin.dispose()
        return True
    try:
        return run(url.set(database=name).render_as_string(hide_password=False), "PostgreSQL", args)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if not args.child:
        print(
            f"bench/trace.py: {args.batches:,} batches, {args.events:,} events, six steps, "
            f"{args.samples} samples per case, seed {args.seed}"
        )
    met = True
    if args.database in ("sqlite", "both"):
        met &= run_sqlite(args)
    if args.database in ("postgresql", "both"):
        server = os.environ.get("BENCH_DATABASE_URL") or os.environ.get("TEST_DATABASE_URL")
        if server:
            met &= run_postgresql(server, args)
        else:
            command = [
                str(ROOT / "scripts" / "pg_throwaway.sh"),
                sys.executable,
                str(Path(__file__).resolve()),
                "--database=postgresql",
                "--child",
                f"--batches={args.batches}",
                f"--events={args.events}",
                f"--samples={args.samples}",
                f"--sheets={args.sheets}",
                f"--seed={args.seed}",
            ]
            status = subprocess.run(command, check=False).returncode
            if status == NO_POSTGRES:
                print(
                    "\n== PostgreSQL skipped: no server found (set BENCH_DATABASE_URL or install postgresql)"
                )
            elif status != 0:
                met = False
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
