"""The start page: a producer's first product, its photo, its place and its certificate in one form.

After it, the producer goes straight on to the product's first lot.
"""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from traceability.accounts.scope import refuse_unapproved_producer, scoped_select
from traceability.core.extensions import db
from traceability.http.kept_uploads import Attachment, saved
from traceability.http.web import perform, roles_required
from traceability.models.registry import Location
from traceability.registry.first_steps import register_first_product
from traceability.registry.first_steps_forms import NEW_PLACE, start_form

bp = Blueprint("start", __name__, url_prefix="/start")


@bp.route("", methods=["GET", "POST"])
@roles_required("producer")
def index():
    """Register a product with its photo, where it is made and its certificate; then its first lot."""
    if (refused := refuse_unapproved_producer(url_for("registry.dashboard"))) is not None:
        return refused
    places = db.session.execute(
        scoped_select(Location).order_by(Location.name).with_only_columns(Location.id, Location.name)
    ).all()
    form = start_form([(place.id, place.name) for place in places])
    if not form.is_submitted():
        form.place_id.data = places[0].id if len(places) == 1 else NEW_PLACE
        form.place.province_code.data = current_user.producer.province_code
    photo = Attachment(form.photo, form.kept_photo, max_bytes=current_app.config["MAX_IMAGE_BYTES"])
    document = Attachment(
        form.certificate.document,
        form.certificate.kept_document,
        max_bytes=current_app.config["MAX_DOCUMENT_BYTES"],
    )
    outcome = None
    if form.validate_parts():
        new_place = form.place_id.data == NEW_PLACE
        certificate = form.wants_certificate()
        document_data, document_name = document.read() if certificate else (None, None)
        outcome = perform(
            register_first_product,
            form.product.to_data(),
            actor=current_user,
            place=form.place.to_data() if new_place else None,
            location_id=None if new_place else form.place_id.data,
            photo=photo.read()[0],
            certificate=form.certificate.to_data() if certificate else None,
            covers=form.covers.data,
            document=document_data,
            document_name=document_name,
            show_on=form,
        )
    if saved(outcome, photo, document):
        first = outcome.value
        flash(
            _(
                "Product %(name)s saved. Now record its first lot: its labels carry the QR code.",
                name=first.product.name,
            ),
            "success",
        )
        return redirect(
            url_for("batches.batch_new", product_id=first.product.id, location_id=first.location.id)
        )
    return render_template(
        "registry/start.html", form=form, kept_photo=photo.kept_name, kept_document=document.kept_name
    ), (422 if form.has_errors else 200)
