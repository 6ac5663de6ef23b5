"""Benchmark: the EPCIS 2.0 repository (``/epcis``): capture throughput and query p95, against the naive path.

    .venv/bin/python bench/epcis.py [--database-url URL] [--events N] [--batches B]
                                    [--capture-events C] [--naive-capture-events K] [--samples S] [--pages P]

Loads the synthetic registry of ``bench/trace.py`` (by default 100,000 lots and
1,000,000 events, six-step chains with their transformations and
aggregations, bulk inserts) into a fresh SQLite file, or into a fresh database
created on the PostgreSQL server of ``--database-url`` (or ``DATABASE_URL``;
dropped afterwards), then builds the query index through the app
(``flask epcis reindex``: every lot exported once) and measures, in the same
run:

- capture: documents of 100 ObjectEvents about registered lots through the
  binding's capture job (``run_capture_job``: ``capture_document`` and the
  index kept at commit), in events per second, against the naive path: one ORM
  insert and one commit per event (the lot looked up by its GTIN and lot code);
- queries through the HTTP layer (the Flask test client, a bearer token, the
  JSON answer), as a province's centre staff (a quarter of the events) and as
  the ministry (all of them): events of one type in a week, the events of one
  lot (``MATCH_epcClass``), of one business step, one event by its ID, and each
  page of a query followed by its ``nextPageToken`` to page P; median and p95
  in milliseconds, against the naive path: exporting every lot in the caller's
  scope and filtering in Python (timed on a sample of lots, extrapolated to
  the scope's events).

The database runs with the app's own durability settings (SQLite: WAL and
``SQLITE_SYNCHRONOUS``, FULL by default), so a commit costs what it costs in
production. Figures are printed, never asserted in the test suite. The machine's other
jobs share its cores: compare runs on a quiet machine.
"""

from __future__ import annotations

import argparse
import logging
import os
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url

from bench.trace import load

DOCUMENT_EVENTS = 100
EPCIS_CONTEXT = "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL"))
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--batches", type=int, default=None, help="default: one lot per ten events")
    parser.add_argument(
        "--capture-events", type=int, default=5_000, help="events captured through the service"
    )
    parser.add_argument("--naive-capture-events", type=int, default=500, help="events inserted the naive way")
    parser.add_argument("--samples", type=int, default=40, help="requests timed per query")
    parser.add_argument("--pages", type=int, default=10, help="pages followed by nextPageToken")
    parser.add_argument("--naive-lots", type=int, default=300, help="lots exported to time the naive query")
    parser.add_argument("--seed", type=int, default=20261208)
    args = parser.parse_args(argv)
    args.batches = args.batches or max(60, args.events // 10)
    return args


def make_app(url: str):
    from traceability import create_app
    from traceability.core.config import Config

    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]

    class BenchConfig(Config):
        DATABASE_URL = url
        SECRET_KEY = "bench-only"
        API_RATE_LIMIT = "1000000 per minute"  # the benchmark's one token asks thousands of times
        PAGE_CACHE_URL = "null"

    app = create_app(BenchConfig)
    logging.getLogger("traceability.requests").setLevel(logging.WARNING)  # one line a request: thousands
    return app


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:8.1f}"


# --- the people and the index ---------------------------------------------------------------------


def people() -> dict[str, Any]:
    """A centre's staff (centre 1) and the ministry, with API tokens."""
    from traceability.accounts.service import hash_password, issue_token
    from traceability.core.extensions import db
    from traceability.models.accounts import User

    staff = User(
        email="staff@bench.vn",
        password_hash=hash_password("bench-password-1"),
        role="centre_staff",
        centre_id=1,
    )
    ministry = User(
        email="ministry@bench.vn", password_hash=hash_password("bench-password-1"), role="ministry"
    )
    db.session.add_all([staff, ministry])
    db.session.flush()
    tokens = {"staff": issue_token(staff)[0], "ministry": issue_token(ministry)[0]}
    db.session.commit()
    return {"staff": staff.id, "ministry": ministry.id, "tokens": tokens}


