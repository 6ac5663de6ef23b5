"""Factories that put realistic records straight into the database for tests."""

from __future__ import annotations

import itertools
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from traceability.accounts.service import hash_password
from traceability.batches.service import new_public_code
from traceability.core.dates import vietnam_today
from traceability.core.extensions import db
from traceability.core.provinces import province_name
from traceability.models.accounts import User
from traceability.models.batches import Batch
from traceability.models.registry import Centre, Certification, Location, Producer, Product

PASSWORD = "correct-horse-42"
_counter = itertools.count(1)


def _next() -> int:
    return next(_counter)


def make_centre(province_code: str = "66", **overrides: Any) -> Centre:
    centre = Centre(
        province_code=province_code,
        name=overrides.pop("name", f"Trung tâm Ứng dụng KH&CN {province_name(province_code)}"),
        **overrides,
    )
    db.session.add(centre)
    db.session.flush()
    return centre


def make_producer(centre: Centre, **overrides: Any) -> Producer:
    n = _next()
    values: dict[str, Any] = {
        "centre_id": centre.id,
        "name": f"HTX Cà phê Số {n}",
        "kind": "cooperative",
        "tax_code": f"{6000000000 + n}",
        "province_code": centre.province_code,
        "ward": "Phường Buôn Ma Thuột",
        "street": f"{n} Lê Duẩn",
        "status": "approved",
    }
    values.update(overrides)
    producer = Producer(**values)
    db.session.add(producer)
    db.session.flush()
    return producer


def make_user(
    role: str, *, centre: Centre | None = None, producer: Producer | None = None, **overrides: Any
) -> User:
    n = _next()
    user = User(
        email=overrides.pop("email", f"{role}{n}@example.vn"),
        password_hash=hash_password(overrides.pop("password", PASSWORD)),
        role=role,
        name=overrides.pop("name", f"Người dùng {n}"),
        centre_id=centre.id if centre else None,
        producer_id=producer.id if producer else None,
        **overrides,
    )
    db.session.add(user)
    db.session.flush()
    return user


def make_location(producer: Producer, **overrides: Any) -> Location:
    n = _next()
    values: dict[str, Any] = {
        "producer_id": producer.id,
        "name": f"Vườn cà phê {n}",
        "kind": "farm",
        "internal_code": f"LTEST{n:06d}",
        "province_code": producer.province_code,
        "ward": "Xã Ea Tu",
    }
    values.update(overrides)
    location = Location(**values)
    db.session.add(location)
    db.session.flush()
    return location


def make_product(producer: Producer, **overrides: Any) -> Product:
    n = _next()
    values: dict[str, Any] = {
        "producer_id": producer.id,
        "name": f"Cà phê Robusta rang xay {n}",
        "category": "Cà phê",
    }
    values.update(overrides)
    if values.get("ocop_stars") and not values.get("ocop_level"):
        values["ocop_level"] = "central" if values["ocop_stars"] == 5 else "province"
    product = Product(**values)
    db.session.add(product)
    db.session.flush()
    _verified_claims(product)
    return product


def _verified_claims(product: Product) -> None:
    """The claims behind a product made with published OCOP stars or flagship flag: verified ones,
    as if its centre had confirmed them (``registry.claims.publish_claims`` gives the same columns)."""
    claims = []
    if product.ocop_stars:
        claims.append(
            Certification(
                type="ocop",
                claim_ocop_group=product.ocop_group or "food",
                claim_ocop_stars=product.ocop_stars,
                number=product.ocop_certificate_no or "",
                valid_from=product.ocop_issued_on,
                valid_to=product.ocop_expires_on,
            )
        )
    if product.is_flagship:
        claims.append(Certification(type="flagship", number="", valid_to=product.flagship_expires_on))
    for claim in claims:
        claim.producer_id = product.producer_id
        claim.scope = "product"
        claim.product_id = product.id
        claim.issuer = ""
        claim.status = "verified"
        db.session.add(claim)
    if claims:
        db.session.flush()


def make_batch(product: Product, **overrides: Any) -> Batch:
    n = _next()
    values: dict[str, Any] = {
        "product_id": product.id,
        "lot_code": f"LO{n:04d}",
        "public_code": new_public_code(),
        "production_date": date(2026, 10, 1),
        "expiry_date": date(2027, 10, 1),
        "quantity": Decimal("500"),
        "unit": "KGM",
    }
    values.update(overrides)
    batch = Batch(**values)
    db.session.add(batch)
    db.session.flush()
    return batch


def make_certification(subject: Producer | Location | Product, **overrides: Any) -> Certification:
    """A certification of a producer, location or product: VietGAP, verified, in force from 30 days ago.

    ``make.certification`` in the tests.
    """
    today = vietnam_today()
    scope = {Producer: "producer", Location: "location", Product: "product"}[type(subject)]
    values: dict[str, Any] = {
        "producer_id": subject.id if scope == "producer" else subject.producer_id,
        "scope": scope,
        "location_id": subject.id if scope == "location" else None,
        "product_id": subject.id if scope == "product" else None,
        "type": "vietgap",
        "number": f"VG-TEST-{_next():04d}",
        "issuer": "Trung tâm Chứng nhận Phù hợp",
        "valid_from": today - timedelta(days=30),
        "valid_to": today + timedelta(days=300),
        "status": "verified",
    }
    values.update(overrides)
    certification = Certification(**values)
    db.session.add(certification)
    db.session.flush()
    return certification
