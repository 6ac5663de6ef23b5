"""Writing the hash-chained audit log.

Each entry stores the hash of the entry before it (``prev_hash``) and the
SHA-256 of its own canonical content (``entry_hash``, which covers
``prev_hash``), so altering, removing or reordering entries breaks the chain;
``traceability.audit.chain.verify_chain`` finds where. ``AuditHead`` keeps the
newest entry's id and hash so that a removed tail is noticed too.

Request details: the method, path and endpoint, a request id (the caller's
``X-Request-ID`` when it is a plain token, else a random one) and a client
fingerprint, a keyed hash of the remote address. The address itself is never
stored (DESIGN.md stores no IP addresses, see ``Scan``); the fingerprint only
shows that two entries came from the same address.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import click
from flask import current_app, has_request_context, request
from flask_login import current_user
from sqlalchemy import inspect, select, text, update

from traceability.core.dates import utcnow
from traceability.core.extensions import db
from traceability.http.observability import request_id
from traceability.models.audit import AuditEntry, AuditHead
from traceability.models.registry import Producer

GENESIS_HASH = "0" * 64
_ADVISORY_LOCK_KEY = 720_372_026  # serialises chain appends across PostgreSQL sessions
# A request id from a proxy or client is kept only when it is a plain token.
# "after" is the object's snapshot unless the caller says otherwise (None for a removal).
_SNAPSHOT: Any = object()


def _json_safe(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_json_safe(v) for v in value]
    return value


def _as_stored(value: Any) -> Any:
    """``value`` exactly as the JSON column gives it back, so the hash is computed on what is read later."""
    if value is None:
        return None
    return json.loads(json.dumps(_json_safe(value), default=str, allow_nan=False))


def snapshot(obj: Any, *, exclude: tuple[str, ...] = ("password_hash", "token_hash")) -> dict[str, Any]:
    """The column values of a model instance, JSON-safe, secrets left out."""
    mapper = inspect(obj).mapper
    return {
        attr.key: _json_safe(getattr(obj, attr.key))
        for attr in mapper.column_attrs
        if attr.key not in exclude
    }


def canonical_content(entry: Any) -> bytes:
    """The bytes an entry's hash covers: every field but the hash itself.

    ``entry`` is an ``AuditEntry`` or a row with the same attributes.
    """
    content = {
        "id": entry.id,
        "occurred_at": entry.occurred_at.isoformat(timespec="microseconds"),
        "user_id": entry.user_id,
        "role": entry.role,
        "centre_id": entry.centre_id,
        "producer_id": entry.producer_id,
        "action": entry.action,
        "object_type": entry.object_type,
        "object_id": entry.object_id,
        "before": entry.before,
        "after": entry.after,
        "request_info": entry.request_info,
        "prev_hash": entry.prev_hash,
    }
    return json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def entry_hash(entry: Any) -> str:
    """The SHA-256 (hex) of the entry's canonical content."""
    return hashlib.sha256(canonical_content(entry)).hexdigest()


def client_fingerprint(remote_addr: str | None) -> str | None:
    """A keyed hash of the client's address: equal for equal addresses, the address itself not kept."""
    if not remote_addr:
        return None
    key = str(current_app.config["SECRET_KEY"]).encode()
    return hmac.new(key, b"audit-client:" + remote_addr.encode(), hashlib.sha256).hexdigest()[:16]


def _request_info() -> dict[str, Any] | None:
    """Where the change came from: the web request or API call, or the command line."""
    if has_request_context():
        return {
            "via": "api" if request.blueprint == "api" else "web",
            "method": request.method,
            "path": request.path,
            "endpoint": request.endpoint,
            "request_id": request_id(),
            "client": client_fingerprint(request.remote_addr),
        }
    context = click.get_current_context(silent=True)
    if context is not None:
        return {"via": "cli", "command": context.command_path}
    return None


def _centre_of(producer_id: int) -> int | None:
    return db.session.scalar(select(Producer.centre_id).where(Producer.id == producer_id))


