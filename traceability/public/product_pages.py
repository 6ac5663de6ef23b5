"""A product's public page: what it shows, its canonical path and the helpers its templates use.

The directory serves it at ``/products/{id}-{slug}``; the resolver at the
product's GTIN (walk-up, ``/01/{gtin}``). Both render it from here.
"""

from __future__ import annotations

from typing import Any

from flask import current_app, url_for
from flask_babel import get_locale
from flask_babel import gettext as _

from traceability.batches.service import public_url
from traceability.core.dates import vietnam_today
from traceability.core.vocabulary import label
from traceability.models.registry import Product
from traceability.public.consumer import ocop_state
from traceability.public.jsonld import product_jsonld
from traceability.public.showcase import current_batches, product_slug, valid_product_certifications
from traceability.registry.certifications import type_label
from traceability.registry.forms import OCOP_GROUP_LABELS, OCOP_LEVEL_LABELS

DESCRIPTION_LENGTH = 200


def product_name(product: Product) -> str:
    """The product's name in the page's language: the English one when there is one."""
    return product.name_en if product.name_en and get_locale().language == "en" else product.name


def product_path(product: Product) -> str:
    """The canonical path of a product's page."""
    return url_for("public.directory.product", product_id=product.id, slug=product_slug(product.name))


def absolute(path: str) -> str:
    """A path of this site as the public URL (the domain printed in QR codes)."""
    return current_app.config["PUBLIC_BASE_URL"].rstrip("/") + path


def template_helpers() -> dict[str, Any]:
    """The functions the directory's templates call: labels, the product's name and path."""
    return {
        "ocop_group_label": lambda code: label(OCOP_GROUP_LABELS, code),
        "ocop_level_label": lambda code: label(OCOP_LEVEL_LABELS, code),
        "certification_type_label": type_label,
        "product_name": product_name,
        "product_path": product_path,
    }


def product_page_context(product: Product, page_url: str) -> dict[str, Any]:
    """What a product's public page shows, at ``page_url``: here, and at its GTIN's Digital Link (walk-up)."""
    today = vietnam_today()
    base_url = current_app.config["PUBLIC_BASE_URL"]
    batches = current_batches(product, today)
    certifications = valid_product_certifications(product, batches, today)
    image_urls = [absolute(url_for("public.media", name=image.filename)) for image in product.images]
    return dict(
        template_helpers(),  # for the walk-up page too, which the directory's blueprint does not serve
        product=product,
        producer=product.producer,
        centre=product.producer.centre,
        today=today,
        ocop_state=ocop_state(product, today),  # as the consumer page gets it
        certifications=certifications,
        batches=[(batch, public_url(base_url, batch)) for batch in batches],
        shop_links=[link for link in product.shop_links or [] if _is_web_address(link.get("url"))],
        website=product.producer.website if _is_web_address(product.producer.website) else None,
        canonical_url=page_url,
        og_image=image_urls[0] if image_urls else None,
        description=_summary(product),
        jsonld=product_jsonld(
            product, url=page_url, today=today, image_urls=image_urls, certifications=certifications
        ),
    )


def _is_web_address(url: str | None) -> bool:
    return bool(url) and url.startswith(("https://", "http://"))  # type: ignore[union-attr]


def _summary(product: Product) -> str:
    """A sentence or two for search results and shared links."""
    text = " ".join(product.description.split())
    if not text:
        text = _(
            "%(product)s by %(producer)s, %(province)s.",
            product=product_name(product),
            producer=product.producer.name,
            province=product.producer.province_name,
        )
    return text if len(text) <= DESCRIPTION_LENGTH else text[: DESCRIPTION_LENGTH - 1].rsplit(" ", 1)[0] + "…"
