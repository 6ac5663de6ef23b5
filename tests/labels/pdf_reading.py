"""Reading label PDFs back as a printer and a phone would: pages rasterised by PDFium, codes by zxing-cpp.

PDFium (pypdfium2) draws the page at 300 dpi, a common label printer's
resolution; zxing-cpp then finds every QR code on it. Text comes out through
pypdf, which maps the embedded font subsets back to Unicode.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any

import pypdf
import pypdfium2
import zxingcpp
from PIL import Image

DPI = 300
MM_PX = DPI / 25.4  # pixels per millimetre at DPI


@dataclass(frozen=True)
class Code:
    """A decoded QR code and where it sits on the page, in pixels."""

    text: str
    ec_level: str
    version: int
    left: int
    top: int
    right: int
    bottom: int

    @property
    def module_px(self) -> float:
        return (self.right - self.left + 1) / (17 + 4 * self.version)


def page_count(pdf: bytes) -> int:
    return len(pypdf.PdfReader(io.BytesIO(pdf)).pages)


def rasterise(pdf: bytes, page: int = 0, dpi: int = DPI) -> Image.Image:
    """Page ``page`` of ``pdf`` as a greyscale image at ``dpi``."""
    document = pypdfium2.PdfDocument(pdf)
    try:
        bitmap = document[page].render(scale=dpi / 72, grayscale=True)
        return bitmap.to_pil().convert("L")
    finally:
        document.close()


def read_codes(image: Image.Image) -> list[Code]:
    """Every QR code zxing-cpp finds on the image, top to bottom, left to right."""
    codes = []
    for barcode in zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode):
        position = barcode.position
        xs = [position.top_left.x, position.top_right.x, position.bottom_left.x, position.bottom_right.x]
        ys = [position.top_left.y, position.top_right.y, position.bottom_left.y, position.bottom_right.y]
        codes.append(
            Code(
                barcode.text,
                barcode.ec_level,
                int(barcode.extra["Version"]),
                min(xs),
                min(ys),
                max(xs),
                max(ys),
            )
        )
    return sorted(codes, key=lambda code: (round(code.top / 20), code.left))


def pdf_text(pdf: bytes) -> str:
    """All text of the PDF, page after page."""
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    return "\n".join(page.extract_text() for page in reader.pages)


def fonts(pdf: bytes) -> dict[str, bool]:
    """Every font the pages use (their forms included): base name without subset prefix → embedded."""
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    found: dict[str, bool] = {}

    def walk(resources: Any) -> None:
        resources = resources.get_object() if resources is not None else {}
        for font in (resources.get("/Font") or {}).values():
            font = font.get_object()
            descriptor = font.get("/FontDescriptor")
            embedded = descriptor is not None and "/FontFile2" in descriptor.get_object()
            found[str(font["/BaseFont"]).split("+", 1)[-1]] = embedded
        for xobject in (resources.get("/XObject") or {}).values():
            walk(xobject.get_object().get("/Resources"))

    for page in reader.pages:
        walk(page.get("/Resources"))
    return found
