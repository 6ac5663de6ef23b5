"""Users, their roles and API tokens."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from flask_login import UserMixin
from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from traceability.core.database import UTCDateTime
from traceability.core.dates import utcnow
from traceability.core.extensions import Model

if TYPE_CHECKING:
    from traceability.models.registry import Centre, Producer

ROLES = ("ministry", "centre_admin", "centre_staff", "auditor", "producer")
CENTRE_ROLES = ("centre_admin", "centre_staff", "auditor")


class User(UserMixin, Model):
    """A person who signs in: ministry, centre staff, auditor or producer."""

    __tablename__ = "user"
    __table_args__ = (
        CheckConstraint(f"role IN ({', '.join(repr(r) for r in ROLES)})", name="role"),
        CheckConstraint("role != 'producer' OR producer_id IS NOT NULL", name="producer_has_producer"),
        CheckConstraint(
            "role NOT IN ('centre_admin', 'centre_staff', 'auditor') OR centre_id IS NOT NULL",
            name="centre_role_has_centre",
        ),
        CheckConstraint("email = lower(email)", name="email_lowercase"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(String(256))
    name: Mapped[str] = mapped_column(String(200), default="")
    role: Mapped[str] = mapped_column(String(20))
    centre_id: Mapped[int | None] = mapped_column(ForeignKey("centre.id"), index=True)
    producer_id: Mapped[int | None] = mapped_column(ForeignKey("producer.id"), index=True)
    is_producer_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    locale: Mapped[str | None] = mapped_column(String(5))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Part of the session's user id: raising it ends every session and remember-me cookie.
    session_version: Mapped[int] = mapped_column(Integer, default=0)
    # Set by a password reset: the user chooses a new password before anything else.
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=False)
    password_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    centre: Mapped[Centre | None] = relationship(foreign_keys=[centre_id])
    producer: Mapped[Producer | None] = relationship(foreign_keys=[producer_id])

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive users
        return self.active

    def get_id(self) -> str:
        """The id Flask-Login keeps in the session: ``id:session_version``, see ``end_sessions``."""
        return f"{self.id}:{self.session_version or 0}"

    def end_sessions(self) -> None:
        """Sign the user out everywhere: sessions and remember-me cookies carry the old version."""
        self.session_version = (self.session_version or 0) + 1

    @property
    def is_centre_user(self) -> bool:
        return self.role in CENTRE_ROLES

    @property
    def can_write(self) -> bool:
        """Auditors and the ministry read; centre staff and producers write."""
        return self.role in ("centre_admin", "centre_staff", "producer")

    def __repr__(self) -> str:
        return f"<User {self.email} {self.role}>"


class ApiToken(Model):
    """A bearer token for the JSON API; only its SHA-256 is stored."""

    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(100), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship()

    @property
    def state(self) -> str:
        """``active``, ``revoked`` or ``expired``, as the token lists show it."""
        if self.revoked_at is not None:
            return "revoked"
        return "expired" if self.expires_at <= utcnow() else "active"


class UserSession(Model):
    """One signed-in browser: the cookie holds its random key, the server decides whether it still counts.

    Signing out sets ``ended_at``, so a copy of the cookie taken before opens
    nothing afterwards; only the key's SHA-256 is stored.
    """

    __tablename__ = "user_session"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    user_agent: Mapped[str] = mapped_column(String(200), default="")

    user: Mapped[User] = relationship()
