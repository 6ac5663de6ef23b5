"""Label templates and the text beside the code: fonts, measuring, wrapping, fitting.

Pure Python, no Flask: ``sheets`` draws what ``plan_layout`` decides. Text is
fitted to the space right of the code: shrunk, wrapped, then (when drawn)
clipped to that box, so it can never run into the code.

Label captions (Lô, NSX, HSD) are Vietnamese whatever the interface
language: Decree 43/2017/NĐ-CP (Art. 7) asks for a label's mandatory content
in Vietnamese on goods sold in Vietnam. DejaVu Sans, embedded, has every
Vietnamese letter and the ★ of the OCOP stars.
"""

from __future__ import annotations

import unicodedata
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from functools import cache, lru_cache
from typing import Any

from reportlab.pdfbase import pdfdoc, pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont, TTFontFace

from traceability.labels import FONT_FOLDER

MM = 72 / 25.4  # points per millimetre
QR_INSET_MM = 1.0  # from the label edge to the quiet zone: room for the printer's misregistration
TEXT_INSET_MM = 1.5
GAP_MM = 1.0  # between the quiet zone and the text
QR_MAX_WIDTH_SHARE = 0.6  # the rest of the label's width is for the text
REGULAR, BOLD = "DejaVuSans", "DejaVuSans-Bold"
LEADING = 1.2
# Sizes in points at scale 1; fitting shrinks them together down to the minimums.
NAME_PT, DETAIL_PT, URL_PT = 10.0, 8.0, 6.5
MIN_DETAIL_PT, MIN_URL_PT = 4.0, 3.5
NAME_MAX_LINES, LOT_MAX_LINES, URL_MAX_LINES = 3, 2, 4
CAPTIONS = {"lot": "Lô", "produced": "NSX", "expires": "HSD"}  # Vietnamese by law, see above
STAR = "\u2605"


@dataclass(frozen=True)
class LabelTemplate:
    """A label stock: page size, grid, label size and pitches, in millimetres."""

    name: str
    stock: str  # the stock it matches, for people choosing a template
    page_width: float
    page_height: float
    columns: int
    rows: int
    label_width: float
    label_height: float
    left_margin: float  # page edge to the first label
    top_margin: float
    column_pitch: float  # left edge to the next label's left edge
    row_pitch: float

    @property
    def per_page(self) -> int:
        return self.columns * self.rows

    def origins(self) -> list[tuple[float, float]]:
        """Bottom-left corners of the labels in points, in reading order (rows from the top)."""
        return [
            (
                (self.left_margin + column * self.column_pitch) * MM,
                (self.page_height - self.top_margin - row * self.row_pitch - self.label_height) * MM,
            )
            for row in range(self.rows)
            for column in range(self.columns)
        ]

    @property
    def qr_box_mm(self) -> float:
        """The side of the square the code and its quiet zone take."""
        return min(self.label_height - 2 * QR_INSET_MM, self.label_width * QR_MAX_WIDTH_SHARE)


# Widths add up: 2 * left_margin + (columns - 1) * column_pitch + label_width = page_width,
# and the same down the page; tests check it.
TEMPLATES: dict[str, LabelTemplate] = {
    template.name: template
    for template in (
        # Avery L7159 and its equivalents (Tanex, APLI): 24 labels, 2.5 mm between columns.
        LabelTemplate("a4-3x8", "A4, 24 labels 63.5 × 33.9 mm (Avery L7159)", 210, 297, 3, 8, 63.5, 33.9, 7.25, 12.9, 66.0, 33.9),
        # Avery L7654: 40 labels, 2.6 mm between columns.
        LabelTemplate("a4-4x10", "A4, 40 labels 45.7 × 25.4 mm (Avery L7654)", 210, 297, 4, 10, 45.7, 25.4, 9.7, 21.5, 48.3, 25.4),
        # Avery L7651: 65 labels, 2.5 mm between columns.
        LabelTemplate("a4-5x13", "A4, 65 labels 38.1 × 21.2 mm (Avery L7651)", 210, 297, 5, 13, 38.1, 21.2, 4.75, 10.7, 40.6, 21.2),
        # Thermal roll printers: the page is the label.
        LabelTemplate("roll-50x30", "Roll, one label 50 × 30 mm per page", 50, 30, 1, 1, 50, 30, 0, 0, 50, 30),
    )
}  # fmt: skip


@dataclass(frozen=True)
class LabelText:
    """What every label of a batch says besides its code."""

    product_name: str
    lot_code: str
    production_date: date
    expiry_date: date | None = None
    ocop_stars: int | None = None
    # The caption of the serial number line on serial labels, in the reader's language ("Số sê-ri").
    serial_caption: str = "Số sê-ri"


def short_url(url: str) -> str:
    """The URL as printed under the code: without the scheme."""
    return url.split("://", 1)[-1]


# --- fonts and measuring -------------------------------------------------------------------


