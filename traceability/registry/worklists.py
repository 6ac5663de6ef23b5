"""The centre staff's work lists: what waits for a decision, what expires soon, what is incomplete.

Each list is one query through the tenant scope (a centre sees its province,
the ministry every province), with its full count from a window function and
the related rows loaded in the same query, never one query per row.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, exists, func, or_
from sqlalchemy.orm import contains_eager, joinedload

from traceability.accounts.scope import scoped_select
from traceability.core.dates import vietnam_today
from traceability.core.extensions import db
from traceability.models.registry import Certification, GtinDispute, Producer, Product, ProductImage
from traceability.registry.certifications import with_subjects
from traceability.registry.gtin_disputes import open_disputes

EXPIRY_WINDOW_DAYS = 60
LIMIT = 100

# What Decree 37/2026 Art. 23.5 asks the system to hold that a product record can lack.
MISSING_LABELS = {
    "image": _l("image"),
    "address": _l("producer's address"),
    "standards": _l("standards applied"),
    "brand": _l("brand"),
    "description": _l("description"),
}


@dataclass(frozen=True)
class Worklist:
    """The first ``LIMIT`` rows of a list and how many there are in all."""

    items: list[Any]
    total: int


@dataclass(frozen=True)
class IncompleteProduct:
    product: Product
    missing: list[str]  # keys of MISSING_LABELS


def _fetch(query: Select, limit: int) -> list[Any]:
    """Rows of ``query`` with the total count of the unlimited query as their last column."""
    return list(db.session.execute(query.add_columns(func.count().over().label("total")).limit(limit)))


def _worklist(query: Select, limit: int) -> Worklist:
    rows = _fetch(query, limit)
    return Worklist([row[0] for row in rows], rows[0].total if rows else 0)


def _window(today: date | None) -> tuple[date, date]:
    today = today or vietnam_today()
    return today, today + timedelta(days=EXPIRY_WINDOW_DAYS)


def pending_producers(user: Any, *, limit: int = LIMIT) -> Worklist:
    """Producers that signed up and wait for the centre's approval, oldest first."""
    query = scoped_select(Producer, user).where(Producer.status == "pending")
    return _worklist(query.order_by(Producer.created_at, Producer.id), limit)


def gtin_disputes(user: Any, *, limit: int = LIMIT) -> Worklist:
    """Open GTIN disputes about the centre's producers (either side), oldest first."""
    query = open_disputes(user).options(
        joinedload(GtinDispute.claimant_producer), joinedload(GtinDispute.holder_producer)
    )
    return _worklist(query, limit)


def certifications_to_verify(user: Any, *, limit: int = LIMIT) -> Worklist:
    """Certifications waiting for the centre's verification, oldest first."""
    query = with_subjects(scoped_select(Certification, user)).where(Certification.status == "pending")
    return _worklist(query.order_by(Certification.created_at, Certification.id), limit)


def expiring_certifications(user: Any, *, today: date | None = None, limit: int = LIMIT) -> Worklist:
    """Verified certifications whose validity ends within the next 60 days, soonest first.

    OCOP ratings are left to ``expiring_ocop_products``, which lists them by product.
    """
    start, end = _window(today)
    query = with_subjects(scoped_select(Certification, user)).where(
        Certification.status == "verified",
        Certification.valid_to.between(start, end),
        Certification.claim_ocop_stars.is_(None),
    )
    return _worklist(query.order_by(Certification.valid_to, Certification.id), limit)


def expiring_ocop_products(user: Any, *, today: date | None = None, limit: int = LIMIT) -> Worklist:
    """Products whose OCOP certificate expires within the next 60 days, soonest first."""
    start, end = _window(today)
    query = (
        scoped_select(Product, user)
        .options(joinedload(Product.producer))
        .where(Product.ocop_expires_on.between(start, end))
    )
    return _worklist(query.order_by(Product.ocop_expires_on, Product.id), limit)


def _blank(column: Any) -> Any:
    return func.trim(column) == ""


def incomplete_products(user: Any, *, limit: int = LIMIT) -> Worklist:
    """Products lacking an image, producer address, standards, brand or description, with what lacks."""
    has_image = exists().where(ProductImage.product_id == Product.id)
    no_address = or_(_blank(Producer.street), _blank(Producer.ward))
    query = (
        scoped_select(Product, user)
        .join(Product.producer)
        .options(contains_eager(Product.producer))
        .add_columns(has_image.label("has_image"))
        .where(
            Producer.status != "rejected",
            or_(
                ~has_image,
                no_address,
                _blank(Product.standards),
                _blank(Product.brand),
                _blank(Product.description),
            ),
        )
        .order_by(Producer.name, Product.name, Product.id)
    )
    rows = _fetch(query, limit)
    items = [IncompleteProduct(row[0], missing_items(row[0], bool(row.has_image))) for row in rows]
    return Worklist(items, rows[0].total if rows else 0)


def missing_items(product: Product, has_image: bool) -> list[str]:
    """What the product's record lacks, as keys of ``MISSING_LABELS``."""
    producer = product.producer
    checks = {
        "image": has_image,
        "address": bool(producer.street.strip() and producer.ward.strip()),
        "standards": bool(product.standards.strip()),
        "brand": bool(product.brand.strip()),
        "description": bool(product.description.strip()),
    }
    return [name for name, present in checks.items() if not present]
