"""Creating and managing users, checking passwords and issuing API tokens.

A centre admin manages its centre's staff accounts (centre admins, staff,
auditors); a producer admin manages its producer's users. Nobody manages the
users of another centre or producer.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta
from typing import Any

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, select
from werkzeug.security import check_password_hash, generate_password_hash

from traceability.accounts.passwords import password_problem, temporary_password
from traceability.accounts.scope import scoped_select
from traceability.accounts.sessions import end_all_sessions
from traceability.audit.service import record_audit, snapshot
from traceability.core.dates import utcnow
from traceability.core.errors import Conflict, Forbidden, InvalidInput
from traceability.core.extensions import db
from traceability.models.accounts import CENTRE_ROLES, ROLES, ApiToken, User
from traceability.models.registry import Centre, Producer

# Checked against so that a failed login takes as long for an unknown email.
_DUMMY_HASH = generate_password_hash("not-a-real-password")
#: How stale a token's ``last_used_at`` may get before a call refreshes it.
TOKEN_USE_PRECISION = timedelta(minutes=1)


def hash_password(password: str) -> str:
    method = current_app.config.get("PASSWORD_HASH_METHOD", "scrypt")
    return generate_password_hash(password, method=method)


def check_new_user(
    email: str, password: str, errors: dict[str, Any], *, prefix: str = "", check_in_use: bool = True
) -> None:
    """Note what is wrong with a new user's email (format, already in use) and password.

    The fields are named ``email`` and ``password``, after ``prefix`` if given.
    ``check_in_use=False`` leaves out whether the email has an account (the
    public sign-up must not tell).
    """
    if "@" not in email or len(email) > 254:
        errors[f"{prefix}email"] = _l("Enter a valid email address.")
    elif check_in_use and email_in_use(email):
        errors[f"{prefix}email"] = _l("A user with this email already exists.")
    if problem := password_problem(password, email=email):
        errors[f"{prefix}password"] = problem


def email_in_use(email: str) -> bool:
    return db.session.scalar(select(User.id).where(User.email == email.strip().lower())) is not None


def create_user(
    *,
    email: str,
    password: str,
    role: str,
    name: str = "",
    centre: Centre | None = None,
    producer: Producer | None = None,
    is_producer_admin: bool = False,
    actor: User | None = None,
) -> User:
    """Create a user of ``role``, tied to its centre or producer as the role needs."""
    email = email.strip().lower()
    errors = {}
    if role not in ROLES:
        errors["role"] = _l("Role must be one of: %(roles)s.", roles=", ".join(ROLES))
    if "@" not in email or len(email) > 254:
        errors["email"] = _l("Enter a valid email address.")
    if problem := password_problem(password, email=email):
        errors["password"] = problem
    if role in CENTRE_ROLES and centre is None:
        errors["centre"] = _l("Centre staff and auditors need a centre.")
    if role == "producer" and producer is None:
        errors["producer_id"] = _l("A producer user needs a producer.")
    if errors:
        raise InvalidInput(_l("The user could not be created."), errors)
    if email_in_use(email):
        raise Conflict(_l("A user with this email already exists."), {"email": _l("Already in use.")})
    user = User(
        email=email,
        password_hash=hash_password(password),
        role=role,
        name=name.strip(),
        centre_id=centre.id if centre and role in CENTRE_ROLES else None,
        producer_id=producer.id if producer and role == "producer" else None,
        is_producer_admin=is_producer_admin and role == "producer",
    )
    db.session.add(user)
    db.session.flush()
    record_audit("create", user, actor=actor, centre_id=user.centre_id, producer_id=user.producer_id)
    return user


def manages_users(actor: User) -> bool:
    """Whether ``actor`` manages accounts at all: centre admins and producer admins."""
    return actor.role == "centre_admin" or (actor.role == "producer" and actor.is_producer_admin)


def managed_users(actor: User) -> Select:
    """The accounts ``actor`` manages, enabled first: its centre's staff, or its producer's users."""
    query = scoped_select(User, actor).order_by(User.active.desc(), User.name, User.email)
    if actor.role == "centre_admin":
        query = query.where(User.role.in_(CENTRE_ROLES))
    return query


def can_manage_user(actor: User, user: User) -> bool:
    """A centre admin manages its centre's staff; a producer admin its producer's users."""
    if actor.role == "centre_admin":
        return user.role in CENTRE_ROLES and user.centre_id == actor.centre_id
    if actor.role == "producer" and actor.is_producer_admin:
        return user.role == "producer" and user.producer_id == actor.producer_id
    return False


def add_user(data: dict[str, Any], *, actor: User) -> User:
    """Add an account to the actor's own centre (centre admin) or producer (producer admin)."""
    email, password, name = data.get("email") or "", data.get("password") or "", data.get("name") or ""
    if actor.role == "centre_admin":
        role = data.get("role")
        if role not in CENTRE_ROLES:
            raise InvalidInput(
                _l("The user could not be created."),
                {"role": _l("Choose centre administrator, centre staff or auditor.")},
            )
        return create_user(
            email=email, password=password, role=role, name=name, centre=actor.centre, actor=actor
        )
    if actor.role == "producer" and actor.is_producer_admin:
        return create_user(
            email=email,
            password=password,
            role="producer",
            name=name,
            producer=actor.producer,
            is_producer_admin=bool(data.get("is_producer_admin")),
            actor=actor,
        )
    raise Forbidden(_l("Only a centre administrator or a producer's administrator adds users."))


