"""Bearer-token authentication for every API route but the token route and the spec.

Each token's calls are counted against API_RATE_LIMIT (``accounts.throttle``):
over it, 429 with ``Retry-After``. The count (and the token's last use) is
committed before the call's own work, so a call that fails still counts; on
PostgreSQL that commit does not wait for the disk (``_count_without_waiting``).
"""

from __future__ import annotations

from collections.abc import Callable

from flask import Response, g, request
from flask_babel import gettext as _
from sqlalchemy import text

from traceability.accounts.service import token_for
from traceability.accounts.throttle import check_api_rate
from traceability.api.blueprint import bp
from traceability.api.errors import error_response
from traceability.core.errors import TooManyAttempts
from traceability.core.extensions import csrf, db, login_manager

PUBLIC_ENDPOINTS = {"api.create_token", "api.openapi"}

# Token-authenticated: no cookies are read, so there is nothing for CSRF to forge.
csrf.exempt(bp)


@bp.before_request
def authenticate_bearer():
    """Resolve ``Authorization: Bearer`` to a user; the session cookie is never used here."""
    if request.endpoint in PUBLIC_ENDPOINTS:
        g._login_user = login_manager.anonymous_user()
        return None
    return authenticate(error_response)


def authenticate(error: Callable[..., Response]) -> Response | None:
    """The bearer token's user as current_user, counted against API_RATE_LIMIT; else the refusal.

    ``error(status, message, code=...)`` renders the refusal (401 or 429): the API's error
    body here, the EPCIS binding's problem details at /epcis.
    """
    # Setting g._login_user makes the token's user current_user for this request
    # only (Flask-Login reads it before the session), so a browser's session
    # can never authorise an API call.
    g._login_user = login_manager.anonymous_user()
    scheme, _sep, token = request.headers.get("Authorization", "").partition(" ")
    api_token = token_for(token.strip()) if scheme.lower() == "bearer" and token.strip() else None
    if api_token is None:
        return error(401, _("Send a valid API token: Authorization: Bearer TOKEN."))
    _count_without_waiting()
    try:
        check_api_rate(api_token)
    except TooManyAttempts as refusal:
        db.session.rollback()
        response = error(429, refusal.message, code=refusal.code)
        response.headers["Retry-After"] = str(refusal.retry_after)
        return response
    finally:
        # The call's count (and the token's last use) hold even when the call itself fails.
        _commit_keeping_loaded()
    g._login_user = api_token.user
    g.api_token = api_token
    return None


def _commit_keeping_loaded() -> None:
    """Commit the count, keeping the token and its user as loaded a moment ago.

    Expiring them at this commit (the session's default) read both again at
    the call's first use of ``current_user``: two round trips per call for
    rows this request has just read.
    """
    session = db.session()
    expire = session.expire_on_commit
    session.expire_on_commit = False
    try:
        session.commit()
    finally:
        session.expire_on_commit = expire


def _count_without_waiting() -> None:
    """Let the rate count's transaction commit without waiting for the disk (PostgreSQL).

    ``SET LOCAL synchronous_commit = off`` holds for this transaction only
    (the count and the token's last use), not for the call's own work, which
    commits later as every write does. The count is still atomic, shared by
    every worker and visible to the next call at once; what it gives up is
    durability: a crash of the database server may lose the counts (and last
    uses) of its last fraction of a second (up to three times
    ``wal_writer_delay``, 0.6 s by default), never corrupt them. A throttle
    is not a record, and a disk flush per call cost more than the counting.
    SQLite keeps its own setting.
    """
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(text("SET LOCAL synchronous_commit = off"))
