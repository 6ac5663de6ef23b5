"""Certifications (``/manage/certifications``): upload, verification by the centre, documents."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy.orm import joinedload
from wtforms import SelectChoice

from traceability.accounts.scope import get_scoped_or_404, producer_filter_choices, scoped_select
from traceability.core.extensions import db
from traceability.core.vocabulary import label
from traceability.http.converters import query_int
from traceability.http.kept_uploads import Attachment, saved
from traceability.http.web import perform, roles_required, send_private_document, writer_required
from traceability.models.registry import Certification, Location, Producer, Product
from traceability.registry import certifications as service
from traceability.registry.certification_forms import (
    CertificationDataForm,
    CertificationFilterForm,
    CertificationForm,
    RejectForm,
    VerifyForm,
)
from traceability.registry.claims import is_claim
from traceability.registry.forms import OCOP_GROUP_LABELS

bp = Blueprint("certifications", __name__, url_prefix="/certifications")

PER_PAGE = 20


@bp.context_processor
def certification_helpers() -> dict[str, Any]:
    """What the certification pages need to show a certificate's type, scope and state."""
    return {
        "certification_type_label": service.type_label,
        "certification_scope_label": service.scope_label,
        "certification_state": service.certification_state,
        "certification_subject": service.subject_name,
        "can_decide": service.can_decide,
        "is_claim": is_claim,
        "ocop_group_label": lambda code: label(OCOP_GROUP_LABELS, code),
        "today": service.vietnam_today(),
    }


def _load(certification_id: int) -> Certification:
    return get_scoped_or_404(Certification, certification_id)


def _subject_choices() -> list[SelectChoice]:
    """Every producer, location and product the user may add certificates for, grouped."""
    producers = db.session.scalars(scoped_select(Producer).order_by(Producer.name)).all()
    locations = db.session.scalars(
        scoped_select(Location).options(joinedload(Location.producer)).order_by(Location.name)
    ).all()
    products = db.session.scalars(
        scoped_select(Product).options(joinedload(Product.producer)).order_by(Product.name)
    ).all()
    many = len(producers) > 1
    producer_group = _("Producers") if many else _("Producer")
    location_group, product_group = _("Locations"), _("Products")
    return [
        *(SelectChoice(f"producer:{p.id}", p.name, optgroup=producer_group) for p in producers),
        *(
            SelectChoice(
                f"location:{loc.id}",
                f"{loc.name} · {loc.producer.name}" if many else loc.name,
                optgroup=location_group,
            )
            for loc in locations
        ),
        *(
            SelectChoice(
                f"product:{p.id}", f"{p.name} · {p.producer.name}" if many else p.name, optgroup=product_group
            )
            for p in products
        ),
    ]


def _document_limit() -> int:
    return current_app.config["MAX_DOCUMENT_BYTES"]


@bp.route("")
@login_required
def index():
    """The certifications the user may see, filtered by status, type, scope and producer."""
    form = CertificationFilterForm(formdata=request.args)
    form.producer_id.choices = producer_filter_choices()
    filters = form.filters()
    query = service.with_subjects(scoped_select(Certification)).order_by(
        Certification.created_at.desc(), Certification.id.desc()
    )
    if "state" in filters:
        query = query.where(service.state_clause(filters["state"]))
    if "type" in filters:
        query = query.where(Certification.type == filters["type"])
    if "scope" in filters:
        query = query.where(Certification.scope == filters["scope"])
    if "producer_id" in filters:
        query = query.where(Certification.producer_id == int(filters["producer_id"]))
    page = db.paginate(
        query, page=request.args.get("page", 1, type=query_int), per_page=PER_PAGE, error_out=False
    )
    return render_template(
        "registry/certifications/index.html",
        page=page,
        form=form,
        filters=filters,
        show_producer=len(form.producer_id.choices) > 2,  # "All" and two producers or more
    )


