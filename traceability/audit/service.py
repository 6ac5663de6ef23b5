"""Writing the hash-chained audit log."""

from __future__ import annotations

import hashlib
import json
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from flask import has_request_context, request
from flask_login import current_user
from sqlalchemy import inspect, select, text

from traceability.audit.models import AuditEntry
from traceability.database import utcnow
from traceability.extensions import db

GENESIS_HASH = "0" * 64
_ADVISORY_LOCK_KEY = 720_372_026  # serialises chain appends across PostgreSQL sessions


def _json_safe(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    return value


def snapshot(obj: Any, *, exclude: tuple[str, ...] = ("password_hash", "token_hash")) -> dict[str, Any]:
    """The column values of a model instance, JSON-safe, secrets left out."""
    mapper = inspect(obj).mapper
    return {
        attr.key: _json_safe(getattr(obj, attr.key))
        for attr in mapper.column_attrs
        if attr.key not in exclude
    }


def canonical_content(entry: AuditEntry) -> bytes:
    """The bytes an entry's hash covers: every field but the hash itself."""
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


def entry_hash(entry: AuditEntry) -> str:
    return hashlib.sha256(canonical_content(entry)).hexdigest()


def _request_info() -> dict[str, Any] | None:
    if not has_request_context():
        return None
    return {"method": request.method, "path": request.path, "endpoint": request.endpoint}


def record_audit(
    action: str,
    obj: Any,
    *,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    actor: Any = None,
    producer_id: int | None = None,
    centre_id: int | None = None,
) -> AuditEntry:
    """Append an entry for ``action`` on ``obj`` to the chain (flushes, never commits)."""
    if actor is None and has_request_context() and current_user.is_authenticated:
        actor = current_user
    db.session.flush()
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _ADVISORY_LOCK_KEY})
    last = db.session.execute(
        select(AuditEntry.id, AuditEntry.entry_hash).order_by(AuditEntry.id.desc()).limit(1)
    ).first()
    entry = AuditEntry(
        id=(last.id + 1) if last else 1,
        occurred_at=utcnow(),
        user_id=getattr(actor, "id", None),
        role=getattr(actor, "role", None),
        centre_id=centre_id if centre_id is not None else getattr(actor, "centre_id", None),
        producer_id=producer_id if producer_id is not None else getattr(actor, "producer_id", None),
        action=action,
        object_type=type(obj).__name__,
        object_id=str(inspect(obj).identity[0]) if inspect(obj).identity else None,
        before=before,
        after=after if after is not None else snapshot(obj),
        request_info=_request_info(),
        prev_hash=last.entry_hash if last else GENESIS_HASH,
    )
    entry.entry_hash = entry_hash(entry)
    db.session.add(entry)
    db.session.flush()
    return entry
