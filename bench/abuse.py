"""Abuse: what one account or one anonymous client can cost the service, and what everyone else notices.

    .venv/bin/python bench/abuse.py [--database-url URL [--reset]] [--workers 2] [--steps 23]
                                    [--seconds 10] [--labels 100000] [--json PATH]

1. Seeds a database through the migrations and the services (``bench/faults.py``'s
   helpers): the Đắk Lắk centre, an approved cooperative and its user, a
   product with a GTIN and a "ladder" of ``--steps`` steps of two lots, each
   lot made from both lots of the step below (2 × steps lots: 46 by
   default, the issue's finding), and a retail lot for the page cache.
2. Starts gunicorn with ``--workers`` sync workers (``gunicorn.conf.py``) on
   a free port of 127.0.0.1, with a page cache folder of its own.
3. A prober asks ``/healthz`` every 50 ms from its own connection
   throughout, as another client would; its latencies are kept per phase.
4. The phases, one after another:
   - ``quiet``: nothing but the prober, the baseline;
   - ``ladder``: two clients signed in as the producer open the chain page of
     the ladder's top lot again and again for ``--seconds`` (the finding: at
     step 14 it took 4 s and 12.6 MB of HTML);
   - ``cache``: one anonymous client asks the retail lot's page under 273
     spellings (percent-encoded letters of the lot code, the ``/t/`` code in
     mixed case): how many distinct entries the page cache gained, and what
     the answers were (a 301 to the canonical URL is right);
   - ``labels``: the producer queues a label job of ``--labels`` labels
     through the API and waits for the job worker (``flask --app wsgi worker``,
     started beside gunicorn) to print it; the peak resident memory of the
     gunicorn workers and of the job worker is read from ``/proc`` (VmHWM)
     before and after.
5. Prints each phase's cost and the prober's p50/p99/max against the quiet
   baseline (a ratio), and checks that ``/healthz`` stayed under 100 ms at the
   99th percentile in every phase. Exit status 0 when it did.
"""

from __future__ import annotations

import argparse
import http.client
import http.cookiejar
import json
import os
import re
import secrets
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.faults import Server, free_port, prepare_database, progress, request

PASSWORD = "Ca-phe-Buon-Ma-Thuot-2026"  # the only user of a throwaway database
EMAIL = "htx-ea-tu@abuse.example.vn"
GTIN = "08930000000019"
RETAIL_LOT = "BOT2603A"
MOBILE_AGENT = (
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0 Mobile Safari/537.36"
)
HEALTHZ_TARGET_MS = 100.0


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database-url", help="a scratch PostgreSQL database (default: a SQLite file)")
    parser.add_argument("--reset", action="store_true", help="empty --database-url first")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument(
        "--steps", type=int, default=23, help="ladder steps of two lots (default 23: 46 lots)"
    )
    parser.add_argument("--seconds", type=float, default=10, help="length of the ladder phase")
    parser.add_argument("--labels", type=int, default=100_000, help="labels in the label job")
    parser.add_argument("--json", help="also write the figures to this file")
    return parser.parse_args(argv)


# --- the data ---------------------------------------------------------------------------------------


@dataclass
class Seed:
    top_lot_id: int
    retail_lot_id: int
    retail_code: str
    lots: int