class _LabelFace(TTFontFace):
    """A TrueType face whose embedded subsets are cut and deflated once per process, not per sheet.

    Every ASCII character has a fixed code in the first subset (reportlab's
    ``asciiReadable``), and the others come in the order the fixed text uses
    them, so the sheets of one product embed the same subsets: reportlab
    would cut each from the font and deflate it again for every sheet (a few
    milliseconds, a tenth of a 100-label sheet).
    """

    def makeSubset(self, subset: Sequence[int]) -> bytes:
        return _subset_file(self, tuple(subset))

    def addSubsetObjects(self, doc: Any, fontname: str, subset: Sequence[int]) -> Any:
        reference = super().addSubsetObjects(doc, fontname, subset)
        font_file = doc.idToObject[f"fontFile:{self.filename}({fontname})"]
        if font_file.filters:  # the document compresses: the subset deflated once
            font_file.content = _deflated_subset_file(self, tuple(subset))
            font_file.dictionary["Filter"] = pdfdoc.PDFName("FlateDecode")
            font_file.filters = None  # already applied, as its Filter entry says
        return reference


@lru_cache(maxsize=64)
def _subset_file(face: _LabelFace, subset: tuple[int, ...]) -> bytes:
    return TTFontFace.makeSubset(face, list(subset))


@lru_cache(maxsize=64)
def _deflated_subset_file(face: _LabelFace, subset: tuple[int, ...]) -> bytes:
    return zlib.compress(_subset_file(face, subset))


def _label_font(name: str, filename: str) -> TTFont:
    font = TTFont(name, str(FONT_FOLDER / filename))
    font.face.__class__ = _LabelFace  # the face reportlab loaded, with the caching above (no second parse)
    return font


@cache
def register_fonts() -> None:
    """Register DejaVu Sans (with every Vietnamese letter and ★) for embedding."""
    pdfmetrics.registerFont(_label_font(REGULAR, "DejaVuSans.ttf"))
    pdfmetrics.registerFont(_label_font(BOLD, "DejaVuSans-Bold.ttf"))


class _Advances(dict):
    """Widths of characters at 1 pt in one font, measured once each."""

    def __init__(self, font: str) -> None:
        super().__init__()
        self.font = font

    def __missing__(self, char: str) -> float:
        width = self[char] = pdfmetrics.stringWidth(char, self.font, 1)
        return width


@cache
def _advances(font: str) -> _Advances:
    return _Advances(font)


def _width(text: str, font: str, size: float) -> float:
    advances = _advances(font)
    return sum([advances[char] for char in text]) * size


def text_width(text: str, font: str, size: float) -> float:
    """The width of ``text`` in points, from widths measured once per character (no kerning, as drawn)."""
    return _width(text, font, size)


