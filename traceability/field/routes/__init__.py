"""The field app's web views under /field.

The installable app: its shell page, web app manifest and service worker; and
its JSON: who is signed in (with a fresh CSRF token), the open lots, a scanned
code, the sync.

Signed in with the website's own session, not an API token: the cookie is
HttpOnly (no script, nor an injected one, can read it), ends when the user
signs out or changes the password, and needs nothing stored in the phone's
storage where a token would outlive the session. Writes carry the session's
CSRF token in ``X-CSRFToken``; the app asks ``/field/session`` for it before
each sync, as a token cached in a page kept offline may belong to an ended
session.
"""

from __future__ import annotations

import hashlib
import json
from functools import cache
from pathlib import Path
from typing import Any

from flask import Blueprint, Response, current_app, jsonify, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf.csrf import generate_csrf

from traceability.core.errors import DomainError
from traceability.core.vocabulary import EVENT_TYPE_LABELS
from traceability.field.service import NOTE_MAX_LENGTH, lot_for_code, open_lots, places, sync_event
from traceability.http.web import perform, roles_required
from traceability.idempotency import IDEMPOTENCY_HEADER, request_fingerprint
from traceability.models.batches import EVENT_TYPES

bp = Blueprint("field", __name__, url_prefix="/field")

# What the service worker keeps for offline use, besides the shell page itself (static/).
SHELL_ASSETS = (
    "css/app.css",
    "field/field.css",
    "field/app.js",
    "field/icons/icon-192.png",
    "field/icons/icon-512.png",
)
# Read when first needed (a phone without BarcodeDetector scanning a label), then kept too.
QR_DECODER = "field/vendor/jsQR.js"
THEME_COLOUR = "#0b6b3a"


@cache
def _asset_version(static_folder: str) -> str:
    """A digest of the app's files: a new one makes the phones fetch them again (once per process)."""
    digest = hashlib.sha256()
    for name in (*SHELL_ASSETS, QR_DECODER, "field/sw.js"):
        digest.update((Path(static_folder) / name).read_bytes())
    return digest.hexdigest()[:12]


def asset_version() -> str:
    return _asset_version(str(current_app.static_folder))


def asset_url(name: str) -> str:
    """A static file's URL with the version of the app's files, so a phone never mixes two versions."""
    return url_for("static", filename=name, v=asset_version())


def client_strings() -> dict[str, Any]:
    """The words the app's script shows, in the user's language (``{name}`` is filled in by the script)."""
    return {
        "online": _("Online"),
        "offline": _("Offline: events are kept on this phone"),
        "searching": _("Searching…"),
        "no_lots": _("No open lot matches."),
        "search_failed": _("The search needs a signal: showing the lots kept on this phone."),
        "saved": _("Saved on this phone. It is sent when there is a signal."),
        "queued": _("Waiting"),
        "sending": _("Sending…"),
        "failed": _("Not sent"),
        "sent": _("Sent"),
        "replayed": _("Sent (it was already stored)"),
        "edit": _("Edit"),
        "remove": _("Remove"),
        "retry": _("Try again"),
        "confirm_remove": _("Remove this event from the phone? It was not sent and will be lost."),
        "signed_out": _("Sign in again to send the events waiting on this phone."),
        "server_busy": _("The server could not take the events now; they stay here and are sent later."),
        "no_signal": _("No signal: the events stay on this phone and are sent when the signal returns."),
        "all_sent": _("Every event is sent."),
        "other_account": _(
            "Recorded by another account on this phone (%(email)s): sign in with it to send this event.",
            email="{email}",
        ),
        "key_reused": _(
            "This event was already sent with other values and is stored on the lot: remove it here, "
            "or correct it on the lot's page."
        ),
        "fix_fields": _("Check the fields marked below."),
        "camera_hint": _("Point the camera at the lot's QR label."),
        "camera_failed": _(
            "The camera could not start: allow the camera, or take a photo of the label instead."
        ),
        "no_code": _("No QR code found in this picture: try again closer, with more light."),
        "code_not_here": _(
            "This code is not one of the open lots kept on this phone. Connect to look it up."
        ),
        "looking_up": _("Looking up the code…"),
        "photo_ready": _("Photo ready (%(size)s KB)", size="{size}"),
        "photo_failed": _("This file is not a picture the phone can read."),
        "locating": _("Finding where you are…"),
        "located": _("Position: within %(metres)s m", metres="{metres}"),
        "no_position": _("Position not available"),
        "choose_lot": _("Choose a lot first."),
        "left": _("%(left)s %(unit)s left", left="{left}", unit="{unit}"),
        "event_types": {code: str(EVENT_TYPE_LABELS[code]) for code in EVENT_TYPES},
        "fields": {
            "batch_id": _("Lot"),
            "type": _("What happened"),
            "time": _("When"),
            "location_id": _("Where"),
            "quantity": _("Quantity"),
            "note": _("Note"),
            "photo": _("Photo"),
            "latitude": _("Position"),
            "longitude": _("Position"),
            "position_accuracy": _("Position"),
            "Idempotency-Key": _("Event"),
        },
    }


