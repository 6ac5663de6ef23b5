"""The consumers' problem reports, as the producer and its centre read them (``/manage/problem-reports``).

A consumer sends one from the lot's page: ``report_problem`` (``/report/{code}``).
"""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from traceability.accounts.scope import get_scoped_or_404
from traceability.core.extensions import db
from traceability.http.converters import query_int
from traceability.http.web import local_path, perform, roles_required
from traceability.models.batches import Batch
from traceability.models.public import ProblemReport
from traceability.public.forms import CloseReportForm, ReplyReportForm
from traceability.public.problem_reports import (
    CLOSING_ROLES,
    REPLYING_ROLES,
    close_report,
    reply_to_report,
    scoped_reports,
)

bp = Blueprint("problem_reports", __name__, url_prefix="/manage/problem-reports")

STATUS_FILTERS = ("open", "closed", "all")


@bp.route("")
@login_required
def index():
    """The consumers' problem reports in the user's scope: open ones, closed ones, or all; of one batch."""
    status = request.args.get("status", "open")
    if status not in STATUS_FILTERS:
        status = "open"
    batch_id = request.args.get("batch_id", type=query_int)
    batch = get_scoped_or_404(Batch, batch_id) if batch_id is not None else None
    reports = db.session.scalars(
        scoped_reports(current_user, status=None if status == "all" else status, batch_id=batch_id).limit(200)
    ).all()
    return render_template(
        "public/problem_reports.html",
        reports=reports,
        status=status,
        batch=batch,
        close_form=CloseReportForm(),
        can_close=current_user.role in CLOSING_ROLES,
        reply_form=ReplyReportForm(),
        can_reply=current_user.role in REPLYING_ROLES,
    )


@bp.route("/<int:report_id>/reply", methods=["POST"])
@roles_required(*REPLYING_ROLES)
def reply(report_id: int):
    """Answer a consumer's report: the answer shows on its status page and is emailed when it can be."""
    report = get_scoped_or_404(ProblemReport, report_id)
    form = ReplyReportForm()
    if form.validate_on_submit():
        if perform(reply_to_report, report, form.body.data, actor=current_user).ok:
            flash(
                _(
                    "Answer sent. The consumer reads it on the page of report %(reference)s.",
                    reference=report.reference,
                ),
                "success",
            )
    else:
        flash(" ".join(str(error) for errors in form.errors.values() for error in errors), "error")
    target = local_path(request.form.get("next")) or url_for("public.problem_reports.index")
    return redirect(target)


@bp.route("/<int:report_id>/close", methods=["POST"])
@roles_required(*CLOSING_ROLES)
def close(report_id: int):
    """Close a consumer's report once the centre has dealt with it."""
    report = get_scoped_or_404(ProblemReport, report_id)
    form = CloseReportForm()
    if form.validate_on_submit():
        if perform(close_report, report, form.note.data, actor=current_user).ok:
            flash(_("Problem report closed."), "success")
    else:
        flash(" ".join(str(error) for error in form.note.errors), "error")
    return redirect(local_path(request.form.get("next")) or url_for("public.problem_reports.index"))
