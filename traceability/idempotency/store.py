"""The first answer of a write, kept per (user, ``Idempotency-Key``) in the write's own transaction.

A boundary that commits a write (the API's ``operation``, the field app's
sync through ``perform``) does, inside one transaction:

1. ``claim(user_id, key, fingerprint)`` before the write: either the
   ``StoredAnswer`` of an earlier request with that key (answer it again, do
   nothing else), or a new ``IdempotentRequest`` row claiming the key;
2. the write itself;
3. ``store_answer(row, status, body, headers)`` just before the commit.

The row and the write commit together, or roll back together: a refused
request (4xx) keeps no row, so its repeat is judged again, as nothing was
stored. A repeat that arrives while the first still runs inserts the same
(user, key) pair: PostgreSQL makes it wait on the unique index until the
first commits, then it replays the first answer (or, if the first rolled
back, runs); on SQLite writes run one at a time anyway. A key sent again with
another method, path or body is refused (422): that is a client's mistake,
never a repeat. Keys are kept IDEMPOTENCY_KEEP_HOURS, then purged by the
worker (``purge_expired``, in ``jobs.catalogue``).
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from flask import Request, Response, current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from traceability.core.dates import utcnow
from traceability.core.errors import BadRequest, Conflict, InvalidInput
from traceability.core.extensions import db
from traceability.models.idempotency import IDEMPOTENCY_KEY_MAX_LENGTH, IdempotentRequest

log = logging.getLogger(__name__)

IDEMPOTENCY_HEADER = "Idempotency-Key"
#: Set on an answer given again from the store, so a client can tell (Stripe's name for it).
REPLAYED_HEADER = "Idempotent-Replayed"
#: The headers of an answer worth giving again; the others (dates, request ids) belong to each request.
KEPT_HEADERS = ("Content-Type", "Location", "Content-Disposition", "Link", "Retry-After")


class KeyReused(InvalidInput):
    """The key came with another request before: a client's mistake, never a repeat."""

    code = "idempotency_key_reused"


@dataclass(frozen=True)
class StoredAnswer:
    """An answer kept for a key: its status, body and the headers worth giving again."""

    status: int
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)
    replayed: bool = False

    def response(self) -> Response:
        """The answer as a response; one given again from the store says so in ``Idempotent-Replayed``."""
        response = Response(self.body, status=self.status)
        for name, value in self.headers.items():
            response.headers[name] = value
        if self.replayed:
            response.headers[REPLAYED_HEADER] = "true"
        return response


def read_key(value: str | None) -> str | None:
    """The key of an ``Idempotency-Key`` header value; None when there is none; BadRequest when malformed.

    A key is 1 to 128 visible ASCII characters (a UUID, say). The header's
    structured form (a quoted string, as the IETF draft writes it) is read too.
    """
    if value is None:
        return None
    key = value.strip()
    if len(key) >= 2 and key.startswith('"') and key.endswith('"'):
        key = key[1:-1]
    if not 1 <= len(key) <= IDEMPOTENCY_KEY_MAX_LENGTH or not all("!" <= ch <= "~" for ch in key):
        message = _l(
            "The Idempotency-Key header must be 1 to %(max)d visible ASCII characters, such as a UUID.",
            max=IDEMPOTENCY_KEY_MAX_LENGTH,
        )
        raise BadRequest(message, {IDEMPOTENCY_HEADER: message})
    return key


def _file_digest(storage: Any) -> str:
    stream = storage.stream
    stream.seek(0)
    digest = hashlib.sha256()
    for chunk in iter(lambda: stream.read(65536), b""):
        digest.update(chunk)
    stream.seek(0)  # the view reads the file after us
    return digest.hexdigest()