@bp.route("/")
@roles_required("producer")
def app_shell():
    """The field app's page: the service worker keeps it, so it opens without a signal."""
    return render_template(
        "field/app.html",
        strings=client_strings(),
        event_types=[(code, EVENT_TYPE_LABELS[code]) for code in EVENT_TYPES],
        note_max_length=NOTE_MAX_LENGTH,
        asset_url=asset_url,
        qr_decoder_url=asset_url(QR_DECODER),
        theme_colour=THEME_COLOUR,
    )


@bp.route("/manifest.webmanifest")
def manifest():
    """The web app manifest that makes the field app installable (public: browsers fetch it without cookies)."""
    document = {
        "name": _("Field diary: traceability"),
        "short_name": _("Field diary"),
        "description": _("Record the key events of your lots in the field, with or without a signal."),
        "lang": str(get_locale()),
        "start_url": url_for("field.app_shell"),
        "scope": url_for("field.app_shell"),
        "display": "standalone",
        "orientation": "portrait",
        "background_color": "#f6f7f5",
        "theme_color": THEME_COLOUR,
        "icons": [
            {"src": asset_url("field/icons/icon-192.png"), "sizes": "192x192", "type": "image/png"},
            {
                "src": asset_url("field/icons/icon-512.png"),
                "sizes": "512x512",
                "type": "image/png",
                "purpose": "any maskable",
            },
        ],
    }
    response = Response(json.dumps(document, ensure_ascii=False), mimetype="application/manifest+json")
    response.headers["Cache-Control"] = "no-cache"
    return response


@bp.route("/sw.js")
def service_worker():
    """The service worker, served under /field/ so that it controls the app's pages (its scope)."""
    source = (Path(str(current_app.static_folder)) / "field" / "sw.js").read_text(encoding="utf-8")
    shell = [
        url_for("field.app_shell"),
        url_for("field.manifest"),
        *(asset_url(name) for name in SHELL_ASSETS),
    ]
    source = source.replace("__VERSION__", asset_version()).replace("__SHELL__", json.dumps(shell))
    response = Response(source, mimetype="text/javascript")
    # A browser checks for a new worker on each visit; it must never be served stale.
    response.headers["Cache-Control"] = "no-cache"
    return response


def _error(error: DomainError) -> Response:
    """A refusal as the app reads it, the API's error shape: ``{"error": {code, message, fields}}``."""
    response = jsonify(
        {
            "error": {
                "code": error.code,
                "message": str(error.message),
                "fields": {str(name): str(text) for name, text in error.fields.items()},
            }
        }
    )
    response.status_code = error.status
    return response


def _private(response: Response) -> Response:
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.route("/session")
@roles_required("producer")
def session_info():
    """Who is signed in on this phone, the session's CSRF token, and the producer's places."""
    user: Any = current_user
    return _private(
        jsonify(
            {
                "user": {"id": user.id, "email": user.email, "name": user.name},
                "producer": {"id": user.producer.id, "name": user.producer.name},
                "csrf_token": generate_csrf(),
                "locations": places(user),
            }
        )
    )


@bp.route("/lots")
@roles_required("producer")
def lots():
    """The producer's open lots: the most recent ones for the phone to keep, or those matching ``?q=``."""
    return _private(jsonify({"lots": open_lots(current_user, request.args.get("q", ""))}))


@bp.route("/lots/lookup")
@roles_required("producer")
def lot_lookup():
    """The open lot a scanned QR code (``?code=``) names, when it is the producer's; else 404 saying so."""
    try:
        lot = lot_for_code(current_user, request.args.get("code", ""))
    except DomainError as error:
        return _private(_error(error))
    return _private(jsonify({"lot": lot}))


@bp.route("/events", methods=["POST"])
@roles_required("producer")
def events():
    """One event the phone queued: stored once per Idempotency-Key, or refused with what to fix."""
    outcome = perform(
        sync_event,
        current_user,
        request.headers.get(IDEMPOTENCY_HEADER),
        request_fingerprint(request),
        request.form,
        request.files.get("photo"),
        quiet=DomainError,
    )
    if not outcome.ok:
        return _private(_error(outcome.error))
    return _private(outcome.value.response())
