"""GTIN disputes on the web: a producer claims a GTIN another holds; the centre compares both claims and decides."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select
from wtforms import SelectChoice

from traceability.accounts.scope import get_scoped_or_404, refuse_unapproved_producer, scoped_select
from traceability.core.extensions import db
from traceability.http.converters import query_int
from traceability.http.kept_uploads import Attachment, saved
from traceability.http.web import (
    perform,
    roles_required,
    send_private_document,
    writer_required,
)
from traceability.models.batches import Batch
from traceability.models.registry import Certification, GtinDispute, Producer, Product
from traceability.registry import gtin_disputes as service
from traceability.registry.certifications import DOCUMENT_EXTENSIONS, documents_folder
from traceability.registry.gtin_dispute_forms import DecideForm, DisputeForm

bp = Blueprint("gtin_disputes", __name__, url_prefix="/gtin-disputes")

PER_PAGE = 50


def _product_choices() -> list[SelectChoice]:
    """The user's products of approved producers that could take a GTIN: none yet, no batches."""
    query = (
        scoped_select(Product)
        .join(Product.producer)
        .where(
            Product.gtin.is_(None),
            Producer.status == "approved",
            ~select(Batch.id).where(Batch.product_id == Product.id).exists(),
        )
        .order_by(Product.name)
    )
    return [SelectChoice(product.id, product.name) for product in db.session.scalars(query)]


@bp.route("")
@login_required
def index():
    """GTIN disputes: a producer's own claims; a centre's, about its province's producers."""
    status = request.args.get("status", "open")
    if status not in ("open", "decided", "all"):
        status = "open"
    query = service.visible_disputes(current_user, status=None if status == "all" else status)
    page = max(request.args.get("page", 1, type=query_int), 1)
    pagination = db.paginate(query, page=page, per_page=PER_PAGE, error_out=False)
    return render_template("registry/gtin_disputes/index.html", pagination=pagination, status=status)


@bp.route("/new", methods=["GET", "POST"])
@writer_required
def new():
    """Claim a GTIN that another producer's product holds, with GS1 Vietnam evidence."""
    if (refused := refuse_unapproved_producer(url_for("registry.dashboard"))) is not None:
        return refused
    form = DisputeForm()
    form.product_id.choices = _product_choices()
    if request.method == "GET":
        form.gtin.data = request.args.get("gtin", "")[:20]
        form.product_id.data = request.args.get("product_id", type=query_int)
    attachment = Attachment(
        form.document, form.kept_document, max_bytes=current_app.config["MAX_DOCUMENT_BYTES"]
    )
    outcome = None
    if form.validate_on_submit():
        document, document_name = attachment.read()
        outcome = perform(
            service.open_dispute,
            form.to_data(),
            actor=current_user,
            document=document,
            document_name=document_name,
            show_on=form,
        )
    if saved(outcome, attachment):
        dispute = outcome.value
        flash(_("Your claim to GTIN %(gtin)s was sent to the centre.", gtin=dispute.gtin), "success")
        return redirect(url_for("registry.gtin_disputes.detail", dispute_id=dispute.id))
    return render_template(
        "registry/gtin_disputes/form.html", form=form, kept_name=attachment.kept_name
    ), 422 if form.errors else 200


def _detail_page(dispute: GtinDispute, form: DecideForm, status: int = 200):
    holder = dispute.holder_product
    certifications = db.session.scalars(
        select(Certification)
        .where(Certification.product_id == holder.id, Certification.status == "verified")
        .order_by(Certification.id)
    ).all()
    page = render_template(
        "registry/gtin_disputes/detail.html",
        dispute=dispute,
        form=form,
        can_decide=dispute.status == "open" and service.can_decide(dispute, current_user),
        holder_batches=service.batch_count(holder),
        holder_certifications=certifications,
        claimant_batches=service.batch_count(dispute.claimant_product),
        holder_now=service.gtin_holder(dispute.gtin),
    )
    return page, status


@bp.route("/<int:dispute_id>")
@login_required
def detail(dispute_id: int):
    """Both claims side by side, with their evidence, and the centre's decision."""
    return _detail_page(get_scoped_or_404(GtinDispute, dispute_id), DecideForm())


@bp.route("/<int:dispute_id>/decide", methods=["POST"])
@roles_required(*service.DECIDING_ROLES)
def decide(dispute_id: int):
    """The centre decides who holds the GTIN."""
    dispute = get_scoped_or_404(GtinDispute, dispute_id)
    form = DecideForm()
    if form.validate_on_submit():
        decided = perform(
            service.decide_dispute,
            dispute,
            form.outcome.data,
            form.reason.data,
            actor=current_user,
            show_on=form,
        )
        if decided.ok:
            flash(_("The dispute is decided."), "success")
            return redirect(url_for("registry.gtin_disputes.detail", dispute_id=dispute.id), 303)
    return _detail_page(dispute, form, 422)


@bp.route("/<int:dispute_id>/document")
@login_required
def document(dispute_id: int):
    """The claimant's evidence document, always as a download, never rendered by the browser."""
    dispute = get_scoped_or_404(GtinDispute, dispute_id)
    if not dispute.document_filename:
        abort(404)
    extension = DOCUMENT_EXTENSIONS.get(dispute.document_content_type or "", "bin")
    ascii_name = f"gtin-{dispute.gtin}-evidence.{extension}"
    return send_private_document(
        documents_folder() / dispute.document_filename,
        dispute.document_content_type,
        ascii_name,
        dispute.document_original_name or ascii_name,
    )