def build_index() -> tuple[int, float]:
    from traceability.batches.epcis_index import indexed_count, reindex_all

    started = time.perf_counter()
    last = [started]

    def progress(done: int, total: int) -> None:
        if time.perf_counter() - last[0] > 30:
            last[0] = time.perf_counter()
            print(f"  … {done:,} of {total:,} lots indexed", flush=True)

    reindex_all(progress=progress)
    return indexed_count(), time.perf_counter() - started


# --- capture ----------------------------------------------------------------------------------------


def capturable_lots(rng: random.Random, count: int) -> list[tuple[int, str, str]]:
    """``count`` lots with a GTIN of centre 1's producers, drawn at random (a lot may come again):
    (batch id, GTIN, lot code)."""
    from traceability.core.extensions import db
    from traceability.models.batches import Batch
    from traceability.models.registry import Producer, Product

    rows = db.session.execute(
        select(Batch.id, Product.gtin, Batch.lot_code)
        .join(Product, Product.id == Batch.product_id)
        .join(Producer, Producer.id == Product.producer_id)
        .where(Producer.centre_id == 1, Product.gtin.is_not(None))
        .order_by(Batch.id)
    ).all()
    return [tuple(rng.choice(rows)) for _ in range(count)]


def _event(gtin: str, lot: str, moment: datetime) -> dict[str, Any]:
    return {
        "type": "ObjectEvent",
        "eventTime": moment.isoformat(timespec="milliseconds"),
        "eventTimeZoneOffset": "+07:00",
        "action": "OBSERVE",
        "bizStep": "storing",
        "epcList": [],
        "quantityList": [{"epcClass": f"https://id.gs1.org/01/{gtin}/10/{lot}", "quantity": 5, "uom": "KGM"}],
    }


def measure_capture(actor_id: int, lots: list[tuple[int, str, str]], events: int) -> tuple[float, int]:
    """Events per second through ``run_capture_job``, 100 events a document, one commit each."""
    from traceability.batches.epcis_jobs import run_capture_job
    from traceability.core.extensions import db
    from traceability.models.accounts import User

    moment = datetime.now(UTC).replace(microsecond=0) - timedelta(days=200)
    captured = 0
    started = time.perf_counter()
    for start in range(0, events, DOCUMENT_EVENTS):
        actor = db.session.get(User, actor_id)
        batch = [
            _event(gtin, lot, moment + timedelta(seconds=start + n))
            for n, (_id, gtin, lot) in enumerate(lots[start : start + DOCUMENT_EVENTS])
        ]
        document = {
            "@context": [EPCIS_CONTEXT],
            "type": "EPCISDocument",
            "schemaVersion": "2.0",
            "creationDate": moment.isoformat(),
            "epcisBody": {"eventList": batch},
        }
        job = run_capture_job(document, actor=actor)
        if not job.success:
            raise AssertionError(f"capture refused: {job.errors[:2]}")
        captured += job.captured
        db.session.commit()
        db.session.remove()
    return captured / (time.perf_counter() - started), captured


def measure_naive_capture(actor_id: int, lots: list[tuple[int, str, str]], events: int) -> float:
    """Events per second the naive way: look the lot up, one ORM insert, one commit, per event."""
    from traceability.core.extensions import db
    from traceability.models.batches import Batch, TraceEvent
    from traceability.models.registry import Product

    moment = datetime.now(UTC).replace(microsecond=0) - timedelta(days=100)
    started = time.perf_counter()
    for n, (_id, gtin, lot) in enumerate(lots[:events]):
        batch = db.session.scalars(
            select(Batch).join(Product).where(Product.gtin == gtin, Batch.lot_code == lot)
        ).one()
        db.session.add(
            TraceEvent(
                batch_id=batch.id,
                type="storing",
                biz_step="storing",
                event_time=moment + timedelta(seconds=n),
                time_zone_offset="+07:00",
                quantity=5,
                unit="KGM",
                actor_id=actor_id,
                note="",
            )
        )
        db.session.commit()
    db.session.remove()
    return min(events, len(lots)) / (time.perf_counter() - started)


# --- queries ----------------------------------------------------------------------------------------


def _timed_get(client: Any, url: str, token: str) -> tuple[float, Any]:
    started = time.perf_counter()
    response = client.get(url, headers={"Authorization": f"Bearer {token}"})
    elapsed = time.perf_counter() - started
    if response.status_code != 200:
        raise AssertionError(f"{url}: {response.status_code} {response.get_data(as_text=True)[:300]}")
    return elapsed, response


