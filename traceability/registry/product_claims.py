"""Declaring a product's OCOP rating and flagship designation, and the centre's decision on them.

The claims are certifications of the product (``registry.claims``): declaring
one records a pending certification, and the centre verifies or rejects it
with the certification services, from the API's claim endpoints, the product
page or the certification's own page alike.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from flask_babel import lazy_gettext as _l

from traceability.accounts.scope import writable_producer
from traceability.audit.service import record_audit, snapshot
from traceability.core.dates import vietnam_today
from traceability.core.errors import Conflict, InvalidInput
from traceability.core.extensions import db
from traceability.models.accounts import User
from traceability.models.registry import OCOP_GROUPS, Certification, Product
from traceability.registry.certifications import (
    reject_certification,
    save_with_document,
    update_certification,
    verify_certification,
)
from traceability.registry.claims import claims_of, current_claim, publish_claims
from traceability.registry.validation import optional_text

OCOP_VALIDITY_YEARS = 3  # 36 months (Decision 148/QĐ-TTg)
CLAIM_KINDS = ("ocop", "flagship")


def ocop_expiry(issued_on: date) -> date:
    """The end of an OCOP certificate's validity: 36 months after it was issued."""
    try:
        return issued_on.replace(year=issued_on.year + OCOP_VALIDITY_YEARS)
    except ValueError:  # issued on 29 February
        return issued_on.replace(year=issued_on.year + OCOP_VALIDITY_YEARS, day=28)


def ocop_claim_values(ocop: dict[str, Any], errors: dict[str, Any]) -> dict[str, Any]:
    """An OCOP claim's columns from the API's or the form's ``ocop`` object; problems go to ``errors``."""
    group, stars = ocop.get("group"), ocop.get("stars")
    if group not in OCOP_GROUPS:
        errors["ocop.group"] = _l("Choose the OCOP group of the product.")
    if not isinstance(stars, int) or isinstance(stars, bool) or not 3 <= stars <= 5:
        errors["ocop.stars"] = _l("OCOP stars are 3, 4 or 5.")
    certificate_no = optional_text(ocop, "certificate_no") or ""
    if len(certificate_no) > 100:
        errors["ocop.certificate_no"] = _l("At most 100 characters.")
    issued, expires = ocop.get("issued_on"), ocop.get("expires_on")
    if issued and expires and expires <= issued:
        errors["ocop.expires_on"] = _l("The expiry date must be after the issue date.")
    if issued and not expires:
        expires = ocop_expiry(issued)
    return {
        "claim_ocop_group": group,
        "claim_ocop_stars": stars,
        "number": certificate_no,
        "valid_from": issued,
        "valid_to": expires,
    }


def _issuer(product: Product, kind: str, values: dict[str, Any]) -> str:
    """Who decides the claim: the province's People's Committee; 5 OCOP stars the ministry."""
    if kind == "ocop" and values.get("claim_ocop_stars") == 5:
        return "Bộ Nông nghiệp và Môi trường"
    return f"Ủy ban nhân dân {product.producer.province_name}"


def _same(claim: Certification, values: dict[str, Any]) -> bool:
    return all(getattr(claim, name) == value for name, value in values.items())


def _audit(action: str, claim: Certification, actor: User, before: dict | None = None) -> None:
    record_audit(
        action,
        claim,
        actor=actor,
        before=before,
        producer_id=claim.producer_id,
        centre_id=claim.producer.centre_id,
    )


def _withdraw(product: Product, kind: str, actor: User) -> None:
    """The producer no longer claims it: declared claims go, a verified one ends yesterday."""
    yesterday = vietnam_today() - timedelta(days=1)
    for claim in claims_of(product, kind):
        if claim.status == "pending":
            _audit("delete", claim, actor, snapshot(claim))
            db.session.delete(claim)
        elif claim.status == "verified" and (claim.valid_to is None or claim.valid_to > yesterday):
            before = snapshot(claim)
            claim.valid_to = max(yesterday, claim.valid_from) if claim.valid_from else yesterday
            _audit("withdraw", claim, actor, before)
    db.session.flush()


