"""The GS1-conformant resolver behaviour of the public URLs of batches and items.

What one public URL answers (GS1-Conformant Resolver standard, RFC 9264):

- no ``linkType``, ``gs1:pip`` or ``gs1:defaultLink``: the consumer page itself
  (200, no redirect hop: the page is the default link);
- ``Accept: application/linkset+json`` (or ``application/json``), or
  ``?linkType=linkset`` (``all``, the older name): the linkset;
- ``?linkType=gs1:epcis`` (or the full ``https://gs1.org/voc/epcis``): the
  EPCIS 2.0 document of the batch's chain;
- ``gs1:hasRetailers``: 307 to the first shop link;
- ``gs1:certificationInfo``, ``gs1:traceability``, ``gs1:recallStatus``: the
  page, since their targets are sections of it;
- any other link type, or one this entity has no link of: the default link,
  the page. The standard asks a resolver to answer the default link unless the
  request can be matched to something better, and a consumer who followed a
  link with an odd ``linkType`` is better served by the page than by a 404.

Every answer carries ``Link: <...?linkType=linkset>; rel="linkset"``, varies on
``Accept`` and ``Accept-Language`` and allows any origin (the data is public).
Only a page answer to a GET from a browser counts as a scan (``scans.record_scan``).
"""

from __future__ import annotations

import json
from collections.abc import Callable

from flask import Response, current_app, redirect, request
from flask_babel import get_locale
from sqlalchemy.exc import SQLAlchemyError

from traceability.batches.epcis import export_batch_chain
from traceability.batches.models import Batch, Item
from traceability.database import sqlite_begin_mode
from traceability.extensions import db
from traceability.public import linkset as links
from traceability.public.scans import device_class, record_scan

LINKSET = "linkset"


def requested_link_type() -> str | None:
    """The link type asked for, as a full URI, ``linkset``, or None for the default answer."""
    asked = request.args.get("linkType", "").strip()
    if asked in ("linkset", "all"):
        return LINKSET
    if asked.startswith("gs1:"):
        return links.GS1_VOC + asked.removeprefix("gs1:")
    if asked:
        return asked
    offered = ("text/html", links.LINKSET_MEDIA_TYPE, "application/json")
    best = request.accept_mimetypes.best_match(offered, default="text/html")
    wants_json = (
        best != "text/html" and request.accept_mimetypes[best] > request.accept_mimetypes["text/html"]
    )
    return LINKSET if wants_json else None


def linkset_url(entity_url: str) -> str:
    return f"{entity_url}?linkType=linkset"


def with_resolver_headers(response: Response, entity_url: str) -> Response:
    """The headers every resolver answer carries: the linkset link, Vary and CORS."""
    linkset_link = f'<{linkset_url(entity_url)}>; rel="linkset"; type="{links.LINKSET_MEDIA_TYPE}"'
    response.headers["Link"] = ", ".join(filter(None, (linkset_link, response.headers.get("Link"))))
    response.vary.add("Accept")
    response.vary.add("Accept-Language")  # the page and the link titles are in the reader's language
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.headers["Access-Control-Allow-Methods"] = "GET, HEAD, OPTIONS"
    response.headers["Access-Control-Expose-Headers"] = "Link"
    return response


def resolve(batch: Batch, item: Item | None, entity_url: str, render_page: Callable[[], str]) -> Response:
    """The resolver's answer for the batch or item at ``entity_url`` (see the module docstring)."""
    link_type = requested_link_type()
    if link_type == LINKSET:
        body = json.dumps(links.build_linkset(batch, item, entity_url), ensure_ascii=False)
        response = Response(body, mimetype=links.LINKSET_MEDIA_TYPE)
        # Lets a client read the linkset as JSON-LD (GS1 resolver standard).
        response.headers["Link"] = (
            f'<{links.LINKSET_CONTEXT}>; rel="http://www.w3.org/ns/json-ld#context"; type="application/ld+json"'
        )
    elif link_type == links.EPCIS:
        document = export_batch_chain(batch)
        response = Response(json.dumps(document, ensure_ascii=False), mimetype=links.EPCIS_MEDIA_TYPE)
    elif link_type == links.HAS_RETAILERS and _shop_url(batch):
        response = redirect(_shop_url(batch), 307)
    else:
        # The page: asked for, its section asked for, or the default for anything else.
        response = Response(render_page(), mimetype="text/html")
        if request.method == "GET":
            _count_scan(batch, item)
    return with_resolver_headers(response, entity_url)


def _count_scan(batch: Batch, item: Item | None) -> None:
    """Write the scan of a page answer in its own short transaction; a failure never costs the page."""
    agent = request.user_agent.string
    if device_class(agent) == "bot":
        return
    language, batch_id = str(get_locale()), batch.id
    db.session.commit()  # ends the page's read transaction
    # On SQLite the scan's transaction takes the write lock at once, so it waits for
    # another writer instead of failing to upgrade a read lock.
    sqlite_begin_mode.set("IMMEDIATE")
    try:
        record_scan(batch, item, language, agent)
        db.session.commit()
    except SQLAlchemyError:
        db.session.rollback()
        current_app.logger.exception("scan of batch %s not recorded", batch_id)


def _shop_url(batch: Batch) -> str | None:
    shops = [link["url"] for link in batch.product.shop_links or [] if link.get("url")]
    return shops[0] if shops else None
