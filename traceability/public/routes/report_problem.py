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
)
from flask_babel import get_locale
from flask_babel import gettext as _

from traceability.batches.service import by_public_code, page_url
from traceability.core.errors import TooManyAttempts
from traceability.http.web import perform
from traceability.public.consumer import localized_name
from traceability.public.forms import ProblemReportForm
from traceability.public.problem_reports import report_by_token, status_path, submit_report

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
            language=str(get_locale() or ""),
            show_on=form,
            quiet=TooManyAttempts,
        )
        if isinstance(outcome.error, TooManyAttempts):
            form.form_errors.append(str(outcome.error.message))
            response = make_response(render_template("public/report.html", form=form, **context), 429)
            response.headers["Retry-After"] = str(outcome.error.retry_after)
            return response
        if outcome.ok and outcome.value is not None:
            flash(
                _("Thank you. Your report was sent to the provincial centre that verifies this product."),
                "success",
            )
            return redirect(status_path(outcome.value))
        status = 422
    sent = request.method == "GET" and request.args.get("sent") == "1"
    return render_template("public/report.html", form=form, sent=sent, **context), status


@bp.route("/status/<token>")
def status(token: str):
    """A report's status page, opened by its secret token only: its reference, status, date and the answers.

    Never cached by anyone but the consumer's browser, which asks again each
    time, so a new answer shows at once; the token stays out of Referer headers.
    """
    report = report_by_token(token) or abort(404)
    batch = report.batch
    response = make_response(
        render_template(
            "public/report_status.html",
            report=report,
            batch=batch,
            name=localized_name(batch.product),
            page_url=page_url(current_app.config["PUBLIC_BASE_URL"], batch, report.item),
        )
    )
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Robots-Tag"] = "noindex"
    return response
