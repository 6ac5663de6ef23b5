"""Storing uploaded images and documents: type by content, size limits, random names.

Flask-free: callers pass the bytes and the folder. Images are re-encoded with
Pillow (which drops EXIF, GPS included) into a resized copy and a thumbnail;
documents are kept byte for byte with their SHA-256.
"""

from __future__ import annotations

import hashlib
import io
import secrets
import warnings
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageOps, UnidentifiedImageError

MAX_IMAGE_PIXELS = 40_000_000  # a 40-megapixel photo; more is refused as a decompression bomb
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
    """An upload refused; ``reason`` is one of: empty, too_large, type, damaged, too_many_pixels."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


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


def store_document(data: bytes, folder: Path, *, max_bytes: int) -> StoredDocument:
    """Keep a PDF or image document unchanged under a random name."""
    kind = _check(data, DOCUMENT_KINDS, max_bytes)
    if kind != "pdf":
        _open_image(data)  # a document that claims to be an image must be one
    folder.mkdir(parents=True, exist_ok=True)
    filename = _random_name("pdf" if kind == "pdf" else "jpg" if kind == "jpeg" else kind)
    (folder / filename).write_bytes(data)
    return StoredDocument(filename, hashlib.sha256(data).hexdigest(), CONTENT_TYPES[kind], len(data))


def _open_image(data: bytes) -> Image.Image:
    with warnings.catch_warnings():
        # Pillow warns above MAX_IMAGE_PIXELS and raises only at twice that.
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            with Image.open(io.BytesIO(data)) as probe:
                if probe.width * probe.height > MAX_IMAGE_PIXELS:
                    raise UploadRejected("too_many_pixels")
                probe.verify()
            image = Image.open(io.BytesIO(data))
            image.load()
        except (Image.DecompressionBombWarning, Image.DecompressionBombError) as error:
            raise UploadRejected("too_many_pixels") from error
        except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as error:
            raise UploadRejected("damaged") from error
    return image


def _flatten(image: Image.Image) -> Image.Image:
    image = ImageOps.exif_transpose(image)
    if image.mode in ("RGBA", "LA", "P"):
        image = image.convert("RGBA")
        background = Image.new("RGB", image.size, "white")
        background.paste(image, mask=image.getchannel("A"))
        return background
    return image.convert("RGB")


def _save_jpeg(image: Image.Image, path: Path) -> None:
    image.save(path, format="JPEG", quality=85, optimize=True, progressive=True)


def store_image(data: bytes, folder: Path, *, max_bytes: int) -> StoredImage:
    """Re-encode an uploaded photo as JPEG at most 1600 px wide or high, with a 400 px thumbnail."""
    _check(data, IMAGE_KINDS, max_bytes)
    image = _flatten(_open_image(data))
    folder.mkdir(parents=True, exist_ok=True)
    large = image.copy()
    large.thumbnail((IMAGE_MAX_SIDE, IMAGE_MAX_SIDE), Image.Resampling.LANCZOS)
    thumbnail = image.copy()
    thumbnail.thumbnail((THUMBNAIL_SIDE, THUMBNAIL_SIDE), Image.Resampling.LANCZOS)
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
