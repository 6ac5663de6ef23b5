"""What the consumer page of a batch or serialised item shows, gathered for its template.

The page is cached per URL and language (``page_cache``), so nothing here
reads the session or the signed-in user: the page is the same for every
reader of one language. Dates are read against Vietnam's date, not the
server's: a batch expires, and a certificate lapses, at midnight in Vietnam.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any
from urllib.parse import urlsplit

from flask import current_app, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from sqlalchemy import bindparam, inspect, select
from sqlalchemy.orm import joinedload, selectinload

from traceability.batches.recalls import RecallState, recall_state
from traceability.batches.service import current_events
from traceability.core.extensions import db
from traceability.models.batches import Batch, Item, Recall, TraceEvent
from traceability.models.registry import Location, Producer, Product
from traceability.public.copied_codes import CopiedCodeRule
from traceability.public.item_pages import ItemFacts
from traceability.public.journey import batch_journey
from traceability.public.jsonld import product_jsonld, shop_offers
from traceability.public.linkset import valid_certifications
from traceability.registry.certifications import type_label

DESCRIPTION_LENGTH = 200


@dataclass(frozen=True)
class RecallNotice:
    """A recall reaching the batch: its own, or one of a lot it was made from."""

    recall: Recall
    via_input: bool


def recall_notices(batch: Batch, state: RecallState) -> tuple[list[RecallNotice], list[RecallNotice]]:
    """The recalls in force on the batch (do not use), and those that ended with its return to sale.

    An ended recall is told only when none is in force: a lot still recalled is just recalled.
    """
    in_force = [RecallNotice(recall, recall.batch_id != batch.id) for recall in state.in_force]
    ended = (
        []
        if state.recalled
        else [RecallNotice(recall, recall.batch_id != batch.id) for recall in state.ended]
    )
    return in_force, ended


def copied_code_rule(config: Mapping[str, Any] | None = None) -> CopiedCodeRule:
    """The copied-code thresholds from the configuration (COPIED_CODE_*), the current app's by default."""
    config = current_app.config if config is None else config
    return CopiedCodeRule(
        max_scans=int(config["COPIED_CODE_SCANS"]),
        max_days=int(config["COPIED_CODE_DAYS"]),
        window=timedelta(minutes=int(config["COPIED_CODE_WINDOW_MINUTES"])),
    )


def localized_name(product: Product) -> str:
    """The product's name in the page's language: the English one when there is one."""
    return product.name_en if product.name_en and get_locale().language == "en" else product.name


def ocop_state(product: Product, today: date) -> str | None:
    """``valid``, ``expired`` or ``not_in_force`` for a product with OCOP stars; None without."""
    if not product.ocop_stars:
        return None
    if product.ocop_valid_on(today):
        return "valid"
    if product.ocop_expires_on is not None and product.ocop_expires_on < today:
        return "expired"
    return "not_in_force"


def web_shop_links(product: Product) -> list[dict[str, Any]]:
    """The product's shop links that are web addresses (a link is followed by a consumer's phone)."""
    return [
        link
        for link in product.shop_links or []
        if isinstance(link.get("url"), str) and link["url"].startswith(("https://", "http://"))
    ]


def _absolute(path: str) -> str:
    return current_app.config["PUBLIC_BASE_URL"].rstrip("/") + path


def _summary(batch: Batch, item: Item | None) -> str:
    """A line or two for shared links (Zalo, Facebook): lot, producer and province, then the description.

    An item's serial is added after the lot's line is cut to length, so where
    the line is cut does not depend on the serial (``item_pages`` fills it in).
    """
    product, producer = batch.product, batch.product.producer
    lot = _("Lot %(code)s", code=batch.lot_code)
    text = f"{lot} · {producer.name}, {producer.province_name}."
    description = " ".join(product.description.split())
    if description:
        text += f" {description}"
    if len(text) > DESCRIPTION_LENGTH:
        text = text[: DESCRIPTION_LENGTH - 1].rsplit(" ", 1)[0] + "…"
    if item is None:
        return text
    return f"{lot} · {_('Serial number')} {item.serial}{text[len(lot) :]}"


