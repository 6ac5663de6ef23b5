"""Benchmark: label sheets of serial codes against the naive one-image-per-code loop.

    .venv/bin/python bench/labels.py --producer [--sizes N N ...] [--database-url URL] [--repeat R]
                                     [--naive-samples K] [--template T] [--no-verify]
    .venv/bin/python bench/labels.py [--labels N] [--baseline B] [--naive-samples K]
                                     [--template T] [--workers W] [--no-verify]
    .venv/bin/python bench/labels.py --measure-memory [--memory-labels N N ...] [--template T] [--workers W]

With ``--producer`` it measures sheets the way a producer gets them: lots of
N serialised items (default 100, 1,000 and 10,000) in a fresh SQLite file (or
the empty PostgreSQL database of ``--database-url``, whose tables it creates
and drops), each sheet asked for through the API, ``GET
/api/v1/batches/{id}/labels.pdf`` (the Flask test client in this process, so
the request, the lot's audit entry, the database reads of the items and the
drawing are all in the figure), and the naive loop on the same URLs before
and after. For each size it prints the first sheet of a fresh process (a
subprocess that signs in, then asks for that one sheet: it pays the fonts'
loading and the first use of the encoder and the drawing code) and the warm sheets of
this process (the median of ``--repeat`` after one untimed sheet), each as
labels per second and as a ratio to the naive loop, run just before and
after that size's sheets (the load of a shared machine drifts). A request draws its sheet
in its own process and starts no encoder pool (STYLE rule 17), so these are
one core's figures. Then it reads every code of the biggest sheet back
(unless --no-verify).

Without ``--producer``:

In one run, on the same URLs (GS1 Digital Links with a lot and a 13-character
serial, as ``create_serials`` makes them), it times

- the naive loop ``qrcode.make(url).save(png)`` on K codes (default 300):
  what code without a label renderer would do, one PNG per code;
- ``render_labels`` on a small sheet of B labels (default 100, drawn in this
  process) and on the big sheet of N labels (default 10,000; as in a job
  worker, the process's encoder pool encodes the codes of sheets of 100
  labels or more),

and prints codes per second for each, the big sheet's speed-up over the
naive loop and over the small sheet. Then (unless --no-verify) it rasterises
every page of the big sheet at 300 dpi with PDFium and reads every code back
with zxing-cpp, so the speed is not bought with unreadable codes.

With ``--measure-memory`` it instead renders sheets of each count (default
1,000, 10,000 and 100,000 labels) to a file, each in a fresh subprocess, the
URLs given as an iterator as a label job reads them from the database, and
prints each subprocess's peak resident memory (``os.wait4``'s ``ru_maxrss``,
the drawing process; its encoder workers' peak beside it) and its ratio to
the first count's: flat memory is a ratio near 1.

Figures are printed, never asserted: timings belong here, not in the tests.
Other load on the machine slows both sides; compare runs on a quiet machine.
"""

from __future__ import annotations

import argparse
import io
import os
import resource
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import qrcode

from traceability.batches.serials import new_serial
from traceability.labels.sheets import TEMPLATES, LabelText, default_workers, render_labels

TEXT = LabelText(
    product_name="Cà phê Robusta rang xay Buôn Ma Thuột",
    lot_code="LO-2026-001",
    production_date=date(2026, 10, 1),
    expiry_date=date(2027, 10, 1),
    ocop_stars=4,
)
BASE_URL = "https://truyxuat.daklak.gov.vn/01/08930000000019/10/LO-2026-001/21/"


def naive_rate(urls: list[str]) -> float:
    """Codes per second of ``qrcode.make(url).save(png)``, one PNG per code."""
    start = time.perf_counter()
    for url in urls:
        qrcode.make(url).save(io.BytesIO(), "PNG")
    return len(urls) / (time.perf_counter() - start)


def sheet_rate(urls: list[str], template: str, workers: int | None, output: io.BufferedIOBase) -> float:
    """Labels per second of a whole label sheet, PDF written."""
    start = time.perf_counter()
    render_labels(output, template, TEXT, urls, workers=workers)
    return len(urls) / (time.perf_counter() - start)


