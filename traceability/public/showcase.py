"""The public directory's queries: which products the centres show, their valid certificates, current lots.

A product is shown when its producer is approved (not pending, rejected or
suspended) and its centre verified it as a flagship product or its OCOP stars,
in force today (the product's published columns, ``registry.claims``). A product without its OCOP dates has no certificate to
check, so its stars alone never put it in the directory.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import ColumnElement, Select, and_, case, or_, select
from sqlalchemy.orm import contains_eager, selectinload

from traceability.core.dates import vietnam_today
from traceability.core.extensions import db
from traceability.core.text import fold, like_pattern
from traceability.models.batches import Batch
from traceability.models.registry import Certification, Producer, Product
from traceability.registry.certifications import state_clause

CURRENT_BATCHES_SHOWN = 10
# One sitemap file holds at most 50,000 URLs (sitemaps.org); the directory page takes one.
SITEMAP_MAX_PRODUCTS = 49_999
SLUG_SEPARATORS = re.compile(r"[^a-z0-9]+")
SLUG_MAX_LENGTH = 80


def ocop_in_force_clause(today: date) -> ColumnElement[bool]:
    """SQL: the product holds OCOP stars and its certificate is valid today."""
    return and_(
        Product.ocop_stars.is_not(None),
        Product.ocop_expires_on.is_not(None),
        Product.ocop_expires_on >= today,
        or_(Product.ocop_issued_on.is_(None), Product.ocop_issued_on <= today),
    )


def not_a_claim() -> ColumnElement[bool]:
    """SQL: a certificate, not an OCOP rating or flagship designation (those have their own sections)."""
    return and_(Certification.claim_ocop_stars.is_(None), Certification.type != "flagship")


def flagship_in_force_clause(today: date) -> ColumnElement[bool]:
    """SQL: the product's verified flagship designation is in force today."""
    return and_(
        Product.is_flagship.is_(True),
        or_(Product.flagship_expires_on.is_(None), Product.flagship_expires_on >= today),
    )


def showcased(today: date | None = None) -> Select:
    """Products in the directory: of approved producers, flagship or with OCOP stars in force."""
    today = today or vietnam_today()
    return (
        select(Product)
        .join(Product.producer)
        .where(
            Producer.status == "approved",
            or_(flagship_in_force_clause(today), ocop_in_force_clause(today)),
        )
    )


def search_directory(
    *,
    q: str | None = None,
    province: str | None = None,
    ocop_group: str | None = None,
    ocop_stars: int | None = None,
    today: date | None = None,
) -> Select:
    """The directory's products matching the filters, five stars first.

    ``q`` ignores diacritics and case ("ca phe" finds "Cà phê") in the
    product's names, brand, category and GTIN and in its producer's name.
    The OCOP group and stars filters only match certificates in force.
    """
    today = today or vietnam_today()
    query = showcased(today)
    if q and q.strip():
        pattern = like_pattern(q)
        query = query.where(
            or_(
                Product.search_text.like(pattern, escape="\\"),
                Producer.search_text.like(pattern, escape="\\"),
            )
        )
    if province:
        query = query.where(Producer.province_code == province)
    if ocop_group:
        query = query.where(Product.ocop_group == ocop_group, ocop_in_force_clause(today))
    if ocop_stars:
        query = query.where(Product.ocop_stars == ocop_stars, ocop_in_force_clause(today))
    stars_in_force = case((ocop_in_force_clause(today), Product.ocop_stars), else_=0)
    return query.options(contains_eager(Product.producer), selectinload(Product.images)).order_by(
        stars_in_force.desc(), Product.name, Product.id
    )


def showcased_product(product_id: int, today: date | None = None) -> Product | None:
    """The directory's product with this id, or None when it is unknown or not shown."""
    return db.session.scalar(
        showcased(today)
        .where(Product.id == product_id)
        .options(contains_eager(Product.producer).joinedload(Producer.centre), selectinload(Product.images))
    )


def product_slug(name: str) -> str:
    """The readable part of a product's URL: its Vietnamese name folded ("ca-phe-robusta")."""
    text = SLUG_SEPARATORS.sub("-", fold(name)).strip("-")
    return text[:SLUG_MAX_LENGTH].rstrip("-") or "san-pham"


def current_batches(product: Product, today: date | None = None) -> list[Batch]:
    """The product's latest lots still on sale: active (not recalled or consumed) and not past expiry."""
    today = today or vietnam_today()
    return list(
        db.session.scalars(
            select(Batch)
            .where(
                Batch.product_id == product.id,
                Batch.status == "active",
                or_(Batch.expiry_date.is_(None), Batch.expiry_date >= today),
            )
            .order_by(Batch.production_date.desc(), Batch.id.desc())
            .limit(CURRENT_BATCHES_SHOWN)
        )
    )


def valid_product_certifications(
    product: Product, batches: list[Batch], today: date | None = None
) -> list[Certification]:
    """Verified certificates in force today of the product, its producer and its current lots' origins."""
    today = today or vietnam_today()
    covers = [
        (Certification.scope == "product") & (Certification.product_id == product.id),
        (Certification.scope == "producer") & (Certification.producer_id == product.producer_id),
    ]
    origins = {batch.origin_location_id for batch in batches if batch.origin_location_id is not None}
    if origins:
        covers.append((Certification.scope == "location") & (Certification.location_id.in_(origins)))
    candidates = db.session.scalars(
        select(Certification)
        .where(state_clause("verified", today), or_(*covers), not_a_claim())
        .outerjoin(Certification.location)
        .options(contains_eager(Certification.location))
        .order_by(Certification.type, Certification.id)
    )
    return [certification for certification in candidates if certification.is_valid_on(today)]


@dataclass(frozen=True)
class SitemapEntry:
    product_id: int
    slug: str
    updated_at: datetime


def sitemap_entries(today: date | None = None) -> list[SitemapEntry]:
    """The product pages for the sitemap, with when each last changed (the product or its producer)."""
    today = today or vietnam_today()
    rows = db.session.execute(
        showcased(today)
        .with_only_columns(Product.id, Product.name, Product.updated_at, Producer.updated_at)
        .order_by(Product.id)
        .limit(SITEMAP_MAX_PRODUCTS)
    )
    return [
        SitemapEntry(product_id, product_slug(name), max(product_updated, producer_updated))
        for product_id, name, product_updated, producer_updated in rows
    ]