def query_cases(user_id: int, rng: random.Random, samples: int) -> dict[str, list[str]]:
    """Random URLs of each kind of query, within what the user may read."""
    from traceability.batches.epcis_query import scoped_events
    from traceability.core.extensions import db
    from traceability.models.accounts import User
    from traceability.models.epcis import EpcisQueryEvent, EpcisQueryValue

    user = db.session.get(User, user_id)
    scoped = scoped_events(user).subquery()
    ids = list(db.session.scalars(select(scoped.c.id).order_by(func.random()).limit(samples)))
    rows = db.session.scalars(select(EpcisQueryEvent).where(EpcisQueryEvent.id.in_(ids))).all()
    classes = db.session.scalars(
        select(EpcisQueryValue.value).where(
            EpcisQueryValue.query_event_id.in_(ids), EpcisQueryValue.field == "epcClass"
        )
    ).all()
    steps = ["shipping", "receiving", "storing", "inspecting", "packing", "commissioning", "retail_selling"]
    weeks = []
    for row in rows:
        start = row.event_time - timedelta(days=rng.randrange(7))
        weeks.append(
            f"/epcis/events?eventType=ObjectEvent&GE_eventTime={quote(start.isoformat())}"
            f"&LT_eventTime={quote((start + timedelta(days=7)).isoformat())}&perPage=100"
        )
    return {
        "ObjectEvents of one week (perPage=100)": weeks,
        "the events of one lot (MATCH_epcClass)": [
            f"/epcis/events?MATCH_epcClass={quote(value, safe='')}" for value in classes
        ],
        "one bizStep (perPage=100)": [
            f"/epcis/events?EQ_bizStep={rng.choice(steps)}&perPage=100" for _ in rows
        ],
        "one event by its eventID": [f"/epcis/events/{quote(row.event_id, safe='')}" for row in rows],
    }


