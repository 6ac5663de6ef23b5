"""Benchmark: a 10,000-label sheet of serial codes against the naive one-image-per-code loop.

    .venv/bin/python bench/labels.py [--labels N] [--baseline B] [--naive-samples K]
                                     [--template T] [--workers W] [--no-verify]
    .venv/bin/python bench/labels.py --measure-memory [--memory-labels N N ...] [--template T] [--workers W]

In one run, on the same URLs (GS1 Digital Links with a lot and a 13-character
serial, as ``create_serials`` makes them), it times

- the naive loop ``qrcode.make(url).save(png)`` on K codes (default 300):
  what code without a label renderer would do, one PNG per code;
- ``render_labels`` on a small sheet of B labels (default 100, drawn in this
  process) and on the big sheet of N labels (default 10,000; worker
  processes encode the codes once a sheet has 1,000 labels or more),

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
        render_labels(output, template, TEXT, urls, count=count, workers=workers)
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


def main() -> None:
    if sys.argv[1:2] == ["--render-child"]:
        count, rest = int(sys.argv[2]), sys.argv[3:]
        template = rest[rest.index("--template") + 1]
        workers = int(rest[rest.index("--workers") + 1]) if "--workers" in rest else None
        render_child(count, template, workers, rest[-1])
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
    args = parser.parse_args()
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
