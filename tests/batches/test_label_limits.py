"""Label memory and limits (issue 14.2): sheets stream page by page, lots and jobs are capped,
one print job per lot runs at a time, and finished files expire and are removed.
"""

from __future__ import annotations

import io
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import event, func, select

from tests.labels.pdf_reading import page_count, rasterise, read_codes
from traceability.batches import label_sheets
from traceability.batches.label_jobs import job_file, label_folder, queue_label_job, run_label_job
from traceability.batches.label_sheets import LabelPlan
from traceability.batches.routes import labels as label_views
from traceability.batches.serials import create_serials
from traceability.batches.service import item_public_url
from traceability.core.dates import utcnow
from traceability.core.errors import InvalidInput
from traceability.core.extensions import db as _db
from traceability.labels.sheets import LabelText, render_labels
from traceability.models.batches import Item, LabelJob

ROOT = Path(__file__).resolve().parents[2]
TEXT = LabelText(
    product_name="Cà phê Robusta rang xay", lot_code="LO-2026-001", production_date=date(2026, 10, 1)
)
EN = {"Accept-Language": "en"}
SERIAL_URL = "https://truyxuat.daklak.gov.vn/01/08930000000019/10/LO-2026-001/21/"


def _items(batch_id: int) -> int:
    count = _db.session.scalar(select(func.count(Item.id)).where(Item.batch_id == batch_id))
    _db.session.commit()
    return count


def _jobs(batch_id: int) -> list[LabelJob]:
    jobs = _db.session.scalars(select(LabelJob).where(LabelJob.batch_id == batch_id)).all()
    _db.session.commit()
    return list(jobs)


# --- memory: a sheet streams to its file -------------------------------------------------------


def test_pages_reach_the_file_while_the_sheet_is_drawn():
    """reportlab's Canvas kept every page until save(): nothing reached the file before the end."""
    output = io.BytesIO()
    sizes: list[int] = []
    urls = (SERIAL_URL + f"{number:013d}" for number in range(65 * 4))  # an iterator, read once
    render_labels(
        output, "a4-5x13", TEXT, urls, count=65 * 4, workers=1, progress=lambda _: sizes.append(output.tell())
    )
    assert len(sizes) == 4
    assert 0 < sizes[0] < sizes[1] < sizes[2] < sizes[3] < len(output.getvalue())
    assert page_count(output.getvalue()) == 4
    codes = [code.text for code in read_codes(rasterise(output.getvalue(), 3))]
    assert codes == [SERIAL_URL + f"{number:013d}" for number in range(65 * 3, 65 * 4)]


