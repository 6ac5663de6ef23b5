"""Bearer-token authentication for every API route but the token route and the spec."""

from __future__ import annotations

from flask import g, request
from flask_babel import gettext as _

from traceability.accounts.service import user_for_token
from traceability.api.blueprint import bp
from traceability.api.errors import error_response
from traceability.extensions import csrf, login_manager

PUBLIC_ENDPOINTS = {"api.create_token", "api.openapi"}

# Token-authenticated: no cookies are read, so there is nothing for CSRF to forge.
csrf.exempt(bp)


@bp.before_request
def authenticate_bearer():
    """Resolve ``Authorization: Bearer`` to a user; the session cookie is never used here."""
    # Setting g._login_user makes the token's user current_user for this request
    # only (Flask-Login reads it before the session), so a browser's session
    # can never authorise an API call.
    g._login_user = login_manager.anonymous_user()
    if request.endpoint in PUBLIC_ENDPOINTS:
        return None
    scheme, _sep, token = request.headers.get("Authorization", "").partition(" ")
    user = user_for_token(token.strip()) if scheme.lower() == "bearer" and token.strip() else None
    if user is None:
        return error_response(401, _("Send a valid API token: Authorization: Bearer TOKEN."))
    g._login_user = user
    return None
