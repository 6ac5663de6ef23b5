"""Pictures of the demo products, drawn with Pillow at seed time: nothing is downloaded.

Each picture is an illustration of its category (a coffee pouch with beans, a
honey jar, a rice sack, a fruit, a basket...) on a soft gradient, with the
brand on the package. Drawn at twice the size and scaled down, which smooths
the edges Pillow draws without anti-aliasing. The same product always gets
the same picture (its name seeds the details).
"""

from __future__ import annotations

import functools
import io
import random
import zlib
from collections.abc import Callable

from PIL import Image, ImageChops, ImageDraw, ImageFilter, ImageFont

from traceability.labels import FONT_FOLDER
from traceability.public.placeholders import category_icon

SIZE = 640
SCALE = 2
Colour = tuple[int, int, int]

# The background's two colours and the object's main colour per icon.
PALETTES: dict[str, tuple[Colour, Colour, Colour]] = {
    "coffee": ((247, 238, 226), (214, 186, 156), (150, 104, 62)),
    "honey": ((255, 247, 222), (246, 206, 120), (236, 160, 30)),
    "tea": ((238, 246, 230), (186, 216, 164), (70, 140, 60)),
    "rice": ((251, 247, 232), (230, 214, 160), (214, 190, 120)),
    "pepper": ((243, 239, 233), (210, 198, 180), (60, 60, 60)),
    "fruit": ((255, 240, 228), (246, 196, 160), (232, 120, 50)),
    "handicraft": ((243, 237, 228), (214, 192, 160), (170, 116, 58)),
    "bottle": ((232, 242, 244), (176, 208, 216), (176, 100, 34)),
    "package": ((236, 243, 238), (196, 216, 204), (80, 130, 98)),
}


def _mix(a: Colour, b: Colour, t: float) -> Colour:
    return tuple(round(x + (y - x) * t) for x, y in zip(a, b, strict=True))  # type: ignore[return-value]


def _shade(colour: Colour, factor: float) -> Colour:
    return tuple(max(0, min(255, round(c * factor))) for c in colour)  # type: ignore[return-value]


