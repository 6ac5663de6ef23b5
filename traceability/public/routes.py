"""Public pages: what a consumer sees after scanning a QR code."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from urllib.parse import quote, urlsplit

from flask import (
    Blueprint,
    abort,
    current_app,
    redirect,
    render_template,
    request,
    send_from_directory,
    session,
    url_for,
)
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select, text

from traceability.batches.models import Batch
from traceability.batches.recalls import recalls_affecting
from traceability.batches.service import public_url
from traceability.extensions import db
from traceability.gs1 import DigitalLinkError, parse_path
from traceability.registry.models import Product

bp = Blueprint("public", __name__)


@bp.route("/")
def index():
    """The landing page."""
    if current_user.is_authenticated:
        return redirect(url_for("registry.dashboard"))
    return render_template("public/index.html")


@bp.route("/media/<name>")
def media(name: str):
    """A stored product image or logo; names are random, so the file never changes."""
    folder = Path(current_app.config["UPLOAD_FOLDER"]) / "images"
    response = send_from_directory(folder, name, max_age=31_536_000)
    response.headers["Cache-Control"] = "public, max-age=31536000, immutable"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


@bp.route("/healthz")
def healthz():
    """200 when the app and its database answer."""
    try:
        db.session.execute(text("SELECT 1"))
    except Exception:  # noqa: BLE001 - any database failure means unhealthy
        return {"status": "error", "database": "unreachable"}, 503
    return {"status": "ok"}


@bp.route("/lang/<code>", methods=["POST"])
def set_language(code: str):
    """Switch the interface language and go back to the page the user was on."""
    if code not in current_app.config["LANGUAGES"]:
        abort(404)
    session["lang"] = code
    target = urlsplit(request.form.get("next") or request.referrer or "/")
    # Back to the same page of this site only, never to another host.
    path = target.path if target.path.startswith("/") and not target.path.startswith("//") else "/"
    return redirect(path + (f"?{target.query}" if target.query else ""))


def _render_batch_page(batch: Batch):
    url = public_url(current_app.config["PUBLIC_BASE_URL"], batch)
    recalls = recalls_affecting(batch)
    return render_template(
        "public/batch.html", batch=batch, public_url=url, today=date.today(), recalls=recalls
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
    "empty": _l("A value is missing in this link."),
    "encoding": _l("This link contains invalid percent-encoding."),
}


def _raw_path() -> str:
    """The request path still percent-encoded, so an encoded ``/`` in a lot code stays in its segment."""
    raw = request.environ.get("RAW_URI") or request.environ.get("REQUEST_URI")
    path = urlsplit(raw).path if raw else quote(request.path)
    if request.script_root and path.startswith(request.script_root):
        path = path[len(request.script_root) :]
    return path


@bp.route("/01/<path:_identifiers>")
def digital_link(_identifiers: str):
    """The consumer page of a lot, at its GS1 Digital Link URI."""
    try:
        link = parse_path(_raw_path())
    except DigitalLinkError as error:
        abort(400, str(DIGITAL_LINK_REASONS[error.reason]))
    if not link.is_canonical_gtin:
        query = request.query_string.decode()
        return redirect(request.script_root + link.path() + (f"?{query}" if query else ""), 301)
    if link.lot is None or link.variant is not None or link.serial is not None:
        abort(404)  # product-level and item-level pages come with serialised items
    batch = db.session.scalar(
        select(Batch).join(Product).where(Product.gtin == link.gtin14, Batch.lot_code == link.lot)
    )
    if batch is None:
        abort(404)
    return _render_batch_page(batch)


@bp.route("/t/<code>")
def short_code(code: str):
    """The consumer page of a lot of a product without a GTIN."""
    batch = db.session.scalar(select(Batch).where(Batch.public_code == code.upper()))
    if batch is None:
        abort(404)
    return _render_batch_page(batch)
