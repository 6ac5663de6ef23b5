"""Storing uploaded images and documents: type by content, size limits, random names.

Flask-free: callers pass the bytes and the folder. Images are public once
stored, so they are re-encoded from their pixels only: no EXIF (GPS
included), XMP, JPEG comment or ICC profile is carried over, and colours in
another profile (Adobe RGB, Display P3) are converted to sRGB first, which is
what a browser assumes of an image without one. Decoding is bounded: the
pixel count is read from the header before anything is decoded, a JPEG is
decoded at the smallest DCT scale that still covers the stored size, and the
image is decoded once and shrunk before any full-size copy is made.
Documents are kept byte for byte with their SHA-256.
"""

from __future__ import annotations

import hashlib
import io
import math
import secrets
import warnings
from dataclasses import dataclass
from pathlib import Path

from flask import current_app
from PIL import Image, ImageCms, ImageOps, UnidentifiedImageError

MAX_IMAGE_PIXELS = 40_000_000  # a 40-megapixel photo; more is refused as a decompression bomb
# PNG and WebP can't be decoded at a reduced scale as a JPEG can (``draft``), and a
# few KB of either can hold a 40-megapixel RGBA image: 160 MB decoded, and as much
# again to flatten it. Their bound is lower: 16 megapixels, at most 64 MB decoded.
MAX_FULL_DECODE_PIXELS = 16_000_000
IMAGE_MAX_SIDE = 1600
THUMBNAIL_SIDE = 400

CONTENT_TYPES = {
    "pdf": "application/pdf",
    "png": "image/png",
    "jpeg": "image/jpeg",
    "webp": "image/webp",
}
IMAGE_KINDS = ("png", "jpeg", "webp")
DOCUMENT_KINDS = ("pdf", *IMAGE_KINDS)


class UploadRejected(ValueError):
    """An upload refused; ``reason`` is one of: empty, too_large, type, damaged, too_many_pixels.

    ``limit`` is the pixel count the image went over (``too_many_pixels``).
    """

    def __init__(self, reason: str, *, limit: int | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.limit = limit


@dataclass(frozen=True)
class StoredDocument:
    filename: str
    sha256: str
    content_type: str
    size: int


@dataclass(frozen=True)
class StoredImage:
    filename: str
    thumbnail_filename: str
    width: int
    height: int
    sha256: str


def sniff(data: bytes) -> str | None:
    """The kind of file by its first bytes (never by its name): pdf, png, jpeg, webp or None."""
    if data.startswith(b"%PDF-"):
        return "pdf"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if data.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    return None


def _check(data: bytes, kinds: tuple[str, ...], max_bytes: int) -> str:
    if not data:
        raise UploadRejected("empty")
    if len(data) > max_bytes:
        raise UploadRejected("too_large")
    kind = sniff(data)
    if kind not in kinds:
        raise UploadRejected("type")
    return kind


def _random_name(extension: str) -> str:
    return f"{secrets.token_hex(16)}.{extension}"


def images_folder() -> Path:
    """Where public images live (product images, logos, event photos and their thumbnails): ``/media/<name>``."""
    return Path(current_app.config["UPLOAD_FOLDER"]) / "images"


def store_document(data: bytes, folder: Path, *, max_bytes: int) -> StoredDocument:
    """Keep a PDF or image document unchanged under a random name."""
    kind = _check(data, DOCUMENT_KINDS, max_bytes)
    if kind != "pdf":
        _open_image(data)  # a document that claims to be an image must be one
    folder.mkdir(parents=True, exist_ok=True)
    filename = _random_name("pdf" if kind == "pdf" else "jpg" if kind == "jpeg" else kind)
    (folder / filename).write_bytes(data)
    return StoredDocument(filename, hashlib.sha256(data).hexdigest(), CONTENT_TYPES[kind], len(data))


def _open_image(data: bytes, fits: int = THUMBNAIL_SIDE) -> Image.Image:
    """The image decoded once, no larger than needed to cover ``fits`` pixels on its longer side.

    ``Image.open`` reads only the header: the pixel count is checked before
    any pixel is decoded. A JPEG is decoded at 1/2, 1/4 or 1/8 scale when that
    still covers ``fits`` (``draft``); other formats decode at full size, which
    ``MAX_FULL_DECODE_PIXELS`` bounds.
    """
    with warnings.catch_warnings():
        # Pillow warns above its own limit and raises only at twice that.
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            image = Image.open(io.BytesIO(data))
            pixels = image.width * image.height
            if pixels > MAX_IMAGE_PIXELS:
                raise UploadRejected("too_many_pixels", limit=MAX_IMAGE_PIXELS)
            if image.format != "JPEG" and pixels > MAX_FULL_DECODE_PIXELS:
                raise UploadRejected("too_many_pixels", limit=MAX_FULL_DECODE_PIXELS)
            if image.format == "JPEG":
                ratio = min(1.0, fits / max(image.size))
                image.draft(None, (math.ceil(image.width * ratio), math.ceil(image.height * ratio)))
            image.load()
        except UploadRejected:
            raise
        except (Image.DecompressionBombWarning, Image.DecompressionBombError) as error:
            raise UploadRejected("too_many_pixels", limit=MAX_IMAGE_PIXELS) from error
        except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError) as error:
            raise UploadRejected("damaged") from error
    return image


