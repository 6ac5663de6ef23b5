"""Inspection pages, under ``/manage/inspections``.

The list, opening one, its detail with the follow-up, and its private photos.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.orm import joinedload
from wtforms import SelectChoice

from traceability.accounts.scope import get_scoped_or_404, producer_filter_choices, scoped_select
from traceability.core.extensions import db
from traceability.core.vocabulary import label
from traceability.http.converters import query_int
from traceability.http.web import perform, roles_required
from traceability.inspections import files, queries, service
from traceability.inspections.checklists import ANSWER_LABELS, checklist_for, item_label
from traceability.inspections.forms import (
    AnswerForm,
    CloseForm,
    InspectionFilterForm,
    PhotoForm,
    ReopenForm,
    SubjectForm,
    inspection_form,
    read_upload,
)
from traceability.models.batches import Batch
from traceability.models.inspections import SUBJECT_KINDS, Inspection, InspectionPhoto
from traceability.models.registry import Location, Producer

bp = Blueprint("inspections", __name__, url_prefix="/manage/inspections")

PER_PAGE = 20
BATCH_CHOICES = 500  # the newest batches offered; a link from a batch's page preselects any other
SUBJECT_MODELS: dict[str, type[Producer | Location | Batch]] = {
    "producer": Producer,
    "location": Location,
    "batch": Batch,
}


@bp.context_processor
def inspection_helpers() -> dict[str, Any]:
    """What the inspection pages need to show labels, subjects and deadlines."""
    return {
        "outcome_label": lambda code: label(queries.OUTCOME_LABELS, code),
        "severity_label": lambda code: label(queries.SEVERITY_LABELS, code),
        "inspection_status_label": lambda code: label(queries.STATUS_LABELS, code),
        "subject_kind_label": lambda code: label(queries.SUBJECT_LABELS, code),
        "follow_up_label": lambda code: label(queries.FOLLOW_UP_LABELS, code),
        "answer_label": lambda code: label(ANSWER_LABELS, code),
        "item_label": item_label,
        "inspection_subject": queries.subject_name,
        "is_overdue": queries.is_overdue,
        "today": queries.vietnam_today(),
    }


def _load(inspection_id: int) -> Inspection:
    return get_scoped_or_404(Inspection, inspection_id)


def _max_image_bytes() -> int:
    return current_app.config["MAX_IMAGE_BYTES"]


# ---------------------------------------------------------------- list


@bp.route("")
@login_required
def index():
    """The inspections the user may see, filtered by status, outcome, severity and producer."""
    form = InspectionFilterForm(formdata=request.args)
    form.producer_id.choices = producer_filter_choices()
    filters = form.filters()
    query = queries.with_subjects(scoped_select(Inspection)).order_by(
        Inspection.inspected_on.desc(), Inspection.id.desc()
    )
    for name in ("status", "outcome", "severity"):
        if name in filters:
            query = query.where(getattr(Inspection, name) == filters[name])
    if "producer_id" in filters:
        query = query.where(Inspection.producer_id == int(filters["producer_id"]))
    # Links from a batch's or a location's page narrow the list to it.
    for name in ("batch_id", "location_id"):
        value = request.args.get(name, type=query_int)
        if value is not None:
            query = query.where(getattr(Inspection, name) == value)
            filters[name] = str(value)
    page = db.paginate(
        query, page=request.args.get("page", 1, type=query_int), per_page=PER_PAGE, error_out=False
    )
    return render_template(
        "inspections/index.html",
        page=page,
        form=form,
        filters=filters,
        show_producer=len(form.producer_id.choices) > 2,  # "All" and two producers or more
    )


# ---------------------------------------------------------------- opening


def _subject_choices(selected: str | None) -> list[SelectChoice]:
    """The centre's producers, their locations and newest batches, grouped by kind."""
    producers = db.session.scalars(
        scoped_select(Producer).where(Producer.status != "rejected").order_by(Producer.name)
    ).all()
    locations = db.session.scalars(
        scoped_select(Location).options(joinedload(Location.producer)).order_by(Location.name)
    ).all()
    batches = db.session.scalars(
        scoped_select(Batch)
        .options(joinedload(Batch.product))
        .order_by(Batch.production_date.desc(), Batch.id.desc())
        .limit(BATCH_CHOICES)
    ).all()
    choices = [
        *(SelectChoice(f"producer:{p.id}", p.name, optgroup=_("Producers")) for p in producers),
        *(
            SelectChoice(f"location:{loc.id}", f"{loc.name} · {loc.producer.name}", optgroup=_("Locations"))
            for loc in locations
        ),
        *(
            SelectChoice(f"batch:{b.id}", f"{b.product.name} · {b.lot_code}", optgroup=_("Batches"))
            for b in batches
        ),
    ]
    return [SelectChoice("", "-"), *choices]


def _parse_subject(value: str | None) -> tuple[str, int] | None:
    kind, _sep, subject_id = (value or "").partition(":")
    if kind not in SUBJECT_KINDS or not subject_id.isdigit():
        return None
    return kind, int(subject_id)


def _subject_title(kind: str, subject: Any) -> str:
    if kind == "batch":
        return f"{subject.product.name} · {subject.lot_code}"
    return subject.name


