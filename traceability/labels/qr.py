"""QR code images of public URLs, PNG and SVG: pure Python, no Flask.

Both formats are drawn from the same module matrix (``qrcode`` chooses the
version and the mask), with a quiet zone of four modules on every side, the
minimum ISO/IEC 18004 asks for. Error correction M is the default: it
survives a scratch or a smudge on a label; H (30 %) is for rough packaging.
The same data and options always give the same bytes, so an image can be
cached for as long as its URL holds (``image_tag``).
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass

import qrcode
import qrcode.constants
from PIL import Image

ERROR_CORRECTION = {
    "M": qrcode.constants.ERROR_CORRECT_M,
    "H": qrcode.constants.ERROR_CORRECT_H,
}
QUIET_ZONE_MODULES = 4  # the minimum the QR standard asks for
# Bump when the drawing changes, so cached images (ETags) are replaced.
RENDERER_VERSION = "2"


class QrSizeError(ValueError):
    """The requested image is too small to give every module at least one pixel."""

    def __init__(self, size_px: int, minimum_px: int) -> None:
        super().__init__(f"{size_px} px is too small for this code: at least {minimum_px} px")
        self.size_px = size_px
        self.minimum_px = minimum_px


@dataclass(frozen=True)
class QrMatrix:
    """The dark (True) and light modules of a QR symbol, without its quiet zone."""

    rows: tuple[tuple[bool, ...], ...]
    version: int
    error_correction: str

    @property
    def size(self) -> int:
        """Modules per side of the symbol."""
        return len(self.rows)

    @property
    def size_with_quiet_zone(self) -> int:
        return self.size + 2 * QUIET_ZONE_MODULES


def qr_matrix(data: str, error_correction: str = "M") -> QrMatrix:
    """The smallest QR symbol holding ``data`` at the given error correction (M or H)."""
    if error_correction not in ERROR_CORRECTION:
        raise ValueError(f"error correction must be one of {', '.join(ERROR_CORRECTION)}")
    code = qrcode.QRCode(error_correction=ERROR_CORRECTION[error_correction], border=0)
    code.add_data(data)
    code.make(fit=True)
    rows = tuple(tuple(bool(module) for module in row) for row in code.modules)
    return QrMatrix(rows=rows, version=code.version, error_correction=error_correction)


def module_pixels(matrix: QrMatrix, size_px: int) -> int:
    """Whole pixels per module so the image, quiet zone included, fits in ``size_px``."""
    pixels = size_px // matrix.size_with_quiet_zone
    if pixels < 1:
        raise QrSizeError(size_px, matrix.size_with_quiet_zone)
    return pixels


def qr_png(data: str, *, size_px: int = 400, error_correction: str = "M") -> bytes:
    """A 1-bit PNG of ``data`` at most ``size_px`` wide, whole pixels per module (never blurred)."""
    matrix = qr_matrix(data, error_correction)
    scale = module_pixels(matrix, size_px)
    side = matrix.size_with_quiet_zone
    # One byte per module (0 dark, 255 light), quiet zone included, then scaled without smoothing.
    light = [255] * side
    pixels = bytearray()
    for _ in range(QUIET_ZONE_MODULES):
        pixels.extend(light)
    for row in matrix.rows:
        pixels.extend([255] * QUIET_ZONE_MODULES)
        pixels.extend(0 if dark else 255 for dark in row)
        pixels.extend([255] * QUIET_ZONE_MODULES)
    for _ in range(QUIET_ZONE_MODULES):
        pixels.extend(light)
    image = Image.frombytes("L", (side, side), bytes(pixels))
    image = image.resize((side * scale, side * scale), Image.Resampling.NEAREST).convert("1", dither=None)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()


def _dark_runs(matrix: QrMatrix) -> list[str]:
    """SVG path commands, one rectangle per horizontal run of dark modules (in module units)."""
    commands = []
    for y, row in enumerate(matrix.rows, start=QUIET_ZONE_MODULES):
        x = 0
        while x < matrix.size:
            if not row[x]:
                x += 1
                continue
            start = x
            while x < matrix.size and row[x]:
                x += 1
            commands.append(f"M{start + QUIET_ZONE_MODULES} {y}h{x - start}v1h-{x - start}z")
    return commands


def qr_svg(data: str, *, size_px: int | None = None, error_correction: str = "M") -> bytes:
    """An SVG of ``data``: one module is one user unit, scalable for print without loss.

    ``size_px`` sets the displayed width and height; without it the SVG has
    only its viewBox and takes the size of the box it is placed in.
    """
    matrix = qr_matrix(data, error_correction)
    side = matrix.size_with_quiet_zone
    if size_px is not None and size_px < side:
        raise QrSizeError(size_px, side)
    size = f' width="{size_px}" height="{size_px}"' if size_px is not None else ""
    svg = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<svg xmlns="http://www.w3.org/2000/svg" version="1.1" viewBox="0 0 {side} {side}"{size} '
        'shape-rendering="crispEdges">'
        f'<rect x="0" y="0" width="{side}" height="{side}" fill="#ffffff"/>'
        f'<path fill="#000000" d="{"".join(_dark_runs(matrix))}"/>'
        "</svg>\n"
    )
    return svg.encode()


def image_tag(data: str, image_format: str, *, size_px: int | None, error_correction: str) -> str:
    """A strong validator of the image these options give: a hash of the data and every option."""
    key = "\n".join((RENDERER_VERSION, image_format, str(size_px), error_correction, data))
    return hashlib.sha256(key.encode()).hexdigest()[:32]
