"""Pages for serialised items, label sheets and label print jobs (under ``/manage``)."""

from __future__ import annotations

import io
from collections.abc import Iterable

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_required
from sqlalchemy import select
from werkzeug.wrappers import Response as BaseResponse

from traceability.accounts.scope import get_scoped_or_404
from traceability.batches.label_forms import (
    LabelSheetForm,
    SerialsForm,
    error_correction_label,
    template_label,
)
from traceability.batches.label_jobs import (
    JobUnderWay,
    file_expired,
    file_expires_at,
    is_stalled,
    is_waiting_long,
    job_file,
    percent_done,
    queue_label_job,
    restart_label_job,
)
from traceability.batches.label_sheets import (
    DIRECT_LABEL_LIMIT,
    LabelPlan,
    LabelText,
    download_name,
    plan_labels,
    render_sheet,
    sheet_to_draw,
)
from traceability.batches.serials import create_serials, item_count
from traceability.batches.service import item_public_url
from traceability.core.errors import DomainError
from traceability.core.extensions import db
from traceability.http.converters import query_int
from traceability.http.web import perform, writer_required
from traceability.models.batches import Batch, Item, LabelJob

bp = Blueprint("labels", __name__)

ITEMS_PER_PAGE = 100


def job_status_text(job: LabelJob) -> str:
    """A job's state in words: waiting, its percentage, ready, failed or interrupted."""
    if is_stalled(job):
        return _("Interrupted: the worker making it stopped. It starts again by itself within minutes.")
    if is_waiting_long(job):
        return _(
            "Still waiting: the job worker is busy or stopped. The job starts by itself; "
            "if it keeps waiting, tell the centre."
        )
    if job.status == "queued":
        return _("Waiting to start")
    if job.status == "running":
        return _("Done: %(percent)d%%", percent=percent_done(job))
    if job.status == "done":
        return _("Done; the file was removed") if file_expired(job) else _("Ready to download")
    return _("Failed")


def label_context(batch: Batch) -> dict:
    """What the batch page shows about items and labels: the forms, the item count, recent jobs."""
    jobs = db.session.scalars(
        select(LabelJob).where(LabelJob.batch_id == batch.id).order_by(LabelJob.id.desc()).limit(5)
    ).all()
    return {
        "label_form": LabelSheetForm(prefix="labels"),
        "serials_form": SerialsForm(prefix="serials"),
        "item_count": item_count(batch),
        "label_jobs": jobs,
        "direct_label_limit": DIRECT_LABEL_LIMIT,
        "label_job_status": job_status_text,
        "template_label": template_label,
    }


def _refuse(error: DomainError, batch: Batch, anchor: str) -> BaseResponse:
    """Show a refusal (rolled back at the boundary): the running job's page, or the lot's with the reasons."""
    if isinstance(error, JobUnderWay):  # the lot's print under way: its page, not a second job
        flash(str(error.message), "info")
        return redirect(url_for("batches.labels.job", job_id=error.job.id))
    messages = [str(error.message), *(str(message) for message in error.fields.values())]
    for message in dict.fromkeys(messages):
        flash(message, "error")
    return redirect(url_for("batches.batch_detail", batch_id=batch.id, _anchor=anchor))


def _form_refused(form: SerialsForm | LabelSheetForm, batch: Batch, anchor: str) -> BaseResponse:
    for errors in form.errors.values():
        for message in errors:
            flash(str(message), "error")
    return redirect(url_for("batches.batch_detail", batch_id=batch.id, _anchor=anchor))


def _create_items(batch: Batch, form: SerialsForm) -> tuple[list[Item], LabelJob | None]:
    """The serials, and with a template the job printing their labels (queued once committed)."""
    items = create_serials(batch, form.count.data, actor=current_user)
    if not form.template.data:
        return items, None
    options = {
        "template": form.template.data,
        "ec": form.ec.data,
        "item_range": (items[0].id, items[-1].id, len(items)),
    }
    plan = plan_labels(batch, options, actor=current_user)
    return items, queue_label_job(batch, plan, actor=current_user)


@bp.route("/batches/<int:batch_id>/serials", methods=["POST"])
@writer_required
def create_items(batch_id: int):
    """Create serialised items of a batch; with a template, print their labels as a job."""
    batch = get_scoped_or_404(Batch, batch_id)
    form = SerialsForm(prefix="serials")
    if not form.validate_on_submit():
        return _form_refused(form, batch, "items")
    outcome = perform(_create_items, batch, form, quiet=(DomainError,))
    if not outcome.ok:
        return _refuse(outcome.error, batch, "items")
    items, job = outcome.value
    count = len(items)
    flash(ngettext("%(num)d serialised item created.", "%(num)d serialised items created.", count), "success")
    if job is None:
        return redirect(url_for("batches.labels.items", batch_id=batch.id))
    return redirect(url_for("batches.labels.job", job_id=job.id))  # committed: the worker has it


