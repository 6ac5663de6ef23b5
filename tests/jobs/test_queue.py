"""The job queue (traceability.jobs): built from JOB_QUEUE_URL, jobs queued only once their
transaction commits, run through Huey as the worker runs them, periodic jobs in Vietnam time."""

from __future__ import annotations

import struct
import threading
import time as time_module
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from traceability import create_app
from traceability.batches.label_jobs import file_expires_at, job_file, queue_label_job, run_label_job
from traceability.batches.label_sheets import LabelPlan
from traceability.core.config import TestConfig
from traceability.core.dates import add_months, utcnow, vietnam_today
from traceability.core.extensions import db as _db
from traceability.jobs import JobQueue, enqueue_after_commit, job_queue, vietnam_crontab
from traceability.models.batches import Batch, Item, LabelJob


def separate_app(tmp_path, **settings):
    class Settings(TestConfig):
        DATABASE_URL = f"sqlite:///{tmp_path / 'app.sqlite3'}"
        JOB_QUEUE_URL = f"sqlite:///{tmp_path / 'jobs.sqlite3'}"

    for key, value in settings.items():
        setattr(Settings, key, value)
    return create_app(Settings)


# --- queued after commit -------------------------------------------------------------------------


def test_a_job_is_queued_when_its_transaction_commits_and_never_when_it_rolls_back(app, db, jobs):
    enqueue_after_commit("labels.run", 101)
    assert jobs.waiting("labels.run") == []  # not before the row is committed
    db.session.commit()
    assert jobs.waiting("labels.run") == [(101,)]
    db.session.commit()
    assert jobs.waiting("labels.run") == [(101,)]  # once

    enqueue_after_commit("labels.run", 102)
    db.session.rollback()
    db.session.commit()
    assert jobs.waiting("labels.run") == [(101,)]


def test_a_job_queued_in_a_savepoint_goes_with_the_savepoint(app, db, jobs):
    enqueue_after_commit("labels.run", 1)
    with pytest.raises(RuntimeError), db.session.begin_nested():
        enqueue_after_commit("labels.run", 2)
        raise RuntimeError("the savepoint rolls back")
    with db.session.begin_nested():
        enqueue_after_commit("labels.run", 3)  # released: it now depends on the outer transaction
    assert jobs.waiting("labels.run") == []
    db.session.commit()
    assert jobs.waiting("labels.run") == [(1,), (3,)]

    with db.session.begin_nested():
        enqueue_after_commit("labels.run", 4)
    db.session.rollback()  # the outer transaction: the released savepoint's job goes too
    db.session.commit()
    assert jobs.waiting("labels.run") == [(1,), (3,)]


def test_an_unknown_job_is_refused_at_once(app):
    with pytest.raises(KeyError, match=r"labels\.rnu"):
        enqueue_after_commit("labels.rnu", 1)


def test_a_request_that_fails_queues_nothing(web, tenants, db, jobs):
    """The second print of a lot is refused (its first job is under way): its items and its job
    are rolled back, and nothing is queued for it."""
    own = tenants["daklak"]
    web.login(own.producer_user.email)
    page_url = f"/manage/batches/{own.batch.id}"
    response = web.post_form(
        f"{page_url}/serials",
        {"serials-count": "600", "serials-template": "a4-5x13", "serials-ec": "M"},
        form_url=page_url,
    )
    job_id = int(response.headers["Location"].rsplit("/", 1)[1])
    assert jobs.waiting("labels.run") == [(job_id,)]
    again = web.post_form(
        f"{page_url}/serials",
        {"serials-count": "600", "serials-template": "a4-5x13", "serials-ec": "M"},
        form_url=page_url,
    )
    # The second request created 600 items, then found the lot's job under way: all rolled back.
    assert again.headers["Location"].endswith(f"/manage/label-jobs/{job_id}")
    assert db.session.scalars(select(LabelJob.id)).all() == [job_id]
    assert db.session.scalar(select(func.count(Item.id))) == 600
    assert jobs.waiting("labels.run") == [(job_id,)]


# --- run as the worker runs them ----------------------------------------------------------------


def test_a_queued_job_runs_in_an_app_context_of_its_own(app, db, tenants, jobs, monkeypatch):
    """labels.purge_files through the queue removes an expired sheet, as the worker's hourly run does."""
    own = tenants["daklak"]
    job = queue_label_job(own.batch, LabelPlan("roll-50x30", "M", 1), actor=None)
    db.session.commit()
    assert run_label_job(job.id)
    jobs.discard_all()
    path = job_file(db.session.get(LabelJob, job.id))
    monkeypatch.setitem(app.config, "LABEL_JOB_KEEP_HOURS", 1)
    job = db.session.get(LabelJob, job.id)
    job.finished_at = utcnow() - timedelta(hours=2)
    db.session.commit()
    assert path.exists() and file_expires_at(job) < utcnow()
    job_queue(app).enqueue("labels.purge_files")
    assert jobs.run_pending() == 1
    assert not path.exists()
    assert db.session.get(LabelJob, job.id).file_name is None


