"""Benchmark: the consumer page under load, against a bare Flask route served the same way.

    .venv/bin/python bench/public.py [--database-url URL] [--batches N] [--events M] [--lots L]
                                     [--duration S] [--rounds R] [--connections C]

Loads a registry of 100,000 batches with 1,000,000 events (the synthetic
six-step chains of ``bench/trace.py``, bulk inserts) into a fresh SQLite file,
or into a fresh database created on the PostgreSQL server of
``--database-url`` (dropped afterwards). Then it serves the app with gunicorn
(two sync workers, ``gunicorn.conf.py``) and, the same way, a bare Flask app
whose one route returns a short string, and drives both with wrk from
Debian's package at 32 connections, on this machine:

1. every lot's consumer page once, in random order (``cold``: each page is
   rendered and stored in the page cache; the default cache, a folder), or
   only the pages of ``--lots N`` random lots (the first pass renders every
   page, which takes minutes for 100,000 lots);
2. R rounds (default 2) of the bare route for S seconds, then random pages
   of the same lots for S seconds (``warm``: the cache holds them), so the bare
   route is measured beside the page under the same background load.

It prints requests per second, the page's share of the bare route's rate,
latency percentiles and errors for each, and the number of page requests
gunicorn served (its access log) against the number of scans in the
database once gunicorn has been stopped with SIGTERM, which writes the
scans still queued. Targets: the warm page at least 50 % of the bare
route's requests per second, p99 under 50 ms, no errors, every scan stored.

Figures are printed and checked here, never in the test suite. wrk and the
servers share the machine's cores, as do other jobs: compare runs on a quiet
machine. Without wrk (``apt-get install wrk``) the script says so and stops.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from flask import Flask
from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url

PHONE = (
    "Mozilla/5.0 (Linux; Android 15; SM-A556E) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/140.0 Mobile Safari/537.36"
)
TARGET_SHARE, TARGET_P99_MS = 0.5, 50.0
ACCESS_LOG_FORMAT = "%(m)s %(s)s %({x-page-cache}o)s %(U)s"

# The bare route: Flask and nothing else, served by gunicorn like the app.
bare = Flask("bare")


@bare.route("/")
def hello() -> str:
    return "Xin chào"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--database-url",
        help="a PostgreSQL server (postgresql://user:password@host/db): the bench creates and drops its own "
        "database there; default: a SQLite file in a temporary folder",
    )
    parser.add_argument("--batches", type=int, default=100_000)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument(
        "--lots",
        type=int,
        help="drive the pages of this many random lots (default: every lot); the first pass renders each once",
    )
    parser.add_argument("--duration", type=int, default=20, help="seconds per timed run")
    parser.add_argument("--rounds", type=int, default=2, help="bare route / warm page pairs")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument(
        "--items", type=int, default=20, help="serialised items of each driven lot (0: lot pages only)"
    )
    parser.add_argument("--seed", type=int, default=20261206)
    return parser.parse_args(argv)


# --- the registry ---------------------------------------------------------------------------------


def load_registry(url: str, args: argparse.Namespace) -> list[str]:
    """Fill a fresh schema at ``url`` (bench/trace.py's loader); the consumer path of every lot."""
    from bench.trace import load, make_app, sqlite_fast_pragmas
    from traceability.core.extensions import db
    from traceability.models.batches import Batch
    from traceability.models.registry import Product

    app = make_app(url)
    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            sqlite_fast_pragmas(db.engine)
        db.create_all()
        started = time.perf_counter()
        _layout, counts = load(args.batches, args.events, random.Random(args.seed))
        print(
            f"load: {counts['batches']:,} batches, {counts['links']:,} lineage links, {counts['events']:,} events "
            f"in {time.perf_counter() - started:.1f} s (bulk inserts, then ANALYZE)",
            flush=True,
        )
        rows = db.session.execute(
            select(Product.gtin, Batch.lot_code, Batch.public_code).join(Product).order_by(Batch.id)
        ).all()
        db.session.remove()
        db.engine.dispose()
    # Lots of products with a GTIN answer at their GS1 Digital Link, the others at /t/{code}.
    return [f"/01/{gtin}/10/{lot}" if gtin else f"/t/{code}" for gtin, lot, code in rows]


def add_items(url: str, lot_paths: list[str], per_lot: int, seed: int) -> list[str]:
    """``per_lot`` serialised items (13-character serials, as ``create_serials`` makes) of each lot; their paths."""
    from traceability.batches.service import new_public_code

    generator = random.Random(seed)
    alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
    engine = create_engine(url)
    paths: list[str] = []
    try:
        with engine.begin() as connection:
            rows = []
            for path in lot_paths:
                if path.startswith("/t/"):
                    batch_id = connection.execute(
                        text("SELECT id FROM batch WHERE public_code = :code"), {"code": path[3:]}
                    ).scalar_one()
                else:
                    _, _, gtin, _, lot = path.split("/", 4)
                    batch_id = connection.execute(
                        text(
                            "SELECT batch.id FROM batch JOIN product ON product.id = batch.product_id "
                            "WHERE product.gtin = :gtin AND batch.lot_code = :lot"
                        ),
                        {"gtin": gtin, "lot": lot},
                    ).scalar_one()
                for _ in range(per_lot):
                    serial = "".join(generator.choice(alphabet) for _ in range(13))
                    code = new_public_code()
                    rows.append(
                        {
                            "batch_id": batch_id,
                            "serial": serial,
                            "public_code": code,
                            "created_at": "2026-12-01",
                        }
                    )
                    paths.append(f"/t/{code}" if path.startswith("/t/") else f"{path}/21/{serial}")
            connection.execute(
                text(
                    "INSERT INTO item (batch_id, serial, public_code, created_at) "
                    "VALUES (:batch_id, :serial, :public_code, :created_at)"
                ),
                rows,
            )
    finally:
        engine.dispose()
    return paths


def count_item_scans(url: str) -> tuple[int, int]:
    """Item scans stored, and scans the items' tallies counted (each row: its earlier scans and its latest)."""
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            stored = connection.execute(
                text("SELECT count(*) FROM scan WHERE item_id IS NOT NULL")
            ).scalar_one()
            tallied = connection.execute(
                text("SELECT coalesce(sum(scan_count + 1), 0) FROM item_scan")
            ).scalar_one()
            return stored, tallied
    finally:
        engine.dispose()


def count_scans(url: str) -> int:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return connection.execute(text("SELECT count(*) FROM scan")).scalar_one()
    finally:
        engine.dispose()


# --- gunicorn and wrk -----------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Server:
    """gunicorn serving ``app`` on a free port, with an access log; stopped with SIGTERM."""

    def __init__(self, app: str, folder: Path, env: dict[str, str], workers: int) -> None:
        self.lots = 0
        self._read_to = self._lines = 0
        self.port = free_port()
        self.access_log = folder / f"access-{self.port}.log"
        self.error_log = folder / f"error-{self.port}.log"
        command = [
            sys.executable,
            "-m",
            "gunicorn",
            "-c",
            "gunicorn.conf.py",
            "--workers",
            str(workers),
            "--bind",
            f"127.0.0.1:{self.port}",
            "--access-logfile",
            str(self.access_log),
            "--access-logformat",
            ACCESS_LOG_FORMAT,
            "--error-logfile",
            str(self.error_log),
            app,
        ]
        self.process = subprocess.Popen(command, cwd=ROOT, env={**os.environ, **env})

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def wait_ready(self, path: str) -> None:
        deadline = time.monotonic() + 300  # a busy machine may take minutes to import the app
        while True:
            try:
                with urllib.request.urlopen(self.url + path, timeout=5):
                    return
            except OSError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit(f"gunicorn did not start:\n{self.error_log.read_text()}") from None
                time.sleep(0.2)

    def served(self) -> int:
        """Requests in the access log so far (read on from where the last call stopped)."""
        if self.access_log.exists():
            with self.access_log.open("rb") as log:
                log.seek(self._read_to)
                chunk = log.read()
            self._read_to += len(chunk)
            self._lines += chunk.count(b"\n")
        return self._lines

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            self.process.wait(timeout=120)


# Every run: a phone's headers, and one line of figures at the end.
WRK_COMMON = """
wrk.headers["User-Agent"] = "%(agent)s"
wrk.headers["Accept-Language"] = "vi"
local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("id", threads)
end
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'RESULT {"requests": %%d, "duration_us": %%d, "connect": %%d, "read": %%d, "write": %%d, "status": %%d, '
    .. '"timeout": %%d, "p50_us": %%d, "p90_us": %%d, "p99_us": %%d, "max_us": %%d}\\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max))
end
"""
PATHS = """
paths = {}
for line in io.lines("%(paths)s") do paths[#paths + 1] = line end
"""
# Random lot pages.
WRK_RANDOM = """
function init(args)
  math.randomseed(%(seed)d + id * 7919)
end
function request()
  return wrk.format("GET", paths[math.random(#paths)])
end
"""
# Every lot once: thread i asks for paths i, i + threads, ... (the script stops wrk once all are served).
WRK_EVERY = """
function init(args)
  index, step = id, %(threads)d
end
function request()
  local path = paths[(index - 1) %% #paths + 1]
  index = index + step
  return wrk.format("GET", path)
end
"""


def wrk(url: str, args: argparse.Namespace, script: Path, duration: int, until: Server | None = None) -> dict:
    """Run wrk; with ``until``, stop it (SIGINT) as soon as that server has served every lot once."""
    command = ["wrk", "--threads", str(args.threads), "--connections", str(args.connections)]
    command += ["--duration", f"{duration}s", "--timeout", "10s", "--script", str(script), url]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    if until is not None:
        goal = until.served() + until.lots
        while process.poll() is None and until.served() < goal:
            time.sleep(0.2)
        process.send_signal(signal.SIGINT)  # wrk prints its figures when interrupted
    output, _ = process.communicate()
    match = re.search(r"^RESULT (\{.*\})$", output, re.MULTILINE)
    if match is None:
        raise SystemExit(f"wrk printed no result:\n{output}")
    result = json.loads(match.group(1))
    result["rps"] = result["requests"] / (result["duration_us"] / 1e6)
    result["errors"] = sum(result[key] for key in ("connect", "read", "write", "status", "timeout"))
    return result


def served_pages(access_log: Path) -> tuple[int, dict[str, int]]:
    """GET answers of 200 or 304 in the page server's access log, and how many came from the cache."""
    served, by_cache = 0, {"hit": 0, "miss": 0, "off": 0}
    with access_log.open() as lines:
        for line in lines:
            method, status, cache, path = line.split(" ", 3)
            if method == "GET" and status in ("200", "304") and not path.startswith("/healthz"):
                served += 1
                by_cache[cache] = by_cache.get(cache, 0) + 1
    return served, by_cache


# --- the run --------------------------------------------------------------------------------------


def line(name: str, result: dict[str, Any], bare_rps: float | None = None) -> str:
    share = f"{result['rps'] / bare_rps:>7.0%}" if bare_rps else f"{'':>7}"
    return (
        f"  {name:<34}{result['requests']:>9,}{result['rps']:>9,.0f}{share}"
        f"{result['p50_us'] / 1000:>8.1f}{result['p90_us'] / 1000:>8.1f}{result['p99_us'] / 1000:>8.1f}"
        f"{result['max_us'] / 1000:>8.0f}{result['errors']:>7}"
    )


def run(database_url: str, label: str, folder: Path, args: argparse.Namespace) -> bool:
    print(f"\n== {label} ==", flush=True)
    paths = load_registry(database_url, args)
    random.Random(args.seed).shuffle(paths)
    paths = paths[: args.lots]
    (folder / "paths.txt").write_text("\n".join(paths) + "\n")
    item_paths = add_items(database_url, paths, args.items, args.seed) if args.items else []
    (folder / "item-paths.txt").write_text("\n".join(item_paths) + "\n")
    # One item of each lot: its first page draws the lot's shared item page.
    (folder / "first-items.txt").write_text("\n".join(item_paths[:: args.items or 1]) + "\n")
    common = WRK_COMMON % {"agent": PHONE}
    with_paths = common + PATHS % {"paths": folder / "paths.txt"}
    bare_script, random_script, every_script = (
        folder / "bare.lua",
        folder / "random.lua",
        folder / "every.lua",
    )
    bare_script.write_text(common)
    random_script.write_text(with_paths + WRK_RANDOM % {"seed": args.seed})
    every_script.write_text(with_paths + WRK_EVERY % {"threads": args.threads})
    items_script, first_items_script = folder / "items.lua", folder / "first-items.lua"
    items_script.write_text(
        common + PATHS % {"paths": folder / "item-paths.txt"} + WRK_RANDOM % {"seed": args.seed}
    )
    first_items_script.write_text(
        common + PATHS % {"paths": folder / "first-items.txt"} + WRK_EVERY % {"threads": args.threads}
    )

    env = {
        "DATABASE_URL": database_url,
        "SECRET_KEY": "bench-only-" + "x" * 32,
        "TRACEABILITY_ENV": "production",
        "PUBLIC_BASE_URL": "https://truyxuat.example.vn",
        "PAGE_CACHE_URL": str(folder / "page-cache"),
    }
    app_server = Server("wsgi:app", folder, env, args.workers)
    bare_server = Server("bench.public:bare", folder, {}, args.workers)
    results: dict[str, list[dict[str, Any]]] = {"bare": [], "warm": [], "items": []}
    try:
        app_server.wait_ready("/healthz")
        bare_server.wait_ready("/")
        print(
            f"gunicorn: {args.workers} sync workers each; wrk: {args.threads} threads, "
            f"{args.connections} connections",
            flush=True,
        )
        header = f"  {'run':<34}{'requests':>9}{'req/s':>9}{'/bare':>7}{'p50':>8}{'p90':>8}{'p99':>8}{'max':>8}{'errors':>7}"
        print(f"{header}\n  {'':<50}(ms)", flush=True)
        wrk(bare_server.url, args, bare_script, 3)  # warm-up: imports, first connections
        app_server.lots = len(paths)
        cold = wrk(app_server.url, args, every_script, 24 * 3600, until=app_server)
        print(line(f"cold: each of {len(paths):,} lots once", cold), flush=True)
        if item_paths:
            cold_items = wrk(app_server.url, args, first_items_script, 24 * 3600, until=app_server)
            print(line(f"cold: one item of each of {len(paths):,} lots", cold_items), flush=True)
        for _round in range(args.rounds):
            results["bare"].append(wrk(bare_server.url, args, bare_script, args.duration))
            print(line("bare Flask route", results["bare"][-1]), flush=True)
            results["warm"].append(wrk(app_server.url, args, random_script, args.duration))
            print(line("warm: random lots", results["warm"][-1], results["bare"][-1]["rps"]), flush=True)
            if item_paths:
                results["items"].append(wrk(app_server.url, args, items_script, args.duration))
                print(
                    line(
                        f"warm: random items ({len(item_paths):,})",
                        results["items"][-1],
                        results["bare"][-1]["rps"],
                    ),
                    flush=True,
                )
    finally:
        bare_server.stop()
        app_server.stop()  # SIGTERM: the workers write the scans they still hold
    served, by_cache = served_pages(app_server.access_log)
    scans = count_scans(database_url)
    bare_rps = sum(r["requests"] for r in results["bare"]) / sum(
        r["duration_us"] / 1e6 for r in results["bare"]
    )
    warm_rps = sum(r["requests"] for r in results["warm"]) / sum(
        r["duration_us"] / 1e6 for r in results["warm"]
    )
    warm_p99 = max(r["p99_us"] for r in results["warm"]) / 1000
    pages = results["warm"] + results["items"]
    errors = cold["errors"] + sum(r["errors"] for r in pages + results["bare"])
    completed = cold["requests"] + sum(r["requests"] for r in pages)
    print(
        f"warm page / bare route: {warm_rps:,.0f} / {bare_rps:,.0f} req/s = {warm_rps / bare_rps:.0%}; "
        f"cold page / bare route: {cold['rps'] / bare_rps:.0%}"
    )
    items_met = True
    if item_paths:
        items_rps = sum(r["requests"] for r in results["items"]) / sum(
            r["duration_us"] / 1e6 for r in results["items"]
        )
        items_p99 = max(r["p99_us"] for r in results["items"]) / 1000
        errors += cold_items["errors"]
        completed += cold_items["requests"]
        item_scans, tallied = count_item_scans(database_url)
        print(
            f"item page / bare route: {items_rps:,.0f} / {bare_rps:,.0f} req/s = {items_rps / bare_rps:.0%}, "
            f"p99 {items_p99:.1f} ms; item scans stored: {item_scans:,}, counted in the items' tallies: {tallied:,}"
        )
        items_met = (
            items_rps >= TARGET_SHARE * bare_rps and items_p99 < TARGET_P99_MS and item_scans == tallied
        )
    print(
        f"page requests served (gunicorn's access log): {served:,} (page cache: {by_cache['hit']:,} hits, "
        f"{by_cache['miss']:,} misses); completed as wrk counts: {completed:,}; scans stored: {scans:,}"
    )
    met = (
        warm_rps >= TARGET_SHARE * bare_rps
        and warm_p99 < TARGET_P99_MS
        and errors == 0
        and scans == served
        and items_met
    )
    print(
        f"targets (warm lot and item pages ≥ {TARGET_SHARE:.0%} of the bare route's req/s, p99 < {TARGET_P99_MS:.0f} ms, "
        f"no errors, scans stored = requests served): {'met' if met else 'NOT MET'}",
        flush=True,
    )
    return met


def run_postgresql(server_url: str, folder: Path, args: argparse.Namespace) -> bool:
    """Create a fresh database on the server of ``server_url``, run there, drop it."""
    url = make_url(server_url.replace("postgresql://", "postgresql+psycopg://", 1))
    name = f"bench_public_{os.getpid()}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        bench_url = url.set(database=name).render_as_string(hide_password=False)
        with create_engine(bench_url).connect() as connection:
            version = connection.execute(text("SHOW server_version")).scalar_one()
        return run(bench_url, f"PostgreSQL {version}", folder, args)
    finally:
        with admin.connect() as connection:
            connection.execute(
                text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :name"),
                {"name": name},
            )
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if shutil.which("wrk") is None:
        print(
            "bench/public.py needs wrk, the HTTP load generator: apt-get install wrk (Debian's package). "
            "Nothing was measured.",
            file=sys.stderr,
        )
        return 2
    print(
        f"bench/public.py: {args.batches:,} batches, {args.events:,} events; {args.rounds} rounds of "
        f"{args.duration} s; seed {args.seed}; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"
    )
    with tempfile.TemporaryDirectory(prefix="bench-public-") as name:
        folder = Path(name)
        if args.database_url:
            met = run_postgresql(args.database_url, folder, args)
        else:
            import sqlite3

            met = run(
                f"sqlite:///{folder / 'bench.sqlite3'}", f"SQLite {sqlite3.sqlite_version}", folder, args
            )
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
