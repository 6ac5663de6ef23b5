"""Recall pages: start a recall, follow the affected batches and shipments, close it."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from traceability.accounts.scope import get_scoped_or_404, scoped_select
from traceability.batches.forms import ReasonForm, RecallCloseForm
from traceability.batches.recalls import close_recall, may_close_recall, recall_batch
from traceability.batches.service import current_events, quantity_remaining
from traceability.core.extensions import db
from traceability.http.web import perform, writer_required
from traceability.models.batches import Batch, Recall, TraceEvent

bp = Blueprint("recalls", __name__)


@bp.route("/recalls")
@login_required
def index():
    """Recalls in the user's scope, open ones first."""
    recalls = db.session.scalars(
        scoped_select(Recall).order_by(Recall.status.desc(), Recall.opened_at.desc()).limit(200)
    ).all()
    return render_template("batches/recalls.html", recalls=recalls)


@bp.route("/batches/<int:batch_id>/recall", methods=["POST"])
@writer_required
def start(batch_id: int):
    """Recall a batch and everything made from it."""
    batch = get_scoped_or_404(Batch, batch_id)
    form = ReasonForm(prefix="recall")
    if not form.validate_on_submit():
        flash(_("Say why the batch is recalled."), "error")
        return redirect(url_for("batches.batch_detail", batch_id=batch.id))
    outcome = perform(recall_batch, batch, form.reason.data, actor=current_user)
    if not outcome.ok:
        return redirect(url_for("batches.batch_detail", batch_id=batch.id))
    recall = outcome.value
    flash(_("Recall started: %(n)d batches are marked recalled.", n=len(recall.affected)), "success")
    return redirect(url_for("batches.recalls.detail", recall_id=recall.id))


@bp.route("/recalls/<int:recall_id>", methods=["GET", "POST"])
@login_required
def detail(recall_id: int):
    """A recall: the affected batches, what is left of them, where they were shipped; closing it."""
    recall = get_scoped_or_404(Recall, recall_id)
    form = RecallCloseForm(prefix="close")
    status = 200
    if request.method == "POST" and not may_close_recall(recall, current_user):
        abort(403)  # before the form: a refusal says so, whatever was sent
    if request.method == "POST" and not form.validate_on_submit():
        status = 422
    elif request.method == "POST":
        closed = perform(
            close_recall, recall, form.note.data, form.outcome.data, actor=current_user, show_on=form
        )
        if closed.ok:
            flash(_("Recall closed."), "success")
            return redirect(url_for("batches.recalls.detail", recall_id=recall.id))
        status = closed.error.status
    affected_ids = [entry.batch_id for entry in recall.affected]
    shipments = current_events(
        list(
            db.session.scalars(
                select(TraceEvent)
                .where(TraceEvent.batch_id.in_(affected_ids), TraceEvent.type.in_(("shipping", "selling")))
                .order_by(TraceEvent.event_time)
            )
        )
    )
    remaining = {entry.batch_id: quantity_remaining(entry.batch) for entry in recall.affected}
    can_close = recall.status == "open" and may_close_recall(recall, current_user)
    return render_template(
        "batches/recall_detail.html",
        recall=recall,
        shipments=shipments,
        remaining=remaining,
        form=form,
        can_close=can_close,
    ), status
