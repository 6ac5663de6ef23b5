"""Certifications: recording them with their document, and the centre's verification."""

from __future__ import annotations

import re
import unicodedata
from datetime import date
from functools import partial
from pathlib import Path
from typing import Any

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import ColumnElement, Select, and_, or_, select
from sqlalchemy.orm import joinedload

from traceability.accounts.policy import STAFF_ROLES, is_centre_staff_of
from traceability.accounts.scope import APPLYING_STATUSES, approval_refusal, writable_owner, writable_producer
from traceability.audit.service import record_audit, snapshot
from traceability.core.dates import utcnow, vietnam_today
from traceability.core.errors import Conflict, Forbidden, InvalidInput
from traceability.core.extensions import db
from traceability.core.transactions import on_rollback
from traceability.core.uploads import StoredDocument, UploadRejected, remove, store_document
from traceability.core.vocabulary import CERTIFICATION_TYPE_LABELS
from traceability.models.accounts import User
from traceability.models.registry import (
    CERTIFICATION_SCOPES,
    CERTIFICATION_TYPES,
    CLAIM_TYPES,
    Certification,
    Location,
    Producer,
    Product,
)
from traceability.notifications import events as notify
from traceability.registry.claims import is_claim, publish_claims
from traceability.registry.validation import require, text

CERTIFICATION_SCOPE_LABELS = {
    "producer": _l("Producer"),
    "location": _l("Location"),
    "product": _l("Product"),
}
# What a list shows: the stored status, or "expired" once the date has passed.
CERTIFICATION_STATES = ("pending", "verified", "rejected", "expired")
DECIDING_ROLES = STAFF_ROLES
EDITABLE_FIELDS = ("type", "number", "issuer", "valid_from", "valid_to")
MAX_REASON_LENGTH = 2000  # a rejection's reason, which the producer reads
DOCUMENT_EXTENSIONS = {
    "application/pdf": "pdf",
    "image/png": "png",
    "image/jpeg": "jpg",
    "image/webp": "webp",
}


def certification_state(certification: Certification, today: date | None = None) -> str:
    """pending, verified, rejected, or expired once the last day of validity has passed."""
    today = today or vietnam_today()
    if certification.valid_to is not None and certification.valid_to < today:
        return "expired"
    return certification.status


def state_clause(state: str, today: date | None = None) -> ColumnElement[bool]:
    """The SQL condition matching ``certification_state(...) == state``."""
    today = today or vietnam_today()
    if state == "expired":
        return and_(Certification.valid_to.is_not(None), Certification.valid_to < today)
    return and_(
        Certification.status == state,
        or_(Certification.valid_to.is_(None), Certification.valid_to >= today),
    )


def with_subjects(query: Select) -> Select:
    """``query`` on certifications loading their producer, location and product in the same query."""
    return query.options(
        joinedload(Certification.producer),
        joinedload(Certification.location),
        joinedload(Certification.product),
    )


def type_label(code: str | None) -> str:
    return str(CERTIFICATION_TYPE_LABELS.get(code, code)) if code else ""


def scope_label(code: str | None) -> str:
    return str(CERTIFICATION_SCOPE_LABELS.get(code, code)) if code else ""


def subject_name(certification: Certification) -> str:
    """The name of what the certificate covers: the producer, location or product."""
    if certification.scope == "location" and certification.location is not None:
        return certification.location.name
    if certification.scope == "product" and certification.product is not None:
        return certification.product.name
    return certification.producer.name


def subject_id(certification: Certification) -> int:
    """The id of what the certificate covers, as the API takes it."""
    if certification.scope == "location":
        return certification.location_id  # type: ignore[return-value]
    if certification.scope == "product":
        return certification.product_id  # type: ignore[return-value]
    return certification.producer_id


def can_decide(certification: Certification, user: Any) -> bool:
    """Whether ``user`` is staff of the centre that verifies this certification."""
    return is_centre_staff_of(user, certification.producer)


# ---------------------------------------------------------------- documents


