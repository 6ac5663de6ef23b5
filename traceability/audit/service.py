"""Writing the hash-chained audit log.

There is one chain per centre (the entries of its producers and staff, keyed
by the entry's ``centre_id``) and one national chain (the ministry's and
every entry without a centre), so writes in different provinces never wait
for each other: on PostgreSQL each chain has its own advisory lock. Each
entry stores its chain, its position in it, the hash of the chain's entry
before it (``prev_hash``) and the SHA-256 of its own canonical content
(``entry_hash``, which covers all of these), so altering, removing or
reordering entries breaks the chain; ``traceability.audit.chain`` finds
where. ``AuditHead`` keeps each chain's newest entry so that a removed tail
is noticed too.

Lock order: a transaction that writes several chains (a recall reaching
lots of other provinces, a lot made from lots of producers of two centres,
a purge, an EPCIS capture) takes all their locks up front, in ascending
order (the national chain first, then by centre id), before its first
entry: ``lock_audit_chain(*centre_ids)`` or ``lock_batch_chains(*batch_ids)``.
Two such transactions then wait for each other instead of each holding a
chain the other needs (a deadlock: PostgreSQL cancels one, and a user sees
an error). A chain's lock is taken once per transaction; a lock taken
after a higher chain's is logged as a warning (where the chains could not
be known up front: a recall whose walk found a lot made in another province
after it locked). A write of one chain takes one lock, as before.

The entries written before there was a chain per centre (``hash_version``
1) are the national chain's first entries, unchanged: their hashes cover
neither chain nor position, and their positions are their ids.

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
import logging
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import click
from flask import current_app, has_request_context, request
from flask_login import current_user
from sqlalchemy import event, func, inspect, select, text, update
from sqlalchemy.orm import Session, SessionTransaction

from traceability.core.dates import utcnow
from traceability.core.extensions import db
from traceability.http.observability import request_id
from traceability.models.audit import AuditEntry, AuditHead
from traceability.models.batches import Batch
from traceability.models.registry import Producer, Product

log = logging.getLogger(__name__)

GENESIS_HASH = "0" * 64
NATIONAL_CHAIN = "national"
# The first key of every chain's advisory lock (the second is the centre id, 0 for the national chain).
_ADVISORY_LOCK_KEY = 720_372_026
_HELD_LOCKS = "audit_chain_locks"  # Session.info: the chains' lock keys the transaction holds
LEGACY_HASH_VERSION, HASH_VERSION = 1, 2
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


def chain_of(centre_id: int | None) -> str:
    """The chain an entry of ``centre_id`` belongs to (None: the national chain)."""
    return NATIONAL_CHAIN if centre_id is None else f"centre:{centre_id}"


def centre_of_chain(chain: str) -> int | None:
    """The centre id of a chain key (None for the national chain); ValueError for a malformed key."""
    if chain == NATIONAL_CHAIN:
        return None
    prefix, _, number = chain.partition(":")
    if prefix != "centre" or not number.isdigit():
        raise ValueError(chain)
    return int(number)


def canonical_content(entry: Any) -> bytes:
    """The bytes an entry's hash covers: every field but the hash itself.

    ``entry`` is an ``AuditEntry`` or a row with the same attributes. Entries
    of hash version 2 cover their chain and position too; legacy entries
    (version 1) are hashed as they were written.
    """
    content: dict[str, Any] = {
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
    if entry.hash_version != LEGACY_HASH_VERSION:
        content.update(v=entry.hash_version, chain=entry.chain, position=entry.position)
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


def _chain_tip(chain: str) -> tuple[int, str, bool]:
    """(position, hash) of the entry the next one of ``chain`` links to, and whether its head row exists.

    The head row is the authority: if newer entries were deleted, the next
    entry still links to the deleted one's hash and the gap stays visible.
    """
    head = db.session.execute(
        select(AuditHead.last_position, AuditHead.last_entry_hash).where(AuditHead.chain == chain)
    ).first()
    if head is not None:
        return head.last_position, head.last_entry_hash, True
    # A chain written before its head existed (the migration fills heads in; create_all does not).
    last = db.session.execute(
        select(AuditEntry.position, AuditEntry.entry_hash)
        .where(AuditEntry.chain == chain)
        .order_by(AuditEntry.position.desc())
        .limit(1)
    ).first()
    return (last.position, last.entry_hash, False) if last else (0, GENESIS_HASH, False)


def _next_entry_id() -> int:
    """A new entry id: from the table's sequence on PostgreSQL (no lock shared by the chains).

    On SQLite the write transaction holds the database lock, so the next
    number after every entry and head is free.
    """
    if db.session.get_bind().dialect.name == "postgresql":
        return int(db.session.scalar(text("SELECT nextval(pg_get_serial_sequence('audit_entry', 'id'))")))
    last = db.session.scalar(select(func.max(AuditEntry.id)))
    last_head = db.session.scalar(select(func.max(AuditHead.last_entry_id)))
    return max(last or 0, last_head or 0) + 1


def lock_audit_chain(*centre_ids: int | None) -> None:
    """Hold the right to append to the chains of ``centre_ids`` until the transaction ends.

    None is the national chain. Every write that audits takes its chain's
    lock, so it is the first lock a write transaction should take: a service
    that locks or updates rows and audits afterwards calls this before
    touching them, else it can hold a row that an auditing transaction waits
    for while it waits for this lock (a deadlock). The chains are locked in
    one order (national first, then by centre id), and a transaction that
    will write several chains locks them all in one call, up front (see the
    module's docstring). PostgreSQL only; SQLite needs nothing: its write
    transactions begin IMMEDIATE, one at a time.
    """
    session = db.session()
    if session.get_bind().dialect.name != "postgresql":
        return
    if not session.in_transaction():  # so the keys below are forgotten when it ends
        session.begin()
    held: set[int] = session.info.setdefault(_HELD_LOCKS, set())
    wanted = sorted({centre_id or 0 for centre_id in centre_ids} - held)
    if not wanted:
        return
    if held and wanted[0] < max(held):
        log.warning(
            "audit chain locks out of order: chain key %s taken after %s; a transaction taking them the "
            "other way round can deadlock with this one",
            wanted,
            sorted(held),
        )
    for key in wanted:
        session.execute(
            text("SELECT pg_advisory_xact_lock(:key, :chain)"), {"key": _ADVISORY_LOCK_KEY, "chain": key}
        )
    held.update(wanted)


@event.listens_for(Session, "after_transaction_end")
def _locks_released(session: Session, transaction: SessionTransaction) -> None:
    # Transaction-level advisory locks end with the outermost transaction (not with a savepoint).
    if transaction.parent is None and not transaction.nested:
        session.info.pop(_HELD_LOCKS, None)


def centres_of_batches(batch_ids: list[int]) -> list[int]:
    """The centres whose producers own ``batch_ids``: the chains a write about those lots audits to."""
    if not batch_ids:
        return []
    return list(
        db.session.scalars(
            select(Producer.centre_id)
            .join(Product, Product.producer_id == Producer.id)
            .join(Batch, Batch.product_id == Product.id)
            .where(Batch.id.in_(batch_ids))
            .distinct()
        )
    )


def lock_batch_chains(*batch_ids: int, centre_ids: tuple[int | None, ...] = ()) -> None:
    """Lock the audit chains of the lots' centres and of ``centre_ids``, all up front (see
    ``lock_audit_chain``): writes about the same lots take the same locks, so a recall, a use as an
    input and an event on a lot come one at a time."""
    if db.session.get_bind().dialect.name == "postgresql":
        lock_audit_chain(*centres_of_batches(list(batch_ids)), *centre_ids)


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
    """Append an entry for ``action`` on ``obj`` to its centre's chain (flushes, never commits).

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
    chain = chain_of(centre_id)
    lock_audit_chain(centre_id)
    last_position, last_hash, has_head = _chain_tip(chain)
    entry = AuditEntry(
        id=_next_entry_id(),
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
        chain=chain,
        position=last_position + 1,
        hash_version=HASH_VERSION,
        prev_hash=last_hash,
    )
    entry.entry_hash = entry_hash(entry)
    db.session.add(entry)
    moved = {
        "last_position": entry.position,
        "last_entry_id": entry.id,
        "last_entry_hash": entry.entry_hash,
        "updated_at": entry.occurred_at,
    }
    if has_head:
        db.session.execute(update(AuditHead).where(AuditHead.chain == chain).values(**moved))
    else:
        db.session.add(AuditHead(chain=chain, **moved))
    db.session.flush()
    return entry
