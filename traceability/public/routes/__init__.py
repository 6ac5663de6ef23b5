"""Public pages: what a consumer sees after scanning a QR code, and the site's own public answers.

Under this blueprint, each with its own: the product directory
(``directory``), a consumer's problem report (``report_problem``), the
centres' list of those reports (``problem_reports``, under ``/manage``) and a
producer's sign-up (``sign_up``).
"""

from __future__ import annotations

from functools import partial
from typing import Any
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    jsonify,
    redirect,
    render_template,
    request,
    send_from_directory,
    session,
    url_for,
)
from flask.blueprints import BlueprintSetupState
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import bindparam, select
from sqlalchemy.orm import contains_eager
from werkzeug.routing import PathConverter
from werkzeug.wrappers import Response as BaseResponse

from traceability.batches.service import by_public_code, current_events, event_photo_state, page_url
from traceability.core.dates import vietnam_today
from traceability.core.extensions import db
from traceability.core.uploads import images_folder
from traceability.gs1 import DigitalLink, DigitalLinkError, parse_path
from traceability.gs1.digital_link import parse_query
from traceability.http import observability
from traceability.http.i18n import choose_language
from traceability.http.web import local_path, perform
from traceability.models.batches import Batch, Item
from traceability.models.registry import Product
from traceability.public.canonical_paths import raw_path, short_code_path
from traceability.public.consumer import consumer_page_context, load_page_batch, localized_name
from traceability.public.item_pages import ItemFacts
from traceability.public.journey import JOURNEY_MAX_EVENTS, batch_journey
from traceability.public.linkset import build_product_linkset, resolver_description
from traceability.public.product_pages import product_page_context
from traceability.public.resolver import (
    cors_headers,
    preflight,
    resolve,
    resolve_product,
    with_resolver_headers,
)
from traceability.public.routes import directory, problem_reports, report_problem, sign_up
from traceability.public.walk_up import lookup_path, product_uri, walk_up_product
from traceability.registry.certifications import type_label

bp = Blueprint("public", __name__)
bp.register_blueprint(directory.bp)
bp.register_blueprint(report_problem.bp)
bp.register_blueprint(problem_reports.bp)
bp.register_blueprint(sign_up.bp)


class DigitalLinkPathConverter(PathConverter):
    """Everything after ``/01/``, empty, ``//`` and control characters included: ``parse_path`` says why it is wrong.

    Werkzeug's ``path`` matches no empty value, no leading ``/`` and no
    newline, so ``/01/``, ``/01//...`` and ``%0A`` answered 404 instead of 400.
    """

    regex = r"[\s\S]*"
    part_isolating = False


@bp.record_once
def _register_converter(state: BlueprintSetupState) -> None:
    state.app.url_map.converters.setdefault("dlpath", DigitalLinkPathConverter)


# The public Digital Link answers, errors included, are readable from any origin (GS1 resolver standard).
DIGITAL_LINK_ENDPOINTS = {"public.digital_link", "public.short_code"}


@bp.after_request
def digital_link_cors(response: Response) -> Response:
    """CORS headers on every answer at a Digital Link or short code: pages, redirects, 400s and 404s."""
    if request.endpoint in DIGITAL_LINK_ENDPOINTS:
        cors_headers(response)
    return response


@bp.route("/")
def index():
    """The landing page."""
    if current_user.is_authenticated:
        return redirect(url_for("registry.dashboard"))
    return render_template("public/index.html")


@bp.route("/media/<name>")
def media(name: str):
    """A stored product image, logo or event photo; names are random, so the file never changes.

    A withdrawn or corrected event's photo is no longer public: 404 here, while
    its producer and centre still see it (``batches.event_photo``).
    """
    photo = event_photo_state(name)
    if photo == "voided":
        abort(404)
    response = send_from_directory(images_folder(), name, max_age=31_536_000)
    if photo == "standing":
        # An event photo can still be withdrawn: caches ask again (its ETag makes that cheap).
        response.headers["Cache-Control"] = "public, no-cache"
    else:
        response.headers["Cache-Control"] = "public, max-age=31536000, immutable"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


@bp.route("/livez")
def livez():
    """200 while the process answers requests; it checks nothing else (a restart would not help that)."""
    return {"status": "ok"}


