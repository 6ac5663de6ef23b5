"""Label sheets printed in the background by the job worker, with progress, resumed after a crash.

The web request (or API call) that asks for a big sheet (more than
DIRECT_LABEL_LIMIT labels) stores a ``LabelJob`` (queued) and commits; the
commit queues the job ``labels.run`` (``traceability.jobs``), which the worker
process (``flask --app wsgi worker``) runs in an application context of its
own. No request starts a thread or a process pool. What makes it safe:

- a runner first claims the job with one conditional UPDATE (queued, or
  running with a heartbeat older than the lease, LABEL_JOB_LEASE_SECONDS) and
  a random token, so two runners never print the same job, on SQLite or
  PostgreSQL, however often its message was queued;
- it loads the batch and URLs, ends its transaction, then draws: progress and
  the heartbeat are written in short transactions of their own (SQLite's write
  lock is held for milliseconds, never for the whole sheet), each checking the
  token, so a runner presumed dead stops as soon as another took over;
- the PDF is written to ``{id}-{token}.pdf.part`` in the upload folder's
  ``labels/`` and renamed when complete: a half-written file is never offered;
- it is written page by page while the items are read in chunks, so a job's
  memory does not grow with its labels (``labels.streaming``);
- a lot has one queued or running job at a time (a partial unique index):
  another print request is answered with the job already under way;
- a job has LABEL_JOB_TIME_LIMIT seconds from its first start to finish,
  retries included: past it, it is marked failed with a message saying so;
- a finished job's file is kept ``LABEL_JOB_KEEP_HOURS``, then removed by
  ``purge_expired_files`` (hourly in the worker, each job start, and
  ``flask labels purge``); the job page says when, and after, to print again.

A worker that dies mid-job (a deploy, a crash, SIGKILL) leaves the job
"running" with a heartbeat that stops, and its queue message is gone:
``recover_label_jobs`` (every minute, and when a worker starts) queues it
again once the lease has run out, and queues any queued job whose message was
lost. ``flask labels run-jobs`` runs the waiting jobs in the foreground,
for an operator without a worker.
"""

from __future__ import annotations

import contextlib
import logging
import secrets
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, cast

from flask import current_app
from flask_babel import force_locale, format_timedelta
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import CursorResult, Result, and_, func, literal, or_, select, update
from sqlalchemy.exc import IntegrityError, OperationalError

from traceability.accounts.scope import writable_producer
from traceability.batches.label_sheets import (
    LabelPlan,
    item_range_count,
    label_text,
    label_urls,
    render_sheet,
)
from traceability.core.database import UTCDateTime
from traceability.core.dates import utcnow
from traceability.core.errors import Conflict, DomainError
from traceability.core.extensions import db
from traceability.http.i18n import request_language
from traceability.jobs import enqueue_after_commit, job_queue
from traceability.models.accounts import User
from traceability.models.batches import Batch, LabelJob

RUN_JOB = "labels.run"  # the job that prints one sheet (traceability.jobs.catalogue)
RECOVER_JOBS = "labels.recover"
ACTIVE_STATUSES = ("queued", "running")  # at most one such job per lot (the model's partial index)
HEARTBEAT_SECONDS = 1.0
LABEL_SUBFOLDER = "labels"

log = logging.getLogger(__name__)


class JobLost(Exception):
    """Another runner claimed the job: this one was presumed dead and must stop."""


class JobTimedOut(DomainError):
    """The job ran past LABEL_JOB_TIME_LIMIT since it first started."""


class JobUnderWay(Conflict):
    """The lot already has a queued or running print job: ``job`` is that one."""

    def __init__(self, job: LabelJob) -> None:
        super().__init__(
            _l(
                "This lot already has a print job under way (job %(id)s); "
                "wait for it to finish, or restart it if it stalled.",
                id=job.id,
            )
        )
        self.job = job


def active_job(batch_id: int) -> LabelJob | None:
    """The lot's queued or running job, if any."""
    return db.session.scalars(
        select(LabelJob).where(LabelJob.batch_id == batch_id, LabelJob.status.in_(ACTIVE_STATUSES))
    ).first()


def lease() -> timedelta:
    """How long a running job's heartbeat may stop before its runner is presumed dead."""
    return timedelta(seconds=current_app.config["LABEL_JOB_LEASE_SECONDS"])