def set_user_active(user: User, active: bool, *, actor: User) -> User:
    """Enable or disable an account; a disabled user can no longer sign in nor use API tokens."""
    if not can_manage_user(actor, user):
        raise Forbidden(_l("You cannot manage this user."))
    if user.id == actor.id and not active:
        raise Conflict(_l("You cannot disable your own account."))
    if user.active == active:
        return user
    before = snapshot(user)
    user.active = active
    if not active:
        # Ended and revoked, not merely refused: enabling the account again revives neither.
        end_all_sessions(user)
        _revoke_tokens(user)
    db.session.flush()
    record_audit(
        "enable" if active else "disable",
        user,
        actor=actor,
        before=before,
        centre_id=user.centre_id,
        producer_id=user.producer_id,
    )
    return user


def can_reset_password(actor: User, user: User) -> bool:
    """Who may reset ``user``'s password: whoever manages the account, and the centre admin of a producer's province."""
    if actor.id == user.id:
        return False  # one's own password is changed, with the current one, not reset
    if can_manage_user(actor, user):
        return True
    return (
        actor.role == "centre_admin"
        and user.role == "producer"
        and user.producer is not None
        and user.producer.centre_id == actor.centre_id
    )


def reset_password(user: User, *, actor: User) -> str:
    """Give ``user`` a temporary password, returned to be shown once, and end its sessions.

    The user must choose a new password at the next sign-in; its API tokens
    are revoked, since a reset usually means the account may be in other hands.
    """
    if not can_reset_password(actor, user):
        raise Forbidden(_l("You cannot reset this user's password."))
    password = temporary_password()
    user.password_hash = hash_password(password)
    user.must_change_password = True
    user.password_changed_at = utcnow()
    end_all_sessions(user)
    _revoke_tokens(user)
    db.session.flush()
    record_audit(
        "reset_password",
        user,
        actor=actor,
        after={"email": user.email},
        centre_id=user.centre_id,
        producer_id=user.producer_id,
    )
    return password


def change_password(user: User, *, current_password: str, new_password: str) -> User:
    """The user replaces its password, knowing the current one; its sessions and API tokens end.

    Nothing is written unless it succeeds. The caller signs the current browser in again.
    """
    errors: dict[str, Any] = {}
    if not check_password_hash(user.password_hash, current_password):
        errors["current_password"] = _l("This is not your current password.")
    if problem := password_problem(new_password, email=user.email):
        errors["new_password"] = problem
    elif new_password == current_password:
        errors["new_password"] = _l("Choose a password different from the current one.")
    if errors:
        raise InvalidInput(_l("The password was not changed."), errors)
    user.password_hash = hash_password(new_password)
    user.must_change_password = False
    user.password_changed_at = utcnow()
    end_all_sessions(user)
    _revoke_tokens(user)
    db.session.flush()
    record_audit(
        "change_password",
        user,
        actor=user,
        after={"email": user.email},
        centre_id=user.centre_id,
        producer_id=user.producer_id,
    )
    return user


