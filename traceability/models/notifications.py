"""Notifications: a message to a user (in-app, and by email through an outbox), and email settings.

One row is one message to one recipient: a user (the in-app list, and an
email unless the user switched that kind off) or a consumer's email address
(``user_id`` None: a reply to a problem report). The row is written in the
transaction of the change that causes it, so a refused change notifies nobody;
its email columns are the outbox the worker delivers from
(``traceability.notifications.delivery``).
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import JSON, Boolean, CheckConstraint, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from traceability.core.database import UTCDateTime
from traceability.core.dates import utcnow
from traceability.core.extensions import Model

if TYPE_CHECKING:
    from traceability.models.accounts import User

NOTIFICATION_KINDS = (
    "producer_signed_up",
    "producer_decided",
    "certification_decided",
    "claim_decided",
    "certification_expiring",
    "recall",
    "problem_report",
    "report_reply",
)
# none: no email (switched off, or no mail server); queued: waiting for the worker; sending: a
# worker holds it; retrying: a try failed, the next is due at email_next_at; sent; failed: given up.
EMAIL_STATUSES = ("none", "queued", "sending", "retrying", "sent", "failed")


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(value) for value in values)})"


class Notification(Model):
    """One message to one recipient: shown in the user's list, emailed through the outbox."""

    __tablename__ = "notification"
    __table_args__ = (
        CheckConstraint(_in("kind", NOTIFICATION_KINDS), name="kind"),
        CheckConstraint(_in("email_status", EMAIL_STATUSES), name="email_status"),
        CheckConstraint("user_id IS NOT NULL OR email_to IS NOT NULL", name="has_recipient"),
        # "Each certificate notified once per expiry": the sweep's key, once per user.
        UniqueConstraint("user_id", "dedupe_key"),
        Index("ix_notification_user_list", "user_id", "id"),
        Index("ix_notification_user_unread", "user_id", "read_at"),
        Index("ix_notification_outbox", "email_status", "email_next_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(40))
    # What the message says, rendered in the reader's language when read or sent (messages.py).
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # The page concerned: a path on this site (PUBLIC_BASE_URL is put before it in emails).
    link: Mapped[str] = mapped_column(String(500), default="")
    dedupe_key: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    email_to: Mapped[str | None] = mapped_column(String(254))
    email_locale: Mapped[str] = mapped_column(String(5), default="vi")
    email_status: Mapped[str] = mapped_column(String(10), default="none")
    email_attempts: Mapped[int] = mapped_column(Integer, default=0)
    email_next_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The worker's claim while it sends: who (a random token) and since when (a lease).
    email_claim: Mapped[str | None] = mapped_column(String(32))
    email_claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    email_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    email_error: Mapped[str | None] = mapped_column(String(300))

    user: Mapped[User | None] = relationship()

    def __repr__(self) -> str:
        return f"<Notification {self.id} {self.kind} user={self.user_id} email={self.email_status}>"


class NotificationPreference(Model):
    """A user's choice for one kind: emailed or not (no row: emailed). The in-app list keeps every kind."""

    __tablename__ = "notification_preference"
    __table_args__ = (
        CheckConstraint(_in("kind", NOTIFICATION_KINDS), name="kind"),
        UniqueConstraint("user_id", "kind"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(40))
    email: Mapped[bool] = mapped_column(Boolean, default=True)
