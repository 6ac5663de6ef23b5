"""The GS1 resolver's links of a batch or item: an RFC 9264 linkset, and the resolver description.

Link types are the GS1 Web Vocabulary's (``https://gs1.org/voc/``). The
consumer page is the default link and the ``gs1:pip``; the certifications,
the traceability timeline and a recall are sections of that page (``#...``);
the EPCIS document is served at the same URL with ``?linkType=gs1:epcis``;
the shop links are the producer's own pages.
"""

from __future__ import annotations

from typing import Any

from flask_babel import format_date
from flask_babel import gettext as _
from sqlalchemy import bindparam, or_, select

from traceability.batches.recalls import recall_state
from traceability.core.dates import vietnam_today
from traceability.core.extensions import db
from traceability.models.batches import Batch, Item
from traceability.models.registry import Certification, Product
from traceability.registry.certifications import type_label

GS1_VOC = "https://gs1.org/voc/"
PIP = GS1_VOC + "pip"
DEFAULT_LINK = GS1_VOC + "defaultLink"
CERTIFICATION_INFO = GS1_VOC + "certificationInfo"
TRACEABILITY = GS1_VOC + "traceability"
EPCIS = GS1_VOC + "epcis"
HAS_RETAILERS = GS1_VOC + "hasRetailers"
RECALL_STATUS = GS1_VOC + "recallStatus"
LINKSET_MEDIA_TYPE = "application/linkset+json"
EPCIS_MEDIA_TYPE = "application/ld+json"
LINKSET_CONTEXT = "https://ref.gs1.org/standards/resolver/linkset-context"
PAGE_LANGUAGES = ["vi", "en"]


# Built once (every uncached consumer page runs it): building and keying it cost more than running it.
# A batch without an origin binds ``location_id`` to NULL, which matches no certificate.
_BATCH_CERTIFICATIONS = (
    select(Certification)
    # An OCOP rating or flagship designation has its own section, not a line among the certificates.
    .where(
        Certification.status == "verified",
        or_(
            (Certification.scope == "product") & (Certification.product_id == bindparam("product_id")),
            (Certification.scope == "producer") & (Certification.producer_id == bindparam("producer_id")),
            (Certification.scope == "location") & (Certification.location_id == bindparam("location_id")),
        ),
        Certification.claim_ocop_stars.is_(None),
        Certification.type != "flagship",
    )
    .order_by(Certification.type, Certification.id)
)


def valid_certifications(batch: Batch) -> list[Certification]:
    """The verified, unexpired certificates behind a batch: its product's, its producer's, its origin's."""
    product = batch.product
    candidates = db.session.scalars(
        _BATCH_CERTIFICATIONS,
        {
            "product_id": product.id,
            "producer_id": product.producer_id,
            "location_id": batch.origin_location_id,
        },
    )
    today = vietnam_today()
    return [certification for certification in candidates if certification.is_valid_on(today)]


def certification_title(certification: Certification) -> str:
    """``VietGAP No. 123 (issuer), valid until 31/12/2027`` in the request's language."""
    title = _(
        "%(type)s No. %(number)s (%(issuer)s)",
        type=type_label(certification.type),
        number=certification.number,
        issuer=certification.issuer,
    )
    if certification.valid_to is not None:
        title += ", " + _("valid until %(day)s", day=format_date(certification.valid_to, "dd/MM/yyyy"))
    return title


def _target(href: str, title: str, media_type: str | None = None, languages: list[str] | None = None):
    target: dict[str, Any] = {"href": href, "title": title}
    if media_type:
        target["type"] = media_type
    if languages:
        target["hreflang"] = languages
    return target


