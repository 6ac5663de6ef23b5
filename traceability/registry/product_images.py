"""Product photos: uploaded, resized with a thumbnail, ordered (the first is the main image), deleted.

An image's files are written before the row that names them. If that
transaction is rolled back (a refusal further on, a failed flush or commit),
the files would stay with nothing pointing to them; a deleted image's files
must stay until the deletion is committed. Both lists live on the session and
are settled when its outermost transaction ends.
"""

from __future__ import annotations

from functools import partial
from typing import Any

from flask import current_app
from flask_babel import format_decimal
from flask_babel import lazy_gettext as _l

from traceability.accounts.scope import writable_producer
from traceability.audit.service import record_audit, snapshot
from traceability.core.errors import InvalidInput
from traceability.core.extensions import db
from traceability.core.transactions import on_commit, on_rollback
from traceability.core.uploads import MAX_IMAGE_PIXELS, UploadRejected, images_folder, remove, store_image
from traceability.models.accounts import User
from traceability.models.registry import Product, ProductImage
from traceability.registry.products import create_product, update_product

MAX_IMAGES = 12


def upload_message(reason: str, max_bytes: int, limit: int | None = None) -> Any:
    """Why an uploaded image was refused, in words the user can act on; ``limit``: the pixel count it went over."""
    if reason == "too_large":
        megabytes = format_decimal(max_bytes / 1024 / 1024, format="#,##0.#")
        return _l("The image is larger than %(mb)s MB.", mb=megabytes)
    if reason == "too_many_pixels":
        return _l(
            "The image has too many pixels (more than %(megapixels)s megapixels).",
            megapixels=(limit or MAX_IMAGE_PIXELS) // 1_000_000,
        )
    if reason == "damaged":
        return _l("The image file is damaged.")
    if reason == "empty":
        return _l("The file is empty.")
    return _l("This file is not a PNG, JPEG or WebP image.")


def add_product_image(product: Product, data: bytes, *, actor: User, field: str = "file") -> ProductImage:
    """Store an uploaded photo of a product (resized, with a thumbnail) after its other images.

    ``field``: the form field a refusal of the photo is shown on.
    """
    producer = writable_producer(product.producer_id, actor)
    if len(product.images) >= MAX_IMAGES:
        raise InvalidInput(
            _l("A product has at most %(n)s images: delete one first.", n=MAX_IMAGES),
            {field: _l("Too many images.")},
        )
    max_bytes = current_app.config["MAX_IMAGE_BYTES"]
    try:
        stored = store_image(data, images_folder(), max_bytes=max_bytes)
    except UploadRejected as rejected:
        raise InvalidInput(
            _l("The image was not saved."),
            {field: upload_message(rejected.reason, max_bytes, rejected.limit)},
        ) from None
    _files_live_with_transaction(remove_on_rollback=(stored.filename, stored.thumbnail_filename))
    image = ProductImage(
        product_id=product.id,
        filename=stored.filename,
        thumbnail_filename=stored.thumbnail_filename,
        width=stored.width,
        height=stored.height,
        sha256=stored.sha256,
        position=max((other.position for other in product.images), default=-1) + 1,
    )
    product.images.append(image)
    db.session.flush()
    record_audit("create", image, actor=actor, producer_id=producer.id, centre_id=producer.centre_id)
    return image


def create_product_with_photo(data: dict[str, Any], *, actor: User, photo: bytes | None = None) -> Product:
    """Register a product and, when one is given, its first photo, in one transaction (a refusal keeps neither)."""
    product = create_product(data, actor=actor)
    if photo is not None:
        add_product_image(product, photo, actor=actor, field="photo")
    return product


def update_product_with_photo(
    product: Product, data: dict[str, Any], *, actor: User, photo: bytes | None = None
) -> Product:
    """Change a product and, when one is given, add a photo after its others, in one transaction."""
    update_product(product, data, actor=actor)
    if photo is not None:
        add_product_image(product, photo, actor=actor, field="photo")
    return product


def _renumber(product: Product, first: ProductImage | None = None) -> None:
    ordered = sorted(product.images, key=lambda image: (image is not first, image.position, image.id))
    for position, image in enumerate(ordered):
        image.position = position
    product.images.sort(key=lambda image: image.position)


def set_main_product_image(image: ProductImage, *, actor: User) -> ProductImage:
    """Make ``image`` the product's main image (position 0); the others keep their order."""
    product = image.product
    producer = writable_producer(product.producer_id, actor)
    before = snapshot(image)
    _renumber(product, first=image)
    db.session.flush()
    record_audit(
        "update", image, before=before, actor=actor, producer_id=producer.id, centre_id=producer.centre_id
    )
    return image


def remove_product_image(image: ProductImage, *, actor: User) -> None:
    """Delete a product image; its files go once the deletion is committed."""
    product = image.product
    producer = writable_producer(product.producer_id, actor)
    before = snapshot(image)
    product.images.remove(image)
    db.session.flush()
    record_audit(
        "delete",
        image,
        before=before,
        after={},
        actor=actor,
        producer_id=producer.id,
        centre_id=producer.centre_id,
    )
    _renumber(product)
    db.session.flush()
    _files_live_with_transaction(remove_on_commit=(image.filename, image.thumbnail_filename))


def _files_live_with_transaction(
    *, remove_on_rollback: tuple[str, ...] = (), remove_on_commit: tuple[str, ...] = ()
) -> None:
    """Files stored for this change go if it is undone; files it replaced go once it is committed."""
    folder = images_folder()
    if remove_on_rollback:
        on_rollback(partial(remove, folder, *remove_on_rollback))
    if remove_on_commit:
        on_commit(partial(remove, folder, *remove_on_commit))
