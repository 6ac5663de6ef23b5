"""Label sheets printed in the background, with progress, restartable after a crash.

The web request that asks for a big sheet (more than DIRECT_LABEL_LIMIT
labels) stores a ``LabelJob`` (queued), commits, and starts a daemon thread
that runs it in its own application context, hence its own database session.
No broker or worker service to deploy; what makes it safe:

- a runner first claims the job with one conditional UPDATE (queued, or
  running with a heartbeat older than STALE_AFTER) and a random token, so two
  runners never print the same job, on SQLite or PostgreSQL;
- it loads the batch and URLs, ends its transaction, then draws: progress and
  the heartbeat are written in short transactions of their own (SQLite's write
  lock is held for milliseconds, never for the whole sheet), each checking the
  token, so a runner presumed dead stops as soon as another took over;
- the PDF is written to ``{id}-{token}.pdf.part`` in the upload folder's
  ``labels/`` and renamed when complete: a half-written file is never offered.

A process that dies mid-job (a deploy, a worker recycled) leaves the job
"running" with a heartbeat that stops: the job page shows it as stalled with
a Restart button, and ``flask labels run-jobs`` runs every queued or stalled
job in the foreground (after a deploy, or from cron).
"""

from __future__ import annotations

import contextlib
import logging
import secrets
import threading
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

from flask import Flask, current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, or_, select, update

from traceability.accounts.models import User
from traceability.accounts.scope import writable_producer
from traceability.batches.label_sheets import LabelPlan, label_text, label_urls, render_sheet
from traceability.batches.models import Batch, LabelJob
from traceability.database import utcnow
from traceability.errors import Conflict, DomainError
from traceability.extensions import db

STALE_AFTER = timedelta(minutes=2)
HEARTBEAT_SECONDS = 1.0
LABEL_SUBFOLDER = "labels"

log = logging.getLogger(__name__)


class JobLost(Exception):
    """Another runner claimed the job: this one was presumed dead and must stop."""


def label_folder() -> Path:
    """Where finished sheets are kept: ``{UPLOAD_FOLDER}/labels``."""
    return Path(current_app.config["UPLOAD_FOLDER"]) / LABEL_SUBFOLDER


def queue_label_job(batch: Batch, plan: LabelPlan, *, actor: User | None) -> LabelJob:
    """Store a queued job for ``plan`` (flushes; the caller commits, then starts a runner)."""
    if actor is not None:
        writable_producer(batch.product.producer_id, actor)
    now = utcnow()
    job = LabelJob(
        batch_id=batch.id,
        requested_by_id=actor.id if actor is not None else None,
        template=plan.template,
        error_correction=plan.error_correction,
        count=plan.count,
        first_item_id=plan.first_item_id,
        last_item_id=plan.last_item_id,
        status="queued",
        progress=0,
        created_at=now,
        heartbeat_at=now,
    )
    db.session.add(job)
    db.session.flush()
    return job


def is_stalled(job: LabelJob) -> bool:
    """A queued or running job nobody has reported on for STALE_AFTER: its process died."""
    if job.status not in ("queued", "running"):
        return False
    return job.heartbeat_at is None or job.heartbeat_at < utcnow() - STALE_AFTER


def percent_done(job: LabelJob) -> int:
    """Progress as a whole percentage."""
    return 100 if job.status == "done" else min(99, job.progress * 100 // max(job.count, 1))


def restart_label_job(job: LabelJob, *, actor: User | None) -> None:
    """Queue a failed or stalled job again (flushes; the caller commits, then starts a runner)."""
    if actor is not None:
        writable_producer(job.batch.product.producer_id, actor)
    if not (job.status == "failed" or is_stalled(job)):
        raise Conflict(_l("This job is still running or already done; there is nothing to restart."))
    job.status, job.claim_token, job.progress, job.error = "queued", None, 0, None
    job.heartbeat_at, job.finished_at = utcnow(), None
    db.session.flush()


def start_runner(app: Flask, job_id: int) -> threading.Thread:
    """Run the job in a daemon thread with its own app context (call after committing the job)."""
    thread = threading.Thread(target=_run_in_app, args=(app, job_id), name=f"label-job-{job_id}", daemon=True)
    thread.start()
    return thread


def _run_in_app(app: Flask, job_id: int) -> None:
    with app.app_context():
        try:
            run_label_job(job_id)
        except Exception:  # the runner's own bookkeeping failed; the job shows as stalled
            log.exception("label job %s", job_id)
        finally:
            db.session.remove()


def runnable_job_ids() -> list[int]:
    """Jobs waiting for a runner: queued, or running with a stale heartbeat."""
    stale = utcnow() - STALE_AFTER
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
        and_(LabelJob.status == "running", LabelJob.heartbeat_at < now - STALE_AFTER),
    )
    result = db.session.execute(
        update(LabelJob)
        .where(LabelJob.id == job_id, claimable)
        .values(status="running", claim_token=token, started_at=now, heartbeat_at=now, progress=0, error=None)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    return token if result.rowcount == 1 else None


def _report(job_id: int, token: str, **values: Any) -> None:
    result = db.session.execute(
        update(LabelJob)
        .where(LabelJob.id == job_id, LabelJob.claim_token == token)
        .values(heartbeat_at=utcnow(), **values)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    if result.rowcount != 1:
        raise JobLost(job_id)


def run_label_job(job_id: int, *, progress: Callable[[int], None] | None = None) -> bool:
    """Claim the job and print its sheet; False when another runner has it or it failed.

    ``progress`` (the command line's progress bar) gets the labels drawn so far.
    """
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

    def on_page(done: int) -> None:
        nonlocal last_report
        if progress is not None:
            progress(done)
        if time.monotonic() - last_report >= HEARTBEAT_SECONDS:
            last_report = time.monotonic()
            _report(job_id, token, progress=done)

    try:
        job = db.session.get(LabelJob, job_id)
        plan = LabelPlan(job.template, job.error_correction, job.count, job.first_item_id, job.last_item_id)
        text, urls = label_text(job.batch), label_urls(job.batch, plan)
        db.session.commit()  # nothing is held while drawing (SQLite's write lock least of all)
        if urls and len(urls) != plan.count:  # items a concurrent request slipped into the id range
            _report(job_id, token, count=len(urls))
        with partial.open("wb") as output:
            drawn = render_sheet(plan, text, urls, output, progress=on_page)
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


def job_file(job: LabelJob) -> Path | None:
    """The finished PDF of a done job, if it is still on disk."""
    if job.status != "done" or not job.file_name:
        return None
    path = label_folder() / job.file_name
    return path if path.is_file() else None