def build_linkset(batch: Batch, item: Item | None, entity_url: str) -> dict[str, Any]:
    """The RFC 9264 linkset (JSON) of a batch or item whose public URL is ``entity_url``."""
    product = batch.product
    title = _("Product information: %(name)s", name=product.name)
    description = f"{product.name} · {_('Lot')} {batch.lot_code}"
    if item is not None:
        description += f" · {_('Serial')} {item.serial}"
    context: dict[str, Any] = {
        "anchor": entity_url,
        # GS1's linkset schema allows no other description (a ``description`` string fails it).
        "itemDescription": description,
        # The default link has a title and nothing else (GS1 resolver standard).
        DEFAULT_LINK: [_target(entity_url, title)],
        PIP: [_target(entity_url, title, "text/html", PAGE_LANGUAGES)],
        TRACEABILITY: [
            _target(
                f"{entity_url}#trace",
                _("What happened to this batch"),
                "text/html",
                PAGE_LANGUAGES,
            )
        ],
        EPCIS: [
            _target(
                f"{entity_url}?linkType=gs1:epcis",
                _("Traceability events (EPCIS 2.0 JSON-LD)"),
                EPCIS_MEDIA_TYPE,
            )
        ],
    }
    certifications = valid_certifications(batch)
    if certifications:
        context[CERTIFICATION_INFO] = [
            _target(f"{entity_url}#certification-{c.id}", certification_title(c), "text/html", PAGE_LANGUAGES)
            for c in certifications
        ]
    recalls = recall_state(batch)
    # A recalled lot has no retailer: nobody may sell it (the page and the resolver agree).
    shops = [] if recalls.recalled else [link for link in product.shop_links or [] if link.get("url")]
    if shops:
        context[HAS_RETAILERS] = [
            _target(link["url"], link.get("name") or _("Shop"), "text/html") for link in shops
        ]
    if recalls.recalled:
        reason = recalls.in_force[0].reason if recalls.in_force else ""
        title = _("Recalled: do not use this batch.") + (f" {reason}" if reason else "")
        context[RECALL_STATUS] = [_target(f"{entity_url}#recall", title, "text/html", PAGE_LANGUAGES)]
    elif recalls.ended:
        ended = recalls.ended[0]
        title = _(
            "The recall of %(start)s ended on %(end)s: %(note)s",
            start=format_date(ended.opened_at, "dd/MM/yyyy"),
            end=format_date(ended.closed_at, "dd/MM/yyyy"),
            note=ended.close_note or "",
        )
        context[RECALL_STATUS] = [_target(f"{entity_url}#recall", title, "text/html", PAGE_LANGUAGES)]
    return {"linkset": [context]}


def build_product_linkset(
    product: Product, entity_url: str, certifications: list[Certification]
) -> dict[str, Any]:
    """The product-level linkset at ``/01/{gtin}``: its page, certificates in force and shops (walk-up)."""
    title = _("Product information: %(name)s", name=product.name)
    context: dict[str, Any] = {
        "anchor": entity_url,
        "itemDescription": product.name,
        DEFAULT_LINK: [_target(entity_url, title)],
        PIP: [_target(entity_url, title, "text/html", PAGE_LANGUAGES)],
    }
    if certifications:
        context[CERTIFICATION_INFO] = [
            _target(f"{entity_url}#certifications", certification_title(c), "text/html", PAGE_LANGUAGES)
            for c in certifications
        ]
    shops = [link for link in product.shop_links or [] if link.get("url")]
    if shops:
        context[HAS_RETAILERS] = [
            _target(link["url"], link.get("name") or _("Shop"), "text/html") for link in shops
        ]
    return {"linkset": [context]}


def link_targets(linkset: dict[str, Any], link_type: str) -> list[dict[str, Any]]:
    """The link target objects of one link type in a linkset built by ``build_linkset``."""
    return list(linkset["linkset"][0].get(link_type, []))


def resolver_description(base_url: str, name: str) -> dict[str, Any]:
    """The resolver description file served at ``/.well-known/gs1resolver``."""
    return {
        "name": name,
        "resolverRoot": base_url.rstrip("/"),
        "supportedPrimaryKeys": ["01"],
        "supportedLinkType": [{"namespace": GS1_VOC, "prefix": "gs1:"}],
        # The default answer is always the consumer page; a linkset comes on request only.
        "linkTypeDefaultCanBeLinkset": False,
        "linkTypeDefaultCanBeAll": False,
        "supportedContextValuesEnumerated": [],
        "supportedContextValuesExternal": [],
        # A choice this registry keeps: the default link (the consumer page) is served at the
        # Digital Link itself, with 200, instead of a redirect to it. Other link types redirect.
        "defaultLinkServedInPlace": True,
        "notes": (
            "The consumer page, the default link and gs1:pip, is served at the Digital Link itself "
            "(200) rather than redirected to; ?linkType=linkset or Accept: application/linkset+json "
            "answers the linkset, ?linkType=gs1:epcis the EPCIS document; other link types redirect "
            "(307) with the query passed on, or answer 404 when the item has no such link. "
            "Compressed Digital Links (GS1 Digital Link compression, fully or with the GTIN in clear) "
            "are decompressed and answered as their uncompressed form, which the Link header names "
            'with rel="owl:sameAs".'
        ),
    }
