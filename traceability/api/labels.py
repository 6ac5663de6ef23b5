"""API: serialised items, label sheets (PDF) and background label jobs."""

from __future__ import annotations

import io
from typing import Any

from flask import abort, current_app, send_file, url_for
from flask_babel import format_number
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from marshmallow import Schema, fields
from sqlalchemy import select

from traceability.accounts.scope import get_scoped_or_404
from traceability.api import schemas
from traceability.api.spec import operation, paginate
from traceability.batches.contracts import LabelQuerySchema, SerialsInSchema
from traceability.batches.label_jobs import (
    JobUnderWay,
    file_expires_at,
    is_stalled,
    job_file,
    percent_done,
    queue_label_job,
)
from traceability.batches.label_sheets import (
    download_name,
    plan_labels,
    render_sheet,
    sheet_to_draw,
)
from traceability.batches.serials import create_serials
from traceability.batches.service import item_public_url
from traceability.core.errors import Conflict, InvalidInput
from traceability.core.extensions import db
from traceability.models.batches import Batch, Item, LabelJob

# A sheet answered in the request itself; bigger ones go through POST /batches/{id}/label-jobs.
SYNC_LABEL_LIMIT = 10_000


class ItemSchema(Schema):
    id = fields.Integer()
    serial = fields.String()
    url = fields.Method("_url", metadata={"type": "string", "format": "uri"})
    created_at = fields.AwareDateTime()

    def _url(self, item: Any) -> str:
        return item_public_url(current_app.config["PUBLIC_BASE_URL"], item)


class SerialsSchema(Schema):
    items = fields.List(fields.Nested(ItemSchema))


class LabelJobSchema(Schema):
    id = fields.Integer()
    batch_id = fields.Integer()
    template = fields.String()
    error_correction = fields.String()
    count = fields.Integer()
    status = fields.String(metadata={"enum": ["queued", "running", "done", "failed"]})
    progress = fields.Integer(metadata={"description": "Labels drawn so far"})
    percent = fields.Method("_percent", metadata={"type": "integer"})
    stalled = fields.Method(
        "_stalled",
        metadata={
            "type": "boolean",
            "description": "The worker running it stopped; it runs again by itself within minutes",
        },
    )
    error = fields.String(allow_none=True)
    created_at = fields.AwareDateTime()
    finished_at = fields.AwareDateTime(allow_none=True)
    file_expires_at = fields.Method(
        "_file_expires_at",
        metadata={
            "type": "string",
            "format": "date-time",
            "nullable": True,
            "description": "When the finished PDF is (or was) removed; print again after that",
        },
    )
    download_url = fields.Method(
        "_download_url", metadata={"type": "string", "format": "uri", "nullable": True}
    )

    def _percent(self, job: Any) -> int:
        return percent_done(job)

    def _stalled(self, job: Any) -> bool:
        return is_stalled(job)

    def _file_expires_at(self, job: Any) -> str | None:
        expires_at = file_expires_at(job)
        return expires_at.isoformat() if expires_at else None

    def _download_url(self, job: Any) -> str | None:
        if job_file(job) is None:
            return None
        return url_for("api.label_job_pdf", job_id=job.id, _external=True)


@operation(
    "/batches/<int:batch_id>/serials",
    "POST",
    summary="Create serialised items (1 to 10,000; a lot holds at most MAX_ITEMS_PER_LOT), "
    "each with a random serial and its own URL",
    tag="batches",
    body=SerialsInSchema,
    response=SerialsSchema,
    status=201,
    errors=(403, 404, 409, 422),
)
def batch_serials_create(batch_id: int, data: dict[str, Any]):
    return {"items": create_serials(get_scoped_or_404(Batch, batch_id), data["count"], actor=current_user)}


@operation(
    "/batches/<int:batch_id>/items",
    "GET",
    summary="A batch's serialised items with their public URLs",
    tag="batches",
    query=schemas.PageQuerySchema,
    response=ItemSchema,
    paginated=True,
    errors=(404, 422),
)
def batch_items_list(batch_id: int, args: dict[str, Any]):
    batch = get_scoped_or_404(Batch, batch_id)
    return paginate(select(Item).where(Item.batch_id == batch.id).order_by(Item.id), args)


@operation(
    "/batches/<int:batch_id>/labels.pdf",
    "GET",
    summary="Print-ready label sheet: one label per serialised item, else `copies` of the batch code "
    f"(at most {SYNC_LABEL_LIMIT:,} labels; more through label jobs)",
    tag="labels",
    query=LabelQuerySchema,
    media_type="application/pdf",
    errors=(403, 404, 409, 422),
)
def batch_labels_pdf(batch_id: int, args: dict[str, Any]):
    batch = get_scoped_or_404(Batch, batch_id)
    plan = plan_labels(batch, args, actor=current_user)
    if plan.count > SYNC_LABEL_LIMIT:
        raise InvalidInput(
            _l(
                "More than %(max)s labels: start a label job (POST /batches/{id}/label-jobs).",
                max=format_number(SYNC_LABEL_LIMIT),
            )
        )
    text, urls = sheet_to_draw(batch, plan, actor=current_user)  # fixes the lot code, as on the web
    output = io.BytesIO()
    render_sheet(plan, text, urls, output)
    output.seek(0)
    name = download_name(batch, plan.template)  # before the commit expires the lot
    db.session.commit()  # a read otherwise: the sheet drawn is kept in the lot's audit log
    return send_file(output, mimetype="application/pdf", as_attachment=True, download_name=name)


@operation(
    "/batches/<int:batch_id>/label-jobs",
    "POST",
    summary="Make a label sheet in the background (up to MAX_LABELS_PER_JOB labels, one job per lot "
    "at a time: 409 names the job under way); poll the job, then download it before it expires",
    tag="labels",
    body=LabelQuerySchema,
    response=LabelJobSchema,
    status=202,
    errors=(403, 404, 409, 422),
)
def batch_label_job_create(batch_id: int, data: dict[str, Any]):
    batch = get_scoped_or_404(Batch, batch_id)
    try:
        job = queue_label_job(batch, plan_labels(batch, data, actor=current_user), actor=current_user)
    except JobUnderWay as error:
        url = url_for("api.label_job_get", job_id=error.job.id, _external=True)
        raise Conflict(error.message, {"job": url}) from error
    db.session.commit()  # queues the job for the worker
    return job


@operation(
    "/label-jobs/<int:job_id>",
    "GET",
    summary="A label job: status, progress, and the download URL once done",
    tag="labels",
    response=LabelJobSchema,
    errors=(404,),
)
def label_job_get(job_id: int):
    return get_scoped_or_404(LabelJob, job_id)


@operation(
    "/label-jobs/<int:job_id>/labels.pdf",
    "GET",
    summary="The finished PDF of a label job",
    tag="labels",
    media_type="application/pdf",
    errors=(404,),
)
def label_job_pdf(job_id: int):
    job = get_scoped_or_404(LabelJob, job_id)
    path = job_file(job)
    if path is None:
        abort(404)
    return send_file(
        path,
        mimetype="application/pdf",
        as_attachment=True,
        download_name=download_name(job.batch, job.template),
    )
