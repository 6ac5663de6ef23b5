"""An event's photo as a download, for who may see its batch: the web pages and the API share it."""

from __future__ import annotations

from flask import Response, abort, send_from_directory

from traceability.core.uploads import images_folder
from traceability.models.batches import TraceEvent


def event_photo_response(event: TraceEvent, *, thumbnail: bool) -> Response:
    """An event's photo for who may see its batch (the web pages and the API share it), withdrawn or not."""
    name = event.photo_thumbnail_filename if thumbnail else event.photo_filename
    if not name:
        abort(404)
    response = send_from_directory(images_folder(), name, max_age=0)
    response.headers["Cache-Control"] = "private, no-cache"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
