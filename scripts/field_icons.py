"""Draw the field app's icons (static/field/icons/) with Pillow: a leaf over a QR corner, on the site's green.

Run from the project root after changing the drawing; the PNGs are committed:

    .venv/bin/python scripts/field_icons.py

The drawing stays inside the middle 80 % of the square, so the same icon
serves as a maskable one (Android crops it to a circle or a rounded square).
"""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageChops, ImageDraw

GREEN = (11, 107, 58)
LEAF = (255, 255, 255)
VEIN = (11, 107, 58)
SIZES = (192, 512)
FOLDER = Path(__file__).resolve().parents[1] / "static" / "field" / "icons"
SUPERSAMPLE = 4  # drawn four times larger, then reduced: smooth edges without antialiasing support


def draw(size: int) -> Image.Image:
    big = size * SUPERSAMPLE
    image = Image.new("RGB", (big, big), GREEN)
    pen = ImageDraw.Draw(image)
    unit = big / 100  # the drawing in a 100 × 100 grid, inside the safe zone 10..90

    def box(x0: float, y0: float, x1: float, y1: float) -> tuple[float, float, float, float]:
        return (x0 * unit, y0 * unit, x1 * unit, y1 * unit)

    # A QR finder pattern, bottom left: what the app scans.
    pen.rectangle(box(20, 56, 44, 80), fill=LEAF)
    pen.rectangle(box(24, 60, 40, 76), fill=GREEN)
    pen.rectangle(box(28, 64, 36, 72), fill=LEAF)
    # A leaf, top right: what the producer grows. The lens where two circles overlap, along the
    # diagonal from (29, 79) to (91, 17) shrunk into the safe zone: tips 62 apart, 24 wide.
    middle, half_length, half_width = (60.0, 48.0), 31.0, 12.0
    offset = (half_length**2 - half_width**2) / (2 * half_width)  # centre to chord
    radius = offset + half_width
    normal = (2**-0.5, 2**-0.5)  # across the diagonal
    masks = []
    for side in (1, -1):
        centre_x, centre_y = middle[0] + side * offset * normal[0], middle[1] + side * offset * normal[1]
        mask = Image.new("1", (big, big), 0)
        ImageDraw.Draw(mask).ellipse(
            box(centre_x - radius, centre_y - radius, centre_x + radius, centre_y + radius), fill=1
        )
        masks.append(mask)
    leaf = ImageChops.logical_and(masks[0], masks[1])
    image.paste(LEAF, (0, 0), leaf.convert("L"))
    pen.line([(44 * unit, 64 * unit), (76 * unit, 32 * unit)], fill=VEIN, width=round(2.5 * unit))
    return image.resize((size, size), Image.Resampling.LANCZOS)


def main() -> None:
    FOLDER.mkdir(parents=True, exist_ok=True)
    for size in SIZES:
        path = FOLDER / f"icon-{size}.png"
        draw(size).save(path, optimize=True)
        print(f"{path.relative_to(FOLDER.parents[2])}: {path.stat().st_size} bytes")


if __name__ == "__main__":
    main()
