"""Notifications written with the change that causes them, a user's list, and email settings.

``notify`` adds one row per recipient in the current transaction and names the
delivery job to run once it commits: a refused change rolls back its
notifications with it and queues nothing. A user gets every notification in
the in-app list; by email only the kinds not switched off on the settings page
(``NotificationPreference``), and only while a mail server is configured
(``MAIL_SERVER``). The worker sends the emails (``delivery``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, func, select, update

from traceability.accounts.policy import STAFF_ROLES
from traceability.core.dates import utcnow
from traceability.core.errors import InvalidInput
from traceability.core.extensions import db
from traceability.jobs import enqueue_after_commit
from traceability.models.accounts import User
from traceability.models.notifications import Notification, NotificationPreference
from traceability.notifications.messages import KINDS_BY_ROLE

DELIVERY_JOB = "notifications.deliver"
#: The unread count in the navigation stops counting here ("99+").
UNREAD_CAP = 99


def mail_enabled() -> bool:
    """Whether emails are sent at all: a mail server is configured."""
    return bool(current_app.config.get("MAIL_SERVER"))


def default_locale() -> str:
    return str(current_app.config["BABEL_DEFAULT_LOCALE"])


def user_locale(user: User) -> str:
    """The language of a user's emails: their choice, else Vietnamese."""
    if user.locale and user.locale in current_app.config["LANGUAGES"]:
        return user.locale
    return default_locale()


# ---------------------------------------------------------------- recipients


def producer_users(producer_id: int) -> list[User]:
    """The active users of a producer."""
    return list(
        db.session.scalars(
            select(User)
            .where(User.producer_id == producer_id, User.role == "producer", User.active.is_(True))
            .order_by(User.id)
        )
    )


def centre_staff(centre_id: int) -> list[User]:
    """The active admins and staff of a centre: those who decide (auditors only read)."""
    return list(
        db.session.scalars(
            select(User)
            .where(User.centre_id == centre_id, User.role.in_(STAFF_ROLES), User.active.is_(True))
            .order_by(User.id)
        )
    )


# ---------------------------------------------------------------- writing


def _emailed_off(user_ids: list[int], kind: str) -> set[int]:
    if not user_ids:
        return set()
    return set(
        db.session.scalars(
            select(NotificationPreference.user_id).where(
                NotificationPreference.user_id.in_(user_ids),
                NotificationPreference.kind == kind,
                NotificationPreference.email.is_(False),
            )
        )
    )


def notify(
    kind: str,
    recipients: Iterable[User],
    params: dict[str, Any],
    link: str,
    *,
    actor: Any = None,
    dedupe_key: str | None = None,
) -> list[Notification]:
    """Tell each of ``recipients`` (once each, never ``actor`` about their own act), in this transaction."""
    actor_id = getattr(actor, "id", None)
    users: dict[int, User] = {}
    for user in recipients:
        if user.id != actor_id and user.active:
            users.setdefault(user.id, user)
    if not users:
        return []
    off = _emailed_off(list(users), kind)
    now = utcnow()
    rows = []
    for user in users.values():
        emailed = mail_enabled() and bool(user.email) and user.id not in off
        rows.append(
            Notification(
                user_id=user.id,
                kind=kind,
                params=params,
                link=link,
                dedupe_key=dedupe_key,
                created_at=now,
                email_to=user.email if emailed else None,
                email_locale=user_locale(user),
                email_status="queued" if emailed else "none",
                email_next_at=now if emailed else None,
            )
        )
    return _add(rows)


def notify_address(
    kind: str, email: str, params: dict[str, Any], link: str, *, locale: str
) -> Notification | None:
    """Email someone who has no account (a consumer), in this transaction; None without a mail server."""
    if not mail_enabled():
        return None
    now = utcnow()
    languages = current_app.config["LANGUAGES"]
    row = Notification(
        user_id=None,
        kind=kind,
        params=params,
        link=link,
        created_at=now,
        email_to=email,
        email_locale=locale if locale in languages else default_locale(),
        email_status="queued",
        email_next_at=now,
    )
    return _add([row])[0]


