"""Print-ready label sheets as PDF (reportlab): pure Python, no Flask, no database.

Each label holds the QR code of a public URL (vector, from ``labels.symbols``,
with the four-module quiet zone inside the label), and beside it the product
name, the OCOP stars, the lot, the production and expiry dates and the URL
as text (placed by ``labels.layout``).

The templates follow real label stock, so a sheet printed at 100 % ("actual
size"; the PDF asks viewers not to scale) lands on the labels. A code whose
modules would come out smaller than ``MIN_MODULE_MM`` is refused with
``LabelSizeError`` before anything is drawn: phone cameras misread smaller
modules at arm's length and laser or thermal printers blur them.

Speed: the text every label shares is drawn once, as a form placed on each
label; the codes of sheets of ``PARALLEL_FROM`` labels or more are encoded
in the process's long-lived encoder pool (``labels.encoders``, started by
the first such sheet, reused by the next) while this one draws
(``bench/labels.py``). Memory: URLs are read as an iterable and each
page goes to the file as soon as it is drawn (``labels.streaming``), so a
sheet of a million labels needs no more memory than one of a thousand.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future
from concurrent.futures.process import BrokenProcessPool
from itertools import chain, islice, repeat, tee
from typing import BinaryIO

from reportlab.pdfgen.canvas import Canvas

from traceability.labels.encoders import encoder_pool, pool_size
from traceability.labels.layout import (
    LEADING,
    MM,
    REGULAR,
    TEMPLATES,
    LabelTemplate,
    LabelText,
    Layout,
    break_chars,
    plan_layout,
    register_fonts,
    text_width,
    url_parts,
)
from traceability.labels.streaming import StreamingCanvas
from traceability.labels.symbols import Symbol, encode, encode_many

__all__ = ["TEMPLATES", "LabelSizeError", "LabelTemplate", "LabelText", "check_fits", "render_labels"]

MIN_MODULE_MM = 0.3
QUIET_ZONE_MODULES = 4  # ISO/IEC 18004's minimum, on every side
# Sheets with at least this many labels encode their codes in the process's encoder pool.
PARALLEL_FROM = 100
CHUNK = 250  # URLs per task on big sheets; small sheets split into at least four tasks per worker
MIN_CHUNK = 8
# The layout is planned from this many URLs at the start of a sheet (they are held, not the rest).
PLAN_SAMPLE = 500


class LabelSizeError(ValueError):
    """The code's modules would be smaller than ``MIN_MODULE_MM`` on this template.

    ``bigger_templates`` lists templates where the same code fits;
    ``fits_with_m`` says whether error correction M would fit on this one.
    """

    def __init__(
        self, template: str, module_mm: float, bigger_templates: list[str], fits_with_m: bool
    ) -> None:
        super().__init__(
            f"{template}: QR modules of {module_mm:.2f} mm, below {MIN_MODULE_MM} mm; "
            f"try {', '.join(bigger_templates) or 'a shorter URL'}"
            + (" or error correction M" if fits_with_m else "")
        )
        self.template = template
        self.module_mm = module_mm
        self.bigger_templates = bigger_templates
        self.fits_with_m = fits_with_m


def module_mm(template: LabelTemplate, symbol_size: int) -> float:
    """The side of one module of a ``symbol_size`` symbol on ``template``."""
    return template.qr_box_mm / (symbol_size + 2 * QUIET_ZONE_MODULES)


def check_fits(template_name: str, url: str, error_correction: str = "M") -> None:
    """LabelSizeError when the code of ``url`` would be too small to scan on the template."""
    template = TEMPLATES[template_name]
    size = encode(url, error_correction).size
    if module_mm(template, size) >= MIN_MODULE_MM:
        return
    raise LabelSizeError(
        template_name,
        module_mm(template, size),
        [
            other.name
            for other in sorted(TEMPLATES.values(), key=lambda t: t.qr_box_mm)
            if other.qr_box_mm > template.qr_box_mm and module_mm(other, size) >= MIN_MODULE_MM
        ],
        error_correction != "M" and module_mm(template, encode(url, "M").size) >= MIN_MODULE_MM,
    )


# --- drawing -------------------------------------------------------------------------------


def _clip(canvas: Canvas, layout: Layout) -> None:
    canvas.addLiteral(
        f"{layout.text_left:.2f} {layout.text_bottom:.2f} {layout.text_width:.2f} {layout.text_height:.2f} re W n"
    )


def _draw_fixed_text(canvas: Canvas, layout: Layout) -> None:
    canvas.saveState()
    _clip(canvas, layout)
    y = layout.text_bottom + layout.text_height
    for line in layout.lines:
        y -= line.size * LEADING
        canvas.setFont(line.font, line.size)
        canvas.drawString(layout.text_left, y + line.size * (LEADING - 1) / 2, line.text)
    canvas.restoreState()


def _draw_url(canvas: Canvas, layout: Layout, url: str, *, head: bool = True, tail: bool = True) -> None:
    """The URL's lines, top-down from the top of its block: the shared head, then the code."""
    size, width = layout.url_size, layout.text_width
    head_text, tail_text = url_parts(url)
    head_lines = break_chars(head_text, REGULAR, size, width, prefer="/") if head else layout.url_head
    tail_lines = break_chars(tail_text, REGULAR, size, width) if tail else []
    room = layout.url_lines - len(head_lines)
    while len(tail_lines) > room and size > 2.5:  # an unusually wide code: smaller, in the same block
        size -= 0.25
        tail_lines = break_chars(tail_text, REGULAR, size, width)
    canvas.saveState()
    _clip(canvas, layout)
    top = layout.text_bottom + layout.url_size * 0.25 + (layout.url_lines - 1) * layout.url_size * LEADING
    if head:
        canvas.setFont(REGULAR, layout.url_size)
        for number, line in enumerate(head_lines):
            canvas.drawString(layout.text_left, top - number * layout.url_size * LEADING, line)
    if tail_lines:
        canvas.setFont(REGULAR, size)
        y = top - len(head_lines) * layout.url_size * LEADING
        for line in tail_lines:
            canvas.drawString(layout.text_left, y, line)
            y -= size * LEADING
    canvas.restoreState()


