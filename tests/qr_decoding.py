"""Reading QR images back as a phone would: zxing-cpp on the PNG, or on the SVG drawn to pixels.

No SVG rasteriser ships with the test dependencies, so ``rasterise_svg``
draws the SVG's rectangles and the rectangles of its paths (closed
subpaths of ``M``, ``H``, ``V`` moves, absolute or relative: what QR SVGs are
made of) with Pillow, at a whole number of pixels per user unit, after
checking the document is well-formed XML.
"""

from __future__ import annotations

import io
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass

import zxingcpp
from PIL import Image, ImageDraw

SVG_NS = "{http://www.w3.org/2000/svg}"
PATH_TOKEN = re.compile(r"([MmHhVvZz])|(-?\d+(?:\.\d+)?)")


@dataclass(frozen=True)
class ReadCode:
    """What a decoder read from an image, and how the symbol sits in it."""

    text: str
    ec_level: str
    version: int
    quiet_zone_modules: tuple[float, float, float, float]  # left, top, right, bottom
    module_px: float


def rasterise_svg(svg: bytes, pixels_per_unit: int = 8) -> Image.Image:
    """The SVG drawn black on white, ``pixels_per_unit`` pixels per viewBox unit."""
    root = ET.fromstring(svg)
    assert root.tag == f"{SVG_NS}svg", root.tag
    _, _, width, height = (float(v) for v in root.attrib["viewBox"].split())
    image = Image.new("L", (round(width * pixels_per_unit), round(height * pixels_per_unit)), 255)
    draw = ImageDraw.Draw(image)

    def fill(element: ET.Element) -> int:
        colour = element.attrib.get("fill", "#000000").lower()
        return 255 if colour in ("#fff", "#ffffff", "white", "none") else 0

    def box(x: float, y: float, w: float, h: float, colour: int) -> None:
        draw.rectangle(
            [
                x * pixels_per_unit,
                y * pixels_per_unit,
                (x + w) * pixels_per_unit - 1,
                (y + h) * pixels_per_unit - 1,
            ],
            fill=colour,
        )

    for element in root.iter():
        if element.tag == f"{SVG_NS}rect":
            a = element.attrib
            box(
                float(a.get("x", 0)),
                float(a.get("y", 0)),
                float(a["width"]),
                float(a["height"]),
                fill(element),
            )
        elif element.tag == f"{SVG_NS}path":
            for left, top, right, bottom in path_rectangles(element.attrib["d"]):
                box(left, top, right - left, bottom - top, fill(element))
    return image


def path_rectangles(d: str) -> list[tuple[float, float, float, float]]:
    """The rectangles (left, top, right, bottom) a path of closed axis-aligned subpaths draws."""
    tokens = [t[0] or float(t[1]) for t in PATH_TOKEN.findall(d)]
    rectangles, corners = [], []
    x = y = 0.0
    command = None
    index = 0
    while index < len(tokens):
        if isinstance(tokens[index], str):
            command = tokens[index]
            index += 1
            if command in "Zz":
                xs, ys = {cx for cx, _ in corners}, {cy for _, cy in corners}
                assert len(xs) == 2 and len(ys) == 2, f"not a rectangle: {corners}"
                rectangles.append((min(xs), min(ys), max(xs), max(ys)))
                x, y = corners[0]
                corners = []
            continue
        if command in "Mm":
            dx, dy = tokens[index], tokens[index + 1]
            x, y = (x + dx, y + dy) if command == "m" else (dx, dy)
            index += 2
        elif command in "Hh":
            x = x + tokens[index] if command == "h" else tokens[index]
            index += 1
        elif command in "Vv":
            y = y + tokens[index] if command == "v" else tokens[index]
            index += 1
        else:
            raise AssertionError(f"unexpected path command {command!r}")
        corners.append((x, y))
    return rectangles


def read_one(image: Image.Image) -> ReadCode:
    """The one QR code in ``image``, with its quiet zone measured in modules on each side."""
    barcodes = zxingcpp.read_barcodes(image)
    assert len(barcodes) == 1, f"expected one QR code, zxing-cpp found {len(barcodes)}"
    barcode = barcodes[0]
    assert barcode.format == zxingcpp.BarcodeFormat.QRCode
    version = int(barcode.extra["Version"])
    grey = image.convert("L")
    width, height = grey.size
    pixels = grey.load()
    dark = [[pixels[x, y] < 128 for x in range(width)] for y in range(height)]
    rows = [y for y in range(height) if any(dark[y])]
    columns = [x for x in range(width) if any(dark[y][x] for y in rows)]
    top, bottom, left, right = rows[0], rows[-1], columns[0], columns[-1]
    module_px = (right - left + 1) / (17 + 4 * version)
    quiet = (
        left / module_px,
        top / module_px,
        (width - 1 - right) / module_px,
        (height - 1 - bottom) / module_px,
    )
    return ReadCode(barcode.text, barcode.ec_level, version, quiet, module_px)


def read_png(png: bytes) -> ReadCode:
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    return read_one(Image.open(io.BytesIO(png)))


def read_svg(svg: bytes) -> ReadCode:
    return read_one(rasterise_svg(svg))
