"""Load and faults: gunicorn under load loses a worker to SIGKILL, then gets SIGTERM; nothing acknowledged is lost.

    .venv/bin/python bench/faults.py [--database-url URL [--reset]] [--workers 3] [--clients 12]
                                     [--seconds 30] [--no-kill] [--json PATH] [--keep]

1. Seeds a database through the migrations (``flask db upgrade``) and the services: a centre,
   an approved producer and its user, two products (one with a GTIN),
   ``--batches`` lots and a 10 kg source lot. By default a SQLite file in a
   temporary folder; ``--database-url`` names a scratch database instead
   (PostgreSQL), which must be empty unless ``--reset`` lets the bench empty
   it first (everything in it is deleted).
2. Starts gunicorn (``gunicorn.conf.py`` when the repository has one, whose
   ``worker_exit`` hook writes a worker's queued scans) with ``--workers``
   sync workers on a free port of 127.0.0.1.
3. ``--clients`` threads load it with plain ``http.client`` requests: consumer
   pages (``/t/{code}`` and GS1 Digital Links, with a phone's User-Agent, so
   each 200 is a scan) and API writes with a bearer token (key events, new
   lots taking 3 kg each from the shared source lot, refused with a 422 once
   it runs short, serialised items).
   Every answer is recorded with its times; a write is acknowledged by a 201
   with its ids.
4. At 35 % of ``--seconds`` one worker gets SIGKILL (unless ``--no-kill``); at
   75 % the master gets SIGTERM, and the clients stop once it refuses them.
5. Starts gunicorn again on the same data and checks that requests succeed.
6. Checks: every acknowledged write is stored with its audit entry; scans
   stored against scan pages acknowledged (what the killed worker held in
   memory, at most one write interval of its scans, may be lost: the count is
   reported and bounded); failed requests only those in flight at the kill
   or at the SIGTERM (gunicorn resets the connections still waiting in its
   listen queue when its last worker exits), every request sent after the
   kill answered, and every one after the restart; ``PRAGMA
   integrity_check`` and ``foreign_key_check`` on SQLite, no unvalidated
   constraint on PostgreSQL; no orphan foreign key and the mass balance of
   every batch on both; ``flask --app wsgi audit verify``.

Prints a summary; exit status 0 when every check passes, 1 otherwise.
``--json PATH`` also writes the figures (``tests/test_faults.py`` runs a short
version). Requests go only to 127.0.0.1, and the bench stops by itself: the
load is bounded by ``--seconds``, and every process it started is ended.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, func, inspect, select, text
from sqlalchemy.engine import make_url

BIN = Path(sys.executable).parent
PASSWORD = "Ca-phe-Buon-Ma-Thuot-2026"  # the only users of a throwaway database
EMAIL = "htx-ea-tu@bench.example.vn"
GTIN = "08930000000019"
MOBILE_AGENT = (
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0 Mobile Safari/537.36"
)
VIETNAM = timezone(timedelta(hours=7))
SOURCE_KG = 10
TAKE_KG = 3
KINDS = ("page", "event", "batch", "serials")
WEIGHTS = (70, 18, 6, 6)
SCAN_WRITE_INTERVAL = 0.5  # seconds, the app's default (SCAN_WRITE_INTERVAL)
RESTART_PAGES, RESTART_EVENTS = 20, 10


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", help="a scratch database (default: a SQLite file in a temp folder)")
    parser.add_argument("--reset", action="store_true", help="empty --database-url first if it has tables")
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--clients", type=int, default=12, help="client threads")
    parser.add_argument("--seconds", type=float, default=30.0, help="length of the load")
    parser.add_argument("--batches", type=int, default=20, help="lots whose consumer pages are opened")
    parser.add_argument(
        "--no-kill", action="store_true", help="no SIGKILL: scans stored must equal scans served"
    )
    parser.add_argument("--seed", type=int, default=20261206)
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument("--keep", action="store_true", help="keep the temp folder (database, server log)")
    args = parser.parse_args(argv)
    if args.workers < 2 and not args.no_kill:
        parser.error("--workers must be at least 2, so one keeps serving while another is killed")
    if args.seconds < 4:
        parser.error("--seconds must be at least 4")
    return args


# --- the database ------------------------------------------------------------------------------


def prepare_database(url: str, reset: bool) -> None:
    """Refuse a database that holds tables unless ``reset``; then empty it."""
    engine = create_engine(url)
    try:
        tables = inspect(engine).get_table_names()
        if tables and not reset:
            sys.exit(f"faults.py: {engine.url.database} has {len(tables)} tables; pass --reset to empty it")
        if tables and engine.dialect.name == "postgresql":
            with engine.begin() as connection:
                connection.execute(text("DROP SCHEMA public CASCADE"))
                connection.execute(text("CREATE SCHEMA public"))
        elif tables:
            path = Path(engine.url.database or "")
            engine.dispose()
            for suffix in ("", "-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)
    finally:
        engine.dispose()


@dataclass
class Seed:
    page_paths: list[str]
    batch_ids: list[int]
    product_ids: list[int]
    source_id: int


def seed(batches: int) -> Seed:
    """The schema through the migrations, and the registry the load works on, written through the services."""
    from flask_migrate import upgrade

    from bench.cooperative import daklak_cooperative
    from traceability import create_app
    from traceability.batches.service import create_batch
    from traceability.core.extensions import db
    from traceability.registry.products import create_product

    app = create_app()
    with app.app_context():
        upgrade()  # the schema as `flask db upgrade` makes it, in this process
        producer, user = daklak_cooperative(
            domain="bench.example.vn", producer_email=EMAIL, password=PASSWORD, name="HTX Cà phê Ea Tu"
        )
        products = [
            create_product(
                {
                    "producer_id": producer.id,
                    "name": "Cà phê Robusta rang xay",
                    "category": "Cà phê",
                    "gtin": GTIN,
                },
                actor=user,
            ),
            create_product(
                {"producer_id": producer.id, "name": "Hạt điều rang muối", "category": "Hạt"}, actor=user
            ),
        ]
        made = date.today() - timedelta(days=10)
        lots = []
        for number in range(batches):
            product = products[number % 2]
            data = {
                "product_id": product.id,
                "lot_code": f"LO-{number:04d}",
                "production_date": made,
                "expiry_date": made + timedelta(days=365),
                "quantity": Decimal("500"),
                "unit": "KGM",
            }
            lots.append(create_batch(data, actor=user))
        source = create_batch(
            {**data, "product_id": products[1].id, "lot_code": "NGUON-01", "quantity": Decimal(SOURCE_KG)},
            actor=user,
        )
        db.session.commit()
        paths = [
            f"/01/{GTIN}/10/{lot.lot_code}" if lot.product_id == products[0].id else f"/t/{lot.public_code}"
            for lot in lots
        ]
        result = Seed(paths, [lot.id for lot in lots], [p.id for p in products], source.id)
        db.session.remove()
        db.engine.dispose()
    return result


# --- the server ------------------------------------------------------------------------------------


def progress(message: str) -> None:
    print(f"   {time.strftime('%H:%M:%S')} {message}", flush=True)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Server:
    """One gunicorn master started by the bench, and the workers it forks."""

    def __init__(self, env: dict[str, str], workers: int, port: int, log: Path) -> None:
        self.env, self.workers, self.port, self.log = env, workers, port, log
        self.process: subprocess.Popen[bytes] | None = None
        self.seen_workers: set[int] = set()

    def start(self, timeout: float = 120) -> float:
        command = [str(BIN / "gunicorn")]
        if (ROOT / "gunicorn.conf.py").exists():
            command += ["-c", str(ROOT / "gunicorn.conf.py")]
        command += [
            f"--workers={self.workers}",
            f"--bind=127.0.0.1:{self.port}",
            "--timeout=60",
            "--graceful-timeout=30",
            "--no-control-socket",  # its default path is one per user: two servers would share it
            "wsgi:app",
        ]
        began = time.monotonic()
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                command, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT
            )
        self.wait_ready(timeout)
        return time.monotonic() - began

    def worker_pids(self) -> list[int]:
        assert self.process is not None
        pid = self.process.pid
        try:
            children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        except OSError:
            return []
        pids = [int(child) for child in children]
        self.seen_workers.update(pids)
        return pids

    def wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited with {self.process.returncode}; see {self.log}")
            status, _body, _error = request(self.port, "GET", "/healthz", timeout=5)
            if status == 200 and len(self.worker_pids()) >= self.workers:
                return
            time.sleep(0.2)
        raise RuntimeError(f"gunicorn not ready after {timeout:.0f} s; see {self.log}")

    def kill_one_worker(self, rng: random.Random) -> int:
        victim = rng.choice(self.worker_pids())
        os.kill(victim, signal.SIGKILL)
        return victim

    def wait_workers(self, count: int, timeout: float, *, dead: int) -> float | None:
        """When the master has ``count`` live workers again besides ``dead`` (monotonic time), or None."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if len([pid for pid in self.worker_pids() if pid != dead and _alive(pid)]) >= count:
                return time.monotonic()
            time.sleep(0.02)
        return None

    def terminate(self, timeout: float = 60) -> float:
        """SIGTERM to the master; how long it took to exit."""
        assert self.process is not None
        began = time.monotonic()
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(timeout=timeout)
        return time.monotonic() - began

    def ensure_stopped(self) -> None:
        """End what this bench started and is still running: the master, then its workers, by pid."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)
        for pid in self.seen_workers:
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


# --- the load --------------------------------------------------------------------------------------


def request(
    port: int,
    method: str,
    path: str,
    *,
    body: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
    timeout: float = 30,
) -> tuple[int | None, bytes, str | None]:
    """One request on a new connection: (status, body, None), or (None, b"", the error's name)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        payload = json.dumps(body).encode() if body is not None else None
        all_headers = {"Content-Type": "application/json"} if payload else {}
        connection.request(method, path, body=payload, headers={**all_headers, **(headers or {})})
        response = connection.getresponse()
        return response.status, response.read(), None
    except (OSError, http.client.HTTPException) as error:
        return None, b"", type(error).__name__
    finally:
        connection.close()


@dataclass
class Call:
    """One request of the load: what, when (monotonic seconds), the answer and the ids it acknowledged."""

    kind: str
    started: float
    ended: float
    status: int | None
    error: str | None
    tag: str = ""  # the event's note or the lot code, to find a write that was not acknowledged
    ids: list[Any] = field(default_factory=list)
    phase: str = "load"

    @property
    def acknowledged(self) -> bool:
        return self.status in (200, 201)

    @property
    def refused(self) -> bool:  # a clear 4xx: the mass balance said no, say
        return self.status is not None and 400 <= self.status < 500

    @property
    def failed(self) -> bool:
        return not self.acknowledged and not self.refused


class Load:
    """The clients: consumer pages and API writes until told to stop or refused by a closed server."""

    def __init__(self, port: int, seed_data: Seed, token: str, rng_seed: int) -> None:
        self.port, self.seed, self.token, self.rng_seed = port, seed_data, token, rng_seed
        self.calls: list[Call] = []
        self.stop = threading.Event()
        self.terminated = threading.Event()  # SIGTERM sent: a refused connection ends a client

    def call(self, kind: str, client: int, number: int, rng: random.Random, phase: str = "load") -> Call:
        api = {"Authorization": f"Bearer {self.token}", "Accept-Language": "en"}
        tag, path, body, headers, method = "", "", None, api, "POST"
        if kind == "page":
            method, path = "GET", rng.choice(self.seed.page_paths)
            headers = {"User-Agent": MOBILE_AGENT, "Accept-Language": "vi"}
        elif kind == "event":
            tag = f"bench {client}-{number}"
            moment = datetime.now(VIETNAM).replace(microsecond=0) - timedelta(minutes=1)
            path = f"/api/v1/batches/{rng.choice(self.seed.batch_ids)}/events"
            body = {"type": "inspecting", "time": moment.isoformat(), "note": tag}
        elif kind == "batch":
            tag = f"F{client:02d}-{number:06d}"
            path = "/api/v1/batches"
            body = {
                "product_id": self.seed.product_ids[1],
                "lot_code": tag,
                "production_date": date.today().isoformat(),
                "quantity": str(TAKE_KG),
                "unit": "KGM",
                "inputs": [{"batch_id": self.seed.source_id, "quantity": str(TAKE_KG)}],
            }
        else:
            path = f"/api/v1/batches/{rng.choice(self.seed.batch_ids)}/serials"
            body = {"count": 5}
        started = time.monotonic()
        status, answer, error = request(self.port, method, path, body=body, headers=headers)
        call = Call(kind, started, time.monotonic(), status, error, tag, phase=phase)
        if status == 201:
            document = json.loads(answer)
            call.ids = (
                [item["serial"] for item in document["items"]] if kind == "serials" else [document["id"]]
            )
        return call

    def client(self, index: int) -> None:
        rng = random.Random(self.rng_seed * 1000 + index)
        number = 0
        while not self.stop.is_set():
            call = self.call(rng.choices(KINDS, WEIGHTS)[0], index, number, rng)
            self.calls.append(call)
            number += 1
            if call.error == "ConnectionRefusedError":
                if self.terminated.is_set():
                    return
                time.sleep(0.05)


def api_token(port: int) -> str:
    status, body, error = request(port, "POST", "/api/v1/tokens", body={"email": EMAIL, "password": PASSWORD})
    if status != 201:
        raise RuntimeError(f"no API token: {status} {error} {body[:200]!r}")
    return json.loads(body)["token"]


# --- the checks ------------------------------------------------------------------------------------


def _chunks(values: list[Any], size: int = 500) -> list[list[Any]]:
    return [values[start : start + size] for start in range(0, len(values), size)]


def stored_writes(url: str, calls: list[Call]) -> dict[str, Any]:
    """Acknowledged writes missing from the database, and unacknowledged ones that were stored."""
    from traceability.models.audit import AuditEntry
    from traceability.models.batches import Batch, Item, TraceEvent

    engine = create_engine(url)
    figures: dict[str, Any] = {}
    with engine.connect() as connection:
        for kind, column in (("event", TraceEvent.id), ("batch", Batch.id), ("serials", Item.serial)):
            acked = [value for call in calls if call.kind == kind and call.acknowledged for value in call.ids]
            found: set[Any] = set()
            for chunk in _chunks(acked):
                found.update(connection.scalars(select(column).where(column.in_(chunk))))
            figures[f"{kind}_acknowledged"] = len(acked)
            figures[f"{kind}_missing"] = len(set(acked) - found)
        for kind, object_type in (("event", "TraceEvent"), ("batch", "Batch")):
            acked = [
                str(value) for call in calls if call.kind == kind and call.acknowledged for value in call.ids
            ]
            audited: set[str] = set()
            for chunk in _chunks(acked):
                audited.update(
                    connection.scalars(
                        select(AuditEntry.object_id).where(
                            AuditEntry.object_type == object_type,
                            AuditEntry.action == "create",
                            AuditEntry.object_id.in_(chunk),
                        )
                    )
                )
            figures[f"{kind}_without_audit_entry"] = len(set(acked) - audited)
        # Writes that failed on the wire (in flight at the kill or the SIGTERM) but were committed.
        unacked_notes = [c.tag for c in calls if c.kind == "event" and c.failed]
        unacked_lots = [c.tag for c in calls if c.kind == "batch" and c.failed]
        figures["unacknowledged_stored"] = sum(
            connection.scalar(select(func.count()).select_from(model).where(column.in_(chunk))) or 0
            for model, column, tags in (
                (TraceEvent, TraceEvent.note, unacked_notes),
                (Batch, Batch.lot_code, unacked_lots),
            )
            for chunk in _chunks(tags)
        )
        figures["unacknowledged_writes"] = len(unacked_notes) + len(unacked_lots)
        # A refusal (a 4xx, such as the mass balance's 422) changes nothing.
        refused_lots = [c.tag for c in calls if c.kind == "batch" and c.refused]
        figures["refused_lots"] = len(refused_lots)
        figures["refused_but_stored"] = sum(
            connection.scalar(select(func.count()).select_from(Batch).where(Batch.lot_code.in_(chunk))) or 0
            for chunk in _chunks(refused_lots)
        )
    engine.dispose()
    return figures


def integrity(url: str) -> dict[str, Any]:
    """The database's own checks, orphan foreign keys and the mass balance of every batch."""
    from traceability.core.extensions import db
    from traceability.models.batches import Batch, BatchInput

    engine = create_engine(url)
    figures: dict[str, Any] = {"orphans": {}}
    with engine.connect() as connection:
        if engine.dialect.name == "sqlite":
            figures["integrity_check"] = connection.exec_driver_sql("PRAGMA integrity_check").scalar()
            figures["foreign_key_check"] = len(connection.exec_driver_sql("PRAGMA foreign_key_check").all())
        else:
            figures["unvalidated_constraints"] = connection.scalar(
                text("SELECT count(*) FROM pg_constraint WHERE NOT convalidated")
            )
        for table in db.metadata.sorted_tables:
            for key in table.foreign_keys:
                child = key.parent
                referred = key.column.table.alias("referred")  # an alias: some keys point at their own table
                parent = referred.c[key.column.name]
                orphans = connection.scalar(
                    select(func.count())
                    .select_from(table.outerjoin(referred, child == parent))
                    .where(child.is_not(None), parent.is_(None))
                )
                if orphans:
                    figures["orphans"][f"{table.name}.{child.name}"] = orphans
        consumed = (
            select(BatchInput.input_batch_id, func.sum(BatchInput.quantity).label("taken"))
            .group_by(BatchInput.input_batch_id)
            .subquery()
        )
        figures["over_consumed_batches"] = connection.scalar(
            select(func.count())
            .select_from(Batch)
            .join(consumed, consumed.c.input_batch_id == Batch.id)
            .where(consumed.c.taken > Batch.quantity)
        )
        figures["batches"] = connection.scalar(select(func.count()).select_from(Batch))
    engine.dispose()
    return figures


def audit_verify(env: dict[str, str]) -> tuple[int, str]:
    result = subprocess.run(
        [str(BIN / "flask"), "--app", "wsgi", "audit", "verify"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    return result.returncode, (result.stdout + result.stderr).strip().splitlines()[0] if (
        result.stdout + result.stderr
    ).strip() else ""


def scan_count(url: str) -> int:
    from traceability.models.public import Scan

    engine = create_engine(url)
    with engine.connect() as connection:
        count = connection.scalar(select(func.count()).select_from(Scan)) or 0
    engine.dispose()
    return count


# --- the run ---------------------------------------------------------------------------------------


def classify(calls: list[Call], kill_at: float | None, term_at: float) -> Counter[str]:
    """Where each failed request sits on the timeline; 'unexpected' is any other failure.

    A request still waiting at the SIGTERM counts there even if it was sent
    before the SIGKILL: on a busy machine a request can wait seconds in the
    listen queue, which the killed worker does not take with it.
    """
    places: Counter[str] = Counter()
    for call in calls:
        if not call.failed:
            continue
        if call.phase != "load":
            places["after the restart"] += 1
        elif call.started <= term_at <= call.ended:
            places["in flight at the SIGTERM"] += 1
        elif call.started > term_at:
            places["sent after the SIGTERM"] += 1
        elif kill_at is not None and call.started <= kill_at <= call.ended:
            places["in flight at the SIGKILL"] += 1
        elif kill_at is not None and call.started > kill_at:
            places["sent after the SIGKILL"] += 1
        else:
            places["unexpected"] += 1
    return places


def run(args: argparse.Namespace) -> dict[str, Any]:
    workdir = Path(tempfile.mkdtemp(prefix="bench-faults-"))
    url = args.database_url or f"sqlite:///{workdir / 'faults.sqlite3'}"
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "SECRET_KEY": secrets.token_urlsafe(48),
        "PAGE_CACHE_URL": str(workdir / "page-cache"),
        "UPLOAD_FOLDER": str(workdir / "uploads"),
        "SCAN_WRITE_INTERVAL": str(SCAN_WRITE_INTERVAL),
        "PYTHONUNBUFFERED": "1",
    }
    os.environ.update(
        {key: env[key] for key in ("DATABASE_URL", "SECRET_KEY", "PAGE_CACHE_URL", "UPLOAD_FOLDER")}
    )
    report: dict[str, Any] = {
        "database": make_url(url).get_backend_name(),
        "workers": args.workers,
        "clients": args.clients,
        "seconds": args.seconds,
        "kill": not args.no_kill,
        "log": str(workdir / "gunicorn.log"),
    }
    servers: list[Server] = []
    try:
        prepare_database(url, args.reset)
        began = time.monotonic()
        seed_data = seed(args.batches)
        progress(f"seeded {url}")
        report["seed_seconds"] = round(time.monotonic() - began, 1)
        port = free_port()
        server = Server(env, args.workers, port, workdir / "gunicorn.log")
        servers.append(server)
        report["start_seconds"] = round(server.start(), 1)
        progress(f"gunicorn up on port {port}: load for {args.seconds:.0f} s")
        load = Load(port, seed_data, api_token(port), args.seed)
        rng = random.Random(args.seed)

        threads = [threading.Thread(target=load.client, args=(i,), daemon=True) for i in range(args.clients)]
        t0 = time.monotonic()
        for thread in threads:
            thread.start()
        kill_at = respawned_at = None
        if not args.no_kill:
            time.sleep(max(0.0, t0 + 0.35 * args.seconds - time.monotonic()))
            kill_at = time.monotonic()
            report["killed_worker"] = server.kill_one_worker(rng)
            progress(f"SIGKILL worker {report['killed_worker']}")
            respawned_at = server.wait_workers(args.workers, 0.4 * args.seconds, dead=report["killed_worker"])
            report["respawn_seconds"] = round(respawned_at - kill_at, 2) if respawned_at else None
        time.sleep(max(0.0, t0 + 0.75 * args.seconds - time.monotonic()))
        term_at = time.monotonic()
        load.terminated.set()
        progress("SIGTERM the master")
        report["sigterm_exit_seconds"] = round(server.terminate(), 2)
        report["sigterm_exit_status"] = server.process.returncode if server.process else None
        load.stop.set()
        for thread in threads:
            thread.join(timeout=60)
        calls = list(load.calls)

        # Recovery: the same data served again; every request must succeed.
        progress("restarting gunicorn")
        server = Server(env, args.workers, free_port(), workdir / "gunicorn.log")
        servers.append(server)
        server.start()
        load.port, load.token = server.port, api_token(server.port)
        for number in range(RESTART_PAGES + RESTART_EVENTS):
            kind = "page" if number < RESTART_PAGES else "event"
            calls.append(load.call(kind, 99, number, rng, phase="restart"))
        server.terminate()

        report["requests"] = len(calls)
        report["by_kind"] = dict(Counter(call.kind for call in calls))
        report["acknowledged"] = sum(call.acknowledged for call in calls)
        report["refused_4xx"] = dict(Counter(f"{c.kind} {c.status}" for c in calls if c.refused))
        report["failed"] = dict(classify(calls, kill_at, term_at))
        report["failure_causes"] = dict(Counter(f"{c.kind} {c.error or c.status}" for c in calls if c.failed))
        report["failures_detail"] = [
            {
                "kind": c.kind,
                "error": c.error or c.status,
                "started": round(c.started - t0, 3),
                "ended": round(c.ended - t0, 3),
                "phase": c.phase,
            }
            for c in calls
            if c.failed
        ]
        report["timeline"] = {
            "kill": round(kill_at - t0, 3) if kill_at else None,
            "respawned": round(respawned_at - t0, 3) if respawned_at else None,
            "sigterm": round(term_at - t0, 3),
        }
        # The other workers serve while the master replaces the killed one.
        after_kill = [
            c for c in calls if c.phase == "load" and kill_at and kill_at < c.started and c.ended < term_at
        ]
        report["requests_after_kill"] = len(after_kill)
        report["requests_after_restart"] = sum(c.phase == "restart" for c in calls)
        load_calls = [c for c in calls if c.phase == "load"]
        elapsed = max(c.ended for c in load_calls) - min(c.started for c in load_calls)
        report["throughput_rps"] = round(len(load_calls) / elapsed, 1)
        page_times = sorted(c.ended - c.started for c in load_calls if c.kind == "page" and c.acknowledged)
        report["page_p50_ms"] = round(1000 * page_times[len(page_times) // 2], 1) if page_times else None
        report["page_p95_ms"] = (
            round(1000 * page_times[int(len(page_times) * 0.95)], 1) if page_times else None
        )

        served = sum(c.kind == "page" and c.acknowledged for c in calls)
        stored = scan_count(url)
        window = (kill_at - SCAN_WRITE_INTERVAL - 0.5, kill_at) if kill_at is not None else None
        report["scans"] = {
            "served": served,
            "stored": stored,
            "missing": max(0, served - stored),
            "extra": max(0, stored - served),
            # What the killed worker could have held: every page served in its last write interval.
            "loss_bound": sum(
                1
                for c in calls
                if c.kind == "page" and c.acknowledged and window and window[0] <= c.ended <= window[1]
            ),
        }
        progress("checking the database")
        report["writes"] = stored_writes(url, calls)
        report["integrity"] = integrity(url)
        status, line = audit_verify(env)
        report["audit_verify"] = {"status": status, "output": line}
    finally:
        for server in servers:
            server.ensure_stopped()
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
    report["checks"] = checks(report)
    return report


def checks(report: dict[str, Any]) -> dict[str, bool]:
    writes, scans, place, sound = report["writes"], report["scans"], report["failed"], report["integrity"]
    return {
        "every acknowledged write is stored": all(
            writes[f"{k}_missing"] == 0 for k in ("event", "batch", "serials")
        ),
        "a refused write changed nothing": writes["refused_but_stored"] == 0,
        "every acknowledged write has its audit entry": writes["event_without_audit_entry"] == 0
        and writes["batch_without_audit_entry"] == 0,
        "scans lost only from the killed worker's memory": scans["missing"] <= scans["loss_bound"],
        "failures only in flight at the kill or the SIGTERM": place.get("unexpected", 0) == 0,
        "at most one request lost with the killed sync worker": place.get("in flight at the SIGKILL", 0) <= 1,
        "requests after the kill succeed": place.get("sent after the SIGKILL", 0) == 0
        and (report["requests_after_kill"] > 0 or not report["kill"]),
        "requests after the restart succeed": place.get("after the restart", 0) == 0,
        "gunicorn exits 0 on SIGTERM": report["sigterm_exit_status"] == 0,
        "database integrity": sound.get("integrity_check", "ok") == "ok"
        and not sound.get("foreign_key_check")
        and not sound.get("unvalidated_constraints")
        and not sound["orphans"],
        "mass balance of every batch": sound["over_consumed_batches"] == 0,
        "audit chain verifies": report["audit_verify"]["status"] == 0,
    }


def print_summary(report: dict[str, Any]) -> None:
    scans, writes, sound = report["scans"], report["writes"], report["integrity"]
    print(
        f"\n== faults: {report['database']}, {report['workers']} workers, {report['clients']} clients, "
        f"{report['seconds']:.0f} s of load{'' if report['kill'] else ', no SIGKILL'}"
    )
    print(
        f"   seeded in {report['seed_seconds']} s, gunicorn up in {report['start_seconds']} s; log {report['log']}"
    )
    print(
        f"   {report['requests']} requests ({report['throughput_rps']}/s): "
        + ", ".join(f"{kind} {count}" for kind, count in sorted(report["by_kind"].items()))
    )
    print(f"   consumer page p50 {report['page_p50_ms']} ms, p95 {report['page_p95_ms']} ms")
    print(f"   acknowledged {report['acknowledged']}; refused with a 4xx: {report['refused_4xx'] or 'none'}")
    if report["kill"]:
        print(
            f"   SIGKILL worker {report.get('killed_worker')}: the master forked its replacement in "
            f"{report.get('respawn_seconds')} s; {report['requests_after_kill']} requests sent after the kill "
            "were answered before the SIGTERM"
        )
    print(
        f"   SIGTERM: the master exited with {report['sigterm_exit_status']} in {report['sigterm_exit_seconds']} s"
    )
    print(f"   failed requests: {report['failed'] or 'none'}; causes: {report['failure_causes'] or 'none'}")
    print(f"   after the restart: {report['requests_after_restart']} requests")
    print(
        f"   writes acknowledged: events {writes['event_acknowledged']}, lots {writes['batch_acknowledged']}, "
        f"serials {writes['serials_acknowledged']}; missing: events {writes['event_missing']}, "
        f"lots {writes['batch_missing']}, serials {writes['serials_missing']}; "
        f"failed on the wire but stored: {writes['unacknowledged_stored']} of {writes['unacknowledged_writes']}; "
        f"refused lots stored: {writes['refused_but_stored']} of {writes['refused_lots']}"
    )
    print(
        f"   scans: {scans['served']} pages served, {scans['stored']} stored, {scans['missing']} missing "
        f"(bound from the killed worker: {scans['loss_bound']}), {scans['extra']} extra"
    )
    print(
        f"   integrity: {sound.get('integrity_check', '')} fk {sound.get('foreign_key_check', '-')} "
        f"unvalidated {sound.get('unvalidated_constraints', '-')} orphans {sound['orphans'] or 'none'}; "
        f"over-consumed batches {sound['over_consumed_batches']} of {sound['batches']}"
    )
    print(
        f"   audit verify: exit {report['audit_verify']['status']}: {report['audit_verify']['output'][:100]}"
    )
    for name, passed in report["checks"].items():
        print(f"   [{'ok' if passed else 'FAILED'}] {name}")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    report = run(args)
    print_summary(report)
    if args.json:
        args.json.write_text(json.dumps(report, indent=2, default=str))
    return 0 if all(report["checks"].values()) else 1


if __name__ == "__main__":
    sys.exit(main())