def verify(pdf_path: Path, urls: list[str], per_page: int) -> tuple[int, int]:
    """(codes read back as expected, codes expected), page by page at 300 dpi."""
    import pypdfium2
    import zxingcpp

    document = pypdfium2.PdfDocument(str(pdf_path))
    matched = 0
    try:
        for number in range(len(document)):
            image = document[number].render(scale=300 / 72, grayscale=True).to_pil()
            found = {
                code.text for code in zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode)
            }
            expected = urls[number * per_page : (number + 1) * per_page]
            matched += sum(1 for url in expected if url in found)
            if number % 20 == 19 or number == len(document) - 1:
                print(f"  verified {number + 1}/{len(document)} pages, {matched} codes read", flush=True)
    finally:
        document.close()
    return matched, len(urls)


def render_child(count: int, template: str, workers: int | None, path: str) -> None:
    """The subprocess of --measure-memory: one sheet of ``count`` labels to ``path``."""
    urls = (BASE_URL + new_serial() for _ in range(count))
    start = time.perf_counter()
    with open(path, "wb") as output:
        render_labels(output, template, TEXT, urls, count=count, workers=workers or default_workers(count))
    seconds = time.perf_counter() - start
    workers_peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    print(f"{seconds:.1f} {os.path.getsize(path)} {workers_peak}")


def measure_memory(counts: list[int], template: str, workers: int | None) -> None:
    """Peak memory of one sheet per count, each drawn in a fresh subprocess, and its ratio to the first."""
    print(f"{os.cpu_count()} cores; {template}; peak resident memory of the process drawing the sheet")
    baseline = None
    with tempfile.TemporaryDirectory() as folder:
        for count in counts:
            command = [sys.executable, __file__, "--render-child", str(count), "--template", template]
            if workers:
                command += ["--workers", str(workers)]
            child = subprocess.Popen([*command, os.path.join(folder, f"{count}.pdf")], stdout=subprocess.PIPE)
            _pid, status, usage = os.wait4(child.pid, 0)
            output = child.stdout.read().decode().split() if child.stdout else []
            if status or len(output) != 3:
                raise SystemExit(f"the render of {count} labels failed")
            seconds, size, workers_peak = float(output[0]), int(output[1]), int(output[2])
            peak_mb = usage.ru_maxrss / 1024  # kilobytes on Linux
            baseline = baseline or peak_mb
            print(
                f"{count:>9,} labels: peak {peak_mb:7.1f} MB ({peak_mb / baseline:.2f}x the {counts[0]:,}-label run), "
                f"encoder workers {workers_peak / 1024:6.1f} MB, PDF {size / 1e6:6.1f} MB, {seconds:6.1f} s",
                flush=True,
            )


# --- through the producer's path --------------------------------------------------------------

PRODUCER_BASE_URL = "https://truyxuat.daklak.gov.vn"
GTIN = "08930000000019"


def producer_app(database_url: str, folder: str):
    """The application on ``database_url``, configured as in production but for the benchmark's folder."""
    from traceability import create_app
    from traceability.core.config import Config

    if database_url.startswith("postgresql://"):
        database_url = "postgresql+psycopg://" + database_url[len("postgresql://") :]

    class BenchConfig(Config):
        DATABASE_URL = database_url
        SECRET_KEY = "bench-only"
        PUBLIC_BASE_URL = PRODUCER_BASE_URL
        UPLOAD_FOLDER = os.path.join(folder, "uploads")
        PAGE_CACHE_URL = "null"
        JOB_QUEUE_URL = f"sqlite:///{os.path.join(folder, 'jobs.sqlite3')}"
        API_RATE_LIMIT = "1000000 per minute"
        PASSWORD_HASH_METHOD = "pbkdf2:sha256:1000"  # the sign-in is not what is measured
        LOG_REQUESTS = False

    return create_app(BenchConfig)


def load_lots(app, sizes: list[int]) -> tuple[str, dict[int, int]]:
    """A producer with a product and one lot per size with that many serialised items: (email, lot ids)."""
    from tests import factories
    from traceability.batches.serials import MAX_SERIALS_PER_REQUEST, create_serials
    from traceability.core.extensions import db

    with app.app_context():
        db.drop_all()
        db.create_all()
        centre = factories.make_centre("66")
        producer = factories.make_producer(centre)
        user = factories.make_user("producer", producer=producer)
        product = factories.make_product(producer, name=TEXT.product_name, gtin=GTIN, ocop_stars=4)
        lots = {}
        for size in sizes:
            batch = factories.make_batch(product)
            for start in range(0, size, MAX_SERIALS_PER_REQUEST):
                create_serials(batch, min(MAX_SERIALS_PER_REQUEST, size - start), actor=None)
            lots[size] = batch.id
        db.session.commit()
        email = user.email
        db.session.remove()
    return email, lots


