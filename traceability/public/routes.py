"""Public pages: what a consumer sees after scanning a QR code."""

from __future__ import annotations

from datetime import date
from urllib.parse import urlsplit

from flask import Blueprint, abort, current_app, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select, text

from traceability.batches.models import Batch
from traceability.batches.service import public_url
from traceability.extensions import db
from traceability.gs1 import is_valid_ai_value, is_valid_gtin
from traceability.registry.models import Product

bp = Blueprint("public", __name__)


@bp.route("/")
def index():
    """The landing page."""
    if current_user.is_authenticated:
        return redirect(url_for("registry.dashboard"))
    return render_template("public/index.html")


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
    return render_template("public/batch.html", batch=batch, public_url=url, today=date.today())


@bp.route("/01/<gtin>/10/<lot>")
def digital_link_batch(gtin: str, lot: str):
    """The consumer page of a lot, at its GS1 Digital Link URI."""
    if not gtin.isdigit() or not is_valid_gtin(gtin):
        abort(
            400,
            _(
                "The GTIN in this link is not valid: it needs 8, 12, 13 or 14 digits and a correct check digit."
            ),
        )
    if len(gtin) != 14:
        return redirect(url_for("public.digital_link_batch", gtin=gtin.zfill(14), lot=lot), 301)
    if not is_valid_ai_value(lot):
        abort(
            400,
            _("The lot code in this link is not valid: GS1 allows 1 to 20 characters of its character set."),
        )
    batch = db.session.scalar(select(Batch).join(Product).where(Product.gtin == gtin, Batch.lot_code == lot))
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