def _chain_tip() -> tuple[int, str, bool]:
    """(id, hash) of the entry the next one links to, and whether the head row exists.

    The head row is the authority: if newer entries were deleted, the next
    entry still links to the deleted one's hash and the gap stays visible.
    """
    head = db.session.execute(
        select(AuditHead.last_entry_id, AuditHead.last_entry_hash).where(AuditHead.id == 1)
    ).first()
    if head is not None:
        return head.last_entry_id, head.last_entry_hash, True
    # A log written before the head existed (the migration fills it in; create_all does not).
    last = db.session.execute(
        select(AuditEntry.id, AuditEntry.entry_hash).order_by(AuditEntry.id.desc()).limit(1)
    ).first()
    return (last.id, last.entry_hash, False) if last else (0, GENESIS_HASH, False)


def lock_audit_chain() -> None:
    """Hold the right to append to the chain until the transaction ends (PostgreSQL; a no-op elsewhere).

    Every write that audits takes this lock, so it is the first lock a write
    transaction should take: a service that locks or updates rows and audits
    afterwards calls this before touching them, else it can hold a row that an
    auditing transaction waits for while it waits for this lock (a deadlock).
    SQLite needs nothing: its write transactions begin IMMEDIATE, one at a time.
    """
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _ADVISORY_LOCK_KEY})


def audit_type(model: type) -> str:
    """The object type audit entries give ``model``'s rows: its class name unless it declares
    ``__audit_type__`` (a renamed model keeps the name its entries already carry)."""
    return getattr(model, "__audit_type__", model.__name__)


def record_audit(
    action: str,
    obj: Any,
    *,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = _SNAPSHOT,
    actor: Any = None,
    producer_id: int | None = None,
    centre_id: int | None = None,
    object_type: str | None = None,
    object_id: Any = None,
) -> AuditEntry:
    """Append an entry for ``action`` on ``obj`` to the chain (flushes, never commits).

    ``after`` defaults to the object's current snapshot; pass ``after=None``
    for a removal. ``obj`` may be None when there is no row (a failed login
    with an unknown email): give ``object_type`` then. The tenant is the
    actor's unless ``producer_id`` or ``centre_id`` say otherwise; a
    producer's centre is filled in from the producer.
    """
    if actor is None and has_request_context() and current_user.is_authenticated:
        actor = current_user
    if after is _SNAPSHOT:
        after = snapshot(obj) if obj is not None else None
    db.session.flush()
    if obj is not None:
        identity = inspect(obj).identity
        object_type = object_type or audit_type(type(obj))
        object_id = identity[0] if identity and object_id is None else object_id
    if producer_id is None:
        producer_id = getattr(actor, "producer_id", None)
    if centre_id is None:
        centre_id = getattr(actor, "centre_id", None)
    if centre_id is None and producer_id is not None:
        centre_id = _centre_of(producer_id)
    lock_audit_chain()
    last_id, last_hash, has_head = _chain_tip()
    entry = AuditEntry(
        id=last_id + 1,
        occurred_at=utcnow(),
        user_id=getattr(actor, "id", None),
        role=getattr(actor, "role", None),
        centre_id=centre_id,
        producer_id=producer_id,
        action=action,
        object_type=object_type or "",
        object_id=str(object_id) if object_id is not None else None,
        before=_as_stored(before),
        after=_as_stored(after),
        request_info=_as_stored(_request_info()),
        prev_hash=last_hash,
    )
    entry.entry_hash = entry_hash(entry)
    db.session.add(entry)
    if has_head:
        db.session.execute(
            update(AuditHead)
            .where(AuditHead.id == 1)
            .values(last_entry_id=entry.id, last_entry_hash=entry.entry_hash, updated_at=entry.occurred_at)
        )
    else:
        db.session.add(
            AuditHead(
                id=1, last_entry_id=entry.id, last_entry_hash=entry.entry_hash, updated_at=entry.occurred_at
            )
        )
    db.session.flush()
    return entry
