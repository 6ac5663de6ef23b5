"""QR symbols for label sheets: zxing-cpp's C++ encoder, drawn as PDF vector paths.

A sheet of 10,000 serial labels needs 10,000 different symbols. ``qrcode``
(the single-image path in ``labels.qr``) spends about 6 ms on each in pure
Python, most of it trying the eight masks; zxing-cpp's encoder does the same
work, mask choice included, in about 0.2 ms and also picks the smallest
symbol by switching between alphanumeric and byte segments, so a Digital
Link often fits one version smaller (bigger modules on the same label).

The symbol is drawn as vector squares, one per dark module, in module units
under a single transformation and filled as one path (so no hairline shows
between neighbours): sharp at any printer resolution, unlike a bitmap that a
viewer may smooth. The operators are picked from a table per symbol size by
``itertools.compress`` over the module bytes, without a Python loop per
module: merging runs in Python cost as much as encoding. Everything here is
plain data (bytes and strings), so chunks can be encoded in worker processes.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from itertools import compress

import zxingcpp

ERROR_CORRECTION_LEVELS = ("M", "H")
_DARK_AS_ONE = bytes([1] + [0] * 255)  # zxing-cpp gives 0 for a dark module, 255 for a light one


@dataclass(frozen=True)
class Symbol:
    """A QR symbol without its quiet zone: ``size`` modules a side, and its dark modules as PDF operators."""

    size: int
    path: str  # "x y 1 1 re" per dark module, x and y in modules from the top left corner


def encode(data: str, error_correction: str = "M") -> Symbol:
    """The smallest QR symbol holding ``data`` (an ASCII URL) at error correction M or H."""
    if error_correction not in ERROR_CORRECTION_LEVELS:
        raise ValueError(f"error correction must be one of {', '.join(ERROR_CORRECTION_LEVELS)}")
    if not data.isascii():
        # Public URLs are percent-encoded; anything else would need an ECI that some phones ignore.
        raise ValueError("QR label data must be ASCII (a percent-encoded URL)")
    barcode = zxingcpp.create_barcode(data, zxingcpp.BarcodeFormat.QRCode, ec_level=error_correction)
    image = barcode.to_image(scale=1, add_quiet_zones=False)
    size = image.shape[0]
    # zxing-cpp's stub leaves out that Image has the buffer protocol (it does, one byte per pixel).
    dark = bytes(memoryview(image)).translate(_DARK_AS_ONE)  # type: ignore[arg-type]
    return Symbol(size=size, path="\n".join(compress(_module_squares(size), dark)))


@cache
def _module_squares(size: int) -> list[str]:
    """The square of every module of a ``size`` symbol as a PDF path operator, row by row."""
    return [f"{x} {y} 1 1 re" for y in range(size) for x in range(size)]


def encode_many(urls: list[str], error_correction: str) -> list[Symbol]:
    """``encode`` for a chunk of URLs (the unit of work a worker process gets)."""
    return [encode(url, error_correction) for url in urls]
