"""A product's claims (its OCOP rating, its flagship designation) and what of them is public.

A claim is a certification of the product, of type ``ocop`` or ``flagship``:
the producer declares it, the producer's centre verifies it against the
decision document or rejects it with a reason, and it expires at the end of
its validity, all through the certification machinery (work list, document,
audit entry). The product's OCOP and flagship columns are the published copy
of its verified claims: ``publish_claims`` writes them, and nothing else does,
so a page, a feed, a label or a count that reads them shows only what a centre
verified.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from traceability.core.extensions import db
from traceability.models.registry import CLAIM_TYPES, Certification, Product

# The API's names for a claim's states; a certification's "pending" is a declared claim.
CLAIM_STATES = ("declared", "verified", "rejected", "expired")


def is_claim(certification: Certification) -> bool:
    """Whether the certification is a product's OCOP or flagship claim."""
    return (
        certification.scope == "product"
        and certification.type in CLAIM_TYPES
        and (certification.type == "flagship" or certification.claim_ocop_stars is not None)
    )


def claims_of(product: Product, kind: str) -> list[Certification]:
    """The product's claims of one kind (``ocop`` or ``flagship``), the newest first."""
    query = select(Certification).where(
        Certification.product_id == product.id,
        Certification.scope == "product",
        Certification.type == kind,
    )
    if kind == "ocop":
        query = query.where(Certification.claim_ocop_stars.is_not(None))
    return list(db.session.scalars(query.order_by(Certification.id.desc())))


def loaded_claim(product: Product, kind: str) -> Certification | None:
    """``current_claim`` read from ``product.claims``: one query for a whole list with selectinload."""
    return next((claim for claim in product.claims if claim.type == kind and is_claim(claim)), None)


def current_claim(product: Product, kind: str) -> Certification | None:
    """The product's latest claim of one kind: what the producer last declared."""
    claims = claims_of(product, kind)
    return claims[0] if claims else None


def claim_state(claim: Certification, today: date) -> str:
    """declared, verified, rejected, or expired once its last day of validity has passed."""
    if claim.valid_to is not None and claim.valid_to < today:
        return "expired"
    return "declared" if claim.status == "pending" else claim.status


def publish_claims(product: Product) -> None:
    """Copy the product's latest verified claims onto its public columns; clear what none backs."""
    verified_ocop = next((c for c in claims_of(product, "ocop") if c.status == "verified"), None)
    if verified_ocop is None:
        product.ocop_group = product.ocop_stars = product.ocop_level = None
        product.ocop_certificate_no = product.ocop_issued_on = product.ocop_expires_on = None
    else:
        product.ocop_group = verified_ocop.claim_ocop_group
        product.ocop_stars = verified_ocop.claim_ocop_stars
        # The province certifies 3 and 4 stars, the central council 5 (Decision 1489/QĐ-TTg).
        product.ocop_level = "central" if verified_ocop.claim_ocop_stars == 5 else "province"
        product.ocop_certificate_no = verified_ocop.number or None
        product.ocop_issued_on = verified_ocop.valid_from
        product.ocop_expires_on = verified_ocop.valid_to
    verified_flagship = next((c for c in claims_of(product, "flagship") if c.status == "verified"), None)
    product.is_flagship = verified_flagship is not None
    product.flagship_expires_on = verified_flagship.valid_to if verified_flagship is not None else None
    db.session.flush()