def seed(steps: int) -> Seed:
    """The schema through the migrations; the ladder and the retail lot through the services."""
    from flask_migrate import upgrade

    from bench.cooperative import daklak_cooperative
    from traceability import create_app
    from traceability.batches.lineage import add_inputs
    from traceability.batches.service import create_batch
    from traceability.core.extensions import db
    from traceability.registry.products import create_product

    app = create_app()
    with app.app_context():
        upgrade()
        producer, user = daklak_cooperative(
            domain="abuse.example.vn", producer_email=EMAIL, password=PASSWORD, name="HTX Cà phê Ea Tu"
        )
        product = create_product(
            {"producer_id": producer.id, "name": "Cà phê Robusta", "category": "Cà phê", "gtin": GTIN},
            actor=user,
        )
        made = date.today() - timedelta(days=30)

        def lot(code: str, quantity: int) -> Any:
            data = {
                "product_id": product.id,
                "lot_code": code,
                "production_date": made,
                "expiry_date": made + timedelta(days=365),
                "quantity": Decimal(quantity),
                "unit": "KGM",
            }
            return create_batch(data, actor=user)

        # Each lot gives 1 kg to each of the two lots above it: 2 kg used of its 2 ** 30 kg.
        below = [lot("L00A", 2**30), lot("L00B", 2**30)]
        for step in range(1, steps):
            above = [lot(f"L{step:02d}{side}", 2**30) for side in "AB"]
            for output in above:
                add_inputs(
                    output,
                    [{"batch_id": b.id, "quantity": Decimal(1)} for b in below],
                    kind="transformation",
                    actor=user,
                )
            below = above
        retail = lot(RETAIL_LOT, 100)
        db.session.commit()
        result = Seed(below[0].id, retail.id, retail.public_code, 2 * steps)
        db.session.remove()
        db.engine.dispose()
    return result


# --- clients ---------------------------------------------------------------------------------------


class Prober:
    """``/healthz`` every 50 ms on a fresh connection; each latency kept with the phase it fell in."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.phase = "quiet"
        self.samples: dict[str, list[float]] = {}
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.run, name="prober", daemon=True)

    def run(self) -> None:
        while not self.stop.is_set():
            began = time.monotonic()
            status, _body, _error = request(self.port, "GET", "/healthz", timeout=60)
            elapsed = (time.monotonic() - began) * 1000
            self.samples.setdefault(self.phase, []).append(elapsed if status == 200 else float("inf"))
            self.stop.wait(max(0.0, 0.05 - elapsed / 1000))


def signed_in_opener(port: int) -> urllib.request.OpenerDirector:
    """A cookie-keeping client signed in as the producer through the sign-in form."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    base = f"http://127.0.0.1:{port}"
    form = opener.open(f"{base}/login", timeout=30).read().decode()
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', form).group(1)
    body = urllib.parse.urlencode({"csrf_token": token, "email": EMAIL, "password": PASSWORD}).encode()
    opener.open(f"{base}/login", data=body, timeout=30).read()
    return opener


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else float("nan")


@dataclass
class Report:
    phases: dict[str, dict[str, Any]] = field(default_factory=dict)
    healthz: dict[str, dict[str, float]] = field(default_factory=dict)


