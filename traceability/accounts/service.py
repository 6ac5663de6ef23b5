"""Creating users, checking passwords and issuing API tokens."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from werkzeug.security import check_password_hash, generate_password_hash

from traceability.accounts.models import CENTRE_ROLES, ROLES, ApiToken, User
from traceability.audit.service import record_audit
from traceability.database import utcnow
from traceability.errors import Conflict, InvalidInput
from traceability.extensions import db
from traceability.registry.models import Centre, Producer

MIN_PASSWORD_LENGTH = 8
# Checked against so that a failed login takes as long for an unknown email.
_DUMMY_HASH = generate_password_hash("not-a-real-password")


def hash_password(password: str) -> str:
    method = current_app.config.get("PASSWORD_HASH_METHOD", "scrypt")
    return generate_password_hash(password, method=method)


def create_user(
    *,
    email: str,
    password: str,
    role: str,
    name: str = "",
    centre: Centre | None = None,
    producer: Producer | None = None,
    actor: User | None = None,
) -> User:
    """Create a user of ``role``, tied to its centre or producer as the role needs."""
    email = email.strip().lower()
    errors = {}
    if role not in ROLES:
        errors["role"] = _l("Role must be one of: %(roles)s.", roles=", ".join(ROLES))
    if "@" not in email or len(email) > 254:
        errors["email"] = _l("Enter a valid email address.")
    if len(password) < MIN_PASSWORD_LENGTH:
        errors["password"] = _l("Use at least %(n)d characters.", n=MIN_PASSWORD_LENGTH)
    if role in CENTRE_ROLES and centre is None:
        errors["centre"] = _l("Centre staff and auditors need a centre.")
    if role == "producer" and producer is None:
        errors["producer_id"] = _l("A producer user needs a producer.")
    if errors:
        raise InvalidInput(_l("The user could not be created."), errors)
    if db.session.scalar(select(User.id).where(User.email == email)) is not None:
        raise Conflict(_l("A user with this email already exists."), {"email": _l("Already in use.")})
    user = User(
        email=email,
        password_hash=hash_password(password),
        role=role,
        name=name,
        centre_id=centre.id if centre and role in CENTRE_ROLES else None,
        producer_id=producer.id if producer and role == "producer" else None,
    )
    if producer is not None and role == "producer":
        user.centre_id = None
    db.session.add(user)
    db.session.flush()
    record_audit("create", user, actor=actor, centre_id=user.centre_id, producer_id=user.producer_id)
    return user


def authenticate(email: str, password: str) -> User | None:
    """The active user with this email and password, or None."""
    user = db.session.scalar(select(User).where(User.email == email.strip().lower()))
    if user is None:
        check_password_hash(_DUMMY_HASH, password)
        return None
    if not check_password_hash(user.password_hash, password) or not user.active:
        return None
    user.last_login_at = utcnow()
    return user


def _token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_token(user: User, *, name: str = "") -> tuple[str, ApiToken]:
    """A new bearer token for ``user``; only its hash is kept, so it is shown once."""
    token = secrets.token_urlsafe(32)
    days = current_app.config["API_TOKEN_DAYS"]
    api_token = ApiToken(
        user_id=user.id,
        token_hash=_token_digest(token),
        name=name,
        expires_at=utcnow() + timedelta(days=days),
    )
    db.session.add(api_token)
    db.session.flush()
    record_audit("issue_token", api_token, actor=user)
    return token, api_token


def user_for_token(token: str) -> User | None:
    """The active user a bearer token belongs to, if it is valid, unexpired and not revoked."""
    api_token = db.session.scalar(select(ApiToken).where(ApiToken.token_hash == _token_digest(token)))
    if api_token is None or api_token.revoked_at is not None or api_token.expires_at <= utcnow():
        return None
    if not api_token.user.active:
        return None
    return api_token.user
