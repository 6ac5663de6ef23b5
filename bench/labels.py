"""Benchmark: a 10,000-label sheet of serial codes against the naive one-image-per-code loop.

    .venv/bin/python bench/labels.py [--labels N] [--baseline B] [--naive-samples K]
                                     [--template T] [--workers W] [--no-verify]

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

Figures are printed, never asserted: timings belong here, not in the tests.
Other load on the machine slows both sides; compare runs on a quiet machine.
"""

from __future__ import annotations

import argparse
import io
import os
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--labels", type=int, default=10_000)
    parser.add_argument("--baseline", type=int, default=100)
    parser.add_argument("--naive-samples", type=int, default=300)
    parser.add_argument("--template", choices=tuple(TEMPLATES), default="a4-5x13")
    parser.add_argument(
        "--workers", type=int, help="worker processes for the big sheet (default: one per core)"
    )
    parser.add_argument("--no-verify", action="store_true", help="skip reading every code back")
    args = parser.parse_args()

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