def request_fingerprint(request: Request) -> str:
    """SHA-256 of what makes a request the same request: method, path, query and body.

    A JSON body counts by its value (key order and spacing aside); a form by
    its fields and each file's name and content (the multipart boundary aside);
    any other body by its bytes.
    """
    parts: list[Any] = [request.method, request.path, request.query_string.decode("latin-1")]
    if request.is_json:
        value = request.get_json(silent=True)
        parts.append(["json", value] if value is not None else ["raw", request.get_data(as_text=True)])
    elif request.mimetype in ("multipart/form-data", "application/x-www-form-urlencoded"):
        fields = sorted((name, value) for name, values in request.form.lists() for value in values)
        files = sorted(
            (name, storage.filename or "", _file_digest(storage))
            for name, storages in request.files.lists()
            for storage in storages
        )
        parts.append(["form", fields, files])
    else:
        parts.append(["raw", hashlib.sha256(request.get_data()).hexdigest()])
    canonical = json.dumps(parts, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8", "surrogatepass")).hexdigest()


def _keep() -> timedelta:
    return timedelta(hours=float(current_app.config["IDEMPOTENCY_KEEP_HOURS"]))


def _find(user_id: int, key: str) -> IdempotentRequest | None:
    # populate_existing: read the row as it is now, not as this session may remember it.
    return db.session.scalar(
        select(IdempotentRequest)
        .where(IdempotentRequest.user_id == user_id, IdempotentRequest.key == key)
        .execution_options(populate_existing=True)
    )


def _answer_of(row: IdempotentRequest, fingerprint: str) -> StoredAnswer:
    if row.fingerprint != fingerprint:
        raise KeyReused(
            _l(
                "This Idempotency-Key was already used for another request (another address or body). "
                "Use a new key for a new request; send a repeat exactly as the first."
            ),
            {IDEMPOTENCY_HEADER: _l("Already used for another request.")},
        )
    if row.status_code is None:  # only ever seen inside the transaction that claimed it
        raise Conflict(_l("A request with this Idempotency-Key is still running. Try again in a moment."))
    return StoredAnswer(row.status_code, row.response_body or b"", dict(row.response_headers or {}), True)


def claim(user_id: int, key: str, fingerprint: str) -> IdempotentRequest | StoredAnswer:
    """Claim ``key`` for this request: the new row to fill with ``store_answer``, or the answer to repeat.

    Raises ``KeyReused`` (422) when the key came with another request. Never
    commits: the row goes with the write's transaction.
    """
    existing = _find(user_id, key)
    if existing is not None and existing.created_at <= utcnow() - _keep():
        db.session.delete(existing)  # expired, not purged yet: as good as gone
        db.session.flush()
        existing = None
    if existing is None:
        row = IdempotentRequest(user_id=user_id, key=key, fingerprint=fingerprint)
        try:
            with db.session.begin_nested():
                db.session.add(row)
        except IntegrityError:
            # Another request with this key committed first (PostgreSQL waited for it to end).
            existing = _find(user_id, key)
            if existing is None:
                raise
        else:
            return row
    return _answer_of(existing, fingerprint)


def store_answer(row: IdempotentRequest, status: int, body: bytes, headers: Any) -> StoredAnswer:
    """Keep the answer of the write that claimed ``row``; a refusal (4xx, 5xx) gives the key up instead."""
    kept = {name: headers[name] for name in KEPT_HEADERS if name in headers}
    answer = StoredAnswer(status, body, kept)
    if status >= 400:
        db.session.delete(row)
    else:
        row.status_code, row.response_body, row.response_headers = status, body, kept
    db.session.flush()
    return answer


def purge_expired() -> int:
    """Remove the keys older than IDEMPOTENCY_KEEP_HOURS (the worker, hourly); how many were removed."""
    result = db.session.execute(
        delete(IdempotentRequest)
        .where(IdempotentRequest.created_at <= utcnow() - _keep())
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    removed = int(getattr(result, "rowcount", 0) or 0)
    if removed:
        log.info("removed %d expired idempotency keys", removed)
    return removed