def documents_folder() -> Path:
    """Where documents are kept: private, never under the public media folder."""
    return Path(current_app.config["UPLOAD_FOLDER"]) / "documents"


def _size(size: int) -> str:
    return f"{size / 1024 / 1024:g} MB" if size >= 1024 * 1024 else f"{size / 1024:g} KB"


def _rejection_message(reason: str) -> Any:
    messages = {
        "empty": _l("The file is empty."),
        "too_large": _l(
            "The file is larger than %(limit)s.", limit=_size(current_app.config["MAX_DOCUMENT_BYTES"])
        ),
        "type": _l(
            "Only PDF documents and JPEG, PNG or WebP images are accepted. "
            "The file's content is neither, whatever its name says."
        ),
        "damaged": _l("The image is damaged and cannot be read."),
        "too_many_pixels": _l("The image has too many pixels. Scan it at a lower resolution."),
    }
    return messages.get(reason, messages["type"])


def _store(document: bytes) -> StoredDocument:
    """Store a document for the current transaction: a rollback removes it again."""
    try:
        stored = store_document(
            document, documents_folder(), max_bytes=current_app.config["MAX_DOCUMENT_BYTES"]
        )
    except UploadRejected as error:
        message = _rejection_message(error.reason)
        raise InvalidInput(
            _l("The document was refused: %(reason)s", reason=message), {"document": message}
        ) from None
    on_rollback(partial(remove, documents_folder(), stored.filename))
    return stored