def _background(top: Colour, bottom: Colour, size: int) -> Image.Image:
    """A diagonal gradient with a soft light from the upper left (drawn small, then scaled: it is smooth)."""
    small = 64
    ramp = Image.linear_gradient("L").resize((small, small))
    diagonal = ImageChops.add(ramp, ramp.rotate(90), scale=2)
    image = Image.composite(
        Image.new("RGB", (small, small), top), Image.new("RGB", (small, small), bottom), diagonal
    )
    light = Image.radial_gradient("L").resize((small, small)).point(lambda v: max(0, 200 - v) * 70 // 200)
    light = ImageChops.offset(light, -small // 4, -small // 4)
    image = Image.composite(Image.new("RGB", (small, small), (255, 255, 255)), image, light)
    return image.resize((size, size), Image.Resampling.BICUBIC)


def _shadow(image: Image.Image, box: tuple[int, int, int, int]) -> None:
    """A blurred ground shadow under the object."""
    mask = Image.new("L", image.size, 0)
    ImageDraw.Draw(mask).ellipse(box, fill=90)
    mask = mask.filter(ImageFilter.GaussianBlur(image.size[0] // 40))
    image.paste(Image.new("RGB", image.size, (60, 50, 40)), (0, 0), mask)


def _vertical_fill(image: Image.Image, mask: Image.Image, top: Colour, bottom: Colour) -> None:
    """Paint ``mask``'s shape with a top-to-bottom gradient."""
    gradient = Image.linear_gradient("L").resize(image.size)
    fill = Image.composite(Image.new("RGB", image.size, bottom), Image.new("RGB", image.size, top), gradient)
    image.paste(fill, (0, 0), mask)


def _font(size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(FONT_FOLDER / "DejaVuSans-Bold.ttf"), size)


def _label(draw: ImageDraw.ImageDraw, box: tuple[int, int, int, int], text: str, colour: Colour) -> None:
    """A cream label with the brand centred on it."""
    x0, y0, x1, y1 = box
    draw.rounded_rectangle(
        box, radius=(y1 - y0) // 6, fill=(253, 248, 236), outline=_shade(colour, 0.7), width=6
    )
    size = (y1 - y0) // 3
    font = _font(size)
    while size > 12 and draw.textlength(text, font=font) > (x1 - x0) * 0.86:
        size -= 4
        font = _font(size)
    draw.text(((x0 + x1) / 2, (y0 + y1) / 2), text, font=font, fill=_shade(colour, 0.55), anchor="mm")


def _pouch(image: Image.Image, colour: Colour, brand: str, rng: random.Random, beans: bool) -> None:
    """A stand-up pouch (coffee, tea, pepper, generic goods) with a label, and beans or leaves before it."""
    s = image.size[0]
    _shadow(image, (s * 22 // 100, s * 78 // 100, s * 78 // 100, s * 90 // 100))
    mask = Image.new("L", image.size, 0)
    outline = [
        (s * 30 // 100, s * 20 // 100),
        (s * 70 // 100, s * 20 // 100),
        (s * 74 // 100, s * 84 // 100),
        (s * 26 // 100, s * 84 // 100),
    ]
    ImageDraw.Draw(mask).polygon(outline, fill=255)
    _vertical_fill(image, mask, _shade(colour, 1.2), _shade(colour, 0.8))
    draw = ImageDraw.Draw(image)
    draw.rectangle((s * 30 // 100, s * 20 // 100, s * 70 // 100, s * 25 // 100), fill=_shade(colour, 0.65))
    draw.line(
        (s * 33 // 100, s * 28 // 100, s * 67 // 100, s * 28 // 100), fill=_shade(colour, 0.7), width=s // 200
    )
    _label(draw, (s * 34 // 100, s * 42 // 100, s * 66 // 100, s * 60 // 100), brand, colour)
    if beans:
        for _ in range(9):
            x = rng.randint(s * 18 // 100, s * 82 // 100)
            y = rng.randint(s * 82 // 100, s * 90 // 100)
            w, h = s // 22, s // 30
            box = (x - w, y - h, x + w, y + h)
            draw.ellipse(box, fill=_shade(colour, 0.45), outline=_shade(colour, 0.3), width=3)
            draw.arc((x - w // 2, y - h, x + w // 2, y + h), 270, 90, fill=_shade(colour, 0.75), width=4)


def _jar(image: Image.Image, colour: Colour, brand: str, rng: random.Random, bottle: bool) -> None:
    """A honey jar, or a tall bottle (fish sauce, essential oil, drinks)."""
    s = image.size[0]
    _shadow(image, (s * 28 // 100, s * 80 // 100, s * 72 // 100, s * 90 // 100))
    mask = Image.new("L", image.size, 0)
    shape = ImageDraw.Draw(mask)
    if bottle:
        shape.rounded_rectangle(
            (s * 36 // 100, s * 36 // 100, s * 64 // 100, s * 86 // 100), radius=s // 25, fill=255
        )
        shape.polygon(
            [
                (s * 36 // 100, s * 40 // 100),
                (s * 45 // 100, s * 24 // 100),
                (s * 55 // 100, s * 24 // 100),
                (s * 64 // 100, s * 40 // 100),
            ],
            fill=255,
        )
        shape.rectangle((s * 45 // 100, s * 14 // 100, s * 55 // 100, s * 26 // 100), fill=255)
        cap = (s * 44 // 100, s * 10 // 100, s * 56 // 100, s * 16 // 100)
        label = (s * 38 // 100, s * 54 // 100, s * 62 // 100, s * 72 // 100)
    else:
        shape.rounded_rectangle(
            (s * 28 // 100, s * 34 // 100, s * 72 // 100, s * 86 // 100), radius=s // 12, fill=255
        )
        cap = (s * 30 // 100, s * 24 // 100, s * 70 // 100, s * 35 // 100)
        label = (s * 33 // 100, s * 52 // 100, s * 67 // 100, s * 70 // 100)
    _vertical_fill(image, mask, _shade(colour, 1.25), _shade(colour, 0.75))
    draw = ImageDraw.Draw(image)
    draw.rounded_rectangle(cap, radius=s // 80, fill=(90, 62, 30) if not bottle else (50, 60, 64))
    # A highlight down the glass.
    highlight = Image.new("L", image.size, 0)
    ImageDraw.Draw(highlight).rounded_rectangle(
        (label[0] - s // 40, label[1] - s // 6, label[0], label[3] + s // 12), radius=s // 80, fill=110
    )
    image.paste(
        Image.new("RGB", image.size, (255, 255, 255)),
        (0, 0),
        highlight.filter(ImageFilter.GaussianBlur(s // 120)),
    )
    _label(draw, label, brand, colour)


def _sack(image: Image.Image, colour: Colour, brand: str, rng: random.Random) -> None:
    """A tied rice sack with grains spilt before it."""
    s = image.size[0]
    _shadow(image, (s * 20 // 100, s * 80 // 100, s * 80 // 100, s * 92 // 100))
    mask = Image.new("L", image.size, 0)
    shape = ImageDraw.Draw(mask)
    shape.rounded_rectangle(
        (s * 26 // 100, s * 32 // 100, s * 74 // 100, s * 86 // 100), radius=s // 10, fill=255
    )
    shape.polygon(
        [
            (s * 34 // 100, s * 34 // 100),
            (s * 40 // 100, s * 18 // 100),
            (s * 60 // 100, s * 18 // 100),
            (s * 66 // 100, s * 34 // 100),
        ],
        fill=255,
    )
    _vertical_fill(image, mask, _shade(colour, 1.2), _shade(colour, 0.82))
    draw = ImageDraw.Draw(image)
    draw.line((s * 40 // 100, s * 30 // 100, s * 60 // 100, s * 30 // 100), fill=(120, 80, 40), width=s // 60)
    _label(draw, (s * 32 // 100, s * 50 // 100, s * 68 // 100, s * 68 // 100), brand, colour)
    for _ in range(40):
        x = rng.randint(s * 16 // 100, s * 84 // 100)
        y = rng.randint(s * 86 // 100, s * 93 // 100)
        draw.ellipse(
            (x - s // 120, y - s // 200, x + s // 120, y + s // 200),
            fill=(250, 246, 230),
            outline=(200, 190, 160),
        )


def _fruit(image: Image.Image, colour: Colour, brand: str, rng: random.Random) -> None:
    """Two round fruits with a leaf, lit from the upper left."""
    s = image.size[0]
    _shadow(image, (s * 18 // 100, s * 76 // 100, s * 84 // 100, s * 90 // 100))
    for cx, cy, r, tint in (
        (s * 40 // 100, s * 56 // 100, s * 24 // 100, 1.0),
        (s * 64 // 100, s * 62 // 100, s * 19 // 100, 0.9),
    ):
        mask = Image.new("L", image.size, 0)
        ImageDraw.Draw(mask).ellipse((cx - r, cy - r, cx + r, cy + r), fill=255)
        _vertical_fill(image, mask, _shade(colour, 1.25 * tint), _shade(colour, 0.7 * tint))
        shine = Image.new("L", image.size, 0)
        ImageDraw.Draw(shine).ellipse(
            (cx - r * 6 // 10, cy - r * 7 // 10, cx - r * 2 // 10, cy - r * 2 // 10), fill=120
        )
        image.paste(
            Image.new("RGB", image.size, (255, 255, 255)),
            (0, 0),
            shine.filter(ImageFilter.GaussianBlur(s // 60)),
        )
    draw = ImageDraw.Draw(image)
    draw.line((s * 40 // 100, s * 33 // 100, s * 43 // 100, s * 24 // 100), fill=(100, 70, 40), width=s // 70)
    draw.ellipse((s * 43 // 100, s * 20 // 100, s * 60 // 100, s * 30 // 100), fill=(80, 150, 60))
    draw.line(
        (s * 44 // 100, s * 25 // 100, s * 59 // 100, s * 25 // 100), fill=(60, 120, 45), width=s // 200
    )
    _label(draw, (s * 30 // 100, s * 86 // 100, s * 70 // 100, s * 96 // 100), brand, colour)


def _basket(image: Image.Image, colour: Colour, brand: str, rng: random.Random) -> None:
    """A woven basket with its handle."""
    s = image.size[0]
    _shadow(image, (s * 18 // 100, s * 78 // 100, s * 82 // 100, s * 90 // 100))
    draw = ImageDraw.Draw(image)
    draw.arc(
        (s * 28 // 100, s * 22 // 100, s * 72 // 100, s * 70 // 100),
        180,
        360,
        fill=_shade(colour, 0.6),
        width=s // 40,
    )
    mask = Image.new("L", image.size, 0)
    ImageDraw.Draw(mask).polygon(
        [
            (s * 20 // 100, s * 46 // 100),
            (s * 80 // 100, s * 46 // 100),
            (s * 72 // 100, s * 84 // 100),
            (s * 28 // 100, s * 84 // 100),
        ],
        fill=255,
    )
    _vertical_fill(image, mask, _shade(colour, 1.2), _shade(colour, 0.75))
    for row in range(5):
        y = s * (52 + row * 7) // 100
        draw.line((s * 22 // 100, y, s * 78 // 100, y), fill=_shade(colour, 1.35), width=s // 150)
    for column in range(7):
        x = s * (28 + column * 7) // 100
        draw.line((x, s * 47 // 100, x + s // 60, s * 83 // 100), fill=_shade(colour, 0.6), width=s // 200)
    _label(draw, (s * 34 // 100, s * 86 // 100, s * 66 // 100, s * 95 // 100), brand, colour)


DRAWERS: dict[str, Callable[[Image.Image, Colour, str, random.Random], None]] = {
    "coffee": lambda image, colour, brand, rng: _pouch(image, colour, brand, rng, beans=True),
    "tea": lambda image, colour, brand, rng: _pouch(image, colour, brand, rng, beans=False),
    "pepper": lambda image, colour, brand, rng: _pouch(image, (120, 84, 50), brand, rng, beans=True),
    "package": lambda image, colour, brand, rng: _pouch(image, colour, brand, rng, beans=False),
    "honey": lambda image, colour, brand, rng: _jar(image, colour, brand, rng, bottle=False),
    "bottle": lambda image, colour, brand, rng: _jar(image, colour, brand, rng, bottle=True),
    "rice": _sack,
    "fruit": _fruit,
    "handicraft": _basket,
}


@functools.lru_cache(maxsize=64)  # the demo is seeded again and again in the tests: draw each picture once
def product_picture(name: str, category: str, brand: str = "") -> bytes:
    """A PNG illustration of a product of ``category``, with ``brand`` (else the name's start) on it."""
    icon = category_icon(category)
    top, bottom, colour = PALETTES[icon]
    rng = random.Random(zlib.crc32(name.encode()))  # noqa: S311 - the details of a picture, not a secret
    # A little variety between products of one category.
    colour = _shade(colour, rng.uniform(0.9, 1.1))
    canvas = _background(top, bottom, SIZE * SCALE)
    DRAWERS[icon](canvas, colour, (brand or " ".join(name.split()[:3]))[:24], rng)
    buffer = io.BytesIO()
    canvas.resize((SIZE, SIZE), Image.Resampling.LANCZOS).save(buffer, "PNG", optimize=False)
    return buffer.getvalue()