def item_urls(app, batch_id: int) -> list[str]:
    """The URLs a lot's labels encode, in print order."""
    from sqlalchemy import select

    from traceability.batches.service import item_public_url
    from traceability.core.extensions import db
    from traceability.models.batches import Item

    with app.app_context():
        items = db.session.scalars(select(Item).where(Item.batch_id == batch_id).order_by(Item.id)).all()
        urls = [item_public_url(PRODUCER_BASE_URL, item) for item in items]
        db.session.remove()
    return urls


class Producer:
    """A signed-in producer asking for label sheets through the API, in this process."""

    def __init__(self, app, email: str, template: str) -> None:
        from tests import factories

        self.client = app.test_client()
        self.template = template
        response = self.client.post("/api/v1/tokens", json={"email": email, "password": factories.PASSWORD})
        self.headers = {"Authorization": f"Bearer {response.get_json()['token']}"}

    def sheet(self, batch_id: int) -> tuple[float, bytes]:
        """Seconds to get the lot's label sheet, and the PDF."""
        start = time.perf_counter()
        response = self.client.get(
            f"/api/v1/batches/{batch_id}/labels.pdf?template={self.template}", headers=self.headers
        )
        pdf = response.get_data()
        seconds = time.perf_counter() - start
        if response.status_code != 200:
            raise SystemExit(f"labels.pdf answered {response.status_code}: {pdf[:300]!r}")
        return seconds, pdf


def first_sheet_child(database_url: str, folder: str, email: str, batch_id: int, template: str) -> None:
    """The subprocess of --producer: the first sheet of a fresh process; prints its seconds."""
    app = producer_app(database_url, folder)
    producer = Producer(app, email, template)
    seconds, _pdf = producer.sheet(batch_id)
    print(f"{seconds:.6f}")