def break_chars(text: str, font: str, size: float, width: float, prefer: str = "") -> list[str]:
    """``text`` cut into lines no wider than ``width``, after a character of ``prefer`` when one is near."""
    advances = _advances(font)
    limit = width / size
    lines: list[str] = []
    start, used = 0, 0.0
    for index, char in enumerate(text):
        advance = advances[char]
        if used + advance > limit and index > start:
            cut = index
            for back in range(index - 1, start + (index - start) // 2, -1):
                if text[back] in prefer:
                    cut = back + 1
                    break
            lines.append(text[start:cut])
            start = cut
            used = sum([advances[c] for c in text[start : index + 1]])
        else:
            used += advance
    lines.append(text[start:])
    return lines


def url_parts(url: str) -> tuple[str, str]:
    """The URL as printed, cut after its last slash: the part labels of a batch share, and the code."""
    text = short_url(url)
    cut = text.rfind("/") + 1
    return text[:cut], text[cut:]


def url_text_lines(url: str, size: float, width: float) -> tuple[list[str], list[str]]:
    """The lines of the shared part and of the code; the code always starts a line of its own."""
    head, tail = url_parts(url)
    return break_chars(head, REGULAR, size, width, prefer="/"), break_chars(tail, REGULAR, size, width)


def _wrap_words(text: str, font: str, size: float, width: float) -> list[str]:
    """``text`` wrapped at spaces; a word wider than the line is cut."""
    lines: list[str] = []
    current = ""
    for word in text.split():
        candidate = f"{current} {word}" if current else word
        if _width(candidate, font, size) <= width:
            current = candidate
            continue
        if current:
            lines.append(current)
        pieces = break_chars(word, font, size, width)
        lines.extend(pieces[:-1])
        current = pieces[-1]
    if current:
        lines.append(current)
    return lines


def _ellipsize(lines: list[str], keep: int, font: str, size: float, width: float) -> list[str]:
    if len(lines) <= keep:
        return lines
    last = lines[keep - 1]
    while last and _width(last + "…", font, size) > width:
        last = last[:-1]
    return [*lines[: keep - 1], last.rstrip() + "…"]


# --- layout --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Line:
    text: str
    font: str
    size: float


@dataclass(frozen=True)
class Layout:
    """Where things go on one label, in points from its bottom-left corner."""

    qr_left: float
    qr_bottom: float
    qr_side: float
    text_left: float
    text_bottom: float
    text_width: float
    text_height: float
    lines: tuple[Line, ...]  # the fixed text, from the top
    url_size: float
    url_lines: int  # lines reserved for the URL at the bottom
    url_head: tuple[str, ...]  # lines of the part of the URL every label shares (empty: none shared)
    serial_size: float = 0.0  # the serial number's line under the fixed text (0: none, copies of a lot)


def _fixed_lines(text: LabelText, scale: float, width: float, *, cut_name: bool) -> list[Line] | None:
    """The fixed text at ``scale``, or None when it does not fit ``width`` (the name: in its lines)."""
    name_size, detail_size = NAME_PT * scale, max(DETAIL_PT * scale, MIN_DETAIL_PT)
    name = _wrap_words(unicodedata.normalize("NFC", text.product_name), BOLD, name_size, width)
    if len(name) > NAME_MAX_LINES and not cut_name:
        return None
    lines = [Line(part, BOLD, name_size) for part in _ellipsize(name, NAME_MAX_LINES, BOLD, name_size, width)]
    details: list[str] = []
    if text.ocop_stars:
        details.append(f"{STAR * text.ocop_stars} OCOP")
    lot = break_chars(f"{CAPTIONS['lot']}: {text.lot_code}", REGULAR, detail_size, width, prefer=" -/")
    if len(lot) > LOT_MAX_LINES:
        return None
    details += lot
    details.append(f"{CAPTIONS['produced']}: {text.production_date:%d/%m/%Y}")
    if text.expiry_date:
        details.append(f"{CAPTIONS['expires']}: {text.expiry_date:%d/%m/%Y}")
    if any(_width(line, REGULAR, detail_size) > width for line in details):
        return None
    return lines + [Line(line, REGULAR, detail_size) for line in details]


SCALES = tuple(1.0 - 0.05 * step for step in range(13))  # 1.0 down to 0.4


@lru_cache(maxsize=256)  # a lot printed again plans the same sheet; a Layout is immutable
def plan_layout(
    template: LabelTemplate,
    text: LabelText,
    sample_url: str,
    *,
    shared_head: bool = True,
    serial_line: bool = False,
) -> Layout:
    """The largest text sizes at which everything fits beside the code (``sample_url``: the longest).

    ``shared_head``: every URL has the sample's part up to its last slash, so
    that part is drawn once for all labels (``Layout.url_head``).
    ``serial_line``: each label has a serial number, printed on a line of its
    own under the fixed text, at the details' size.

    The whole name is preferred to big letters; only a name that fits at no
    size is cut short with an ellipsis. Were even the smallest sizes too big,
    the clip to the text box still keeps the code clear.
    """
    qr_side = template.qr_box_mm * MM
    height = template.label_height * MM
    text_left = (QR_INSET_MM + GAP_MM) * MM + qr_side
    text_width = template.label_width * MM - text_left - TEXT_INSET_MM * MM
    text_height = height - 2 * TEXT_INSET_MM * MM

    def attempt(scale: float, cut_name: bool) -> tuple[list[Line], float, int] | None:
        url_size = max(URL_PT * scale, MIN_URL_PT)
        lines = _fixed_lines(text, scale, text_width, cut_name=cut_name)
        url = [line for part in url_text_lines(sample_url, url_size, text_width) for line in part]
        if lines is None or len(url) > URL_MAX_LINES:
            return None
        serial = max(DETAIL_PT * scale, MIN_DETAIL_PT) if serial_line else 0.0
        used = sum(line.size * LEADING for line in lines) + len(url) * url_size * LEADING + serial * LEADING
        return (lines, url_size, len(url)) if used <= text_height else None

    chosen = next(
        (found for cut in (False, True) for scale in SCALES if (found := attempt(scale, cut)) is not None),
        None,
    )
    if chosen is None:
        chosen = (_fixed_lines(text, SCALES[-1], text_width, cut_name=True) or [], MIN_URL_PT, URL_MAX_LINES)
    lines, url_size, url_lines = chosen
    return Layout(
        qr_left=QR_INSET_MM * MM,
        qr_bottom=(height - qr_side) / 2,
        qr_side=qr_side,
        text_left=text_left,
        text_bottom=TEXT_INSET_MM * MM,
        text_width=text_width,
        text_height=text_height,
        lines=tuple(lines),
        url_size=url_size,
        url_lines=url_lines,
        url_head=tuple(url_text_lines(sample_url, url_size, text_width)[0]) if shared_head else (),
        serial_size=_detail_size(lines) if serial_line else 0.0,
    )


def _detail_size(lines: list[Line]) -> float:
    """The details' size of the fixed text (its regular lines), for the serial number's line."""
    return next((line.size for line in reversed(lines) if line.font == REGULAR), MIN_DETAIL_PT)