@bp.route("/readyz")
@bp.route("/healthz")
def readyz():
    """200 when the app can serve: its database, its read replica and Redis servers when configured."""
    ready, answer = observability.readiness()
    response = jsonify(answer)
    response.status_code = 200 if ready else 503
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/lang/<code>", methods=["POST"])
def set_language(code: str):
    """Switch the interface language and go back to the page the user was on.

    A signed-in user's saved language follows (their emails, the sheets the worker draws).
    """
    if code not in current_app.config["LANGUAGES"]:
        abort(404)
    perform(choose_language, code, current_user)
    # Back to the same page of this site only, never to another host.
    return redirect(local_path(request.form.get("next") or request.referrer, from_any_url=True) or "/")


@bp.route("/lang/<code>/page")
def set_page_language(code: str):
    """The language switch of the cached public pages: a plain link, then back to the page.

    A cached page is the same for every reader, so it can't carry a reader's
    CSRF token for ``set_language``'s form. Following this link (even a forged
    one) only sets the language a browser reads the site in; robots.txt keeps
    crawlers off ``/lang/``.
    """
    if code not in current_app.config["LANGUAGES"]:
        abort(404)
    session["lang"] = code
    response = redirect(local_path(request.args.get("next"), from_any_url=True) or "/")
    response.headers["Cache-Control"] = "no-store"
    return response


def _entity_url(batch: Batch, item: Item | None) -> str:
    return page_url(current_app.config["PUBLIC_BASE_URL"], batch, item)


def _render_batch_page(batch: Batch, item: Any = None, item_facts: ItemFacts | None = None) -> str:
    """The consumer page of a batch or serialised item (or a lot's stand-in item, ``item_pages``).

    The same for every reader of one language (cached); an item's own facts come built.
    """
    batch = load_page_batch(batch)
    context = consumer_page_context(
        batch, item, entity_url=_entity_url(batch, item), today=vietnam_today(), item_facts=item_facts
    )
    return render_template("public/batch.html", **context)


def _answer(batch: Batch, item: Item | None = None) -> BaseResponse:
    """The resolver's answer at a batch's or item's public URL: page, linkset, EPCIS... or its whole journey."""
    if request.args.get("view") == "journey":
        return _journey_answer(batch, item)
    return resolve(
        batch, item, _entity_url(batch, item), partial(_render_batch_page, batch, item), _render_batch_page
    )


def _journey_answer(batch: Batch, item: Item | None) -> BaseResponse:
    """The whole journey of a lot (``?view=journey``): bounded (``journey``), rendered each time, not a scan."""
    entity_url = _entity_url(batch, item)
    html = render_template(
        "public/journey.html",
        batch=batch,
        item=item,
        product=batch.product,
        producer=batch.product.producer,
        name=localized_name(batch.product),
        journey=batch_journey(batch, today=vietnam_today(), whole=True),
        events=current_events(batch.events),
        public_url=entity_url,
        journey_url=f"{entity_url}?view=journey",
        page_path=urlsplit(entity_url).path,
        max_events=JOURNEY_MAX_EVENTS,
        localized_name=localized_name,
        certification_type_label=type_label,
    )
    response = Response(html, mimetype="text/html")
    response.headers["Cache-Control"] = "private, no-cache"
    return with_resolver_headers(response, entity_url)


def _walk_up(product: Product, link: DigitalLink | None = None) -> BaseResponse:
    """A product's page at its GTIN (``walk_up``); with ``link``, the notice that its lot or serial is unknown."""
    entity_url = product_uri(current_app.config["PUBLIC_BASE_URL"], product)
    context = product_page_context(product, entity_url)

    def render() -> str:
        return render_template(
            "public/directory/product.html",
            **context,
            unregistered=link,
            unregistered_code=link.element_string() if link is not None else None,
        )

    return resolve_product(
        product,
        entity_url,
        lambda: build_product_linkset(product, entity_url, context["certifications"]),
        render,
    )


# Why a Digital Link path was refused, in the consumer's language.
DIGITAL_LINK_REASONS = {
    "gtin": _l(
        "The GTIN in this link is not valid: it needs 8, 12, 13 or 14 digits and a correct check digit."
    ),
    "value": _l(
        "A lot code, serial number or variant in this link is not valid: GS1 allows 1 to 20 characters "
        "of its character set."
    ),
    "order": _l(
        "This is not a valid GS1 Digital Link: after /01/GTIN come /22/, /10/ and /21/, in that order."
    ),
    "empty": _l("A value is missing in this link, or it has an empty segment (//)."),
    "encoding": _l("This link contains invalid percent-encoding."),
    "date": _l("A date in this link is not valid: GS1 dates are YYMMDD, given once."),
    "attribute": _l(
        "A GS1 data attribute in this link's query is not valid: unknown with a GTIN, repeated, "
        "or its value is not in its format."
    ),
}