def _draw_serial(canvas: Canvas, layout: Layout, caption: str, serial: str) -> None:
    """The serial number's line under the fixed text, shrunk to the text box's width when long."""
    text = f"{caption}: {serial}"
    size = layout.serial_size
    while size > 2.5 and text_width(text, REGULAR, size) > layout.text_width:
        size -= 0.25
    top = layout.text_bottom + layout.text_height - sum(line.size * LEADING for line in layout.lines)
    canvas.saveState()
    _clip(canvas, layout)
    canvas.setFont(REGULAR, size)
    canvas.drawString(layout.text_left, top - layout.serial_size * LEADING + size * (LEADING - 1) / 2, text)
    canvas.restoreState()


def _draw_symbol(canvas: Canvas, layout: Layout, symbol: Symbol) -> None:
    module = layout.qr_side / (symbol.size + 2 * QUIET_ZONE_MODULES)
    left = layout.qr_left + QUIET_ZONE_MODULES * module
    top = layout.qr_bottom + layout.qr_side - QUIET_ZONE_MODULES * module
    # Module units, y downwards from the symbol's top left corner; one fill for all runs.
    canvas.addLiteral(f"q 0 g {module:.5f} 0 0 {-module:.5f} {left:.3f} {top:.3f} cm\n{symbol.path}\nf Q")