@bp.route("/batches/<int:batch_id>/items")
@login_required
def items(batch_id: int):
    """A batch's serialised items with their public URLs and QR codes, a page at a time."""
    batch = get_scoped_or_404(Batch, batch_id)
    query = select(Item).where(Item.batch_id == batch.id).order_by(Item.id)
    pagination = db.paginate(
        query, page=request.args.get("page", 1, type=query_int), per_page=ITEMS_PER_PAGE, error_out=False
    )
    base_url = current_app.config["PUBLIC_BASE_URL"]
    rows = [(item, item_public_url(base_url, item)) for item in pagination.items]
    return render_template("batches/items.html", batch=batch, pagination=pagination, rows=rows)


def _plan_sheet(
    batch: Batch, options: dict
) -> tuple[LabelPlan, LabelJob | None, tuple[LabelText, Iterable[str]] | None]:
    """A sheet's plan; a big sheet becomes a job, a small one's text and URLs are read to draw it now."""
    plan = plan_labels(batch, options, actor=current_user)
    if plan.count > DIRECT_LABEL_LIMIT:
        return plan, queue_label_job(batch, plan, actor=current_user), None
    return plan, None, sheet_to_draw(batch, plan, actor=current_user)  # fixes the lot code


@bp.route("/batches/<int:batch_id>/labels", methods=["POST"])
@writer_required
def print_labels(batch_id: int):
    """Print a label sheet: small sheets download at once, big ones become a job with progress."""
    batch = get_scoped_or_404(Batch, batch_id)
    form = LabelSheetForm(prefix="labels")
    if not form.validate_on_submit():
        return _form_refused(form, batch, "labels")
    options = {"template": form.template.data, "ec": form.ec.data, "copies": form.copies.data}
    # The commit queues a big sheet's job for the worker, or ends the transaction before drawing.
    outcome = perform(_plan_sheet, batch, options, quiet=(DomainError,))
    if not outcome.ok:
        return _refuse(outcome.error, batch, "labels")
    plan, job, drawing = outcome.value
    if job is not None:
        return redirect(url_for("batches.labels.job", job_id=job.id))
    assert drawing is not None  # a small sheet: its text and URLs
    text, urls = drawing
    output = io.BytesIO()
    try:
        render_sheet(plan, text, urls, output)
    except DomainError as error:
        return _refuse(error, batch, "labels")
    output.seek(0)
    return send_file(
        output,
        mimetype="application/pdf",
        as_attachment=True,
        download_name=download_name(batch, plan.template),
    )


@bp.route("/label-jobs/<int:job_id>")
@login_required
def job(job_id: int):
    """A label print job: progress while it runs (the page refreshes itself), then the download."""
    label_job = get_scoped_or_404(LabelJob, job_id)
    stalled = is_stalled(label_job)
    return render_template(
        "batches/label_job.html",
        job=label_job,
        batch=label_job.batch,
        percent=percent_done(label_job),
        stalled=stalled,
        refresh=label_job.status in ("queued", "running"),  # an interrupted job resumes by itself
        has_file=job_file(label_job) is not None,
        expires_at=file_expires_at(label_job),
        expired=file_expired(label_job),
        status_text=job_status_text(label_job),
        template_name=template_label(label_job.template),
        error_correction_name=error_correction_label(label_job.error_correction),
    )


@bp.route("/label-jobs/<int:job_id>/restart", methods=["POST"])
@writer_required
def job_restart(job_id: int):
    """Queue a failed or stalled job again for the worker."""
    label_job = get_scoped_or_404(LabelJob, job_id)
    if perform(restart_label_job, label_job, actor=current_user).ok:
        flash(_("The job was restarted."), "success")
    return redirect(url_for("batches.labels.job", job_id=job_id))


@bp.route("/label-jobs/<int:job_id>/labels.pdf")
@login_required
def job_download(job_id: int):
    """The finished PDF of a label job (only for users who can see its batch)."""
    label_job = get_scoped_or_404(LabelJob, job_id)
    path = job_file(label_job)
    if path is None:
        abort(404)
    return send_file(
        path,
        mimetype="application/pdf",
        as_attachment=True,
        download_name=download_name(label_job.batch, label_job.template),
    )
