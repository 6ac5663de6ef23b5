"""The append-only, hash-chained audit log: one chain per centre and one national chain."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, SmallInteger, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from traceability.core.database import UTCDateTime
from traceability.core.dates import utcnow
from traceability.core.extensions import Model


class AuditEntry(Model):
    """One change: who, role, tenant, when, the object, before and after.

    Entries form one hash chain per centre (``chain`` is ``centre:<centre id>``)
    and one for the ministry's and other national entries (``national``), so
    writes in different provinces never wait for each other. ``position``
    numbers the entries of a chain from 1; ``entry_hash`` is the SHA-256 of
    the entry's canonical content including ``prev_hash`` (the hash of the
    entry before it in its chain), so altering, removing or reordering
    entries breaks the chain. ``hash_version`` 1 marks the entries written
    before the log had one chain per centre: their hash covers neither chain
    nor position, and they stay, unchanged, the start of the national chain.
    """

    __tablename__ = "audit_entry"
    __table_args__ = (UniqueConstraint("chain", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"), index=True)
    role: Mapped[str | None] = mapped_column(String(20))
    centre_id: Mapped[int | None] = mapped_column(ForeignKey("centre.id"), index=True)
    producer_id: Mapped[int | None] = mapped_column(ForeignKey("producer.id"), index=True)
    action: Mapped[str] = mapped_column(String(40))
    object_type: Mapped[str] = mapped_column(String(40))
    object_id: Mapped[str | None] = mapped_column(String(40))
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    request_info: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    chain: Mapped[str] = mapped_column(String(24))
    position: Mapped[int]
    hash_version: Mapped[int] = mapped_column(SmallInteger, default=2)
    prev_hash: Mapped[str] = mapped_column(String(64))
    entry_hash: Mapped[str] = mapped_column(String(64), unique=True)


class AuditHead(Model):
    """A chain's newest entry, moved forward with every append (one row per chain).

    Nothing points at the last entry of a hash chain, so deleting the newest
    entries would leave a shorter chain that still verifies; the head remembers
    how far the chain reached. New entries link to the head's hash, so a tail
    deleted earlier stays visible as a gap after later appends.
    """

    __tablename__ = "audit_head"

    chain: Mapped[str] = mapped_column(String(24), primary_key=True)
    last_position: Mapped[int]
    last_entry_id: Mapped[int]
    last_entry_hash: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class AuditCheckpoint(Model):
    """The last head ``audit verify`` found intact in a chain: the next run starts after it.

    The next incremental run checks this entry first (still there, same hash,
    content unchanged) and then reads only the entries written after it.
    """

    __tablename__ = "audit_checkpoint"

    chain: Mapped[str] = mapped_column(String(24), primary_key=True)
    last_position: Mapped[int]
    last_entry_id: Mapped[int]
    last_entry_hash: Mapped[str] = mapped_column(String(64))
    verified_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
