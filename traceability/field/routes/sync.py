"""The field app's JSON: who is signed in (with a fresh CSRF token), the open lots, a scanned code, the sync.

Signed in with the website's own session, not an API token: the cookie is
HttpOnly (no script, nor an injected one, can read it), ends when the user
signs out or changes the password, and needs nothing stored in the phone's
storage where a token would outlive the session. Writes carry the session's
CSRF token in ``X-CSRFToken``; the app asks ``/field/session`` for it before
each sync, as a token cached in a page kept offline may belong to an ended
session.
"""

from __future__ import annotations

from typing import Any

from flask import Response, jsonify, request
from flask_login import current_user
from flask_wtf.csrf import generate_csrf

from traceability.core.errors import DomainError
from traceability.field.routes import bp
from traceability.field.service import lot_for_code, open_lots, places, sync_event
from traceability.http.web import perform, roles_required
from traceability.idempotency import IDEMPOTENCY_HEADER, request_fingerprint


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