def batch_jsonld(
    batch: Batch,
    item: Item | None,
    *,
    url: str,
    today: date,
    image_urls: list[str],
    certifications: list,
    recalled: bool = False,
) -> dict[str, Any]:
    """schema.org JSON-LD of the page: SomeProducts for a lot, IndividualProduct for a serialised item."""
    document = product_jsonld(
        batch.product,
        url=url,
        today=today,
        image_urls=image_urls,
        certifications=certifications,
        schema_type="IndividualProduct" if item is not None else "SomeProducts",
    )
    document["productionDate"] = batch.production_date.isoformat()
    if item is not None:
        document["serialNumber"] = item.serial
    # A recalled lot is offered nowhere: search engines must not show it for sale.
    offers = [] if recalled else shop_offers(web_shop_links(batch.product))
    if offers:
        document["offers"] = offers
    return document


# Built once: building and keying a statement with these options costs more than running it.
_PAGE_BATCH = (
    select(Batch)
    .where(Batch.id == bindparam("batch_id"))
    .options(
        joinedload(Batch.product).joinedload(Product.producer).joinedload(Producer.centre),
        joinedload(Batch.product).joinedload(Product.images),
        joinedload(Batch.origin_location),
        selectinload(Batch.events).joinedload(TraceEvent.location).joinedload(Location.producer),
    )
)


def load_page_batch(batch: Batch) -> Batch:
    """``batch`` read again with what its page shows of it: two queries, none while the page is drawn.

    Its product with the producer, the centre and the pictures, its origin and
    its events with their places and their operators (``event_party``). The
    page is drawn after a commit (``resolver._through_cache``), which expired
    every object: without this, each would be read by a query of its own.
    """
    identity = inspect(batch).identity
    assert identity is not None  # a batch read from the database
    (batch_id,) = identity
    return db.session.scalars(_PAGE_BATCH, {"batch_id": batch_id}).unique().one()


def consumer_page_context(
    batch: Batch, item: Item | None, *, entity_url: str, today: date, item_facts: ItemFacts | None = None
) -> dict[str, Any]:
    """Everything the consumer page shows, for ``public/batch.html``; an item's own facts come built (``item_pages``)."""
    product = batch.product
    producer = product.producer
    recalls = recall_state(batch)
    in_force, ended = recall_notices(batch, recalls)
    certifications = valid_certifications(batch)
    image_urls = [_absolute(url_for("public.media", name=image.filename)) for image in product.images]
    name = localized_name(product)
    code = item.public_code if item is not None else batch.public_code
    return {
        "batch": batch,
        "item": item,
        "product": product,
        "producer": producer,
        "centre": producer.centre,
        "name": name,
        "today": today,
        "recall_notices": in_force,
        "ended_recall_notices": ended,
        "recalled": recalls.recalled,
        "expired": batch.expiry_date is not None and batch.expiry_date < today,
        "suspended": producer.status == "suspended",
        "ocop_state": ocop_state(product, today),
        "certifications": certifications,
        "certification_type_label": type_label,
        "events": current_events(batch.events),
        # The upstream lots' stages and the origin farms, for a lot made from other lots (None otherwise).
        "journey": batch_journey(batch, today=today),
        "journey_url": f"{entity_url}?view=journey",
        "localized_name": localized_name,
        # While recalled, no shop: the page says stop using it, not where to buy it.
        "shop_links": [] if recalls.recalled else web_shop_links(product),
        "item_facts": item_facts,
        "report_url": url_for("public.report_problem.new", code=code),
        "public_url": entity_url,
        "page_path": urlsplit(entity_url).path,
        "og": {
            "title": f"{name} · {producer.name}",
            "description": _summary(batch, item),
            "url": entity_url,
            "image": image_urls[0] if image_urls else None,
            "image_size": (product.image.width, product.image.height) if product.image else None,
        },
        "jsonld": batch_jsonld(
            batch,
            item,
            url=entity_url,
            today=today,
            image_urls=image_urls,
            certifications=certifications,
            recalled=recalls.recalled,
        ),
    }
