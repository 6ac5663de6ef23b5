"""``Idempotency-Key``: a write repeated with the same key answers its first answer and stores nothing twice.

Shared by the JSON API (every authenticated write of ``/api/v1``, in its
``operation`` boundary) and the field app's sync endpoint. ``store`` holds the
rules; the key is the caller's, so two users never see each other's answers.
"""

from traceability.idempotency.store import (
    IDEMPOTENCY_HEADER,
    StoredAnswer,
    claim,
    purge_expired,
    read_key,
    request_fingerprint,
    store_answer,
)

__all__ = [
    "IDEMPOTENCY_HEADER",
    "StoredAnswer",
    "claim",
    "purge_expired",
    "read_key",
    "request_fingerprint",
    "store_answer",
]
