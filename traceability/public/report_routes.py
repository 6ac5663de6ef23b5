"""Problem reports: the consumer's form, and the list the producer and its centre read.

The consumer page is cached and the same for every reader, so it can't hold a
CSRF token: it links to ``/report/{code}``, a small page of its own that is
never cached, whose form carries the reader's token and posts to itself. The
code is the batch's or item's unguessable public code, the one its ``/t/``
URL uses, so report pages can't be enumerated either.
"""

from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required

from traceability.accounts.scope import get_scoped_or_404
from traceability.batches.service import by_public_code, page_url
from traceability.core.errors import TooManyAttempts
from traceability.core.extensions import db
from traceability.http.converters import query_int
from traceability.http.web import local_path, perform, roles_required
from traceability.models.batches import Batch
from traceability.models.public import Report
from traceability.public.consumer import localized_name
from traceability.public.forms import CloseReportForm, ProblemReportForm
from traceability.public.problem_reports import (
    CLOSING_ROLES,
    close_report,
    scoped_reports,
    submit_report,
)

bp = Blueprint("problem_reports", __name__)

STATUS_FILTERS = ("open", "closed", "all")


@bp.route("/report/<code>", methods=["GET", "POST"])
def new(code: str):
    """Report a problem with a batch or item: a short form, limited per client address."""
    batch, item = by_public_code(code) or abort(404)
    context = {
        "batch": batch,
        "item": item,
        "name": localized_name(batch.product),
        "page_url": page_url(current_app.config["PUBLIC_BASE_URL"], batch, item),
    }
    form = ProblemReportForm()
    status = 200
    if request.method == "POST":
        outcome = perform(
            submit_report,
            batch,
            item,
            form.message.data,
            form.contact.data,
            address=request.remote_addr,
            show_on=form,
            quiet=TooManyAttempts,
        )
        if isinstance(outcome.error, TooManyAttempts):
            form.form_errors.append(str(outcome.error.message))
            response = make_response(render_template("public/report.html", form=form, **context), 429)
            response.headers["Retry-After"] = str(outcome.error.retry_after)
            return response
        if outcome.ok:
            flash(
                _("Thank you. Your report was sent to the provincial centre that verifies this product."),
                "success",
            )
            return redirect(url_for("problem_reports.new", code=code.upper(), sent=1))
        status = 422
    sent = request.method == "GET" and request.args.get("sent") == "1"
    return render_template("public/report.html", form=form, sent=sent, **context), status


@bp.route("/manage/problem-reports")
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
    )


@bp.route("/manage/problem-reports/<int:report_id>/close", methods=["POST"])
@roles_required(*CLOSING_ROLES)
def close(report_id: int):
    """Close a consumer's report once the centre has dealt with it."""
    report = get_scoped_or_404(Report, report_id)
    form = CloseReportForm()
    if form.validate_on_submit():
        if perform(close_report, report, form.note.data, actor=current_user).ok:
            flash(_("Problem report closed."), "success")
    else:
        flash(" ".join(str(error) for error in form.note.errors), "error")
    return redirect(local_path(request.form.get("next")) or url_for("problem_reports.index"))
