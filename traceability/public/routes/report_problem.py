"""A consumer reports a problem with the lot in hand: the form at ``/report/{code}``.

The consumer page is cached and the same for every reader, so it can't hold a
CSRF token: it links to ``/report/{code}``, a small page of its own that is
never cached, whose form carries the reader's token and posts to itself. The
code is the batch's or item's unguessable public code, the one its ``/t/``
URL uses, so report pages can't be enumerated either. The centres read the
reports under ``/manage/problem-reports`` (``problem_reports``).
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

from traceability.batches.service import by_public_code, page_url
from traceability.core.errors import TooManyAttempts
from traceability.http.web import perform
from traceability.public.consumer import localized_name
from traceability.public.forms import ProblemReportForm
from traceability.public.problem_reports import submit_report

bp = Blueprint("report_problem", __name__, url_prefix="/report")


@bp.route("/<code>", methods=["GET", "POST"])
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
            return redirect(url_for("public.report_problem.new", code=code.upper(), sent=1))
        status = 422
    sent = request.method == "GET" and request.args.get("sent") == "1"
    return render_template("public/report.html", form=form, sent=sent, **context), status