def _add(rows: list[Notification]) -> list[Notification]:
    db.session.add_all(rows)
    db.session.flush()
    queued = [row.id for row in rows if row.email_status == "queued"]
    if queued:
        # Sent by the worker once committed; the sweep (delivery.sweep_outbox) catches any job lost.
        enqueue_after_commit(DELIVERY_JOB, queued)
    return rows


# ---------------------------------------------------------------- a user's list


def user_notifications(user: User, *, unread: bool = False) -> Select:
    """The user's own notifications, newest first; ``unread``: only those not read yet."""
    query = select(Notification).where(Notification.user_id == user.id)
    if unread:
        query = query.where(Notification.read_at.is_(None))
    return query.order_by(Notification.id.desc())


def own_notification(user: User, notification_id: int) -> Notification | None:
    """One of the user's notifications; None for another user's (or none at all)."""
    return db.session.scalar(
        select(Notification).where(Notification.id == notification_id, Notification.user_id == user.id)
    )


def unread_count(user: User) -> int:
    """The user's unread notifications, counted up to ``UNREAD_CAP + 1`` (shown as "99+")."""
    unread = (
        select(Notification.id)
        .where(Notification.user_id == user.id, Notification.read_at.is_(None))
        .limit(UNREAD_CAP + 1)
        .subquery()
    )
    return db.session.scalar(select(func.count()).select_from(unread)) or 0


def mark_read(notification: Notification, *, user: User) -> Notification:
    """Mark one of the user's notifications read."""
    if notification.user_id != user.id:
        raise InvalidInput(_l("This notification is not yours."))
    if notification.read_at is None:
        notification.read_at = utcnow()
        db.session.flush()
    return notification


def mark_all_read(user: User) -> int:
    """Mark every unread notification of the user read; how many were."""
    result = db.session.execute(
        update(Notification)
        .where(Notification.user_id == user.id, Notification.read_at.is_(None))
        .values(read_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)


# ---------------------------------------------------------------- email settings


def settable_kinds(user: User) -> tuple[str, ...]:
    """The kinds ``user`` can receive, hence choose to get by email."""
    return KINDS_BY_ROLE.get(user.role, ())


@dataclass(frozen=True)
class NotificationSettings:
    """A user's email settings as the settings page and the API show them."""

    #: For each kind the user can receive, in the order of the page: emailed or not.
    emailed: dict[str, bool]
    #: The language of the user's emails.
    locale: str
    #: Whether this site sends emails at all (a mail server is configured).
    mail_enabled: bool


def notification_settings(user: User) -> NotificationSettings:
    """The user's email settings: which kinds are emailed, in which language, and whether mail is on."""
    return NotificationSettings(email_choices(user), user_locale(user), mail_enabled())


def email_choices(user: User) -> dict[str, bool]:
    """For each kind the user can receive: emailed or not (default emailed)."""
    stored = {
        row.kind: row.email
        for row in db.session.scalars(
            select(NotificationPreference).where(NotificationPreference.user_id == user.id)
        )
    }
    return {kind: stored.get(kind, True) for kind in settable_kinds(user)}


def save_settings(user: User, emailed: Iterable[str], locale: str | None) -> None:
    """Keep the kinds the user wants by email (the others in-app only) and the language of their emails."""
    chosen = set(emailed)
    kinds = settable_kinds(user)
    unknown = chosen - set(kinds)
    languages = current_app.config["LANGUAGES"]
    if unknown:
        raise InvalidInput(_l("Choose among the kinds listed."), {"emailed": _l("Not a valid choice.")})
    if locale is not None and locale not in languages:
        raise InvalidInput(_l("Choose among the languages listed."), {"locale": _l("Not a valid choice.")})
    existing = {
        row.kind: row
        for row in db.session.scalars(
            select(NotificationPreference).where(NotificationPreference.user_id == user.id)
        )
    }
    for kind in kinds:
        row = existing.get(kind)
        if row is None:
            db.session.add(NotificationPreference(user_id=user.id, kind=kind, email=kind in chosen))
        else:
            row.email = kind in chosen
    if locale is not None:
        user.locale = locale
    db.session.flush()