def _raw_path() -> str:
    """The request path still percent-encoded, so an encoded ``/`` in a lot code stays in its segment."""
    return raw_path(request.environ)


# The lot at a Digital Link, with its product (its URL needs the GTIN); built once, as the hottest query.
_BATCH_AT_LINK = (
    select(Batch)
    .join(Product)
    .where(Product.gtin == bindparam("gtin"), Batch.lot_code == bindparam("lot"))
    .options(contains_eager(Batch.product))
)


@bp.route(
    "/01/<dlpath:_identifiers>",
    methods=["GET", "HEAD", "OPTIONS"],
    merge_slashes=False,  # ``//`` is malformed (400), never merged by a redirect
    provide_automatic_options=False,
)
def digital_link(_identifiers: str):
    """A lot (``/01/{gtin}/10/{lot}``) or serialised item (``.../21/{serial}``) at its GS1 Digital Link URI."""
    try:
        link = parse_path(_raw_path())
        parse_query(request.query_string.decode("latin-1"))
    except DigitalLinkError as error:
        abort(400, str(DIGITAL_LINK_REASONS[error.reason]))
    if request.method == "OPTIONS":
        return preflight(current_app.config["PUBLIC_BASE_URL"].rstrip("/") + link.path())
    if link.variant is not None:
        abort(404)  # variants are not registered
    batch = None
    if link.lot is not None:
        batch = db.session.scalar(_BATCH_AT_LINK, {"gtin": link.gtin14, "lot": link.lot})
    item = None
    if batch is not None and link.serial is not None:
        item = db.session.scalar(select(Item).where(Item.batch_id == batch.id, Item.serial == link.serial))
    if batch is None or (link.serial is not None and item is None):
        # Walk up to the product: its page, with a notice when a lot or serial was asked for (walk_up).
        product = walk_up_product(link.gtin14) or abort(404)
        if _raw_path() != link.path():
            return _canonical_redirect(
                link.path(), product_uri(current_app.config["PUBLIC_BASE_URL"], product)
            )
        return _walk_up(product, link if link.qualifiers() else None)
    if _raw_path() != link.path():
        return _canonical_redirect(link.path(), _entity_url(batch, item))
    return _answer(batch, item)


def _canonical_redirect(path: str, entity_url: str) -> BaseResponse:
    """301 from another spelling of a page's path to its canonical one (``canonical_paths``), keeping the query.

    A GTIN-8/12/13 to the GTIN-14 form, ``%42OT2603A`` to ``BOT2603A``, a
    ``/t/`` code in lower case to upper case: one page, one URL, one cache entry.
    """
    query = request.query_string.decode()
    response = redirect(request.script_root + path + (f"?{query}" if query else ""), 301)
    return with_resolver_headers(response, entity_url)


@bp.route("/lookup")
def lookup():
    """The code field of the home and 404 pages: on to the page of the typed code, or why not."""
    typed = request.args.get("code", "")
    found = lookup_path(typed)
    if found.path is not None:
        return redirect(request.script_root + found.path, 303)
    return render_template("public/lookup.html", code=typed, error=found.error), found.status


@bp.route("/t/<code>", methods=["GET", "HEAD", "OPTIONS"], provide_automatic_options=False)
def short_code(code: str):
    """A lot or serialised item of a product without a GTIN, at its unguessable short URL."""
    if request.method == "OPTIONS":
        return preflight(current_app.config["PUBLIC_BASE_URL"].rstrip("/") + short_code_path(code.upper()))
    found = by_public_code(code)
    if found is None:
        abort(404)
    batch, item = found
    canonical = short_code_path(item.public_code if item is not None else batch.public_code)
    if _raw_path() != canonical:
        return _canonical_redirect(canonical, _entity_url(batch, item))
    return _answer(batch, item)


@bp.route("/.well-known/gs1resolver")
def gs1_resolver_description():
    """The GS1 resolver description file: what this resolver answers."""
    description = resolver_description(
        current_app.config["PUBLIC_BASE_URL"], _("Product traceability registry")
    )
    response = jsonify(description)
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response