def _shrink(image: Image.Image, side: int) -> Image.Image:
    """Cheaply down to between ``side`` and twice it on the longer side, before any full-size copy."""
    factor = max(image.size) // side
    if factor < 2:
        return image
    try:
        return image.reduce(factor)  # a box filter, fast; the final resize is Lanczos
    except ValueError:  # palette and bilevel modes can't be averaged: pick pixels
        size = (max(1, image.width // factor), max(1, image.height // factor))
        return image.resize(size, Image.Resampling.NEAREST)


SRGB = ImageCms.createProfile("sRGB")


def _to_srgb(image: Image.Image) -> Image.Image:
    """RGB in sRGB, transparency flattened onto white, colours converted from the embedded profile."""
    profile = image.info.get("icc_profile")
    if image.mode in ("RGBA", "LA", "PA", "P") or "transparency" in image.info:
        image = image.convert("RGBA")
        background = Image.new("RGB", image.size, "white")
        background.paste(image, mask=image.getchannel("A"))
        image = background
    if profile:
        try:
            source = ImageCms.ImageCmsProfile(io.BytesIO(profile))
            converted = ImageCms.profileToProfile(image, source, SRGB, outputMode="RGB")
        except (ImageCms.PyCMSError, OSError, ValueError, TypeError):
            converted = None  # a broken profile, or one for another colour space: read as sRGB
        if converted is not None:
            return converted
    return image.convert("RGB")


def _pixels_only(image: Image.Image) -> Image.Image:
    """A new image holding nothing but ``image``'s pixels: no comment, EXIF, XMP or profile to carry over."""
    return Image.frombytes("RGB", image.size, image.tobytes())


def _save_jpeg(image: Image.Image, path: Path) -> None:
    # Saving copies ``info["comment"]`` into a COM segment: only ever save a _pixels_only image.
    image.save(path, format="JPEG", quality=85, optimize=True, progressive=True)


def store_image(data: bytes, folder: Path, *, max_bytes: int) -> StoredImage:
    """Re-encode an uploaded photo as JPEG at most 1600 px wide or high, with a 400 px thumbnail."""
    _check(data, IMAGE_KINDS, max_bytes)
    image = _open_image(data, IMAGE_MAX_SIDE)
    image = ImageOps.exif_transpose(_shrink(image, IMAGE_MAX_SIDE))  # reads the orientation, then drops it
    image = _to_srgb(image)
    image.thumbnail((IMAGE_MAX_SIDE, IMAGE_MAX_SIDE), Image.Resampling.LANCZOS)
    large = _pixels_only(image)
    thumbnail = large.copy()
    thumbnail.thumbnail((THUMBNAIL_SIDE, THUMBNAIL_SIDE), Image.Resampling.LANCZOS)
    folder.mkdir(parents=True, exist_ok=True)
    filename, thumbnail_filename = _random_name("jpg"), _random_name("jpg")
    _save_jpeg(large, folder / filename)
    _save_jpeg(thumbnail, folder / thumbnail_filename)
    return StoredImage(
        filename, thumbnail_filename, large.width, large.height, hashlib.sha256(data).hexdigest()
    )


def remove(folder: Path, *filenames: str | None) -> None:
    """Delete stored files (after a failed request, so nothing half-written stays)."""
    for filename in filenames:
        if filename:
            (folder / filename).unlink(missing_ok=True)
