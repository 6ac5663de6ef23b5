"""A producer's first product in one step: the product with its photo, where it is made, its certificate.

A new producer's first day needs four records before the first lot: the
product, a photo of it, the farm or facility, and a certificate. Each has its
own page; the start page (``registry.start``) takes them in one form, and
``register_first_product`` stores them with the same services those pages
use, in one transaction: a refusal of any part stores none of them, and each
refusal names its part (``product.name``, ``place.ward``,
``certificate.number``) so the form shows it on the right field.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from flask_babel import lazy_gettext as _l

from traceability.accounts.scope import writable_owner
from traceability.core.errors import DomainError, InvalidInput
from traceability.core.extensions import db
from traceability.models.accounts import User
from traceability.models.registry import Certification, Location, Product
from traceability.registry.certifications import create_certification
from traceability.registry.locations import create_location
from traceability.registry.product_images import create_product_with_photo

#: What a first certificate may cover: the place it is made at (a VietGAP farm) or the product itself.
FIRST_CERTIFICATE_SUBJECTS = ("location", "product")

#: A service's field name in a part that the start form names differently.
_RENAMED = {
    ("place", "subject_id"): "place_id",
    ("certificate", "subject_id"): "covers",
}


@dataclass(frozen=True)
class FirstProduct:
    """What ``register_first_product`` stored."""

    product: Product
    location: Location
    certification: Certification | None


@contextmanager
def _part(name: str) -> Iterator[None]:
    """Name a refusal's fields after the part of the start form they belong to."""
    try:
        yield
    except DomainError as error:
        error.fields = {
            f"{name}.{_RENAMED.get((name, key), key)}": text for key, text in error.fields.items()
        }
        raise


def register_first_product(
    product: dict[str, Any],
    *,
    actor: User,
    place: dict[str, Any] | None = None,
    location_id: int | None = None,
    photo: bytes | None = None,
    certificate: dict[str, Any] | None = None,
    covers: str = "location",
    document: bytes | None = None,
    document_name: str | None = None,
) -> FirstProduct:
    """Store a producer's product, its photo, its place (a new one, or ``location_id``) and its certificate.

    ``product``, ``place`` and ``certificate`` are the inputs of
    ``create_product_with_photo``, ``create_location`` and ``create_certification``
    (without the certificate's subject: ``covers`` says whether it is the
    place or the product). All or nothing: the caller commits.
    """
    if (place is None) == (location_id is None):
        raise InvalidInput(
            _l("The product could not be saved."),
            {"place.name": _l("Name the farm or facility where the product is made, or choose one.")},
        )
    if certificate is not None and covers not in FIRST_CERTIFICATE_SUBJECTS:
        raise InvalidInput(
            _l("The certification could not be saved."),
            {"covers": _l("Choose what the certificate covers: the place or the product.")},
        )
    with _part("product"):
        stored_product = create_product_with_photo(
            {**product, "producer_id": actor.producer_id}, actor=actor, photo=photo
        )
    with _part("place"):
        if place is not None:
            location = create_location({**place, "producer_id": stored_product.producer_id}, actor=actor)
        elif location_id is not None:
            owner = writable_owner(Location, location_id, actor, unknown=_l("Unknown location."))
            if owner.id != stored_product.producer_id:
                raise InvalidInput(
                    _l("The product could not be saved."), {"subject_id": _l("Unknown location.")}
                )
            location = db.session.get_one(Location, location_id)
    certification = None
    if certificate is not None:
        subject_id = location.id if covers == "location" else stored_product.id
        with _part("certificate"):
            certification = create_certification(
                {**certificate, "scope": covers, "subject_id": subject_id},
                actor=actor,
                document=document,
                document_name=document_name,
            )
    return FirstProduct(stored_product, location, certification)
