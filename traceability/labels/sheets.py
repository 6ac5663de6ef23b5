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
label; each label's own text and code are written as PDF operators directly
(not through the canvas's state-keeping calls), its code as one path of
rectangles (``labels.symbols``), and page streams are compressed at a lower
zlib level (``labels.streaming``). A sheet is drawn in the calling process
unless the caller passes ``workers``: only a job worker does (a request never
starts a process pool, STYLE rule 17), and then the codes of sheets of
``PARALLEL_FROM`` labels or more are encoded in its long-lived encoder pool
(``labels.encoders``) while it draws (``bench/labels.py``). Memory: URLs are
read as an iterable and each page goes to the file as soon as it is drawn
(``labels.streaming``), so a sheet of a million labels needs no more memory
than one of a thousand.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future
from concurrent.futures.process import BrokenProcessPool
from itertools import chain, islice, repeat, tee
from typing import Any, BinaryIO

from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.pdfdoc import PDFDocument
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
# In a job worker, sheets of at least this many labels encode their codes in its encoder pool.
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


def _clip(layout: Layout) -> str:
    """The operators clipping what follows to the label's text box."""
    return f"{layout.text_left:.2f} {layout.text_bottom:.2f} {layout.text_width:.2f} {layout.text_height:.2f} re W n"


def _text(document: PDFDocument, font_name: str, size: float, x: float, y: float, text: str) -> str:
    """The operators drawing ``text`` at (x, y) in an embedded font (what ``drawString`` writes, directly).

    ``splitString`` assigns the characters their codes in the font's subsets,
    which makes the font embed them; the codes are written as hex strings.
    """
    font: Any = pdfmetrics.getFont(font_name)  # a TTFont (types-reportlab knows only the base Font)
    runs = " ".join(
        f"{font.getSubsetInternalName(subset, document)} {size:.2f} Tf <{codes.hex()}> Tj"
        for subset, codes in font.splitString(text, document)
    )
    return f"BT 1 0 0 1 {x:.2f} {y:.2f} Tm {runs} ET"


def _draw_fixed_text(canvas: Canvas, layout: Layout) -> None:
    canvas.saveState()
    canvas.addLiteral(_clip(layout))
    y = layout.text_bottom + layout.text_height
    for line in layout.lines:
        y -= line.size * LEADING
        canvas.setFont(line.font, line.size)
        canvas.drawString(layout.text_left, y + line.size * (LEADING - 1) / 2, line.text)
    canvas.restoreState()


def _url_text(
    document: PDFDocument, layout: Layout, url: str, *, head: bool = True, tail: bool = True
) -> list[str]:
    """The URL's lines, top-down from the top of its block: the shared head, then the code."""
    size, width = layout.url_size, layout.text_width
    head_text, tail_text = url_parts(url)
    head_lines = break_chars(head_text, REGULAR, size, width, prefer="/") if head else layout.url_head
    tail_lines = break_chars(tail_text, REGULAR, size, width) if tail else []
    room = layout.url_lines - len(head_lines)
    while len(tail_lines) > room and size > 2.5:  # an unusually wide code: smaller, in the same block
        size -= 0.25
        tail_lines = break_chars(tail_text, REGULAR, size, width)
    top = layout.text_bottom + layout.url_size * 0.25 + (layout.url_lines - 1) * layout.url_size * LEADING
    operators = []
    if head:
        for number, line in enumerate(head_lines):
            y = top - number * layout.url_size * LEADING
            operators.append(_text(document, REGULAR, layout.url_size, layout.text_left, y, line))
    y = top - len(head_lines) * layout.url_size * LEADING
    for line in tail_lines:
        operators.append(_text(document, REGULAR, size, layout.text_left, y, line))
        y -= size * LEADING
    return operators


def _serial_text(document: PDFDocument, layout: Layout, caption: str, serial: str) -> str:
    """The serial number's line under the fixed text, shrunk to the text box's width when long."""
    text = f"{caption}: {serial}"
    size = layout.serial_size
    while size > 2.5 and text_width(text, REGULAR, size) > layout.text_width:
        size -= 0.25
    top = layout.text_bottom + layout.text_height - sum(line.size * LEADING for line in layout.lines)
    y = top - layout.serial_size * LEADING + size * (LEADING - 1) / 2
    return _text(document, REGULAR, size, layout.text_left, y, text)


def _symbol_drawing(layout: Layout, symbol: Symbol) -> str:
    module = layout.qr_side / (symbol.size + 2 * QUIET_ZONE_MODULES)
    left = layout.qr_left + QUIET_ZONE_MODULES * module
    top = layout.qr_bottom + layout.qr_side - QUIET_ZONE_MODULES * module
    # Module units, y downwards from the symbol's top left corner; one fill for all rectangles.
    return f"q 0 g {module:.5f} 0 0 {-module:.5f} {left:.3f} {top:.3f} cm\n{symbol.path}f Q"


def _clipped(layout: Layout, text_operators: list[str]) -> str:
    """Text operators clipped to the text box, so a long line can never run into the code."""
    return f"q {_clip(layout)} {' '.join(text_operators)} Q"


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
    """Encoder processes a job worker gives a sheet of ``count`` labels: its pool for all but tiny sheets."""
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
    workers: int = 1,
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
    ``workers``: 1 (the default) draws and encodes in this process and starts
    nothing; more encodes in this process's pool of that many processes
    (``labels.encoders``, started on first use): for job workers and the
    command line, never a request (``default_workers`` picks the number).
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
    document = canvas._doc
    if same_code:  # copies of the batch code: the whole label is drawn once and placed N times
        canvas.addLiteral(_symbol_drawing(layout, encode(sample[0], error_correction)))
        canvas.addLiteral(_clipped(layout, _url_text(document, layout, sample[0])))
    elif shared_head:  # serial labels: only the code's own line differs
        canvas.addLiteral(_clipped(layout, _url_text(document, layout, sample[0], tail=False)))
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
        symbols = _symbols(for_symbols, error_correction, workers, count)
        labels = zip(for_text, symbols, strict=True)
    drawn = 0
    # Each label is a few literal operators (its place, the shared form, its own text and code),
    # written directly rather than through the canvas's state-keeping calls: a label's fixed cost.
    largest_fitting = max(
        (size for size in range(21, 178, 4) if module_mm(template, size) >= MIN_MODULE_MM), default=0
    )  # QR symbols are 21 to 177 modules a side, in steps of 4
    for url, symbol in labels:
        slot = drawn % template.per_page
        x, y = origins[slot]
        canvas.addLiteral(f"q 1 0 0 1 {x:.3f} {y:.3f} cm")
        canvas.doForm("label")
        own_text = []
        serial = next(serial_numbers, None)
        if serial is not None:
            own_text.append(_serial_text(document, layout, text.serial_caption, serial))
        if symbol is not None:
            if symbol.size > largest_fitting:
                check_fits(template_name, url, error_correction)  # raises with the suggestions
            if shared_head and url_parts(url)[0] not in heads:
                raise ValueError(f"{url}: every URL of a sheet must share {next(iter(heads))}")
            own_text += _url_text(document, layout, url, head=not shared_head)
            canvas.addLiteral(_symbol_drawing(layout, symbol))
        if own_text:
            canvas.addLiteral(_clipped(layout, own_text))
        canvas.addLiteral("Q")
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
