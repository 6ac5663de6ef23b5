"""Inspection photos on disk: private, stored through uploads.store_image, gone if the transaction fails.

A photo's files are written before the row that names them; if the
transaction then rolls back (a refusal further on, a failed flush or commit),
the files are removed when it ends, so a failed request leaves nothing behind.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction

from traceability.core.errors import InvalidInput
from traceability.core.extensions import db
from traceability.core.uploads import StoredImage, UploadRejected, remove, store_image
from traceability.models.inspections import InspectionPhoto
from traceability.registry.product_images import upload_message

_REMOVE_ON_ROLLBACK = "inspection_files_to_remove_on_rollback"


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
    session = db.session()
    session.info.setdefault(_REMOVE_ON_ROLLBACK, []).extend((stored.filename, stored.thumbnail_filename))
    return stored


@event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    if session.in_nested_transaction():
        return  # a savepoint released: the outer transaction may still roll back
    session.info.pop(_REMOVE_ON_ROLLBACK, None)


@event.listens_for(Session, "after_transaction_end")
def _after_transaction_end(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is not None:
        return
    names = session.info.pop(_REMOVE_ON_ROLLBACK, [])
    if names:
        remove(folder(), *names)


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
