"""Producers' and centres' pages for batches, events and QR codes."""

from __future__ import annotations

import re

from flask import Blueprint, Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from wtforms import SelectChoice

from traceability.accounts.scope import get_scoped_or_404, scoped_select
from traceability.batches.forms import BatchForm, EventForm
from traceability.batches.models import Batch
from traceability.batches.service import VIETNAM_OFFSET, create_batch, public_url, record_event
from traceability.errors import DomainError
from traceability.extensions import db
from traceability.labels.qr import qr_png
from traceability.registry.models import Location, Producer, Product
from traceability.web import show_errors, writer_required

bp = Blueprint("batches", __name__)

QR_MIN_PX, QR_MAX_PX = 100, 2000


def _location_choices(producer_id: int | None) -> list[SelectChoice]:
    query = scoped_select(Location).order_by(Location.name)
    if producer_id is not None:
        query = query.where(Location.producer_id == producer_id)
    return [SelectChoice("", "-")] + [
        SelectChoice(str(loc.id), loc.name) for loc in db.session.scalars(query)
    ]


@bp.route("/manage/batches/new", methods=["GET", "POST"])
@writer_required
def batch_new():
    """Register a new production batch."""
    form = BatchForm()
    products = db.session.scalars(
        scoped_select(Product).join(Producer).where(Producer.status == "approved").order_by(Product.name)
    ).all()
    form.product_id.choices = [SelectChoice(str(p.id), p.name) for p in products]
    if request.method == "GET" and request.args.get("product_id", type=int):
        form.product_id.data = request.args.get("product_id", type=int)
    chosen = next((p for p in products if p.id == form.product_id.data), None)
    form.location_id.choices = _location_choices(chosen.producer_id if chosen else None)
    if form.validate_on_submit():
        data = {field.name: field.data for field in form if field.name != "csrf_token"}
        try:
            batch = create_batch(data, actor=current_user)
        except DomainError as error:
            db.session.rollback()
            show_errors(form, error)
        else:
            db.session.commit()
            flash(_("Batch %(lot)s saved.", lot=batch.lot_code), "success")
            return redirect(url_for("batches.batch_detail", batch_id=batch.id))
    return render_template("batches/batch_form.html", form=form), 422 if form.errors else 200


@bp.route("/manage/batches/<int:batch_id>", methods=["GET", "POST"])
@login_required
def batch_detail(batch_id: int):
    """A batch: its QR code, public link and key tracking events; records a new event."""
    batch = get_scoped_or_404(Batch, batch_id)
    form = EventForm()
    form.location_id.choices = _location_choices(batch.product.producer_id)
    if request.method == "POST":
        if not current_user.can_write:
            abort(403)
        if form.validate_on_submit():
            data = {field.name: field.data for field in form if field.name != "csrf_token"}
            data["time"] = form.time.data.replace(tzinfo=VIETNAM_OFFSET)
            try:
                record_event(batch, data, actor=current_user)
            except DomainError as error:
                db.session.rollback()
                show_errors(form, error)
            else:
                db.session.commit()
                flash(_("Event recorded."), "success")
                return redirect(url_for("batches.batch_detail", batch_id=batch.id))
    url = public_url(current_app.config["PUBLIC_BASE_URL"], batch)
    status = 422 if form.errors else 200
    return render_template("batches/batch_detail.html", batch=batch, form=form, public_url=url), status


@bp.route("/manage/batches/<int:batch_id>/qr.png")
@login_required
def batch_qr_png(batch_id: int):
    """The batch's QR code as a PNG download."""
    batch = get_scoped_or_404(Batch, batch_id)
    return qr_png_response(batch)


def qr_png_response(batch: Batch) -> Response:
    """A PNG of the batch's QR code, sized by ``?size=`` and error correction ``?ec=``."""
    size = request.args.get("size", default=400, type=int)
    error_correction = request.args.get("ec", default="M")
    if not QR_MIN_PX <= size <= QR_MAX_PX:
        abort(400, _("Size must be between %(min)d and %(max)d pixels.", min=QR_MIN_PX, max=QR_MAX_PX))
    if error_correction not in ("M", "H"):
        abort(400, _("Error correction must be M or H."))
    png = qr_png(
        public_url(current_app.config["PUBLIC_BASE_URL"], batch),
        size_px=size,
        error_correction=error_correction,
    )
    filename = re.sub(r"[^A-Za-z0-9._-]", "_", f"qr-{batch.product_id}-{batch.lot_code}.png")
    response = Response(png, mimetype="image/png")
    response.headers["Content-Disposition"] = f'inline; filename="{filename}"'
    return response