@bp.route("/new", methods=["GET", "POST"])
@writer_required
def new():
    """Record a certificate with its document."""
    form = CertificationForm()
    form.subject.choices = _subject_choices()
    if request.method == "GET":
        for scope in ("product", "location", "producer"):
            if request.args.get(f"{scope}_id", type=query_int):
                form.subject.data = f"{scope}:{request.args.get(f'{scope}_id', type=query_int)}"
                break
    attachment = Attachment(form.document, form.kept_document, max_bytes=_document_limit())
    outcome = None
    if form.validate_on_submit():
        document, document_name = attachment.read()
        outcome = perform(
            service.create_certification,
            form.to_data(),
            actor=current_user,
            document=document,
            document_name=document_name,
            show_on=form,
        )
    if saved(outcome, attachment):
        certification = outcome.value
        flash(
            _("Certificate %(number)s saved. The centre will verify it.", number=certification.number),
            "success",
        )
        return redirect(url_for("registry.certifications.detail", certification_id=certification.id))
    return render_template(
        "registry/certifications/form.html", form=form, certification=None, kept_name=attachment.kept_name
    ), (422 if form.errors else 200)


@bp.route("/<int:certification_id>")
@login_required
def detail(certification_id: int):
    """A certificate, its document's fingerprint and the centre's decision."""
    certification = _load(certification_id)
    return render_template(
        "registry/certifications/detail.html",
        certification=certification,
        verify_form=VerifyForm(),
        reject_form=RejectForm(),
    )


@bp.route("/<int:certification_id>/edit", methods=["GET", "POST"])
@writer_required
def edit(certification_id: int):
    """Correct a certificate or replace its document; it goes back to the centre."""
    certification = _load(certification_id)
    form = CertificationDataForm(obj=certification)
    attachment = Attachment(form.document, form.kept_document, max_bytes=_document_limit())
    outcome = None
    if form.validate_on_submit():
        document, document_name = attachment.read()
        outcome = perform(
            service.update_certification,
            certification,
            form.to_data(),
            actor=current_user,
            document=document,
            document_name=document_name,
            show_on=form,
        )
    if saved(outcome, attachment):
        flash(_("Certificate %(number)s saved.", number=certification.number), "success")
        return redirect(url_for("registry.certifications.detail", certification_id=certification.id))
    return render_template(
        "registry/certifications/form.html",
        form=form,
        certification=certification,
        kept_name=attachment.kept_name,
    ), (422 if form.errors else 200)


@bp.route("/<int:certification_id>/verify", methods=["POST"])
@roles_required("centre_admin", "centre_staff")
def verify(certification_id: int):
    """The centre confirms the certificate against its document."""
    certification = _load(certification_id)  # the CSRF token is checked for every POST by CSRFProtect
    if perform(service.verify_certification, certification, actor=current_user).ok:
        flash(_("Certificate %(number)s verified.", number=certification.number), "success")
    return redirect(url_for("registry.certifications.detail", certification_id=certification.id), 303)


@bp.route("/<int:certification_id>/reject", methods=["POST"])
@roles_required("centre_admin", "centre_staff")
def reject(certification_id: int):
    """The centre refuses the certificate, with a reason for the producer."""
    certification = _load(certification_id)
    form = RejectForm()
    if form.validate_on_submit():
        outcome = perform(
            service.reject_certification, certification, form.reason.data, actor=current_user, show_on=form
        )
        if outcome.ok:
            flash(_("Certificate %(number)s rejected.", number=certification.number), "success")
            return redirect(url_for("registry.certifications.detail", certification_id=certification.id), 303)
    return render_template(
        "registry/certifications/detail.html",
        certification=certification,
        verify_form=VerifyForm(),
        reject_form=form,
    ), 422


@bp.route("/<int:certification_id>/document")
@login_required
def document(certification_id: int):
    """The certificate's document, always as a download, never rendered by the browser."""
    certification = _load(certification_id)
    if not certification.document_filename:
        abort(404)
    ascii_name, original_name = service.download_names(certification)
    return send_private_document(
        service.documents_folder() / certification.document_filename,
        certification.document_content_type,
        ascii_name,
        original_name,
    )