@bp.route("/new", methods=["GET", "POST"])
@roles_required("centre_admin", "centre_staff")
def new():
    """Open an inspection: first choose what is inspected, then fill its checklist and outcome."""
    parsed = _parse_subject(request.args.get("subject"))
    if parsed is None:
        chooser = SubjectForm(formdata=request.args if "subject" in request.args else None)
        chooser.subject.choices = _subject_choices(request.args.get("subject"))
        if "subject" in request.args:
            chooser.validate()
        return render_template("inspections/choose.html", form=chooser), 422 if chooser.errors else 200
    kind, subject_id = parsed
    subject = get_scoped_or_404(SUBJECT_MODELS[kind], subject_id)
    form = inspection_form(kind)
    if request.method == "GET":
        form.inspected_on.data = queries.vietnam_today()
        form.inspector.data = current_user.name
    if form.validate_on_submit():
        outcome = perform(
            service.create_inspection,
            form.to_data(kind, subject_id),
            actor=current_user,
            photos=form.photo_uploads(_max_image_bytes()),
            show_on=form,
        )
        if outcome.ok:
            inspection = outcome.value
            flash(_("The inspection is saved."), "success")
            if inspection.outcome == "nonconformity":
                flash(_("The producer sees the nonconformity and answers it by the follow-up date."), "info")
            return redirect(url_for("inspections.detail", inspection_id=inspection.id))
    return render_template(
        "inspections/form.html",
        form=form,
        kind=kind,
        items=checklist_for(kind),
        subject_title=_subject_title(kind, subject),
        subject_value=f"{kind}:{subject_id}",
    ), 422 if form.errors else 200


# ---------------------------------------------------------------- detail and follow-up


def _render_detail(inspection: Inspection, status: int = 200, **forms: Any):
    context = {
        "answer_form": AnswerForm(formdata=None),
        "close_form": CloseForm(formdata=None),
        "reopen_form": ReopenForm(formdata=None),
        "photo_form": PhotoForm(formdata=None),
        **forms,
    }
    return render_template(
        "inspections/detail.html",
        inspection=inspection,
        can_answer=service.can_answer(inspection, current_user),
        can_decide=service.can_decide(inspection, current_user),
        inspection_photos=[photo for photo in inspection.photos if photo.follow_up_id is None],
        **context,
    ), status


@bp.route("/<int:inspection_id>")
@login_required
def detail(inspection_id: int):
    """An inspection: subject, checklist, findings, photos, outcome and its follow-up."""
    return _render_detail(_load(inspection_id))


def _after(inspection: Inspection, message: str):
    flash(message, "success")
    return redirect(url_for("inspections.detail", inspection_id=inspection.id), 303)


@bp.route("/<int:inspection_id>/answer", methods=["POST"])
@roles_required("producer")
def answer(inspection_id: int):
    """The producer answers an open nonconformity."""
    inspection = _load(inspection_id)
    form = AnswerForm()
    if form.validate_on_submit():
        outcome = perform(
            service.answer_inspection,
            inspection,
            form.response.data,
            actor=current_user,
            photo=read_upload(form.photo.data, _max_image_bytes()),
            show_on=form,
        )
        if outcome.ok:
            return _after(inspection, _("Your answer is sent to the centre."))
    return _render_detail(_load(inspection_id), 422, answer_form=form)


@bp.route("/<int:inspection_id>/close", methods=["POST"])
@roles_required("centre_admin", "centre_staff")
def close(inspection_id: int):
    """The centre accepts the producer's answer and closes the nonconformity."""
    inspection = _load(inspection_id)
    form = CloseForm()
    if form.validate_on_submit():
        outcome = perform(
            service.close_inspection, inspection, form.note.data, actor=current_user, show_on=form
        )
        if outcome.ok:
            return _after(inspection, _("The nonconformity is closed."))
    return _render_detail(_load(inspection_id), 422, close_form=form)


@bp.route("/<int:inspection_id>/reopen", methods=["POST"])
@roles_required("centre_admin", "centre_staff")
def reopen(inspection_id: int):
    """The centre sends the nonconformity back to the producer."""
    inspection = _load(inspection_id)
    form = ReopenForm()
    if form.validate_on_submit():
        outcome = perform(
            service.reopen_inspection,
            inspection,
            form.reason.data,
            actor=current_user,
            follow_up_on=form.follow_up_on.data,
            show_on=form,
        )
        if outcome.ok:
            return _after(inspection, _("The nonconformity is reopened: the producer answers again."))
    return _render_detail(_load(inspection_id), 422, reopen_form=form)


@bp.route("/<int:inspection_id>/photos", methods=["POST"])
@roles_required("centre_admin", "centre_staff")
def add_photo(inspection_id: int):
    """The centre adds a photo to the inspection."""
    inspection = _load(inspection_id)
    form = PhotoForm()
    if form.validate_on_submit():
        outcome = perform(
            service.add_photo,
            inspection,
            read_upload(form.file.data, _max_image_bytes()) or b"",
            actor=current_user,
            show_on=form,
        )
        if outcome.ok:
            return _after(inspection, _("The photo is added."))
    return _render_detail(_load(inspection_id), 422, photo_form=form)


@bp.route("/<int:inspection_id>/photos/<int:photo_id>")
@login_required
def photo(inspection_id: int, photo_id: int):
    """A photo of the inspection (``?thumbnail=1`` for the small one), only for who may see it."""
    inspection = _load(inspection_id)
    row = db.session.scalar(
        select(InspectionPhoto).where(
            InspectionPhoto.id == photo_id, InspectionPhoto.inspection_id == inspection.id
        )
    )
    found = row and files.photo_file(row, thumbnail=request.args.get("thumbnail") == "1")
    if not found:
        abort(404)
    response = send_file(found.path, mimetype="image/jpeg", download_name=found.download_name, max_age=0)
    response.headers["Cache-Control"] = "private, no-cache"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
