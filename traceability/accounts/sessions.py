"""Sign-in sessions kept on the server, so signing out ends them for good.

The session cookie is signed, not stored: on its own, a copy taken before
sign-out would still open every page. Each sign-in therefore creates a
``UserSession`` row and puts its random key in the cookie; a request counts as
signed in only while that row is live (not ended), and signing out, a
password change or reset, or disabling the account ends the rows. A sign-in
also starts a fresh cookie session, with a new CSRF token, so nothing an
attacker planted before it (session fixation) survives.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from flask import current_app, g, request, session
from flask_login import login_user, logout_user
from sqlalchemy import select, update

from traceability.core.dates import utcnow
from traceability.core.extensions import db
from traceability.http.i18n import choose_language
from traceability.models.accounts import User, UserSession

SESSION_KEY = "sid"
#: How stale ``last_seen_at`` may get before a request refreshes it (one write per this, not per page).
SEEN_EVERY = timedelta(minutes=5)


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def start_session(user: User) -> UserSession:
    """Sign ``user`` in on a new server-side session, in a new cookie session with a new CSRF token.

    The language carries over: one chosen on this browser before signing in
    (the latest choice, saved as the user's), else the user's saved one.
    """
    chosen = session.get("lang")
    session.clear()  # drops the old csrf_token and anything else set before sign-in
    g.pop("csrf_token", None)  # Flask-WTF caches the signed token for the request
    key = secrets.token_urlsafe(32)
    row = UserSession(
        user_id=user.id, key_hash=_digest(key), user_agent=(request.user_agent.string or "")[:200]
    )
    db.session.add(row)
    db.session.flush()
    session[SESSION_KEY] = key
    login_user(user)
    if isinstance(chosen, str) and chosen in current_app.config["LANGUAGES"]:
        choose_language(chosen, user)
    elif user.locale in current_app.config["LANGUAGES"]:
        session["lang"] = user.locale
    return row


def current_session(user: User) -> UserSession | None:
    """The live server-side session the request's cookie names for ``user``, if any."""
    key = session.get(SESSION_KEY)
    if not isinstance(key, str) or not key:
        return None
    return db.session.scalar(
        select(UserSession).where(
            UserSession.key_hash == _digest(key),
            UserSession.user_id == user.id,
            UserSession.ended_at.is_(None),
        )
    )


def end_session(user: User | None) -> None:
    """Sign out: this browser's session row ends and its cookie session is emptied."""
    if user is not None and (row := current_session(user)) is not None:
        row.ended_at = utcnow()
    logout_user()
    session.clear()


def end_all_sessions(user: User) -> None:
    """End every session of ``user`` on every device (password change or reset, disabled account)."""
    user.end_sessions()
    db.session.execute(
        update(UserSession)
        .where(UserSession.user_id == user.id, UserSession.ended_at.is_(None))
        .values(ended_at=utcnow())
    )


def seen_is_stale(row: UserSession) -> bool:
    """Whether ``last_seen_at`` is older than SEEN_EVERY, so that ``note_seen`` would write."""
    return row.last_seen_at <= utcnow() - SEEN_EVERY


def note_seen(row: UserSession) -> None:
    """Refresh ``last_seen_at`` when it has gone stale; the caller commits."""
    if seen_is_stale(row):
        row.last_seen_at = utcnow()
