"""The GS1-conformant resolver behaviour of the public URLs of batches and items.

What one public URL answers (GS1-Conformant Resolver standard, RFC 9264):

- no ``linkType``, ``gs1:pip`` or ``gs1:defaultLink``: the consumer page itself
  (200, no redirect hop: the page is the default link);
- ``Accept: application/linkset+json`` (or ``application/json``), or
  ``?linkType=linkset`` (``all``, the older name): the linkset;
- ``?linkType=gs1:epcis`` (or the full ``https://gs1.org/voc/epcis``): the
  EPCIS 2.0 document of the batch's chain;
- ``gs1:pip`` or ``gs1:defaultLink``: the page, as without a ``linkType``;
- any other link type the entity has a link of (``gs1:hasRetailers``,
  ``gs1:certificationInfo``, ``gs1:traceability``, ``gs1:recallStatus``): 307 to
  its (first) target, a shop or a section of the page (``#trace``), passing on
  the request's query (GS1 resolver standard) except ``linkType`` itself, which
  is the resolver's own and would bring a reader back here;
- a link type the entity has no link of (a recalled lot has no shop): 404
  (GS1 resolver standard), a page that says so and links to the entity's page.

Serving the page at the Digital Link itself, rather than redirecting to it,
is a choice this registry keeps (README, ``/.well-known/gs1resolver``): one
hop less for every scan, and the page is the entity's default link.

Every answer carries ``Link: <...?linkType=linkset>; rel="linkset"``, varies on
``Accept`` and ``Accept-Language`` and allows any origin (the data is public):
CORS headers on every answer at a Digital Link, errors and preflights included
(``cors_headers``, ``preflight``).
Only a page answer to a GET from a browser counts as a scan (``scans.record_scan``),
304 answers included: the consumer opened the code again.

The page of a lot is served from the page cache (``page_cache``) to anyone
signed out, most often before Flask (``fast_path``); an item's page shows how often that one code was scanned: the lot's shared item page
is cached and filled in with the item's own facts (``item_pages``,
``item_scans``). Every
page answer has an ETag and answers ``If-None-Match`` with 304;
``Cache-Control: private, no-cache`` makes the browser ask every time, so a
recall shows at once.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any
from urllib.parse import unquote

from flask import Response, current_app, redirect, render_template, request, session, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from werkzeug.wrappers import Response as BaseResponse

from traceability.batches.epcis import export_batch_chain
from traceability.batches.service import page_url
from traceability.core.dates import utcnow
from traceability.core.extensions import db
from traceability.http.i18n import select_locale
from traceability.models.batches import Batch, Item
from traceability.models.registry import Product
from traceability.public import linkset as links
from traceability.public.compressed_links import UNCOMPRESSED
from traceability.public.consumer import copied_code_rule
from traceability.public.copied_codes import CopiedCodeRule, ScanMark, ScanTally
from traceability.public.item_pages import (
    ItemFacts,
    fill,
    fills_exactly,
    item_facts,
    marker_facts,
    new_nonce,
    stand_in,
)
from traceability.public.item_scans import (
    COUNTED_SCAN,
    CountedItem,
    CountedScan,
    count_item_scan,
    item_by_id,
    read_item_tally,
    tally_engine,
)
from traceability.public.page_cache import end_of_day, item_page_key, page_etag, page_key, page_scopes
from traceability.public.scans import device_class, record_scan

log = logging.getLogger(__name__)

# An item page's answer names its shared page's key, its URL and the markers' URL (fast_path learns its headers).
ITEM_PAGE = "traceability.item_page"
RenderItem = Callable[[Batch, Any, ItemFacts | None], str]

LINKSET = "linkset"
PAGE_LINK_TYPES = (None, links.PIP, links.DEFAULT_LINK)
ALLOWED_METHODS = "GET, HEAD, OPTIONS"


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


def cors_headers(response: BaseResponse) -> BaseResponse:
    """CORS for a public answer (GS1 resolver standard): any origin may read it and its ``Link`` header."""
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.headers["Access-Control-Allow-Methods"] = ALLOWED_METHODS
    response.headers["Access-Control-Expose-Headers"] = "Link"
    return response


def with_resolver_headers(response: BaseResponse, entity_url: str) -> BaseResponse:
    """The headers every resolver answer carries: the linkset link, Vary and CORS.

    At a compressed Digital Link (``compressed_links``), ``Link`` names the
    uncompressed URI too, with the relation ``owl:sameAs`` (GS1 resolver standard).
    """
    linkset_link = f'<{linkset_url(entity_url)}>; rel="linkset"; type="{links.LINKSET_MEDIA_TYPE}"'
    uncompressed = request.environ.get(UNCOMPRESSED)
    same_as = (
        f'<{current_app.config["PUBLIC_BASE_URL"].rstrip("/")}{uncompressed}>; rel="owl:sameAs"'
        if uncompressed
        else None
    )
    response.headers["Link"] = ", ".join(filter(None, (linkset_link, same_as, response.headers.get("Link"))))
    response.vary.add("Accept")
    response.vary.add("Accept-Language")  # the page and the link titles are in the reader's language
    return cors_headers(response)


def preflight(entity_url: str) -> BaseResponse:
    """The answer to ``OPTIONS`` at a Digital Link: the methods, CORS for any origin and the linkset's ``Link``."""
    response = Response(status=204)
    response.headers["Allow"] = ALLOWED_METHODS
    asked_headers = request.headers.get("Access-Control-Request-Headers")
    response.headers["Access-Control-Allow-Headers"] = asked_headers or "Accept, Accept-Language"
    response.headers["Access-Control-Max-Age"] = "86400"
    return with_resolver_headers(response, entity_url)


