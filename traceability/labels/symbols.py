"""QR symbols for label sheets: zxing-cpp's C++ encoder, drawn as PDF vector paths.

A sheet of 10,000 serial labels needs 10,000 different symbols. ``qrcode``
(the single-image path in ``labels.qr``) spends about 6 ms on each in pure
Python, most of it trying the eight masks; zxing-cpp's encoder does the same
work, mask choice included, in about 0.12 ms and also picks the smallest
symbol by switching between alphanumeric and byte segments, so a Digital
Link often fits one version smaller (bigger modules on the same label).

The symbol is drawn as vector rectangles in module units under a single
transformation and filled as one path (so no hairline shows between
neighbours): sharp at any printer resolution, unlike a bitmap that a viewer
may smooth (PDFium blurs a 1-bit image of a code at screen resolutions).
Each row is cut into blocks of four modules; a block's dark runs are one
rectangle each, looked up in a table per symbol size by the block's four
bits (``_block_paths``), so there is no Python loop per module or per run,
and a code takes about 40 % fewer operators than one square per dark module
(less to write and to compress). Everything here is plain data (bytes and
strings), so chunks can be encoded in worker processes.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from operator import getitem

import zxingcpp

ERROR_CORRECTION_LEVELS = ("M", "H")
BLOCK = 4  # modules a table entry covers: 16 patterns per block
_DARK_AS_ONE = bytes([1] + [0] * 255)  # zxing-cpp gives 0 for a dark module, 255 for a light one


@dataclass(frozen=True)
class Symbol:
    """A QR symbol without its quiet zone: ``size`` modules a side, and its dark modules as PDF operators."""

    size: int
    path: str  # "x y w 1 re" per dark run of a block, x and y in modules from the top left corner


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
    return Symbol(size=size, path="".join(map(getitem, _block_paths(size), _block_patterns(dark, size))))


def _block_patterns(dark: bytes, size: int) -> bytes:
    """One byte per block of ``BLOCK`` modules, row by row: its modules as bits, the leftmost highest.

    Rows are padded with light modules to whole blocks; the bits are gathered
    with whole-number arithmetic on the module bytes (0 or 1 each, so no carry
    crosses a byte), not a loop per module.
    """
    padding = -size % BLOCK
    if padding:
        light = bytes(padding)
        dark = light.join([dark[start : start + size] for start in range(0, size * size, size)]) + light
    patterns = 0
    for offset in range(BLOCK):
        patterns = (patterns << 1) | int.from_bytes(dark[offset::BLOCK], "big")
    return patterns.to_bytes(len(dark) // BLOCK, "big")


@cache
def _block_paths(size: int) -> list[tuple[str, ...]]:
    """For each block of a ``size`` symbol, row by row: the PDF operators of each of its 16 patterns."""
    blocks = -(-size // BLOCK)
    return [
        tuple(_runs(pattern, column * BLOCK, row) for pattern in range(1 << BLOCK))
        for row in range(size)
        for column in range(blocks)
    ]


def _runs(pattern: int, left: int, row: int) -> str:
    """``pattern``'s dark runs as rectangles (``x y w 1 re``), its leftmost module at ``left``."""
    operators = []
    start = None
    for bit in range(BLOCK + 1):
        dark = bit < BLOCK and pattern >> (BLOCK - 1 - bit) & 1
        if dark and start is None:
            start = bit
        elif not dark and start is not None:
            operators.append(f"{left + start} {row} {bit - start} 1 re\n")
            start = None
    return "".join(operators)


def encode_many(urls: list[str], error_correction: str) -> list[Symbol]:
    """``encode`` for a chunk of URLs (the unit of work a worker process gets)."""
    return [encode(url, error_correction) for url in urls]
