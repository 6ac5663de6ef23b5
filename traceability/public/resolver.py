"""The GS1-conformant resolver behaviour of the public URLs of batches and items.

What one public URL answers (GS1-Conformant Resolver standard, RFC 9264):

- no ``linkType``, ``gs1:pip`` or ``gs1:defaultLink``: the consumer page itself
  (200, no redirect hop: the page is the default link);
- ``Accept: application/linkset+json`` (or ``application/json``), or
  ``?linkType=linkset`` (``all``, the older name): the linkset;
- ``?linkType=gs1:epcis`` (or the full ``https://gs1.org/voc/epcis``): the
  EPCIS 2.0 document of the batch's chain;
- ``gs1:hasRetailers``: 307 to the first shop link, unless the lot is recalled:
  then the page, which says not to use it (no shop is ever offered for it);
- ``gs1:certificationInfo``, ``gs1:traceability``, ``gs1:recallStatus``: the
  page, since their targets are sections of it;
- any other link type, or one this entity has no link of: the default link,
  the page. The standard asks a resolver to answer the default link unless the
  request can be matched to something better, and a consumer who followed a
  link with an odd ``linkType`` is better served by the page than by a 404.

Every answer carries ``Link: <...?linkType=linkset>; rel="linkset"``, varies on
``Accept`` and ``Accept-Language`` and allows any origin (the data is public).
Only a page answer to a GET from a browser counts as a scan (``scans.record_scan``),
304 answers included: the consumer opened the code again.

The page of a lot is served from the page cache (``page_cache``) to anyone
signed out, most often before Flask (``fast_path``); an item's page is always
rendered, since it shows how often that one code was scanned, and each code
is on one package, so a cached copy would hardly ever be read again. Every
page answer has an ETag and answers ``If-None-Match`` with 304;
``Cache-Control: private, no-cache`` makes the browser ask every time, so a
recall shows at once.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable

from flask import Response, current_app, redirect, request, session
from flask_babel import get_locale

from traceability.batches.epcis import export_batch_chain
from traceability.batches.models import Batch, Item
from traceability.batches.recalls import recall_state
from traceability.extensions import db
from traceability.i18n import select_locale
from traceability.public import linkset as links
from traceability.public.page_cache import end_of_day, page_etag, page_key, page_scopes
from traceability.public.scans import record_scan
from traceability.registry.models import Product

log = logging.getLogger(__name__)

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
        document = export_batch_chain(batch, public=True)  # voided events without their content
        response = Response(json.dumps(document, ensure_ascii=False), mimetype=links.EPCIS_MEDIA_TYPE)
    elif link_type == links.HAS_RETAILERS and (shop := _shop_url(batch)):
        response = redirect(shop, 307)
    else:
        # The page: asked for, its section asked for, or the default for anything else.
        batch_id, item_id = batch.id, item.id if item is not None else None
        response = page_response(batch, item, entity_url, render_page)
        if request.method == "GET":
            record_scan(batch_id, item_id, str(get_locale()), request.user_agent.string)
    return with_resolver_headers(response, entity_url)


def resolve_product(
    product: Product, entity_url: str, linkset: Callable[[], dict], render_page: Callable[[], str]
) -> Response:
    """The answer at a product's level (walk-up, ``walk_up``): its linkset or its page, never cached, no scan."""
    link_type = requested_link_type()
    shops = [link["url"] for link in product.shop_links or [] if link.get("url")]
    if link_type == LINKSET:
        response = Response(json.dumps(linkset(), ensure_ascii=False), mimetype=links.LINKSET_MEDIA_TYPE)
        response.headers["Link"] = (
            f'<{links.LINKSET_CONTEXT}>; rel="http://www.w3.org/ns/json-ld#context"; type="application/ld+json"'
        )
    elif link_type == links.HAS_RETAILERS and shops:
        response = redirect(shops[0], 307)
    else:
        html = render_page()
        response = Response(html, mimetype="text/html")
        response.set_etag(page_etag(html), weak=True)
        response.headers["Cache-Control"] = "private, no-cache"
        response = response.make_conditional(request)
    return with_resolver_headers(response, entity_url)


# --- the page, its cache and its ETag ------------------------------------------------------------


def page_response(
    batch: Batch, item: Item | None, entity_url: str, render_page: Callable[[], str]
) -> Response:
    """The page with its ETag, from the page cache when it can be shared, else rendered; 304 when unchanged.

    Most hits never get here: ``fast_path`` answers them before Flask. Here come
    the misses, and the hits it passed on (a reader with a session cookie).
    """
    if item is None and _shareable() and current_app.extensions["page_cache"].enabled:
        html, etag, status = _through_cache(batch, entity_url, render_page)
    else:
        html, status = render_page(), "off"
        etag = page_etag(html)
    response = Response(html, mimetype="text/html")
    response.set_etag(etag, weak=True)
    response.headers["Cache-Control"] = "private, no-cache"
    response.headers["X-Page-Cache"] = status
    return response.make_conditional(request)


def _shareable() -> bool:
    """Whether this request reads the page every signed-out reader gets: nobody signed in, no message waiting.

    Read from the session and cookies alone: loading the user would cost more than a hit.
    """
    remember_cookie = current_app.config.get("REMEMBER_COOKIE_NAME", "remember_token")
    return (
        "_user_id" not in session and remember_cookie not in request.cookies and not session.get("_flashes")
    )


def _through_cache(batch: Batch, entity_url: str, render: Callable[[], str]) -> tuple[str, str, str]:
    """The page and its ETag from the cache (``hit``), else rendered and stored (``miss``)."""
    cache, key = current_app.extensions["page_cache"], page_key(request.environ, select_locale())
    page = cache.get(key)
    if page is not None:
        return page.html, page.etag, "hit"
    batch_id, scopes = batch.id, page_scopes(batch)
    generations = cache.generations(scopes)
    # Render from a snapshot taken after reading the generations: a change committed
    # before them is on the page, one committed after gives a new generation.
    db.session.commit()
    html = render()
    if generations is None:  # the backend is away
        return html, page_etag(html), "off"
    page = cache.put(
        key, html, scopes, generations, batch_id=batch_id, entity_url=entity_url, timeout=end_of_day()
    )
    return html, page.etag, "miss"


def _shop_url(batch: Batch) -> str | None:
    """The first shop of the batch's product, or None, always None while the batch is recalled."""
    shops = [link["url"] for link in batch.product.shop_links or [] if link.get("url")]
    if not shops or recall_state(batch).recalled:
        return None
    return shops[0]