PEAK_RSS = """
import resource, sys
sys.path.insert(0, {root!r})
from datetime import date
from traceability.labels.sheets import LabelText, render_labels
count = int(sys.argv[1])
text = LabelText(product_name="Cà phê", lot_code="LO-1", production_date=date(2026, 10, 1))
urls = [{url!r} + f"{{number:013d}}" for number in range(count)]  # 0.6 MB for 5,000
with open(sys.argv[2], "wb") as output:
    render_labels(output, "a4-5x13", text, urls, workers=1)
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


def _peak_rss_kib(count: int, folder: Path, root: Path = ROOT) -> int:
    script = PEAK_RSS.format(root=str(root), url=SERIAL_URL)
    result = subprocess.run(
        [sys.executable, "-c", script, str(count), str(folder / f"{count}.pdf")],
        capture_output=True,
        text=True,
        check=True,
        timeout=600,
    )
    return int(result.stdout.split()[-1])


def test_peak_memory_is_flat_in_the_number_of_labels(tmp_path):
    """Ten times the labels, about the same peak (before the fix: +8 MB per 1,000 labels)."""
    small, big = _peak_rss_kib(500, tmp_path), _peak_rss_kib(5000, tmp_path)
    assert page_count((tmp_path / "5000.pdf").read_bytes()) == 77
    assert big - small < 15 * 1024, f"500 labels: {small // 1024} MiB, 5,000 labels: {big // 1024} MiB"


def test_a_job_reads_its_items_in_chunks(tenants, db, monkeypatch):
    own = tenants["daklak"]
    items = create_serials(own.batch, 250, actor=own.producer_user)
    urls = [item_public_url("https://trace.example.vn", item) for item in items]
    job = queue_label_job(own.batch, LabelPlan("a4-5x13", "M", 250, items[0].id, items[-1].id), actor=None)
    db.session.commit()
    monkeypatch.setattr(label_sheets, "URL_CHUNK", 100)
    item_reads: list[str] = []

    def watch(_conn, _cursor, statement, _parameters, _context, _many):
        if "FROM item" in statement and "count(" not in statement.lower():
            item_reads.append(statement)

    engine = db.engine
    event.listen(engine, "before_cursor_execute", watch)
    try:
        assert run_label_job(job.id)
    finally:
        event.remove(engine, "before_cursor_execute", watch)
    assert len(item_reads) == 3 and all("LIMIT" in statement for statement in item_reads)
    job = db.session.get(LabelJob, job.id)
    pdf = job_file(job).read_bytes()
    assert page_count(pdf) == 4
    assert [code.text for code in read_codes(rasterise(pdf, 3))] == urls[195:]


# --- limits ------------------------------------------------------------------------------------


def test_a_lot_holds_at_most_max_items(app, api, web, runner, tenants, db, monkeypatch, tmp_path):
    monkeypatch.setitem(app.config, "MAX_ITEMS_PER_LOT", 30)
    own = tenants["daklak"]
    create_serials(own.batch, 25, actor=own.producer_user)
    db.session.commit()
    with pytest.raises(InvalidInput) as refused:
        create_serials(own.batch, 6, actor=own.producer_user)
    db.session.rollback()
    assert "chỉ có thể tạo thêm tối đa 5" in str(refused.value.message)  # Vietnamese by default

    response = api.post(f"/batches/{own.batch.id}/serials", own.producer_user, json={"count": 6}, headers=EN)
    assert response.status_code == 422
    assert "30" in response.get_json()["error"]["fields"]["count"]

    web.login(own.producer_user.email)
    page_url = f"/manage/batches/{own.batch.id}"
    web.post_form(
        f"{page_url}/serials", {"serials-count": "6", "serials-template": ""}, form_url=page_url, headers=EN
    )
    page = web.client.get(page_url, headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "at most 5 more can be made" in page

    result = runner.invoke(
        args=[
            "labels",
            "print",
            str(own.batch.id),
            "--template",
            "a4-5x13",
            "--serials",
            "6",
            "--output",
            str(tmp_path / "x.pdf"),
        ]
    )
    assert result.exit_code != 0 and "thêm tối đa 5" in result.output
    assert _items(own.batch.id) == 25  # nothing stored by any of them
    assert len(create_serials(own.batch, 5, actor=own.producer_user)) == 5  # up to the limit


def test_a_job_holds_at_most_max_labels(app, api, web, runner, tenants, db, monkeypatch, tmp_path, jobs):
    own = tenants["daklak"]
    create_serials(own.batch, 40, actor=own.producer_user)
    db.session.commit()
    monkeypatch.setitem(app.config, "MAX_LABELS_PER_JOB", 30)

    response = api.post(
        f"/batches/{own.batch.id}/label-jobs", own.producer_user, json={"template": "a4-5x13"}, headers=EN
    )
    assert response.status_code == 422
    assert "a print job holds at most 30" in response.get_json()["error"]["message"]

    web.login(own.producer_user.email)
    page_url = f"/manage/batches/{own.batch.id}"
    web.post_form(
        f"{page_url}/labels", {"labels-template": "a4-5x13", "labels-ec": "M"}, form_url=page_url, headers=EN
    )
    page = web.client.get(page_url, headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "a print job holds at most 30" in page

    output = tmp_path / "labels.pdf"
    result = runner.invoke(
        args=["labels", "print", str(own.batch.id), "--template", "a4-5x13", "--output", str(output)]
    )
    assert result.exit_code != 0 and "tối đa 30 nhãn" in result.output and not output.exists()
    assert _jobs(own.batch.id) == []
    assert jobs.waiting("labels.run") == []  # refused requests queue nothing


# --- one job per lot ---------------------------------------------------------------------------


def test_one_print_job_per_lot_at_a_time(api, web, tenants, db, monkeypatch, jobs):
    monkeypatch.setattr(label_views, "DIRECT_LABEL_LIMIT", 10)  # the page's 30 labels become a job
    own = tenants["daklak"]
    create_serials(own.batch, 30, actor=own.producer_user)
    db.session.commit()
    path = f"/batches/{own.batch.id}/label-jobs"
    first = api.post(path, own.producer_user, json={"template": "a4-5x13"})
    assert first.status_code == 202
    first_id = first.get_json()["id"]

    again = api.post(path, own.producer_user, json={"template": "a4-3x8"}, headers=EN)
    assert again.status_code == 409
    error = again.get_json()["error"]
    assert f"job {first_id}" in error["message"]
    assert error["fields"]["job"].endswith(f"/api/v1/label-jobs/{first_id}")

    web.login(own.producer_user.email)
    page_url = f"/manage/batches/{own.batch.id}"
    response = web.post_form(
        f"{page_url}/labels", {"labels-template": "a4-5x13", "labels-ec": "M"}, form_url=page_url
    )
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/manage/label-jobs/{first_id}")  # the job under way
    assert [job.id for job in _jobs(own.batch.id)] == [first_id]
    assert jobs.waiting("labels.run") == [(first_id,)]  # the refused requests queued nothing

    assert jobs.run_pending() == 1  # once done, the lot may be printed again
    second = api.post(path, own.producer_user, json={"template": "a4-3x8"})
    assert second.status_code == 202
    assert len(_jobs(own.batch.id)) == 2
    assert jobs.waiting("labels.run") == [(second.get_json()["id"],)]


def test_two_jobs_of_one_lot_cannot_both_be_stored(tenants, db):
    """The partial unique index holds even when the check before the insert is raced past."""
    own = tenants["daklak"]
    queue_label_job(own.batch, LabelPlan("a4-5x13", "M", 65), actor=None)
    db.session.commit()
    with pytest.raises(Exception, match=r"(?i)unique|duplicate"):
        db.session.add(LabelJob(batch_id=own.batch.id, template="a4-5x13", count=65, status="running"))
        db.session.flush()
    db.session.rollback()
    other = tenants["nghean"]
    queue_label_job(other.batch, LabelPlan("a4-5x13", "M", 65), actor=None)  # another lot may
    db.session.commit()


# --- finished files expire ---------------------------------------------------------------------


def test_finished_files_expire_and_are_removed(app, api, web, runner, tenants, db, monkeypatch):
    monkeypatch.setitem(app.config, "LABEL_JOB_KEEP_HOURS", 24)
    own = tenants["daklak"]
    job = queue_label_job(own.batch, LabelPlan("a4-5x13", "M", 65), actor=None)
    db.session.commit()
    assert run_label_job(job.id)
    job = db.session.get(LabelJob, job.id)
    path = job_file(job)
    assert path is not None and path.parent == label_folder()
    body = api.get(f"/label-jobs/{job.id}", own.producer_user).get_json()
    assert body["download_url"] and body["file_expires_at"]

    web.login(own.producer_user.email)
    page = web.client.get(f"/manage/label-jobs/{job.id}", headers={"Accept-Language": "en"})
    assert "The file is kept until" in page.get_data(as_text=True)

    job.finished_at = utcnow() - timedelta(hours=25)
    db.session.commit()
    assert job_file(job) is None  # past its time it is no longer offered, purged or not
    assert path.exists()
    result = runner.invoke(args=["labels", "purge"])
    assert result.exit_code == 0 and "Removed 1 expired" in result.output
    assert not path.exists()
    db.session.expire_all()
    assert db.session.get(LabelJob, job.id).file_name is None

    page = web.client.get(f"/manage/label-jobs/{job.id}", headers={"Accept-Language": "en"}).get_data(
        as_text=True
    )
    assert "was removed on" in page and "Print the labels again" in page
    body = api.get(f"/label-jobs/{job.id}", own.producer_user).get_json()
    assert body["download_url"] is None
    assert api.get(f"/label-jobs/{job.id}/labels.pdf", own.producer_user).status_code == 404


def test_a_new_job_and_run_jobs_remove_expired_files(app, runner, tenants, db):
    own, other = tenants["daklak"], tenants["nghean"]
    old = queue_label_job(own.batch, LabelPlan("a4-5x13", "M", 65), actor=None)
    db.session.commit()
    assert run_label_job(old.id)
    old = db.session.get(LabelJob, old.id)
    old_path = job_file(old)
    old.finished_at = utcnow() - timedelta(hours=app.config["LABEL_JOB_KEEP_HOURS"] + 1)
    db.session.commit()
    new = queue_label_job(other.batch, LabelPlan("a4-5x13", "M", 65), actor=None)
    db.session.commit()
    assert run_label_job(new.id)  # starting a job removes what expired
    assert not old_path.exists() and job_file(db.session.get(LabelJob, new.id)) is not None

    fresh = db.session.get(LabelJob, new.id)
    fresh_path = job_file(fresh)
    fresh.finished_at = utcnow() - timedelta(hours=app.config["LABEL_JOB_KEEP_HOURS"] + 1)
    db.session.commit()
    result = runner.invoke(args=["labels", "run-jobs"])
    assert result.exit_code == 0 and "Removed 1 expired" in result.output
    assert not fresh_path.exists()