def _original_name(name: str | None) -> str | None:
    """The uploaded file's own name without any folder, control characters or excess length."""
    if not name:
        return None
    name = re.split(r"[\\/]", name)[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C").strip()
    return name[:255] or None


def _attach(certification: Certification, stored: StoredDocument, name: str | None) -> None:
    certification.document_filename = stored.filename
    certification.document_sha256 = stored.sha256
    certification.document_content_type = stored.content_type
    certification.document_size = stored.size
    certification.document_original_name = _original_name(name)


def download_names(certification: Certification) -> tuple[str, str]:
    """The download's file names: ASCII for ``filename=`` and the original for ``filename*``.

    The extension always follows the stored content, never the uploaded name.
    """
    extension = DOCUMENT_EXTENSIONS.get(certification.document_content_type or "", "bin")
    original = certification.document_original_name or ""
    stem = original.rsplit(".", 1)[0] if "." in original else original
    stem = stem or f"certificate-{certification.id}"
    folded = unicodedata.normalize("NFD", stem.replace("đ", "d").replace("Đ", "D"))
    ascii_stem = "".join(ch for ch in folded if not unicodedata.combining(ch))
    ascii_stem = re.sub(r"[^A-Za-z0-9._-]+", "_", ascii_stem).strip("._") or f"certificate-{certification.id}"
    return f"{ascii_stem[:100]}.{extension}", f"{stem[:200]}.{extension}"


# ---------------------------------------------------------------- services


def _subject(scope: str, subject: Any, actor: User) -> tuple[Producer, int | None, int | None]:
    """The owning producer (which ``actor`` must be able to write for) and the location or product id."""
    if subject is None and scope == "producer" and actor.role == "producer":
        subject = actor.producer_id
    if not isinstance(subject, int) or isinstance(subject, bool):
        raise InvalidInput(
            _l("The certification could not be saved."),
            {"subject_id": _l("Choose the producer, location or product the certificate covers.")},
        )
    model = {"producer": Producer, "location": Location, "product": Product}[scope]
    unknown = {
        "producer": _l("Unknown producer."),
        "location": _l("Unknown location."),
        "product": _l("Unknown product."),
    }[scope]
    producer = writable_owner(model, subject, actor, unknown=unknown, require_approved=False)
    location_id = subject if scope == "location" else None
    product_id = subject if scope == "product" else None
    _check_may_certify(producer, scope, actor)
    return producer, location_id, product_id


def _check_may_certify(producer: Producer, scope: str, actor: User) -> None:
    """Refuse certificates of a producer that is not approved, but its own while it applies.

    A pending (or rejected and answering) producer may hand the centre the
    certificates of the producer itself: they are the evidence the centre
    approves it on, and stay pending until the centre verifies them. Nothing
    of it is public before approval, since it has no products yet. Location
    and product certificates, and anything of a suspended producer, wait for
    approval like the rest of its records.
    """
    if scope == "producer" and producer.status in APPLYING_STATUSES:
        return
    refusal = approval_refusal(producer, actor)
    if refusal is not None:
        raise Forbidden(refusal)


def _check_fields(data: dict[str, Any], errors: dict[str, Any]) -> None:
    require(data, errors, "type", "number", "issuer", "valid_from", "valid_to")
    if data.get("type") and data["type"] not in CERTIFICATION_TYPES:
        errors["type"] = _l("Type must be one of: %(types)s.", types=", ".join(CERTIFICATION_TYPES))
    if len(text(data, "number")) > 100:
        errors["number"] = _l("At most %(max)s characters.", max=100)
    if len(text(data, "issuer")) > 300:
        errors["issuer"] = _l("At most %(max)s characters.", max=300)
    valid_from, valid_to = data.get("valid_from"), data.get("valid_to")
    for name, value in (("valid_from", valid_from), ("valid_to", valid_to)):
        if value is not None and not isinstance(value, date):
            errors[name] = _l("Enter a date.")
    if isinstance(valid_from, date) and isinstance(valid_to, date) and valid_to < valid_from:
        errors["valid_to"] = _l("The certificate cannot end before it starts.")


def _audit(action: str, certification: Certification, actor: User, before: dict | None = None) -> None:
    record_audit(
        action,
        certification,
        actor=actor,
        before=before,
        producer_id=certification.producer_id,
        centre_id=certification.producer.centre_id,
    )


def save_with_document(
    certification: Certification,
    action: str,
    actor: User,
    *,
    before: dict | None,
    document: bytes | None,
    document_name: str | None,
) -> None:
    """Store the document, then the row and its audit entry; a rollback removes the file (``_store``)."""
    if document is not None:
        _attach(certification, _store(document), document_name)
    db.session.add(certification)
    db.session.flush()
    _audit(action, certification, actor, before)


def create_certification(
    data: dict[str, Any],
    *,
    actor: User,
    document: bytes | None = None,
    document_name: str | None = None,
) -> Certification:
    """Record a certificate of a producer, one of its locations or products, pending verification."""
    scope = data.get("scope")
    if scope not in CERTIFICATION_SCOPES:
        raise InvalidInput(
            _l("The certification could not be saved."),
            {"scope": _l("Scope must be one of: %(scopes)s.", scopes=", ".join(CERTIFICATION_SCOPES))},
        )
    if data.get("type") in CLAIM_TYPES:
        raise InvalidInput(
            _l("The certification could not be saved."),
            {
                "type": _l(
                    "Declare an OCOP rating or a flagship designation on the product itself: "
                    "its centre verifies it there."
                )
            },
        )
    producer, location_id, product_id = _subject(scope, data.get("subject_id"), actor)
    errors: dict[str, Any] = {}
    _check_fields(data, errors)
    if errors:
        raise InvalidInput(_l("The certification could not be saved."), errors)
    duplicate = select(Certification.id).where(
        Certification.producer_id == producer.id,
        Certification.scope == scope,
        Certification.location_id.is_not_distinct_from(location_id),
        Certification.product_id.is_not_distinct_from(product_id),
        Certification.type == data["type"],
        Certification.number == text(data, "number"),
    )
    if db.session.scalar(duplicate.limit(1)):
        raise Conflict(
            _l("This certificate is already recorded. Open it to correct it or attach its document."),
            {"number": _l("Already recorded.")},
        )
    certification = Certification(
        producer_id=producer.id,
        scope=scope,
        location_id=location_id,
        product_id=product_id,
        type=data["type"],
        number=text(data, "number"),
        issuer=text(data, "issuer"),
        valid_from=data["valid_from"],
        valid_to=data["valid_to"],
        status="pending",
    )
    certification.producer = producer
    save_with_document(
        certification, "create", actor, before=None, document=document, document_name=document_name
    )
    return certification


def update_certification(
    certification: Certification,
    data: dict[str, Any],
    *,
    actor: User,
    document: bytes | None = None,
    document_name: str | None = None,
) -> Certification:
    """Change a certificate's data or document; a changed certificate must be verified again.

    Only the keys present in ``data`` change. A replaced document's file is
    kept: the audit entry's "before" still points at it.
    """
    producer = writable_producer(certification.producer_id, actor, require_approved=False)
    _check_may_certify(producer, certification.scope, actor)
    changes = {name: data[name] for name in EDITABLE_FIELDS if name in data}
    for name in ("number", "issuer"):
        if name in changes:
            changes[name] = text(changes, name)
    errors: dict[str, Any] = {}
    if changes:
        _check_fields({name: getattr(certification, name) for name in EDITABLE_FIELDS} | changes, errors)
    if errors:
        raise InvalidInput(_l("The certification could not be saved."), errors)
    changed = {name: value for name, value in changes.items() if getattr(certification, name) != value}
    if not changed and document is None:
        return certification
    before = snapshot(certification)
    for name, value in changed.items():
        setattr(certification, name, value)
    certification.status = "pending"
    certification.status_reason = None
    certification.verified_by_id = None
    certification.verified_at = None
    save_with_document(
        certification, "update", actor, before=before, document=document, document_name=document_name
    )
    if is_claim(certification) and certification.product is not None:
        publish_claims(certification.product)
    return certification


def _check_decision(certification: Certification, actor: User) -> None:
    if not can_decide(certification, actor):
        raise Forbidden(_l("Only staff of the producer's centre verify or reject its certifications."))
    if certification.status != "pending":
        raise Conflict(
            _l("This certification is already decided; it can be verified or rejected only while pending.")
        )


def verify_certification(certification: Certification, *, actor: User) -> Certification:
    """The centre confirms the certificate against its document."""
    _check_decision(certification, actor)
    if certification.type == "ocop" and is_claim(certification) and certification.valid_from is None:
        raise Conflict(
            _l("Enter the date of the OCOP decision first: the centre verifies the rating against it."),
            {"issued_on": _l("The decision date is missing.")},
        )
    # A flagship designation is the province's own decision: its centre needs no copy to confirm it.
    if not certification.document_filename and certification.type != "flagship":
        raise Conflict(
            _l("Attach the certificate's document first: the centre verifies the certificate against it."),
            {"document": _l("No document attached.")},
        )
    before = snapshot(certification)
    certification.status = "verified"
    certification.status_reason = None
    certification.verified_by_id = actor.id
    certification.verified_at = utcnow()
    _audit("verify", certification, actor, before)
    notify.certification_decided(certification, claim=is_claim(certification), actor=actor)
    if is_claim(certification) and certification.product is not None:
        publish_claims(certification.product)
    return certification


def reject_certification(certification: Certification, reason: str | None, *, actor: User) -> Certification:
    """The centre refuses the certificate, with a reason the producer sees."""
    _check_decision(certification, actor)
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput(
            _l("Say why the certification is rejected: the producer sees the reason."),
            {"reason": _l("This field is required.")},
        )
    if len(reason) > MAX_REASON_LENGTH:
        raise InvalidInput(
            _l("The reason is too long."),
            {"reason": _l("At most %(max)s characters.", max=MAX_REASON_LENGTH)},
        )
    before = snapshot(certification)
    certification.status = "rejected"
    certification.status_reason = reason
    certification.verified_by_id = actor.id
    certification.verified_at = utcnow()
    _audit("reject", certification, actor, before)
    notify.certification_decided(certification, claim=is_claim(certification), actor=actor)
    if is_claim(certification) and certification.product is not None:
        publish_claims(certification.product)
    return certification