def test_the_retention_purge_is_off_unless_scheduled(tmp_path):
    assert not job_queue(separate_app(tmp_path)).scheduled("retention.purge")
    queue = job_queue(separate_app(tmp_path, RETENTION_PURGE_SCHEDULE="30 2 * * *"))
    assert queue.scheduled("retention.purge")
    matches = queue.schedules["retention.purge"]
    assert matches(datetime(2026, 12, 7, 19, 30))  # 02:30 in Vietnam, the next day
    assert not matches(datetime(2026, 12, 8, 2, 30))  # 02:30 UTC is 09:30 in Vietnam


def test_the_scheduled_retention_purge_removes_what_the_command_would(app, db, make, jobs):
    produced = add_months(vietnam_today(), -70)
    product = make.product(make.producer(make.centre()))
    old = make.batch(
        product,
        production_date=produced,
        expiry_date=None,
        created_at=datetime.combine(produced, time(3), tzinfo=UTC),
    )
    kept = make.batch(product, production_date=date(2026, 10, 1))
    db.session.commit()
    old_id, kept_id = old.id, kept.id
    job_queue(app).enqueue("retention.purge")
    assert jobs.run_pending() == 1
    assert db.session.scalars(select(Batch.id)).all() == [kept_id]
    assert db.session.get(Batch, old_id) is None


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"RETENTION_PURGE_SCHEDULE": "every night"}, "RETENTION_PURGE_SCHEDULE must be a cron expression"),
        ({"RETENTION_PURGE_SCHEDULE": "30 25 * * *"}, "RETENTION_PURGE_SCHEDULE: 25 is not a valid input"),
        ({"JOB_QUEUE_URL": "amqp://rabbit/"}, "JOB_QUEUE_URL must be sqlite:///PATH or redis://"),
    ],
)
def test_a_wrong_setting_stops_the_app_from_starting(tmp_path, settings, message):
    with pytest.raises(RuntimeError, match=message):
        separate_app(tmp_path, **settings)


def test_cron_reads_vietnam_time():
    hourly_at_five = vietnam_crontab("5 * * * *")
    assert hourly_at_five(datetime(2026, 12, 7, 3, 5)) and not hourly_at_five(datetime(2026, 12, 7, 3, 6))
    mondays = vietnam_crontab("0 8 * * 1")
    assert mondays(datetime(2026, 12, 7, 1, 0))  # Monday 08:00 in Vietnam is 01:00 UTC
    assert not mondays(datetime(2026, 12, 7, 8, 0))


def test_the_default_queue_is_a_file_in_the_instance_folder(tmp_path):
    app = separate_app(tmp_path, JOB_QUEUE_URL=None)
    queue = JobQueue(app)
    assert queue.url == f"sqlite:///{app.instance_path}/jobs.sqlite3"


def test_a_redis_queue_carries_jobs_between_apps(tmp_path, redis_url):
    """Two apps on one Redis stand for a web server and a worker on two machines."""
    web_app = separate_app(tmp_path, JOB_QUEUE_URL=redis_url)
    worker_app = separate_app(tmp_path, JOB_QUEUE_URL=redis_url)
    with web_app.app_context():
        _db.create_all()
        enqueue_after_commit("labels.purge_files")
        _db.session.rollback()
        enqueue_after_commit("labels.purge_files")
        _db.session.commit()
    worker = job_queue(worker_app)
    try:
        assert worker.waiting("labels.purge_files") == [()]
        assert worker.run_pending() == 1
        assert worker.waiting("labels.purge_files") == []
    finally:
        worker.discard_all()
        with web_app.app_context():
            _db.drop_all()


def test_the_worker_sweeps_expired_pages_from_the_cache_folder(app, jobs):
    """page_cache.sweep: the hourly job (no request starts a thread for it) removes only expired pages."""
    cache = app.extensions["page_cache"]
    cache.backend.set("page:expired", b"old", timeout=3600)
    cache.backend.set("page:today", b"fresh", timeout=3600)
    expired_file = Path(cache.backend._get_filename("page:expired"))
    with expired_file.open("r+b") as page:  # cachelib's header: when it expires; its day ended a minute ago
        page.write(struct.pack("I", int(time_module.time()) - 60))
    assert expired_file.exists() and job_queue(app).scheduled("page_cache.sweep")

    job_queue(app).enqueue("page_cache.sweep")
    assert jobs.run_pending() == 1

    assert cache.backend.get("page:today") == b"fresh"
    assert not expired_file.exists()
    assert not any(thread.name == "page-cache-sweep" for thread in threading.enumerate())
