"""Big label sheets as background jobs (web, API, runner) and the ``flask labels`` commands."""

from __future__ import annotations

import multiprocessing
import re
import time
from datetime import timedelta

import pytest
from sqlalchemy import event, select, update

from tests.labels.pdf_reading import page_count, pdf_text, rasterise, read_codes
from traceability.batches import label_jobs
from traceability.batches.label_jobs import (
    job_file,
    label_folder,
    queue_label_job,
    recover_label_jobs,
    restart_label_job,
    run_label_job,
    time_limit_message,
)
from traceability.batches.label_sheets import DIRECT_LABEL_LIMIT, LabelPlan
from traceability.batches.serials import create_serials
from traceability.batches.service import item_public_url, public_url
from traceability.core.dates import utcnow
from traceability.core.errors import Conflict
from traceability.jobs import job_queue
from traceability.labels.encoders import shutdown_encoder_pools
from traceability.models.batches import Item, LabelJob

BASE = "https://trace.example.vn"
LONG_BASE = "https://truy-xuat-nguon-goc.so-khoa-hoc-cong-nghe.daklak.gov.vn"


def run_queued(jobs, db, job_id: int) -> LabelJob:
    """Run what the request queued (only this job), through the worker's own code, and read the job."""
    assert jobs.waiting("labels.run") == [(job_id,)]
    assert jobs.run_pending() == 1
    return db.session.get(LabelJob, job_id)


def _item_urls(batch_id: int, db) -> list[str]:
    items = db.session.scalars(select(Item).where(Item.batch_id == batch_id).order_by(Item.id)).all()
    return [item_public_url(BASE, item) for item in items]


