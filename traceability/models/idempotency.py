"""Writes sent with an ``Idempotency-Key``: the first answer, kept per caller and key to answer repeats."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Integer, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from traceability.core.database import UTCDateTime
from traceability.core.dates import utcnow
from traceability.core.extensions import Model

#: The longest key accepted: a UUID (36 characters) fits three times over.
IDEMPOTENCY_KEY_MAX_LENGTH = 128


class IdempotentRequest(Model):
    """A write a caller sent with an ``Idempotency-Key``, and the answer it got.

    The row is inserted before the write runs, in the write's own transaction,
    and filled with the answer just before it commits: a repeat sent while the
    first still runs waits on the unique (user, key) pair and then replays the
    committed answer; a write that fails takes its row with it. ``fingerprint``
    (SHA-256 of the method, path and body) tells a true repeat from another
    request reusing the key.
    """

    __tablename__ = "idempotent_request"
    __table_args__ = (
        UniqueConstraint("user_id", "key"),
        CheckConstraint(f"length(key) BETWEEN 1 AND {IDEMPOTENCY_KEY_MAX_LENGTH}", name="key_length"),
        CheckConstraint("status_code IS NULL OR status_code BETWEEN 100 AND 399", name="status_code"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(IDEMPOTENCY_KEY_MAX_LENGTH))
    fingerprint: Mapped[str] = mapped_column(String(64))
    # The answer; empty only inside the transaction of the write that claimed the key.
    status_code: Mapped[int | None] = mapped_column(Integer)
    response_body: Mapped[bytes | None] = mapped_column(LargeBinary)
    response_headers: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # Indexed: the periodic purge removes the rows older than IDEMPOTENCY_KEEP_HOURS.
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