def _revoke_tokens(user: User) -> None:
    now = utcnow()
    for api_token in db.session.scalars(
        select(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
    ):
        api_token.revoked_at = now


def authenticate(email: str, password: str) -> User | None:
    """The active user with this email and password, or None; both outcomes are audited.

    A failed attempt is recorded with the email tried and why it failed,
    never the password; the caller commits even when it refuses the login.
    """
    email = email.strip().lower()
    user = db.session.scalar(select(User).where(User.email == email))
    if user is None:
        check_password_hash(_DUMMY_HASH, password)
        _record_login_failure(None, email, "unknown_email")
        return None
    if not check_password_hash(user.password_hash, password):
        _record_login_failure(user, email, "wrong_password")
        return None
    if not user.active:
        _record_login_failure(user, email, "disabled")
        return None
    user.last_login_at = utcnow()
    record_audit(
        "login",
        user,
        actor=user,
        after={"email": user.email},
        centre_id=user.centre_id,
        producer_id=user.producer_id,
    )
    return user


def _record_login_failure(user: User | None, email: str, reason: str) -> None:
    """Audit a refused login: the account tried (if it exists) and why; no actor, no password."""
    record_audit(
        "login_failed",
        user,
        object_type="User",
        after={"email": email[:254], "reason": reason},
        centre_id=user.centre_id if user else None,
        producer_id=user.producer_id if user else None,
    )


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


def token_for(token: str) -> ApiToken | None:
    """The live API token a bearer secret names: unexpired, not revoked, of an active user.

    A token issued before the user's last password change is dead too, even
    if it was never marked revoked (tokens issued before revoking existed).
    """
    api_token = db.session.scalar(select(ApiToken).where(ApiToken.token_hash == _token_digest(token)))
    now = utcnow()
    if api_token is None or api_token.revoked_at is not None or api_token.expires_at <= now:
        return None
    user = api_token.user
    if not user.active or (user.password_changed_at and api_token.created_at < user.password_changed_at):
        return None
    if api_token.last_used_at is None or api_token.last_used_at <= now - TOKEN_USE_PRECISION:
        api_token.last_used_at = now  # committed with the call's rate-limit count
    return api_token


def user_for_token(token: str) -> User | None:
    """The active user a bearer token belongs to, if it is valid, unexpired and not revoked."""
    api_token = token_for(token)
    return api_token.user if api_token else None


def can_manage_tokens(actor: User, user: User) -> bool:
    """Whose API tokens ``actor`` sees and revokes: its own, and those of the users it manages."""
    return actor.id == user.id or can_reset_password(actor, user)


def tokens_of(user: User) -> list[ApiToken]:
    """``user``'s API tokens, newest first, revoked and expired ones included."""
    return list(
        db.session.scalars(
            select(ApiToken)
            .where(ApiToken.user_id == user.id)
            .order_by(ApiToken.created_at.desc(), ApiToken.id.desc())
        )
    )


def revoke_token(api_token: ApiToken, *, actor: User) -> ApiToken:
    """Revoke one API token: its owner, or whoever manages its owner, may."""
    if not can_manage_tokens(actor, api_token.user):
        raise Forbidden(_l("You cannot revoke this token."))
    if api_token.revoked_at is not None:
        return api_token
    api_token.revoked_at = utcnow()
    db.session.flush()
    record_audit(
        "revoke_token",
        api_token,
        actor=actor,
        after={"name": api_token.name, "user_id": api_token.user_id},
        centre_id=api_token.user.centre_id,
        producer_id=api_token.user.producer_id,
    )
    return api_token