def passed_on(target: str) -> str:
    """``target`` with the request's query passed on (GS1 resolver standard), ``linkType`` left out.

    ``linkType`` is this resolver's own parameter: at a section of the page
    (``#trace``) it would redirect the reader here again.
    """
    kept = [
        pair
        for pair in request.query_string.decode("latin-1").split("&")
        if pair and unquote(pair.split("=", 1)[0]) != "linkType"
    ]
    if not kept:
        return target
    address, hash_sign, fragment = target.partition("#")
    joined = address + ("&" if "?" in address else "?") + "&".join(kept)
    return joined + hash_sign + fragment


def link_not_available(entity_url: str) -> Response:
    """404 for a link type the entity has no link of (GS1 resolver standard), with a way on to its page."""
    html = render_template(
        "errors/error.html",
        code=404,
        message=_("This product has no link of the type asked for."),
        entity_url=entity_url,
    )
    return Response(html, status=404, mimetype="text/html")


def resolve(
    batch: Batch,
    item: Item | None,
    entity_url: str,
    render_page: Callable[[], str],
    render_item: RenderItem | None = None,
) -> BaseResponse:
    """The resolver's answer for the batch or item at ``entity_url`` (see the module docstring).

    ``render_page`` draws the page of the lot or item; ``render_item(batch, item, facts)`` an item's page
    for any item, a lot's stand-in included (``item_pages``).
    """
    link_type = requested_link_type()
    response: BaseResponse
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
    elif link_type not in PAGE_LINK_TYPES:
        targets = links.link_targets(links.build_linkset(batch, item, entity_url), link_type)
        response = redirect(passed_on(targets[0]["href"]), 307) if targets else link_not_available(entity_url)
    else:
        # The page: the default link and the pip.
        if item is not None and render_item is not None:
            response = item_page_response(batch, item, entity_url, render_item)
        else:
            batch_id, item_id = batch.id, item.id if item is not None else None
            response = page_response(batch, item, entity_url, render_page)
            if request.method == "GET":
                record_scan(batch_id, item_id, str(get_locale()), request.user_agent.string)
    return with_resolver_headers(response, entity_url)


def resolve_product(
    product: Product, entity_url: str, linkset: Callable[[], dict], render_page: Callable[[], str]
) -> BaseResponse:
    """The answer at a product's level (walk-up, ``walk_up``): its linkset or its page, never cached, no scan."""
    link_type = requested_link_type()
    response: BaseResponse
    if link_type == LINKSET:
        response = Response(json.dumps(linkset(), ensure_ascii=False), mimetype=links.LINKSET_MEDIA_TYPE)
        response.headers["Link"] = (
            f'<{links.LINKSET_CONTEXT}>; rel="http://www.w3.org/ns/json-ld#context"; type="application/ld+json"'
        )
    elif link_type not in PAGE_LINK_TYPES:
        targets = links.link_targets(linkset(), link_type)
        response = redirect(passed_on(targets[0]["href"]), 307) if targets else link_not_available(entity_url)
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
) -> BaseResponse:
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


