"""Uploads kept across a form error, so the second submit saves the file the first one carried.

A browser never sends a file input back: after a refused form, the document
the user attached would be lost without a word. The web view keeps it
instead, in a private folder (``UPLOAD_FOLDER/kept``, never served), under a
random name, and the form carries a signed token in a hidden field that names
the file, its original name and the user who sent it. The token opens the
file for that user only, for ``KEEP_HOURS``; the worker removes older files
every hour (``uploads.purge_kept``), and a save that used one removes it once
committed (the view, after the request boundary's commit).
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from pathlib import Path

from flask import current_app
from itsdangerous import BadSignature, URLSafeTimedSerializer

KEEP_HOURS = 24
NAME_MAX_LENGTH = 200
_SALT = "kept-upload"


@dataclass(frozen=True)
class KeptUpload:
    """A file kept from a refused form: its bytes, the name the user gave it, the token that opens it."""

    data: bytes
    filename: str
    token: str


def kept_folder() -> Path:
    """Where kept uploads wait: private, beside the documents, never under the public media folder."""
    return Path(current_app.config["UPLOAD_FOLDER"]) / "kept"


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=_SALT)


def keep(data: bytes, filename: str | None, *, owner_id: int) -> KeptUpload:
    """Store ``data`` until the form is sent again; the token for the form's hidden field."""
    folder = kept_folder()
    folder.mkdir(parents=True, exist_ok=True)
    file_id = secrets.token_hex(16)
    (folder / file_id).write_bytes(data)
    name = (filename or "").replace("\\", "/").rsplit("/", 1)[-1][:NAME_MAX_LENGTH] or "document"
    token = _serializer().dumps({"f": file_id, "u": owner_id, "n": name})
    return KeptUpload(data, name, token)


def claim(token: str | None, *, owner_id: int) -> KeptUpload | None:
    """The upload ``token`` names, when it is ``owner_id``'s, unexpired and still there; else None."""
    if not token:
        return None
    try:
        payload = _serializer().loads(token, max_age=KEEP_HOURS * 3600)
    except BadSignature:
        return None
    if not isinstance(payload, dict) or payload.get("u") != owner_id:
        return None
    file_id = str(payload.get("f", ""))
    if len(file_id) != 32 or not all(c in "0123456789abcdef" for c in file_id):
        return None
    path = kept_folder() / file_id
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None
    return KeptUpload(data, str(payload.get("n") or "document"), token)


def discard(upload: KeptUpload) -> None:
    """The kept file was saved for good (committed): remove the kept copy."""
    payload = _serializer().loads(upload.token)
    (kept_folder() / str(payload["f"])).unlink(missing_ok=True)


def purge_kept(now: float | None = None) -> int:
    """Remove kept uploads older than KEEP_HOURS (the worker, hourly); how many were removed."""
    folder = kept_folder()
    if not folder.is_dir():
        return 0
    cutoff = (now if now is not None else time.time()) - KEEP_HOURS * 3600
    removed = 0
    for path in folder.iterdir():
        if path.is_file() and path.stat().st_mtime < cutoff:
            path.unlink(missing_ok=True)
            removed += 1
    return removed
