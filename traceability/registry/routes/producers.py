"""Producers' profiles and the centre's approval decisions (``/manage/producers``).

A producer signs up on a public page: ``traceability.public.routes.sign_up``.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage

from traceability.accounts.scope import get_scoped_or_404, scoped_select
from traceability.accounts.service import manages_users
from traceability.core.extensions import db
from traceability.core.text import like_pattern
from traceability.http.converters import query_int
from traceability.http.web import perform
from traceability.models.accounts import User
from traceability.models.registry import Location, Producer, Product
from traceability.registry.producer_forms import (
    KIND_LABELS,
    DecisionForm,
    ProducerFilterForm,
    ProducerProfileForm,
)
from traceability.registry.producers import (
    allowed_decisions,
    approve_producer,
    can_edit_profile,
    reinstate_producer,
    reject_producer,
    set_producer_logo,
    suspend_producer,
    update_producer,
)

bp = Blueprint("producers", __name__, url_prefix="/producers")

PER_PAGE = 20


@bp.route("")
@login_required
def index():
    """The producers the user may see, filtered and searchable without diacritics."""
    if current_user.role == "producer":
        return redirect(url_for("registry.producers.detail", producer_id=current_user.producer_id))
    form = ProducerFilterForm(formdata=request.args)
    form.validate()
    query = scoped_select(Producer).order_by(Producer.name, Producer.id)
    if form.q.data and not form.q.errors:
        query = query.where(Producer.search_text.like(like_pattern(form.q.data), escape="\\"))
    if form.province.data and not form.province.errors and current_user.role == "ministry":
        query = query.where(Producer.province_code == form.province.data)
    if form.kind.data and not form.kind.errors:
        query = query.where(Producer.kind == form.kind.data)
    if form.status.data and not form.status.errors:
        query = query.where(Producer.status == form.status.data)
    page = db.paginate(
        query, page=request.args.get("page", 1, type=query_int), per_page=PER_PAGE, error_out=False
    )
    filters = {name: value for name, value in request.args.items() if name != "page" and value}
    return render_template(
        "registry/producers/index.html", form=form, page=page, filters=filters, kind_labels=KIND_LABELS
    )


@bp.route("/me")
@login_required
def me():
    """A producer user's own profile; other users go to the list."""
    if current_user.role == "producer":
        return redirect(url_for("registry.producers.detail", producer_id=current_user.producer_id))
    return redirect(url_for("registry.producers.index"))


def _render_detail(producer: Producer, decision_form: DecisionForm | None = None, status: int = 200):
    counts = {
        model: db.session.scalar(
            select(func.count()).select_from(
                scoped_select(model).where(model.producer_id == producer.id).subquery()
            )
        )
        for model in (Product, Location)
    }
    users = db.session.scalars(
        scoped_select(User).where(User.producer_id == producer.id).order_by(User.email)
    ).all()
    return render_template(
        "registry/producers/detail.html",
        producer=producer,
        product_count=counts[Product],
        location_count=counts[Location],
        users=users,
        decisions=allowed_decisions(producer, current_user),
        decision_form=decision_form or DecisionForm(formdata=None),
        can_edit=can_edit_profile(producer, current_user),
        manages_own_users=manages_users(current_user) and current_user.producer_id == producer.id,
        kind_labels=KIND_LABELS,
    ), status


@bp.route("/<int:producer_id>")
@login_required
def detail(producer_id: int):
    """A producer's profile, status and the centre's decisions on it."""
    return _render_detail(get_scoped_or_404(Producer, producer_id))


@bp.route("/<int:producer_id>/edit", methods=["GET", "POST"])
@login_required
def edit(producer_id: int):
    """Change a producer's profile and logo (its administrator or its centre's staff)."""
    producer = get_scoped_or_404(Producer, producer_id)
    if not can_edit_profile(producer, current_user):
        abort(403)
    form = ProducerProfileForm(obj=producer)
    if form.validate_on_submit():
        was_rejected = producer.status == "rejected"
        outcome = perform(
            _save_profile, producer, form.to_data(), form.logo.data, actor=current_user, show_on=form
        )
        if outcome.ok:
            flash(_("The profile is saved."), "success")
            if was_rejected and producer.status == "pending":
                flash(_("Your registration is sent to the centre again for approval."), "info")
            return redirect(url_for("registry.producers.detail", producer_id=producer.id))
    return render_template(
        "registry/producers/edit.html", form=form, producer=producer
    ), 422 if form.errors else 200


def _save_profile(producer: Producer, data: dict[str, Any], logo: FileStorage | None, *, actor: User) -> None:
    """The profile's fields, then its logo when one is uploaded."""
    update_producer(producer, data, actor=actor)
    if logo:
        set_producer_logo(producer, logo.read(), actor=actor)


def _decide(producer_id: int, decide, success_message: str, *, with_reason: bool):
    producer = get_scoped_or_404(Producer, producer_id)
    form = DecisionForm()
    if not form.validate_on_submit():
        return _render_detail(producer, form, 422)
    reason = (form.reason.data,) if with_reason else ()
    outcome = perform(decide, producer, *reason, actor=current_user, show_on=form)
    if not outcome.ok:
        return _render_detail(db.session.get_one(Producer, producer_id), form, outcome.error.status)
    flash(success_message, "success")
    return redirect(url_for("registry.producers.detail", producer_id=producer.id))


@bp.route("/<int:producer_id>/approve", methods=["POST"])
@login_required
def approve(producer_id: int):
    """The centre approves a producer."""
    return _decide(producer_id, approve_producer, _("The producer is approved."), with_reason=False)


@bp.route("/<int:producer_id>/reject", methods=["POST"])
@login_required
def reject(producer_id: int):
    """The centre rejects a producer's registration, saying why."""
    return _decide(producer_id, reject_producer, _("The registration is rejected."), with_reason=True)


@bp.route("/<int:producer_id>/suspend", methods=["POST"])
@login_required
def suspend(producer_id: int):
    """The centre suspends a producer, saying why."""
    return _decide(producer_id, suspend_producer, _("The producer is suspended."), with_reason=True)


@bp.route("/<int:producer_id>/reinstate", methods=["POST"])
@login_required
def reinstate(producer_id: int):
    """The centre lifts a producer's suspension."""
    return _decide(producer_id, reinstate_producer, _("The producer is approved again."), with_reason=False)