def measure_queries(app: Any, user_id: int, token: str, rng: random.Random, args: argparse.Namespace) -> dict:
    client = app.test_client()
    with app.app_context():
        cases = query_cases(user_id, rng, args.samples)
    figures = {}
    for name, urls in cases.items():
        for url in urls[:3]:  # warm the statement caches
            _timed_get(client, url, token)
        times = [_timed_get(client, url, token)[0] for url in urls]
        figures[name] = times
    pages: list[float] = []
    for _round in range(max(1, args.samples // args.pages)):
        url = "/epcis/events?perPage=100&orderBy=eventTime&orderDirection=ASC"
        for _page in range(args.pages):
            elapsed, response = _timed_get(client, url, token)
            pages.append(elapsed)
            link = response.headers.get("Link")
            if not link:
                break
            target = urlsplit(link[1:].split(">")[0])
            url = f"{target.path}?{target.query}"
    figures[f"each page to page {args.pages} by nextPageToken (perPage=100)"] = pages
    return figures


def naive_seconds(user_id: int, rng: random.Random, lots: int) -> tuple[float, int, float]:
    """The naive query: export every lot in scope and filter in Python; timed on ``lots`` lots and
    extrapolated to the scope's events. (seconds for the whole scope, events in scope, events/s)"""
    from sqlalchemy.orm import selectinload

    from traceability.accounts.scope import scoped_select
    from traceability.batches.epcis import batch_events, project_uris
    from traceability.core.extensions import db
    from traceability.models.accounts import User
    from traceability.models.batches import Batch, TraceEvent

    user = db.session.get(User, user_id)
    scope = scoped_select(Batch, user).subquery()
    ids = list(db.session.scalars(select(scope.c.id)))
    in_scope = db.session.scalar(
        select(func.count(TraceEvent.id)).where(TraceEvent.batch_id.in_(select(scope.c.id)))
    )
    sample = rng.sample(ids, min(lots, len(ids)))
    db.session.remove()
    started = time.perf_counter()
    batches = db.session.scalars(
        select(Batch)
        .where(Batch.id.in_(sample))
        .options(selectinload(Batch.events), selectinload(Batch.product))
    ).all()
    exported = batch_events(list(batches), project_uris())
    wanted = [event for event in exported if event.get("bizStep") == "shipping"]  # the filter, in Python
    elapsed = time.perf_counter() - started
    del wanted
    rate = len(exported) / elapsed
    return (in_scope or 0) / rate, in_scope or 0, rate


# --- one run ----------------------------------------------------------------------------------------


def run(url: str, label: str, args: argparse.Namespace) -> None:
    from traceability.core.extensions import db

    rng = random.Random(args.seed)
    app = make_app(url)
    with app.app_context():
        sqlite = db.engine.dialect.name == "sqlite"
        version = db.session.execute(
            text("SELECT sqlite_version()" if sqlite else "SHOW server_version")
        ).scalar()
        durability = db.session.execute(
            text("PRAGMA synchronous" if sqlite else "SHOW synchronous_commit")
        ).scalar()
        # The app's own durability (SQLite: WAL, synchronous FULL=2 unless SQLITE_SYNCHRONOUS says
        # otherwise): a commit per event costs what it costs in production.
        print(f"\n== {label} {version} (synchronous: {durability}) ==", flush=True)
        db.session.remove()
        db.create_all()
        started = time.perf_counter()
        _layout, counts = load(args.batches, args.events, rng)
        print(
            f"load: {counts['batches']:,} lots, {counts['links']:,} lineage links, {counts['events']:,} events "
            f"in {time.perf_counter() - started:.1f} s (bulk inserts)",
            flush=True,
        )
        who = people()
        indexed, seconds = build_index()
        db.session.remove()  # its transaction holds SQLite's write lock
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("ANALYZE"))
        print(
            f"query index: {indexed:,} EPCIS events (key events, transformations, aggregations) from "
            f"{counts['batches']:,} lots in {seconds:.1f} s ({indexed / seconds:,.0f} events/s, `flask epcis reindex`)",
            flush=True,
        )
        lots = capturable_lots(rng, args.capture_events + args.naive_capture_events)
        service_rate, captured = measure_capture(
            who["staff"], lots[: args.capture_events], args.capture_events
        )
        naive_rate = measure_naive_capture(
            who["staff"], lots[args.capture_events :], args.naive_capture_events
        )
        print("capture (events/s):")
        print(
            f"  capture job, {DOCUMENT_EVENTS} events a document ({captured:,} events)   {service_rate:10,.0f}"
        )
        print(
            f"  naive: one ORM insert and commit per event ({args.naive_capture_events:,})  {naive_rate:10,.0f}"
        )
        print(
            f"  capture job / naive                                        {service_rate / naive_rate:9.1f}×"
        )
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("ANALYZE"))
        db.session.remove()
    for role in ("staff", "ministry"):
        with app.app_context():
            naive, in_scope, export_rate = naive_seconds(who[role], rng, args.naive_lots)
            db.session.remove()
        figures = measure_queries(app, who[role], who["tokens"][role], rng, args)
        scope = "a centre's staff" if role == "staff" else "the ministry"
        print(
            f"queries as {scope} ({in_scope:,} key events in scope), ms; naive = export the scope and filter "
            f"({export_rate:,.0f} events/s exported: {naive:,.1f} s):"
        )
        print(f"  {'query':<58}{'n':>5}{'median':>9}{'p95':>9}{'naive/p95':>12}")
        for name, times in figures.items():
            print(
                f"  {name:<58}{len(times):>5}{_ms(statistics.median(times))}{_ms(_p95(times))}"
                f"{naive / _p95(times):>11,.0f}×",
                flush=True,
            )
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    print(
        f"bench/epcis.py: {args.events:,} events in {args.batches:,} lots, capture {args.capture_events:,} "
        f"(naive {args.naive_capture_events:,}), {args.samples} samples per query, seed {args.seed}"
    )
    url = args.database_url
    if not url or url.startswith("sqlite"):
        with tempfile.TemporaryDirectory(prefix="bench-epcis-") as folder:
            run(f"sqlite:///{Path(folder) / 'bench.sqlite3'}", "SQLite", args)
        return 0
    server = make_url(url.replace("postgresql://", "postgresql+psycopg://", 1))
    name = f"bench_epcis_{os.getpid()}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        run(server.set(database=name).render_as_string(hide_password=False), "PostgreSQL", args)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