def _declare(
    product: Product,
    kind: str,
    values: dict[str, Any],
    *,
    actor: User,
    document: bytes | None,
    document_name: str | None,
) -> Certification:
    """Record the claim: unchanged, updated while still declared, or a new declaration."""
    claim = current_claim(product, kind)
    if claim is not None and claim.status in ("pending", "verified") and _same(claim, values):
        if document is not None:
            update_certification(claim, {}, actor=actor, document=document, document_name=document_name)
        return claim
    if claim is not None and claim.status == "pending":
        before = snapshot(claim)
        for name, value in values.items():
            setattr(claim, name, value)
        claim.issuer = _issuer(product, kind, values)
        save_with_document(
            claim, "update", actor, before=before, document=document, document_name=document_name
        )
        return claim
    claim = Certification(
        producer_id=product.producer_id,
        scope="product",
        product_id=product.id,
        type=kind,
        issuer=_issuer(product, kind, values),
        status="pending",
        **values,
    )
    claim.producer = product.producer
    claim.product = product
    save_with_document(claim, "create", actor, before=None, document=document, document_name=document_name)
    return claim


def declare_ocop(
    product: Product,
    ocop: dict[str, Any] | None,
    *,
    actor: User,
    document: bytes | None = None,
    document_name: str | None = None,
) -> Certification | None:
    """The producer declares the product's OCOP rating (None withdraws it); its centre then verifies it.

    A declared rating is public only once verified. Changing a verified rating
    declares a new one: the verified rating stays public until the centre
    decides on the new one.
    """
    writable_producer(product.producer_id, actor)
    if not ocop:
        _withdraw(product, "ocop", actor)
        publish_claims(product)
        return None
    errors: dict[str, Any] = {}
    values = ocop_claim_values(ocop, errors)
    if errors:
        raise InvalidInput(_l("The product could not be saved."), errors)
    # The web form sends the decision's scan with the rating; the API attaches it to the claim later.
    document = ocop.get("document", document)
    document_name = ocop.get("document_name", document_name)
    claim = _declare(product, "ocop", values, actor=actor, document=document, document_name=document_name)
    publish_claims(product)
    return claim


def declare_flagship(
    product: Product,
    declared: bool,
    *,
    actor: User,
    decision_no: str | None = None,
    valid_to: date | None = None,
) -> Certification | None:
    """The producer says the product is (or is no longer) a flagship product of its province."""
    writable_producer(product.producer_id, actor)
    if not declared:
        _withdraw(product, "flagship", actor)
        publish_claims(product)
        return None
    number = " ".join((decision_no or "").split())
    if len(number) > 100:
        raise InvalidInput(_l("The product could not be saved."), {"flagship": _l("At most 100 characters.")})
    claim = current_claim(product, "flagship")
    if claim is not None and claim.status in ("pending", "verified") and decision_no is None:
        return claim  # "still a flagship product": nothing new to decide
    claim = _declare(
        product,
        "flagship",
        {"number": number, "valid_from": None, "valid_to": valid_to},
        actor=actor,
        document=None,
        document_name=None,
    )
    publish_claims(product)
    return claim


def _pending_claim(product: Product, kind: str) -> Certification:
    if kind not in CLAIM_KINDS:
        raise InvalidInput(_l("A claim is ocop or flagship."))
    claim = current_claim(product, kind)
    if claim is None or claim.status != "pending":
        message = (
            _l("This product has no declared OCOP rating waiting for a decision.")
            if kind == "ocop"
            else _l("This product has no declared flagship designation waiting for a decision.")
        )
        raise Conflict(message)
    return claim


def verify_claim(product: Product, kind: str, *, actor: User) -> Certification:
    """The product's centre confirms its declared OCOP rating or flagship designation."""
    return verify_certification(_pending_claim(product, kind), actor=actor)


def reject_claim(product: Product, kind: str, reason: str | None, *, actor: User) -> Certification:
    """The product's centre refuses the declared claim, with a reason the producer sees."""
    return reject_certification(_pending_claim(product, kind), reason, actor=actor)