def test_a_big_sheet_on_the_web_runs_as_a_job_and_is_kept_for_download(web, tenants, db, jobs):
    own = tenants["daklak"]
    count = DIRECT_LABEL_LIMIT + 100
    create_serials(own.batch, count, actor=own.producer_user)
    web.login(own.producer_user.email)
    page_url = f"/manage/batches/{own.batch.id}"
    response = web.post_form(
        f"{page_url}/labels", {"labels-template": "a4-5x13", "labels-ec": "M"}, form_url=page_url
    )
    assert response.status_code == 302
    match = re.search(r"/manage/label-jobs/(\d+)$", response.headers["Location"])
    assert match, response.headers["Location"]
    waiting = web.client.get(match.group(0), headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Waiting to start" in waiting and '<meta http-equiv="refresh" content="3">' in waiting
    job = run_queued(jobs, db, int(match.group(1)))  # the worker's part
    assert (job.status, job.progress, job.count, job.error) == ("done", count, count, None)
    page = web.client.get(f"/manage/label-jobs/{job.id}", headers={"Accept-Language": "en"})
    text = page.get_data(as_text=True)
    assert "Ready to download" in text and 'http-equiv="refresh"' not in text
    # The sheet and the code's strength by name, not "a4-5x13" and "M".
    assert "A4 sheet, 5 × 13 labels of 38.1 × 21.2 mm (Avery L7651)" in text and "a4-5x13" not in text
    assert "Normal: still reads with small scratches or stains (recommended)" in text
    download = web.client.get(f"/manage/label-jobs/{job.id}/labels.pdf")
    pdf = download.data
    download.close()  # the file is streamed from the upload folder
    assert download.status_code == 200 and download.mimetype == "application/pdf"
    assert page_count(pdf) == -(-count // 65)
    urls = _item_urls(own.batch.id, db)
    assert [code.text for code in read_codes(rasterise(pdf, 0))] == urls[:65]
    first_serial = db.session.scalars(
        select(Item.serial).where(Item.batch_id == own.batch.id).order_by(Item.id)
    ).first()
    assert f"Số sê-ri: {first_serial}" in " ".join(pdf_text(pdf).split())
    assert [code.text for code in read_codes(rasterise(pdf, page_count(pdf) - 1))] == urls[
        (count // 65) * 65 :
    ]
    batch_page = web.client.get(page_url, headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert f"/manage/label-jobs/{job.id}" in batch_page  # the batch page lists its jobs
    assert job_file(job).parent == label_folder()


def test_create_items_and_print_them_in_one_go(web, tenants, db, jobs):
    own = tenants["daklak"]
    create_serials(own.batch, 5, actor=own.producer_user)  # older items are not printed again
    web.login(own.producer_user.email)
    page_url = f"/manage/batches/{own.batch.id}"
    response = web.post_form(
        f"{page_url}/serials",
        {"serials-count": "70", "serials-template": "a4-5x13", "serials-ec": "H"},
        form_url=page_url,
    )
    job = run_queued(jobs, db, int(response.headers["Location"].rsplit("/", 1)[1]))
    assert (job.status, job.count, job.error_correction) == ("done", 70, "H")
    pdf = job_file(job).read_bytes()
    codes = read_codes(rasterise(pdf, 0)) + read_codes(rasterise(pdf, 1))
    assert [code.text for code in codes] == _item_urls(own.batch.id, db)[5:]
    assert {code.ec_level for code in codes} == {"H"}


def test_the_job_page_shows_progress_and_refreshes_itself(web, tenants, db):
    own = tenants["daklak"]
    job = queue_label_job(own.batch, LabelPlan("a4-5x13", "M", 600), actor=own.producer_user)
    job.status, job.progress, job.heartbeat_at = "running", 150, utcnow()
    db.session.commit()
    web.login(own.producer_user.email)
    text = web.client.get(f"/manage/label-jobs/{job.id}", headers={"Accept-Language": "en"}).get_data(
        as_text=True
    )
    assert '<meta http-equiv="refresh" content="3">' in text
    assert 'value="25"' in text and "25 %" in text and "150 of 600 labels" in text
    assert "<script" not in text


def test_a_job_left_by_a_dead_worker_is_shown_interrupted_and_restarts(web, tenants, db, jobs):
    own = tenants["daklak"]
    job = queue_label_job(own.batch, LabelPlan("a4-4x10", "M", 45), actor=own.producer_user)
    job.status, job.progress, job.claim_token = "running", 20, "dead-runner"
    job.heartbeat_at = utcnow() - timedelta(minutes=10)
    db.session.commit()
    jobs.discard_all()  # the dead worker had taken the job's message off the queue
    web.login(own.producer_user.email)
    job_url = f"/manage/label-jobs/{job.id}"
    text = web.client.get(job_url, headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Interrupted: the worker making it stopped" in text and "Restart the job" in text
    assert 'http-equiv="refresh"' in text  # it resumes by itself: the page keeps watching
    response = web.post_form(f"{job_url}/restart", {}, form_url=job_url)
    assert response.status_code == 302
    job = run_queued(jobs, db, job.id)
    assert job.status == "done" and job.claim_token != "dead-runner"
    pdf = job_file(job).read_bytes()
    assert [code.text for code in read_codes(rasterise(pdf, 1))] == [public_url(BASE, own.batch)] * 5


def test_only_one_runner_gets_a_job(app, tenants, db):
    own = tenants["daklak"]
    job = queue_label_job(own.batch, LabelPlan("roll-50x30", "M", 2), actor=own.producer_user)
    job.status, job.claim_token, job.heartbeat_at = "running", "alive", utcnow()
    db.session.commit()
    assert run_label_job(job.id) is False  # a live runner holds it
    db.session.refresh(job)
    assert (job.status, job.claim_token) == ("running", "alive")
    db.session.execute(update(LabelJob).values(status="queued", claim_token=None))
    db.session.commit()
    assert run_label_job(job.id) is True
    assert run_label_job(job.id) is False  # done: nothing left to claim
    db.session.refresh(job)
    assert job.status == "done" and page_count(job_file(job).read_bytes()) == 2


def test_a_runner_presumed_dead_stops_when_another_takes_over(app, tenants, db, monkeypatch):
    own = tenants["daklak"]
    monkeypatch.setattr(label_jobs, "HEARTBEAT_SECONDS", 0)  # report after every page
    job = queue_label_job(own.batch, LabelPlan("roll-50x30", "M", 5), actor=own.producer_user)
    db.session.commit()
    job_id = job.id

    def take_over(done: int) -> None:
        if done == 2:  # another runner claims the job meanwhile
            db.session.execute(update(LabelJob).where(LabelJob.id == job_id).values(claim_token="other"))
            db.session.commit()

    assert run_label_job(job_id, progress=take_over) is False
    db.session.expire_all()
    job = db.session.get(LabelJob, job_id)
    assert (job.status, job.claim_token, job.file_name) == ("running", "other", None)
    assert list(label_folder().glob(f"{job_id}-*.part")) == []  # its half-written file is gone


def test_a_failed_job_says_why_and_can_be_restarted(app, tenants, make, db, monkeypatch):
    own = tenants["daklak"]
    product = make.product(own.producer, gtin="08930000000026")
    batch = make.batch(product, lot_code="LOT-2026-ABCDEFGHIJ")
    items = create_serials(batch, 3, actor=own.producer_user)
    job = queue_label_job(
        batch, LabelPlan("a4-5x13", "H", 3, items[0].id, items[-1].id), actor=own.producer_user
    )
    db.session.commit()
    monkeypatch.setitem(app.config, "PUBLIC_BASE_URL", LONG_BASE)  # the address grew since the job was queued
    assert run_label_job(job.id) is False
    db.session.refresh(job)
    assert job.status == "failed" and "a4-5x13" in job.error and job.file_name is None
    restart_label_job(job, actor=own.producer_user)
    db.session.commit()
    assert (job.status, job.error) == ("queued", None)
    monkeypatch.setitem(app.config, "PUBLIC_BASE_URL", BASE)
    assert run_label_job(job.id) is True
    db.session.refresh(job)
    assert job.status == "done" and job.error is None
    with pytest.raises(Conflict):  # done: nothing to restart
        restart_label_job(job, actor=own.producer_user)


def test_jobs_are_scoped_to_the_tenant(web, api, tenants, db):
    own, other = tenants["daklak"], tenants["nghean"]
    job = queue_label_job(own.batch, LabelPlan("roll-50x30", "M", 1), actor=own.producer_user)
    db.session.commit()
    assert run_label_job(job.id) is True
    web.login(other.producer_user.email)
    assert web.client.get(f"/manage/label-jobs/{job.id}").status_code == 404
    assert web.client.get(f"/manage/label-jobs/{job.id}/labels.pdf").status_code == 404
    assert api.get(f"/label-jobs/{job.id}", other.producer_user).status_code == 404
    assert api.get(f"/label-jobs/{job.id}/labels.pdf", other.staff).status_code == 404
    download = api.get(f"/label-jobs/{job.id}/labels.pdf", own.staff)
    download.close()
    assert download.status_code == 200


def test_api_label_job_from_request_to_download(api, tenants, db, jobs):
    own = tenants["daklak"]
    create_serials(own.batch, 80, actor=own.producer_user)
    response = api.post(
        f"/batches/{own.batch.id}/label-jobs", own.producer_user, json={"template": "a4-4x10", "ec": "M"}
    )
    assert response.status_code == 202, response.get_json()
    job_id = response.get_json()["id"]
    assert api.get(f"/label-jobs/{job_id}", own.producer_user).get_json()["status"] == "queued"
    run_queued(jobs, db, job_id)
    state = api.get(f"/label-jobs/{job_id}", own.producer_user).get_json()
    assert (state["status"], state["percent"], state["count"], state["stalled"]) == ("done", 100, 80, False)
    assert state["download_url"].endswith(f"/api/v1/label-jobs/{job_id}/labels.pdf")
    download = api.get(f"/label-jobs/{job_id}/labels.pdf", own.producer_user)
    pdf = download.data
    download.close()
    assert [code.text for code in read_codes(rasterise(pdf, 1))] == _item_urls(own.batch.id, db)[40:]
    refused = api.post(f"/batches/{own.batch.id}/label-jobs", own.auditor, json={"template": "a4-4x10"})
    assert refused.status_code == 403


def test_the_job_worker_encodes_a_big_sheet_in_its_pool_and_every_code_scans(api, tenants, db, jobs):
    """The worker (not the request) holds the encoder processes; the sheet they encode reads back in order."""
    own = tenants["daklak"]
    create_serials(own.batch, 130, actor=own.producer_user)
    shutdown_encoder_pools()
    before = {child.pid for child in multiprocessing.active_children()}
    response = api.post(
        f"/batches/{own.batch.id}/label-jobs", own.producer_user, json={"template": "a4-5x13"}
    )
    assert response.status_code == 202
    assert {child.pid for child in multiprocessing.active_children()} == before  # queuing started nothing
    job = run_queued(jobs, db, response.get_json()["id"])
    assert job.status == "done"
    # The worker's encoder pool, kept for its next sheet.
    assert {child.pid for child in multiprocessing.active_children()} - before
    download = api.get(f"/label-jobs/{job.id}/labels.pdf", own.producer_user)
    pdf = download.data
    download.close()
    urls = _item_urls(own.batch.id, db)
    assert [code.text for code in read_codes(rasterise(pdf, 0)) + read_codes(rasterise(pdf, 1))] == urls
    shutdown_encoder_pools()


def test_cli_creates_serials_and_prints_them_with_a_progress_bar(runner, tenants, db, tmp_path):
    own = tenants["daklak"]
    output = tmp_path / "nhan.pdf"
    result = runner.invoke(
        args=[
            "labels",
            "print",
            str(own.batch.id),
            "--template",
            "a4-4x10",
            "--serials",
            "45",
            "--output",
            str(output),
        ]
    )
    assert result.exit_code == 0, result.output
    # click's progress bar (drawn in place on a terminal; here, not a terminal, only its label).
    assert "Created 45 serialised items" in result.output and "Printing 45 labels" in result.output
    pdf = output.read_bytes()
    codes = read_codes(rasterise(pdf, 0)) + read_codes(rasterise(pdf, 1))
    assert [code.text for code in codes] == _item_urls(own.batch.id, db)
    assert not output.with_name("nhan.pdf.part").exists()


def test_cli_refusals(runner, tenants, db, tmp_path):
    own = tenants["daklak"]
    output = tmp_path / "x.pdf"
    result = runner.invoke(
        args=["labels", "print", "999999", "--template", "a4-3x8", "--output", str(output)]
    )
    assert result.exit_code != 0 and "999999" in result.output
    own.batch.status = "recalled"
    db.session.commit()
    result = runner.invoke(
        args=[
            "labels",
            "print",
            str(own.batch.id),
            "--template",
            "a4-3x8",
            "--serials",
            "3",
            "--output",
            str(output),
        ]
    )
    assert result.exit_code != 0
    assert not output.exists()
    assert db.session.scalar(select(Item.id)) is None


def test_cli_runs_the_waiting_jobs(runner, tenants, db):
    own = tenants["daklak"]
    assert "No label jobs waiting" in runner.invoke(args=["labels", "run-jobs"]).output
    queued = queue_label_job(own.batch, LabelPlan("a4-3x8", "M", 30), actor=None)
    # One job per lot at a time: the stalled one is another lot's.
    stalled = queue_label_job(tenants["nghean"].batch, LabelPlan("roll-50x30", "M", 2), actor=None)
    stalled.status, stalled.heartbeat_at = "running", utcnow() - timedelta(hours=1)
    db.session.commit()
    result = runner.invoke(args=["labels", "run-jobs"])
    assert result.exit_code == 0, result.output
    assert (
        f"Label job {queued.id}: done" in result.output and f"Label job {stalled.id}: done" in result.output
    )
    for job_id in (queued.id, stalled.id):
        assert job_file(db.session.get(LabelJob, job_id)) is not None


# --- the worker's recovery and the time limit -----------------------------------------------------


def test_recovery_queues_again_what_was_lost_and_fails_what_ran_out_of_time(
    app, web, make, tenants, db, jobs, monkeypatch
):
    """labels.recover, as the worker runs it every minute: a job whose message was lost and one whose
    worker died are queued again, once; one past its time limit fails; a live one is left alone."""
    monkeypatch.setitem(app.config, "LABEL_JOB_TIME_LIMIT", 600.0)
    own, other = tenants["daklak"], tenants["nghean"]
    plan = LabelPlan("roll-50x30", "M", 2)
    lost = queue_label_job(own.batch, plan, actor=own.producer_user)
    crashed = queue_label_job(other.batch, plan, actor=None)
    late = queue_label_job(make.batch(own.product), plan, actor=None)
    alive = queue_label_job(make.batch(other.product), plan, actor=None)
    db.session.commit()
    jobs.discard_all()  # the messages were taken by workers that died, or lost with the queue
    now = utcnow()
    lost.heartbeat_at = now - timedelta(minutes=5)  # queued five minutes ago
    crashed.status, crashed.claim_token, crashed.progress = "running", "dead", 1
    crashed.started_at, crashed.heartbeat_at = now - timedelta(minutes=4), now - timedelta(minutes=3)
    late.status, late.claim_token = "running", "dead"
    late.started_at, late.heartbeat_at = now - timedelta(minutes=11), now - timedelta(minutes=3)
    alive.status, alive.claim_token, alive.started_at, alive.heartbeat_at = "running", "alive", now, now
    db.session.commit()
    ids = {
        name: job.id for name, job in (("lost", lost), ("crashed", crashed), ("late", late), ("alive", alive))
    }

    web.login(own.producer_user.email)
    page = web.client.get(f"/manage/label-jobs/{ids['lost']}", headers={"Accept-Language": "en"})
    assert "Still waiting: the job worker is busy or stopped" in page.get_data(as_text=True)

    queue = job_queue(app)
    queue.enqueue("labels.recover")
    queue.enqueue("labels.recover")  # twice: the second finds both already queued
    assert jobs.run_pending() == 4  # two recoveries, then the two sheets they queued
    states = {name: db.session.get(LabelJob, job_id) for name, job_id in ids.items()}
    assert [states[name].status for name in ("lost", "crashed", "late", "alive")] == [
        "done",
        "done",
        "failed",
        "running",
    ]
    assert states["crashed"].claim_token != "dead" and job_file(states["crashed"]) is not None
    assert states["late"].error == time_limit_message() and states["late"].file_name is None
    assert states["alive"].claim_token == "alive"

    assert recover_label_jobs(at_worker_start=True) == 0
    assert jobs.waiting("labels.recover") == [()]  # a worker's start looks again once the lease runs out


def test_a_job_past_its_time_limit_stops_and_says_so(app, tenants, db, jobs, monkeypatch):
    own = tenants["daklak"]
    monkeypatch.setitem(app.config, "LABEL_JOB_TIME_LIMIT", 1.0)
    job = queue_label_job(own.batch, LabelPlan("a4-5x13", "M", 200), actor=own.producer_user)
    db.session.commit()
    job_id = job.id

    def slow_page(done: int) -> None:
        time.sleep(1.1)  # the first page takes longer than the whole job may

    assert run_label_job(job_id, progress=slow_page) is False
    job = db.session.get(LabelJob, job_id)
    assert (job.status, job.file_name, job.error) == ("failed", None, time_limit_message())
    assert "1 second" in time_limit_message() or "1 giây" in time_limit_message()
    assert list(label_folder().glob(f"{job_id}-*.part")) == []  # its half-drawn sheet is gone

    monkeypatch.setitem(app.config, "LABEL_JOB_TIME_LIMIT", 1800.0)
    restart_label_job(job, actor=own.producer_user)  # a restart gets the whole limit again
    db.session.commit()
    assert jobs.waiting("labels.run")[-1] == (job_id,)
    jobs.run_pending()
    assert db.session.get(LabelJob, job_id).status == "done"


def test_a_job_retried_past_its_time_limit_fails_before_drawing(app, tenants, db):
    own = tenants["daklak"]
    job = queue_label_job(own.batch, LabelPlan("roll-50x30", "M", 2), actor=own.producer_user)
    job.status, job.claim_token = "running", "dead"
    job.started_at = utcnow() - timedelta(seconds=app.config["LABEL_JOB_TIME_LIMIT"] + 60)
    job.heartbeat_at = utcnow() - timedelta(seconds=app.config["LABEL_JOB_LEASE_SECONDS"] + 1)
    db.session.commit()
    assert run_label_job(job.id) is False
    db.session.refresh(job)
    assert (job.status, job.error, job.file_name) == ("failed", time_limit_message(), None)


def _job_words(db, jobs, job_id: int) -> str:
    """The words of a job's sheet once the worker drew it (the PDF's text)."""
    job = run_queued(jobs, db, job_id)
    assert job.status == "done", job.error
    return " ".join(pdf_text(job_file(job).read_bytes()).split())


def _first_serial(db, batch_id: int) -> str:
    return db.session.scalars(select(Item.serial).where(Item.batch_id == batch_id).order_by(Item.id)).first()


def test_a_sheet_the_worker_draws_speaks_the_language_of_whoever_asked_for_it(web, api, tenants, db, jobs):
    own = tenants["daklak"]
    user = own.producer_user
    page_url = f"/manage/batches/{own.batch.id}"
    web.login(user.email)
    # The interface switched to English (the switch in the page header), then items printed as a job.
    switched = web.post_form("/lang/en", {"next": page_url}, form_url=page_url)
    assert switched.status_code == 302 and switched.headers["Location"] == page_url
    response = web.post_form(
        f"{page_url}/serials",
        {"serials-count": "12", "serials-template": "a4-4x10", "serials-ec": "M"},
        form_url=page_url,
    )
    job_id = int(response.headers["Location"].rsplit("/", 1)[1])
    assert db.session.get(LabelJob, job_id).locale == "en"
    words = _job_words(db, jobs, job_id)
    assert f"Serial number: {_first_serial(db, own.batch.id)}" in words and "Số sê-ri" not in words
    # The lot's page names the job's sheet as the label form does, not by its code.
    page = web.client.get(page_url).get_data(as_text=True)
    listed = re.search(r'<ul class="label-jobs">(.*?)</ul>', page, re.S).group(1)
    assert "A4 sheet, 4 × 10 labels of 45.7 × 25.4 mm (Avery L7654)" in listed and "a4-4x10" not in listed

    # Through the API the caller's Accept-Language decides; without one, their saved language (the switch).
    db.session.expire_all()
    assert db.session.get(type(user), user.id).locale == "en"
    for headers, caption in (({"Accept-Language": "vi"}, "Số sê-ri"), ({}, "Serial number")):
        answer = api.post(
            f"/batches/{own.batch.id}/label-jobs", user, json={"template": "a4-4x10"}, headers=headers
        )
        assert answer.status_code == 202, answer.get_json()
        words = _job_words(db, jobs, answer.get_json()["id"])
        assert f"{caption}: {_first_serial(db, own.batch.id)}" in words


def test_switching_back_to_vietnamese_while_signed_in_is_saved_too(web, tenants, db, jobs):
    own = tenants["daklak"]
    web.login(own.producer_user.email)
    for code in ("en", "vi"):
        assert web.post_form(f"/lang/{code}", {"next": "/manage"}, form_url="/manage").status_code == 302
        db.session.expire_all()
        assert db.session.get(type(own.producer_user), own.producer_user.id).locale == code
    job = queue_label_job(own.batch, LabelPlan("a4-4x10", "M", 40), actor=own.producer_user)  # no request
    assert job.locale == "vi"


def test_a_progress_report_kept_waiting_by_another_writer_does_not_fail_the_sheet(
    app, tenants, db, monkeypatch
):
    """A busy database (SQLite's busy timeout, PostgreSQL's lock timeout) costs a progress line, not the job."""
    own = tenants["daklak"]
    monkeypatch.setattr(label_jobs, "HEARTBEAT_SECONDS", 0)  # report after every page
    job = queue_label_job(own.batch, LabelPlan("roll-50x30", "M", 5), actor=own.producer_user)
    db.session.commit()
    job_id = job.id
    sqlite = db.engine.dialect.name == "sqlite"
    other = db.engine.connect()  # another writer, in its own connection
    other_dbapi = other.connection.dbapi_connection

    def short_waits(connection) -> None:
        if connection.connection.dbapi_connection is other_dbapi:
            return
        if sqlite:
            connection.exec_driver_sql("PRAGMA busy_timeout=100")
        else:
            connection.exec_driver_sql("SET LOCAL lock_timeout = '100ms'")

    def hold_the_job_row(done: int) -> None:
        if done == 2:  # the other writer takes the lock the progress line needs, until page 4
            other.begin()
            other.execute(select(LabelJob.id).where(LabelJob.id == job_id).with_for_update())
            if sqlite:  # SQLite locks the whole file for a write transaction, which a write makes sure of
                other.execute(update(LabelJob).where(LabelJob.id == -1).values(progress=0))
        elif done == 4:
            other.rollback()

    event.listen(db.engine, "begin", short_waits)
    try:
        assert run_label_job(job_id, progress=hold_the_job_row) is True
    finally:
        event.remove(db.engine, "begin", short_waits)
        other.close()
        db.engine.dispose()  # no connection keeps the short wait
    db.session.expire_all()
    job = db.session.get(LabelJob, job_id)
    assert (job.status, job.progress, job.error) == ("done", 5, None)
    assert page_count(job_file(job).read_bytes()) == 5
