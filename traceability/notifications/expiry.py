"""The daily notice of certificates and OCOP ratings that end within 30 days, once per end date.

The worker runs ``notify_expiring`` every morning (``notifications.expiring``).
It looks at the verified certificates and product claims (OCOP ratings,
flagship designations) ending between today and 30 days from now, Vietnam's
days, and tells the producer's users of each one not told yet: the
notification's key names the certificate and its end date, so a certificate
is announced once, and again only if its end date changes (renewed, then
ending again). One that a newer verified certificate of the same kind for the
same subject outlasts is skipped: it has been renewed.
"""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import exists, select
from sqlalchemy.orm import aliased, joinedload

from traceability.core.dates import vietnam_today
from traceability.core.extensions import db
from traceability.models.registry import CLAIM_TYPES, Certification
from traceability.notifications.events import certification_expiring

NOTICE_DAYS = 30


def expiring_certifications(today: date) -> list[Certification]:
    """Verified certificates and claims ending within ``NOTICE_DAYS`` of ``today`` and not yet renewed."""
    newer = aliased(Certification)
    renewed = exists().where(
        newer.producer_id == Certification.producer_id,
        newer.scope == Certification.scope,
        newer.location_id.is_not_distinct_from(Certification.location_id),
        newer.product_id.is_not_distinct_from(Certification.product_id),
        newer.type == Certification.type,
        newer.status == "verified",
        newer.valid_to > Certification.valid_to,
    )
    return list(
        db.session.scalars(
            select(Certification)
            .options(
                joinedload(Certification.producer),
                joinedload(Certification.product),
                joinedload(Certification.location),
            )
            .where(
                Certification.status == "verified",
                Certification.valid_to.between(today, today + timedelta(days=NOTICE_DAYS)),
                ~renewed,
            )
            .order_by(Certification.valid_to, Certification.id)
        )
    )


def notify_expiring(today: date | None = None) -> int:
    """The ``notifications.expiring`` job: tell producers what ends soon; how many notifications it wrote."""
    today = today or vietnam_today()
    written = 0
    for certification in expiring_certifications(today):
        claim = certification.scope == "product" and certification.type in CLAIM_TYPES
        written += len(certification_expiring(certification, claim=claim))
    db.session.commit()
    return written