def measure_producer_path(args: argparse.Namespace) -> None:
    """Naive loop, first and warm sheets of each size through the API, and the codes read back."""
    from statistics import median

    sizes = sorted(args.sizes)
    with tempfile.TemporaryDirectory() as folder:
        database_url = args.database_url or f"sqlite:///{os.path.join(folder, 'bench.sqlite3')}"
        app = producer_app(database_url, folder)
        started = time.perf_counter()
        email, lots = load_lots(app, sizes)
        print(
            f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}; {app.config['DATABASE_URL'].split(':')[0]}; "
            f"lots of {', '.join(f'{size:,}' for size in sizes)} serialised items loaded in "
            f"{time.perf_counter() - started:.1f} s; {args.template}; each sheet drawn in the request's process, "
            "no encoder pool",
            flush=True,
        )
        urls = item_urls(app, lots[sizes[-1]])
        producer = Producer(app, email, args.template)
        samples = urls[: args.naive_samples]
        first: dict[int, float] = {}
        warm: dict[int, float] = {}
        naive: dict[int, float] = {}
        biggest_pdf = b""
        # Each size's sheets between two runs of the naive loop, their ratios to the pair's mean:
        # on a shared machine the load drifts over a run, and a ratio compares like with like.
        for size in sizes:
            naive_before = naive_rate(samples)
            # A fresh process: what the first sheet of a web or job worker costs.
            command = [sys.executable, __file__, "--producer-child", database_url, folder, email]
            output = subprocess.run(
                [*command, str(lots[size]), args.template], check=True, capture_output=True, text=True
            ).stdout.split()
            first[size] = size / float(output[-1])
            producer.sheet(lots[size])  # this process's first sheet of this size, untimed
            timings = []
            for _ in range(args.repeat if size < 10_000 else max(1, args.repeat // 3)):
                seconds, pdf = producer.sheet(lots[size])
                timings.append(seconds)
            warm[size] = size / median(timings)
            biggest_pdf = pdf
            naive[size] = (naive_before + naive_rate(samples)) / 2
            print(
                f"{size:,} labels: naive qrcode.make(url).save(png) {naive_before:.0f} codes/s before, "
                f"{2 * naive[size] - naive_before:.0f} after ({len(samples)} codes each)",
                flush=True,
            )
        print("labels  first sheet of a process       warm sheets (median)    naive loop (mean)")
        for size in sizes:
            print(
                f"{size:>6,}  {first[size]:7.0f} labels/s {first[size] / naive[size]:5.1f}x   "
                f"{warm[size]:7.0f} labels/s {warm[size] / naive[size]:5.1f}x   {naive[size]:6.0f} codes/s"
            )
        print("(the first sheet of a process loads the fonts and the encoder; later sheets reuse them)")
        if not args.no_verify:
            pdf_path = Path(folder) / "biggest.pdf"
            pdf_path.write_bytes(biggest_pdf)
            matched, expected = verify(pdf_path, urls, TEMPLATES[args.template].per_page)
            print(
                f"codes read back: {matched:,} of {expected:,}"
                + ("" if matched == expected else "  <-- MISSING")
            )
        if args.database_url:
            from traceability.core.extensions import db

            with app.app_context():
                db.drop_all()
        app.extensions["scan_buffer"].close()


def main() -> None:
    if sys.argv[1:2] == ["--render-child"]:
        count, rest = int(sys.argv[2]), sys.argv[3:]
        template = rest[rest.index("--template") + 1]
        workers = int(rest[rest.index("--workers") + 1]) if "--workers" in rest else None
        render_child(count, template, workers, rest[-1])
        return
    if sys.argv[1:2] == ["--producer-child"]:
        database_url, folder, email, batch_id, template = sys.argv[2:7]
        first_sheet_child(database_url, folder, email, int(batch_id), template)
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--labels", type=int, default=10_000)
    parser.add_argument("--baseline", type=int, default=100)
    parser.add_argument("--naive-samples", type=int, default=300)
    parser.add_argument("--template", choices=tuple(TEMPLATES), default="a4-5x13")
    parser.add_argument(
        "--workers", type=int, help="worker processes for the big sheet (default: one per core)"
    )
    parser.add_argument("--no-verify", action="store_true", help="skip reading every code back")
    parser.add_argument(
        "--measure-memory", action="store_true", help="peak memory per label count instead of speed"
    )
    parser.add_argument(
        "--memory-labels",
        type=int,
        nargs="+",
        default=[1_000, 10_000, 100_000],
        help="label counts to measure",
    )
    parser.add_argument(
        "--producer", action="store_true", help="sheets through the API, first and warm, per size"
    )
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 1_000, 10_000])
    parser.add_argument("--database-url", help="an empty PostgreSQL database (default: a SQLite file)")
    parser.add_argument("--repeat", type=int, default=5, help="warm sheets per size (a third for 10,000)")
    args = parser.parse_args()
    if args.producer:
        measure_producer_path(args)
        return
    if args.measure_memory:
        measure_memory(args.memory_labels, args.template, args.workers)
        return

    urls = [BASE_URL + new_serial() for _ in range(args.labels)]
    workers = args.workers or default_workers(args.labels)
    print(f"{os.cpu_count()} cores; {args.labels:,} labels on {args.template}, workers: {workers}")

    naive = naive_rate(urls[: args.naive_samples])
    print(f"naive qrcode.make(url).save(png): {naive:8.0f} codes/s ({args.naive_samples} codes)")
    small = sheet_rate(urls[: args.baseline], args.template, 1, io.BytesIO())
    print(f"label sheet of {args.baseline:>6,}:          {small:8.0f} labels/s")
    with tempfile.TemporaryDirectory() as folder:
        pdf_path = Path(folder) / "labels.pdf"
        with pdf_path.open("wb") as output:
            big = sheet_rate(urls, args.template, workers, output)
        size_mb = pdf_path.stat().st_size / 1e6
        print(
            f"label sheet of {args.labels:>6,}:          {big:8.0f} labels/s ({size_mb:.1f} MB, {args.labels / big:.1f} s)"
        )
        print(
            f"speed-up over the naive loop: {big / naive:.1f}x; big sheet vs small sheet: {big / small:.2f}x"
        )
        if not args.no_verify:
            matched, expected = verify(pdf_path, urls, TEMPLATES[args.template].per_page)
            print(
                f"codes read back: {matched:,} of {expected:,}"
                + ("" if matched == expected else "  <-- MISSING")
            )


if __name__ == "__main__":
    main()