def ladder_phase(port: int, top_lot_id: int, seconds: float) -> dict[str, Any]:
    """Two signed-in clients open the ladder's chain page until ``seconds`` have passed."""
    times: list[float] = []
    sizes: list[int] = []
    statuses: list[int] = []
    deadline = time.monotonic() + seconds

    def client() -> None:
        opener = signed_in_opener(port)
        while time.monotonic() < deadline:
            began = time.monotonic()
            try:
                with opener.open(
                    f"http://127.0.0.1:{port}/manage/batches/{top_lot_id}/chain", timeout=120
                ) as page:
                    body = page.read()
                    statuses.append(page.status)
            except OSError as error:
                statuses.append(getattr(error, "code", 0) or 0)
                body = b""
            times.append(time.monotonic() - began)
            sizes.append(len(body))

    threads = [threading.Thread(target=client) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return {
        "requests": len(times),
        "statuses": sorted(set(statuses)),
        "median_s": statistics.median(times) if times else None,
        "max_s": max(times) if times else None,
        "html_bytes": max(sizes) if sizes else 0,
    }


def spellings(code: str, count: int) -> list[str]:
    """``count`` spellings of the lot code: each letter percent-encoded or not (upper-case hex)."""
    variants = []
    for mask in range(1, 2 ** len(code)):
        spelled = "".join(f"%{ord(c):02X}" if mask >> i & 1 else c for i, c in enumerate(code))
        variants.append(spelled)
        if len(variants) == count:
            break
    return variants


def cache_entries(folder: Path) -> int:
    return sum(1 for path in folder.rglob("*") if path.is_file())


def cache_phase(port: int, retail_code: str, cache_folder: Path) -> dict[str, Any]:
    """273 spellings of one lot's URL from one anonymous phone: what the page cache kept of them."""
    canonical = f"/01/{GTIN}/10/{RETAIL_LOT}"
    request(port, "GET", canonical, headers={"User-Agent": MOBILE_AGENT})  # the one entry that should exist
    before = cache_entries(cache_folder)
    paths = [f"/01/{GTIN}/10/{spelled}" for spelled in spellings(RETAIL_LOT, 200)]
    paths += [
        f"/t/{''.join(c.lower() if (i >> n) & 1 else c for n, c in enumerate(retail_code))}"
        for i in range(1, 74)
    ]
    statuses: dict[int, int] = {}
    began = time.monotonic()
    for path in paths:
        status, _body, _error = request(port, "GET", path, headers={"User-Agent": MOBILE_AGENT})
        statuses[status or 0] = statuses.get(status or 0, 0) + 1
    return {
        "requests": len(paths),
        "seconds": time.monotonic() - began,
        "statuses": statuses,
        "new_cache_entries": cache_entries(cache_folder) - before,
    }


def worker_peak_kb(server: Server, *others: int) -> dict[int, int]:
    """Each live gunicorn worker's (and each of ``others``') peak resident memory (VmHWM), in KiB."""
    peaks = {}
    for pid in (*server.worker_pids(), *others):
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            continue
        match = re.search(r"VmHWM:\s+(\d+) kB", status)
        if match:
            peaks[pid] = int(match.group(1))
    return peaks


def labels_phase(port: int, server: Server, job_worker: int, lot_id: int, labels: int) -> dict[str, Any]:
    """The producer queues one label job of ``labels`` labels and waits for the job worker to print it."""
    _status, body, _error = request(
        port, "POST", "/api/v1/tokens", body={"email": EMAIL, "password": PASSWORD}
    )
    token = json.loads(body)["token"]
    auth = {"Authorization": f"Bearer {token}", "Accept-Language": "en"}
    # Copies of the lot's code stop at 10,000 a sheet: more labels are serialised items, one label each,
    # made 10,000 a request as a producer would.
    made = time.monotonic()
    serials = labels if labels > 10_000 else 0
    for start in range(0, serials, 10_000):
        status, body, _error = request(
            port,
            "POST",
            f"/api/v1/batches/{lot_id}/serials",
            body={"count": min(10_000, serials - start)},
            headers=auth,
            timeout=300,
        )
        if status != 201:
            return {"serials": status, "answer": body[:300].decode(errors="replace")}
    serial_seconds = time.monotonic() - made
    before = worker_peak_kb(server)
    job_worker_before = worker_peak_kb(server, job_worker).get(job_worker, 0)
    began = time.monotonic()
    query = {"template": "a4-5x13"} if serials else {"template": "a4-5x13", "copies": labels}
    status, body, _error = request(
        port, "POST", f"/api/v1/batches/{lot_id}/label-jobs", body=query, headers=auth
    )
    if status != 202:
        return {"queued": status, "answer": body[:300].decode(errors="replace")}
    job = json.loads(body)
    state = job
    while state.get("status") not in ("done", "failed") and time.monotonic() - began < 900:
        time.sleep(1)
        _status, answer, _error = request(port, "GET", f"/api/v1/label-jobs/{job['id']}", headers=auth)
        state = json.loads(answer)
    after = worker_peak_kb(server)
    job_worker_after = worker_peak_kb(server, job_worker).get(job_worker, 0)
    return {
        "labels": labels,
        "serials_made_s": round(serial_seconds, 1),
        "status": state.get("status"),
        "seconds": time.monotonic() - began,
        "worker_peak_mib_before": round(max(before.values(), default=0) / 1024, 1),
        "worker_peak_mib_after": round(max(after.values(), default=0) / 1024, 1),
        "job_worker_peak_mib_before": round(job_worker_before / 1024, 1),
        "job_worker_peak_mib_after": round(job_worker_after / 1024, 1),
    }


def run(args: argparse.Namespace) -> Report:
    work = Path(tempfile.mkdtemp(prefix="abuse-"))
    url = args.database_url or f"sqlite:///{work / 'abuse.sqlite3'}"
    if args.database_url:
        prepare_database(url, args.reset)
    cache_folder = work / "page-cache"
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "SECRET_KEY": secrets.token_urlsafe(48),
        "PAGE_CACHE_URL": str(cache_folder),
        "UPLOAD_FOLDER": str(work / "uploads"),
        "PUBLIC_BASE_URL": "https://truyxuat.example.vn",
        "LOGIN_LIMIT_PER_ADDRESS": "1000 per minute",
        "API_RATE_LIMIT": "100000 per minute",
        "JOB_QUEUE_URL": f"sqlite:///{work / 'jobs.sqlite3'}",
    }
    os.environ.update(
        {key: env[key] for key in ("DATABASE_URL", "SECRET_KEY", "UPLOAD_FOLDER", "PAGE_CACHE_URL")}
    )
    progress(f"seeding {2 * args.steps} ladder lots and a retail lot in {url.split('@')[-1]}")
    data = seed(args.steps)
    port = free_port()
    server = Server(env, args.workers, port, work / "gunicorn.log")
    report = Report()
    with (work / "worker.log").open("wb") as log:
        job_worker = subprocess.Popen(
            [sys.executable, "-m", "flask", "--app", "wsgi", "worker", "--workers", "1"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        server.start()
        prober = Prober(port)
        prober.thread.start()
        time.sleep(5)
        prober.phase = "ladder"
        progress(
            f"ladder: two clients open the chain page of the top of {data.lots} lots for {args.seconds:g} s"
        )
        report.phases["ladder"] = ladder_phase(port, data.top_lot_id, args.seconds)
        prober.phase = "cache"
        progress("cache: 273 spellings of one lot's URL")
        report.phases["cache"] = cache_phase(port, data.retail_code, cache_folder)
        prober.phase = "labels"
        progress(f"labels: one job of {args.labels:,} labels")
        report.phases["labels"] = labels_phase(port, server, job_worker.pid, data.retail_lot_id, args.labels)
        prober.phase = "after"
        time.sleep(2)
        prober.stop.set()
        prober.thread.join()
        for phase, samples in prober.samples.items():
            report.healthz[phase] = {
                "probes": len(samples),
                "p50_ms": round(percentile(samples, 0.5), 1),
                "p99_ms": round(percentile(samples, 0.99), 1),
                "max_ms": round(max(samples), 1),
            }
    finally:
        server.ensure_stopped()
        job_worker.send_signal(signal.SIGTERM)  # a job cut short is of no use to a throwaway database
        job_worker.wait(timeout=60)
    return report


def print_summary(report: Report) -> bool:
    print("\n== what each attack cost")
    for phase, figures in report.phases.items():
        print(f"   {phase:7} {json.dumps(figures, ensure_ascii=False)}")
    print("\n== /healthz for another client (ms), and p99 against the quiet baseline")
    quiet = report.healthz.get("quiet", {}).get("p99_ms") or float("nan")
    held = True
    for phase, figures in report.healthz.items():
        ratio = figures["p99_ms"] / quiet if quiet == quiet and quiet else float("nan")
        ok = figures["p99_ms"] < HEALTHZ_TARGET_MS
        held &= ok
        print(
            f"   {phase:7} probes {figures['probes']:4}  p50 {figures['p50_ms']:7.1f}  p99 {figures['p99_ms']:7.1f}"
            f"  max {figures['max_ms']:7.1f}  p99/quiet {ratio:5.2f}  {'ok' if ok else 'OVER 100 ms'}"
        )
    return held


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    report = run(args)
    held = print_summary(report)
    if args.json:
        Path(args.json).write_text(json.dumps({"phases": report.phases, "healthz": report.healthz}, indent=2))
    return 0 if held else 1


if __name__ == "__main__":
    sys.exit(main())