def item_page_response(batch: Batch, item: Item, entity_url: str, render: RenderItem) -> BaseResponse:
    """An item's page: its scan counted in its tally, then its lot's shared item page filled in, else rendered.

    ``fast_path`` serves most of them before Flask the same way; here come the
    first of each lot and language, a reader with a session, an item whose
    serial can't fill the markers (``item_pages.fills_exactly``).
    """
    batch_id, item_id = batch.id, item.id
    user_agent = request.user_agent.string
    mark = ScanMark(utcnow(), device_class(user_agent))
    counting = request.method == "GET" and mark.device_class != "bot"
    rule = copied_code_rule()
    already: CountedScan | None = request.environ.get(COUNTED_SCAN)
    counted: CountedItem | None
    if counting and already is not None and already.counted.item_id == item_id:
        mark, counted = already.mark, already.counted  # counted before Flask (fast_path), not again
    elif counting:  # on the primary, committed now: the tally is not the request's
        with tally_engine(db.engine).begin() as connection:
            counted = count_item_scan(connection, item_by_id(item_id), mark, rule.window, reader=db.session)
    else:
        counted = read_item_tally(db.session, item_by_id(item_id), rule.window)
    assert counted is not None  # the item was just read
    cache = current_app.extensions["page_cache"]
    if _shareable() and cache.enabled and fills_exactly(item.serial, item.public_code):
        html, status = _through_item_cache(batch, item, counted.tally, rule, render)
    else:
        report_url = url_for("public.report_problem.new", code=item.public_code)
        html, status = render(batch, item, item_facts(counted.tally, rule, report_url)), "off"
    if counting:
        record_scan(batch_id, item_id, str(get_locale()), user_agent, scanned_at=mark.scanned_at)
    response = Response(html, mimetype="text/html")
    response.set_etag(page_etag(html), weak=True)
    response.headers["Cache-Control"] = "private, no-cache"
    response.headers["X-Page-Cache"] = status
    return response.make_conditional(request)


def _through_item_cache(
    batch: Batch, item: Item, tally: ScanTally, rule: CopiedCodeRule, render: RenderItem
) -> tuple[str, str]:
    """The lot's shared item page from the cache (``hit``), else rendered and stored (``miss``), filled in."""
    cache = current_app.extensions["page_cache"]
    key = item_page_key(request.environ, select_locale(), batch.id)
    serial, public_code = item.serial, item.public_code
    real_url = page_url(current_app.config["PUBLIC_BASE_URL"], batch, item)
    page, status = cache.get(key), "hit"
    if page is None or not page.nonce:
        nonce = new_nonce()
        shown = stand_in(batch, nonce)
        marker_url = page_url(current_app.config["PUBLIC_BASE_URL"], batch, shown)  # type: ignore[arg-type]
        report_url = url_for("public.report_problem.new", code=shown.public_code)
        batch_id, scopes = batch.id, page_scopes(batch)
        generations = cache.generations(scopes)
        db.session.commit()  # a snapshot after the generations, as for a lot's page (_through_cache)
        html = render(batch, shown, marker_facts(nonce))
        if generations is None:  # the backend is away
            return fill(html, nonce, serial, public_code, item_facts(tally, rule, report_url)), "off"
        page = cache.put(
            key,
            html,
            scopes,
            generations,
            batch_id=batch_id,
            entity_url=marker_url,
            timeout=end_of_day(),
            nonce=nonce,
            report_url=report_url,
        )
        status = "miss"
    # fast_path learns this answer's headers for the shared page, the markers in place of this item's URL.
    request.environ[ITEM_PAGE] = (key, real_url, page.entity_url)
    facts = item_facts(tally, rule, page.report_url)
    return fill(page.html, page.nonce, serial, public_code, facts), status


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
