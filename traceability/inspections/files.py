"""Inspection photos on disk: private, stored through uploads.store_image, gone if the transaction fails.

A photo's files are written before the row that names them; if the
transaction then rolls back (a refusal further on, a failed flush or commit),
the files are removed when it ends, so a failed request leaves nothing behind.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from pathlib import Path

from flask import current_app
from flask_babel import lazy_gettext as _l

from traceability.core.errors import InvalidInput
from traceability.core.transactions import on_rollback
from traceability.core.uploads import StoredImage, UploadRejected, remove, store_image
from traceability.models.inspections import InspectionPhoto
from traceability.registry.product_images import upload_message


def folder() -> Path:
    """Where inspection photos live: private, never under the public media folder."""
    return Path(current_app.config["UPLOAD_FOLDER"]) / "inspections"


def store(data: bytes, field: str) -> StoredImage:
    """Re-encode an uploaded photo with its thumbnail, or refuse it saying why on ``field``."""
    max_bytes = current_app.config["MAX_IMAGE_BYTES"]
    try:
        stored = store_image(data, folder(), max_bytes=max_bytes)
    except UploadRejected as rejected:
        message = upload_message(rejected.reason, max_bytes, rejected.limit)
        raise InvalidInput(
            _l("The photo was not saved: %(reason)s", reason=message), {field: message}
        ) from None
    on_rollback(partial(remove, folder(), stored.filename, stored.thumbnail_filename))
    return stored


@dataclass(frozen=True)
class PhotoFile:
    path: Path
    download_name: str


def photo_file(photo: InspectionPhoto, *, thumbnail: bool = False) -> PhotoFile | None:
    """Where a photo's JPEG is on disk, or None when the file is missing."""
    name = photo.thumbnail_filename if thumbnail else photo.filename
    path = folder() / name
    if not path.is_file():
        current_app.logger.warning("inspection photo %s is missing on disk", name)
        return None
    suffix = "-thumbnail" if thumbnail else ""
    return PhotoFile(path, f"inspection-{photo.inspection_id}-photo-{photo.id}{suffix}.jpg")