def time_limit() -> timedelta:
    """How long a job may take from its first start to its end, retries included."""
    return timedelta(seconds=current_app.config["LABEL_JOB_TIME_LIMIT"])


def time_limit_message() -> str:
    """What a job past its time limit says (in the language of the request, or the default)."""
    return _(
        "The sheet was not finished within the time limit of %(limit)s. Restart the job, or print fewer "
        "labels at a time; if it fails again, tell the centre.",
        limit=format_timedelta(time_limit(), threshold=1),
    )


def label_folder() -> Path:
    """Where finished sheets are kept: ``{UPLOAD_FOLDER}/labels``."""
    return Path(current_app.config["UPLOAD_FOLDER"]) / LABEL_SUBFOLDER


def queue_label_job(batch: Batch, plan: LabelPlan, *, actor: User | None) -> LabelJob:
    """Store a queued job for ``plan`` (flushes); the worker gets it once the caller commits.

    The job keeps the language of whoever asked for it (``request_language``:
    the web page's, the API caller's), which the worker draws its words in.
    JobUnderWay (409) when the lot already has a queued or running job: one
    print of a lot at a time, however often the button is pressed.
    """
    if actor is not None:
        writable_producer(batch.product.producer_id, actor)
    running = active_job(batch.id)
    if running is not None:
        raise JobUnderWay(running)
    now = utcnow()
    job = LabelJob(
        batch_id=batch.id,
        requested_by_id=actor.id if actor is not None else None,
        template=plan.template,
        error_correction=plan.error_correction,
        locale=request_language(actor),
        count=plan.count,
        first_item_id=plan.first_item_id,
        last_item_id=plan.last_item_id,
        status="queued",
        progress=0,
        created_at=now,
        heartbeat_at=now,
    )
    try:
        with db.session.begin_nested():  # a concurrent request queued one an instant earlier
            db.session.add(job)
            db.session.flush()
    except IntegrityError:
        running = active_job(batch.id)
        if running is None:
            raise
        raise JobUnderWay(running) from None
    enqueue_after_commit(RUN_JOB, job.id)
    return job


def is_stalled(job: LabelJob) -> bool:
    """A running job whose runner stopped reporting for longer than the lease: its worker died.

    ``recover_label_jobs`` queues it again within a minute (or restart it).
    """
    if job.status != "running":
        return False
    return job.heartbeat_at is None or job.heartbeat_at < utcnow() - lease()


def is_waiting_long(job: LabelJob) -> bool:
    """A queued job no worker has taken for longer than the lease: the workers are busy or stopped."""
    return job.status == "queued" and (job.heartbeat_at is None or job.heartbeat_at < utcnow() - lease())