def _symbols(urls: Iterable[str], error_correction: str, workers: int, count: int) -> Iterator[Symbol]:
    """The symbols of ``urls`` in order: in this process, or in the process's encoder pool.

    The pool (``labels.encoders``) is started once per process and shared by
    every sheet, so a sheet pays no start-up; chunks are smaller on small
    sheets so that every worker gets some while this process draws.
    """
    if workers <= 1:
        last_url, last_symbol = None, None
        for url in urls:
            if url != last_url:  # copies of one code are encoded once
                last_url, last_symbol = url, encode(url, error_correction)
            yield last_symbol  # type: ignore[misc]
        return
    pool = encoder_pool(workers)
    size = max(MIN_CHUNK, min(CHUNK, -(-count // (4 * workers))))
    source = iter(urls)
    chunks = iter(lambda: list(islice(source, size)), [])

    def submit(chunk: list[str]) -> tuple[list[str], Future[list[Symbol]] | None]:
        try:
            return chunk, pool.submit(encode_many, chunk, error_correction)
        except BrokenProcessPool:  # a worker died: this sheet's chunks are encoded here
            return chunk, None

    # A few chunks ahead of the drawing, not all: the symbols of a huge sheet never pile up in memory.
    pending = deque(submit(chunk) for chunk in islice(chunks, 2 * workers))
    try:
        while pending:
            chunk, future = pending.popleft()
            try:
                done = future.result() if future is not None else encode_many(chunk, error_correction)
            except BrokenProcessPool:  # a worker died (killed, out of memory); the next sheet gets a new pool
                done = encode_many(chunk, error_correction)
            for chunk in islice(chunks, 1):
                pending.append(submit(chunk))
            yield from done
    finally:  # a sheet refused half-way: its chunks not started yet are dropped, not encoded for nothing
        for _chunk, future in pending:
            if future is not None:
                future.cancel()


def default_workers(count: int) -> int:
    """Encoder processes for a sheet of ``count`` labels: the process's pool for all but tiny sheets."""
    return pool_size() if count >= PARALLEL_FROM else 1


def render_labels(
    output: BinaryIO,
    template_name: str,
    text: LabelText,
    urls: Iterable[str],
    *,
    serials: Iterable[str] | None = None,
    count: int | None = None,
    error_correction: str = "M",
    progress: Callable[[int], None] | None = None,
    workers: int | None = None,
    title: str = "",
) -> int:
    """Write a PDF with one label per URL of ``urls`` to ``output``; the number of pages.

    ``urls`` may be a list or any iterable, read once, in order (``count``: how
    many it yields, needed unless it is a sequence). Each page is written to
    ``output`` as soon as it is drawn and only a few hundred URLs are held at
    a time, so memory stays flat however many labels there are. The layout
    is planned from the first ``PLAN_SAMPLE`` URLs: every URL of a sheet is
    expected to share the part up to its last slash with them (the labels
    of one batch do); one that does not is refused with ValueError.

    ``serials``: the serial number of each URL's item, in the same order, each
    printed on its label as ``text.serial_caption: serial``.

    ``progress`` is called with the number of labels drawn after every page.
    Raises LabelSizeError when a code is too small to scan: before writing
    anything for the sample's longest URL, else when drawing a longer one.
    """
    template = TEMPLATES[template_name]
    if count is None:
        count = len(urls)  # type: ignore[arg-type]
    source = iter(urls)
    sample = list(islice(source, PLAN_SAMPLE))
    if not sample or count < 1:
        raise ValueError("no labels to print")
    register_fonts()
    longest = max(sample, key=len)  # serials share a length; a longer one later is shrunk to fit
    check_fits(template_name, longest, error_correction)
    heads = {url_parts(url)[0] for url in sample}
    shared_head = len(heads) == 1
    same_code = (
        serials is None
        and len(set(sample)) == 1
        and (len(sample) == count or (isinstance(urls, Sequence) and len(set(urls)) == 1))
    )
    layout = plan_layout(template, text, longest, shared_head=shared_head, serial_line=serials is not None)
    canvas = StreamingCanvas(
        output,
        pagesize=(template.page_width * MM, template.page_height * MM),
        pageCompression=1,
        initialFontName=REGULAR,  # not Helvetica: every font in the file is embedded
    )
    canvas.setTitle(title or f"{text.product_name} · {text.lot_code}")
    canvas.setCreator("Traceability registry")
    canvas.setViewerPreference("PrintScaling", "None")  # print dialogs default to actual size
    canvas.beginForm("label", 0, 0, template.label_width * MM, template.label_height * MM)
    _draw_fixed_text(canvas, layout)
    if same_code:  # copies of the batch code: the whole label is drawn once and placed N times
        _draw_symbol(canvas, layout, encode(sample[0], error_correction))
        _draw_url(canvas, layout, sample[0])
    elif shared_head:  # serial labels: only the code's own line differs
        _draw_url(canvas, layout, sample[0], tail=False)
    canvas.endForm()
    origins = template.origins()
    pages = 0
    all_urls = chain(sample, source)
    serial_numbers: Iterator[str | None] = iter(serials) if serials is not None else repeat(None)
    if same_code:
        labels: Iterator[tuple[str, Symbol | None]] = ((url, None) for url in islice(all_urls, count))
    else:
        # Two passes over one stream: the URLs are teed only as far as the encoder runs ahead.
        for_symbols, for_text = tee(all_urls)
        symbols = _symbols(for_symbols, error_correction, workers or default_workers(count), count)
        labels = zip(for_text, symbols, strict=True)
    drawn = 0
    for url, symbol in labels:
        slot = drawn % template.per_page
        x, y = origins[slot]
        canvas.saveState()
        canvas.translate(x, y)
        canvas.doForm("label")
        serial = next(serial_numbers, None)
        if serial is not None:
            _draw_serial(canvas, layout, text.serial_caption, serial)
        if symbol is not None:
            if module_mm(template, symbol.size) < MIN_MODULE_MM:
                check_fits(template_name, url, error_correction)  # raises with the suggestions
            if shared_head and url_parts(url)[0] not in heads:
                raise ValueError(f"{url}: every URL of a sheet must share {next(iter(heads))}")
            _draw_symbol(canvas, layout, symbol)
            _draw_url(canvas, layout, url, head=not shared_head)
        canvas.restoreState()
        drawn += 1
        if slot == template.per_page - 1:
            canvas.showPage()
            pages += 1
            if progress is not None:
                progress(drawn)
    if drawn % template.per_page:
        canvas.showPage()
        pages += 1
        if progress is not None:
            progress(drawn)
    if drawn != count:
        raise ValueError(f"{drawn} URLs where {count} were announced")
    canvas.save()
    return pages
