"""The binding's capture interface: ``POST /capture`` (202 and a job), ``GET /capture`` and ``/capture/{captureID}``.

A capture runs as a job at once, inside the request (``epcis_jobs``), and
answers 202 with ``Location: /epcis/capture/{captureID}`` and the finished job;
what the job refused (an unknown lot, a broken mass balance) is in its
``errors``, and nothing of a refused document is kept. What is no capture at
all is refused at once: a body that is not JSON (415) or not a JSON object
(400), a document of more than ``GS1-EPCIS-Capture-Limit`` events (413), a role
that only reads (403). A job is read by its sender and its centre's staff; any
other caller gets 404, as for a job that does not exist.
"""

from __future__ import annotations

from flask import abort, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import or_

from traceability.api.epcis_rest import (
    binding_view,
    bp,
    collection_paging,
    json_answer,
    problem,
    with_next_page,
)
from traceability.batches.epcis_jobs import capture_job_json, own_jobs, run_capture_job, visible_job
from traceability.batches.epcis_query import read_page_token, sign_page_token
from traceability.core.extensions import db
from traceability.gs1.epcis import parse_time
from traceability.models.epcis import CAPTURE_ERROR_BEHAVIOURS, EpcisCaptureJob


@bp.post("/capture")
@binding_view
def capture():
    """Capture an EPCISDocument (or the events of an EPCISQueryDocument) as a job: 202 and its URL."""
    if not request.is_json:
        return problem(
            415,
            _("Send the EPCIS document as JSON (Content-Type: application/json or application/ld+json)."),
            kind="epcisException:UnsupportedMediaTypeException",
        )
    document = request.get_json(silent=True)
    if not isinstance(document, dict):
        return problem(400, _("Send an EPCIS 2.0 document: a JSON object."))
    behaviour = request.headers.get("GS1-Capture-Error-Behaviour", "rollback").strip()
    if behaviour not in CAPTURE_ERROR_BEHAVIOURS:
        return problem(
            400,
            _("GS1-Capture-Error-Behaviour is rollback (the default) or proceed."),
            fields={"GS1-Capture-Error-Behaviour": _l("Use rollback or proceed.")},
        )
    job = run_capture_job(document, actor=current_user, error_behaviour=behaviour)
    response = json_answer(capture_job_json(job), status=202)
    response.headers["Location"] = f"/epcis/capture/{job.capture_id}"
    return response


@bp.get("/capture")
@binding_view
def capture_jobs():
    """The caller's own capture jobs, newest first, paged."""
    per_page, page_token = collection_paging()
    fingerprint = f"capture:{current_user.id}"
    query = own_jobs(current_user)
    if page_token is not None:
        key, row_id, _left = read_page_token(page_token, fingerprint)
        created = parse_time(key)
        query = query.where(
            EpcisCaptureJob.created_at <= created,
            or_(EpcisCaptureJob.created_at < created, EpcisCaptureJob.id < row_id),
        )
    jobs = db.session.scalars(query.limit(per_page + 1)).all()
    token, expires = None, None
    if len(jobs) > per_page:
        last = jobs[per_page - 1]
        token, expires = sign_page_token(fingerprint, last.created_at.isoformat(), last.id)
    response = json_answer([capture_job_json(job) for job in jobs[:per_page]])
    return with_next_page(response, token, expires)


@bp.get("/capture/<capture_id>")
@binding_view
def capture_job(capture_id: str):
    """One capture job: whether it succeeded, what it captured, the errors of what it refused."""
    job = visible_job(capture_id, current_user)
    if job is None:
        abort(404, _l("No capture job with this captureID that you may read."))
    return json_answer(capture_job_json(job))