def percent_done(job: LabelJob) -> int:
    """Progress as a whole percentage."""
    return 100 if job.status == "done" else min(99, job.progress * 100 // max(job.count, 1))


def restart_label_job(job: LabelJob, *, actor: User | None) -> None:
    """Queue a failed or stalled job again, with its whole time limit (flushes; queued on commit)."""
    if actor is not None:
        writable_producer(job.batch.product.producer_id, actor)
    if not (job.status == "failed" or is_stalled(job)):
        raise Conflict(_l("This job is still running or already done; there is nothing to restart."))
    running = active_job(job.batch_id)
    if running is not None and running.id != job.id:
        raise JobUnderWay(running)
    job.status, job.claim_token, job.progress, job.error = "queued", None, 0, None
    job.heartbeat_at, job.started_at, job.finished_at = utcnow(), None, None
    try:
        with db.session.begin_nested():
            db.session.flush()
    except IntegrityError:
        raise Conflict(_l("This lot already has a print job under way.")) from None
    enqueue_after_commit(RUN_JOB, job.id)


def runnable_job_ids() -> list[int]:
    """Jobs waiting for a runner: queued, or running with a stale heartbeat."""
    stale = utcnow() - lease()
    ids = db.session.scalars(
        select(LabelJob.id)
        .where(
            or_(
                LabelJob.status == "queued",
                and_(LabelJob.status == "running", LabelJob.heartbeat_at < stale),
            )
        )
        .order_by(LabelJob.id)
    ).all()
    db.session.commit()
    return list(ids)


def _claim(job_id: int) -> str | None:
    token = secrets.token_hex(16)
    now = utcnow()
    claimable = or_(
        LabelJob.status == "queued",
        and_(LabelJob.status == "running", LabelJob.heartbeat_at < now - lease()),
    )
    result = db.session.execute(
        update(LabelJob)
        .where(LabelJob.id == job_id, claimable)
        .values(
            status="running",
            claim_token=token,
            # The first start stays: the time limit counts from it, retries included.
            started_at=func.coalesce(LabelJob.started_at, literal(now, UTCDateTime())),
            heartbeat_at=now,
            progress=0,
            error=None,
        )
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    return token if _rows_changed(result) == 1 else None


def _rows_changed(result: Result[Any]) -> int:
    """How many rows an UPDATE changed: its result is a CursorResult, Session.execute's type says Result."""
    return cast(CursorResult[Any], result).rowcount


def _report(job_id: int, token: str, **values: Any) -> None:
    result = db.session.execute(
        update(LabelJob)
        .where(LabelJob.id == job_id, LabelJob.claim_token == token)
        .values(heartbeat_at=utcnow(), **values)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    if _rows_changed(result) != 1:
        raise JobLost(job_id)


def run_label_job(job_id: int, *, progress: Callable[[int], None] | None = None) -> bool:
    """Claim the job and print its sheet; False when another runner has it or it failed.

    The worker's job ``labels.run``. ``progress`` (the command line's progress
    bar) gets the labels drawn so far.
    """
    purge_expired_files()
    token = _claim(job_id)
    if token is None:
        return False
    folder = label_folder()
    folder.mkdir(parents=True, exist_ok=True)
    for leftover in folder.glob(f"{job_id}-*.pdf.part"):  # from a runner that died
        leftover.unlink(missing_ok=True)
    final_name = f"{job_id}-{token}.pdf"
    partial = folder / f"{final_name}.part"
    last_report = time.monotonic()
    deadline: datetime  # the first start plus the time limit, read with the job below

    def on_page(done: int) -> None:
        nonlocal last_report
        if progress is not None:
            progress(done)
        if utcnow() >= deadline:
            raise JobTimedOut(time_limit_message())
        if time.monotonic() - last_report >= HEARTBEAT_SECONDS:
            last_report = time.monotonic()
            try:
                _report(job_id, token, progress=done)
            except OperationalError as error:  # SQLite busy past its timeout: the sheet goes on
                db.session.rollback()
                log.warning(
                    "label job %s: progress not recorded, will retry with the next page: %s", job_id, error
                )

    try:
        job = db.session.get_one(LabelJob, job_id)
        assert job.started_at is not None  # set by the claim
        deadline = job.started_at + time_limit()
        if utcnow() >= deadline:  # retried after its workers died until its time ran out
            raise JobTimedOut(time_limit_message())
        plan = LabelPlan(job.template, job.error_correction, job.count, job.first_item_id, job.last_item_id)
        with force_locale(job.locale):  # the words of whoever asked for it, not the worker's default
            text = label_text(job.batch)
        count = item_range_count(job.batch, plan)
        urls = label_urls(job.batch, plan)  # read in chunks while drawing, each in its own transaction
        db.session.commit()  # nothing is held while drawing (SQLite's write lock least of all)
        if count and count != plan.count:  # items a concurrent request slipped into the id range
            _report(job_id, token, count=count)
        with partial.open("wb") as output:
            drawn = render_sheet(plan, text, urls, output, count=count, progress=on_page, parallel=True)
        partial.replace(folder / final_name)
        _report(job_id, token, status="done", progress=drawn, file_name=final_name, finished_at=utcnow())
        return True
    except JobLost:
        partial.unlink(missing_ok=True)
        return False
    except Exception as error:
        db.session.rollback()
        partial.unlink(missing_ok=True)
        if isinstance(error, DomainError):
            message = str(error.message)
        else:
            log.exception("label job %s failed", job_id)
            message = _(
                "The label sheet could not be made. Restart the job; if it fails again, tell the centre."
            )
        with contextlib.suppress(JobLost):  # another runner took over: its outcome stands
            _report(job_id, token, status="failed", error=message, finished_at=utcnow())
        return False


def recover_label_jobs(at_worker_start: bool = False) -> int:
    """Queue again the jobs whose run was lost, fail those past their time limit; how many were queued.

    The worker's job ``labels.recover``, every minute and when a worker
    starts. A running job whose heartbeat stopped for longer than the lease
    lost its worker: it is queued again (the next runner claims it and starts
    the sheet over), or failed once its time limit has passed. A queued job
    that is not on the queue (emptied, or unreachable when the job was
    committed) is queued again. When a worker starts it also looks again as
    soon as the lease has run out, so a job its previous worker was running
    resumes then, not a minute later. Queuing a job twice is harmless: one
    runner claims it, the other finds nothing to claim.
    """
    queue = job_queue()
    on_queue = {args[0] for args in queue.waiting(RUN_JOB) if args}
    now = utcnow()
    stale = now - lease()
    rows = db.session.execute(
        select(LabelJob.id, LabelJob.status, LabelJob.heartbeat_at, LabelJob.started_at).where(
            LabelJob.status.in_(ACTIVE_STATUSES)
        )
    ).all()
    db.session.commit()
    queued = 0
    for job_id, status, heartbeat_at, started_at in rows:
        lost = status == "running" and (heartbeat_at is None or heartbeat_at < stale)
        if lost and started_at is not None and started_at + time_limit() <= now:
            _fail_lost_job(job_id, stale)
        elif (status == "queued" or lost) and job_id not in on_queue:
            log.info(
                "label job %s queued again (%s)", job_id, "its worker died" if lost else "not on the queue"
            )
            queue.enqueue(RUN_JOB, job_id)
            queued += 1
    if at_worker_start:
        queue.enqueue(RECOVER_JOBS, delay=lease().total_seconds() + 1)
    return queued


def _fail_lost_job(job_id: int, stale: datetime) -> None:
    """Fail a job whose worker died after its time limit ran out (unless a runner reported meanwhile)."""
    result = db.session.execute(
        update(LabelJob)
        .where(LabelJob.id == job_id, LabelJob.status == "running", LabelJob.heartbeat_at < stale)
        .values(status="failed", claim_token=None, error=time_limit_message(), finished_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    if _rows_changed(result) == 1:
        log.warning("label job %s failed: past its time limit after its worker died", job_id)


def file_expires_at(job: LabelJob) -> datetime | None:
    """When a done job's file is (or was) removed: LABEL_JOB_KEEP_HOURS after it was finished."""
    if job.status != "done" or job.finished_at is None:
        return None
    return job.finished_at + timedelta(hours=current_app.config["LABEL_JOB_KEEP_HOURS"])


def file_expired(job: LabelJob) -> bool:
    """A done job whose file is past its keeping time (removed, or about to be)."""
    expires_at = file_expires_at(job)
    return expires_at is not None and expires_at <= utcnow()


def job_file(job: LabelJob) -> Path | None:
    """The finished PDF of a done job, if it is still kept and on disk."""
    if job.status != "done" or not job.file_name or file_expired(job):
        return None
    path = label_folder() / job.file_name
    return path if path.is_file() else None


def purge_expired_files() -> int:
    """Remove the files of jobs finished more than LABEL_JOB_KEEP_HOURS ago; how many were removed.

    The job rows stay (their pages say the file was removed and to print
    again); their ``file_name`` is cleared in one short transaction.
    """
    cutoff = utcnow() - timedelta(hours=current_app.config["LABEL_JOB_KEEP_HOURS"])
    expired = db.session.execute(
        select(LabelJob.id, LabelJob.file_name).where(
            LabelJob.status == "done", LabelJob.file_name.is_not(None), LabelJob.finished_at <= cutoff
        )
    ).all()
    db.session.commit()
    if not expired:
        return 0
    folder = label_folder()
    for _job_id, file_name in expired:
        assert file_name is not None  # the query's condition
        (folder / file_name).unlink(missing_ok=True)
    db.session.execute(
        update(LabelJob)
        .where(LabelJob.id.in_([job_id for job_id, _name in expired]))
        .values(file_name=None)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    log.info("removed %d expired label sheets", len(expired))
    return len(expired)
