"""The real thing: ``flask --app wsgi worker`` and gunicorn as processes, on the suite's database.

A label job of 10,000 labels started from the web page runs in the worker,
goes on while the web server is stopped and started again, shows its progress
on the job page, and ends with the PDF. A job whose worker is killed mid-sheet
runs again on the next worker and finishes.
"""

from __future__ import annotations

import contextlib
import http.client
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from http.cookiejar import CookieJar
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from tests import factories
from tests.conftest import CSRF_PATTERN
from tests.labels.pdf_reading import page_count, rasterise, read_codes
from traceability.batches.label_jobs import job_file
from traceability.batches.serials import create_serials
from traceability.batches.service import item_public_url
from traceability.core.database import sqlite_begin_mode
from traceability.models.batches import Item, LabelJob

ROOT = Path(__file__).resolve().parents[2]
LABELS = 10_000
PER_PAGE = 65  # a4-5x13
WORKER = [sys.executable, "-m", "flask", "--app", "wsgi", "worker", "--workers", "1"]
EN = {"Accept-Language": "en"}


@pytest.fixture(autouse=True)
def _reads_without_the_write_lock() -> Iterator[None]:
    """The test's SQLite reads begin DEFERRED, so polling never holds up the worker's writes."""
    token = sqlite_begin_mode.set("DEFERRED")
    yield
    sqlite_begin_mode.reset(token)


def _environment(app: Flask, database_url: str, **settings: str) -> dict[str, str]:
    """The suite's database, queue and upload folder, for processes started from the checkout."""
    environment = {
        **os.environ,
        "DATABASE_URL": database_url,
        "JOB_QUEUE_URL": app.config["JOB_QUEUE_URL"],
        "UPLOAD_FOLDER": app.config["UPLOAD_FOLDER"],
        "PUBLIC_BASE_URL": app.config["PUBLIC_BASE_URL"],
        "SECRET_KEY": "worker-test-secret-worker-test-secret",
        "TRACEABILITY_ENV": "development",
        "PAGE_CACHE_URL": "null",
        "LOG_REQUESTS": "false",
        **settings,
    }
    for name in ("TEST_DATABASE_URL", "DATABASE_REPLICA_URL", "REDIS_URL", "RATELIMIT_STORAGE_URL"):
        environment.pop(name, None)
    return environment


@contextlib.contextmanager
def _started(command: list[str], environment: dict[str, str], log: Path) -> Iterator[subprocess.Popen]:
    """A process in a session of its own (its children too: a sheet's encoders), killed if still alive."""
    with log.open("ab") as output:
        process = subprocess.Popen(
            command,
            cwd=ROOT,
            env=environment,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        yield process
    finally:
        if process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=30)


def _stop(process: subprocess.Popen, signum: int, log: Path) -> None:
    process.send_signal(signum)
    assert process.wait(timeout=120) == 0, log.read_text()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _until(check: Callable[[], Any], what: str, *, timeout: float, logs: tuple[Path, ...] = ()) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            output = "\n".join(f"--- {log.name}\n{log.read_text()[-4000:]}" for log in logs if log.exists())
            pytest.fail(f"{what}: not within {timeout} s\n{output}")
        time.sleep(0.02)


def _gunicorn(port: int) -> list[str]:
    return [
        sys.executable,
        "-m",
        "gunicorn",
        "-c",
        "gunicorn.conf.py",
        "-w",
        "1",
        "-b",
        f"127.0.0.1:{port}",
        "wsgi:app",
    ]


def _serving(port: int, server: subprocess.Popen, log: Path) -> None:
    def answers() -> bool:
        assert server.poll() is None, f"gunicorn exited: {log.read_text()}"
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        try:
            connection.request("GET", "/livez")
            return connection.getresponse().status == 200
        except OSError:
            return False
        finally:
            connection.close()

    _until(answers, "gunicorn answers /livez", timeout=240, logs=(log,))


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


class Browser:
    """Signs in and posts forms over HTTP; its cookie (a server-side session) outlives the server."""

    def __init__(self, port: int) -> None:
        self.base = f"http://127.0.0.1:{port}"
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(CookieJar()), _NoRedirects()
        )

    def open(self, path: str, data: dict[str, str] | None = None) -> tuple[int, Any, bytes]:
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        request = urllib.request.Request(self.base + path, data=body, headers=EN)
        try:
            with self.opener.open(request, timeout=60) as response:
                return response.status, response.headers, response.read()
        except urllib.error.HTTPError as error:  # redirects and errors alike
            with error:
                return error.code, error.headers, error.read()

    def post_form(self, path: str, data: dict[str, str], *, form_path: str) -> tuple[int, Any, bytes]:
        status, _headers, page = self.open(form_path)
        match = CSRF_PATTERN.search(page.decode())
        assert status == 200 and match, f"no form at {form_path} ({status})"
        return self.open(path, {**data, "csrf_token": match.group(1)})

    def login(self, email: str) -> None:
        status, headers, _body = self.post_form(
            "/login", {"email": email, "password": factories.PASSWORD}, form_path="/login"
        )
        assert status == 302 and not headers["Location"].endswith("/login"), status


def _progress(page: str) -> tuple[str, int] | None:
    """The job page's status line and its labels drawn, when it shows a sheet being made."""
    status = re.search(r'class="job-status">([^<]*)<', page)
    drawn = re.search(rf"(\d+) of {LABELS} labels drawn", page)
    return (status.group(1), int(drawn.group(1))) if status and drawn else None


def _job(db, job_id: int) -> LabelJob:
    """The job as the other processes left it (a fresh transaction, so a fresh snapshot)."""
    db.session.commit()
    db.session.expire_all()
    job = db.session.get(LabelJob, job_id)
    db.session.commit()
    return job


def _item_urls(db, batch_id: int) -> list[str]:
    db.session.commit()
    items = db.session.scalars(select(Item).where(Item.batch_id == batch_id).order_by(Item.id)).all()
    urls = [item_public_url("https://trace.example.vn", item) for item in items]
    db.session.commit()
    return urls


def test_a_10000_label_job_from_the_web_page_runs_in_the_worker_across_a_web_server_restart(
    app, db, tenants, database_url, tmp_path
):
    own = tenants["daklak"]
    environment = _environment(app, database_url, LABEL_JOB_LEASE_SECONDS="600")
    port = _free_port()
    web_log, worker_log = tmp_path / "web.log", tmp_path / "worker.log"
    with (
        _started(_gunicorn(port), environment, web_log) as web,
        _started(WORKER, environment, worker_log) as worker,
    ):
        _serving(port, web, web_log)
        browser = Browser(port)
        browser.login(own.producer_user.email)
        batch_page = f"/manage/batches/{own.batch.id}"
        status, headers, _body = browser.post_form(
            f"{batch_page}/serials",
            {"serials-count": str(LABELS), "serials-template": "a4-5x13", "serials-ec": "M"},
            form_path=batch_page,
        )
        assert status == 302, status
        job_path = urllib.parse.urlsplit(headers["Location"]).path
        assert re.fullmatch(r"/manage/label-jobs/\d+", job_path), job_path

        def drawing() -> tuple[str, int] | None:
            shown = _progress(browser.open(job_path)[2].decode())
            return shown if shown and 0 < shown[1] < LABELS else None

        _until(drawing, "the job page shows labels drawn", timeout=240, logs=(worker_log,))
        # 10,000 labels take the worker about 3 s, less than gunicorn takes to start: the test holds
        # the worker (and its encoder processes) still while the web server restarts, then lets it go.
        os.killpg(worker.pid, signal.SIGSTOP)
        try:
            held = _progress(browser.open(job_path)[2].decode())
            assert held is not None and 0 < held[1] < LABELS
            _stop(web, signal.SIGTERM, web_log)
            with pytest.raises(OSError):  # no web server
                browser.open(job_path)
            with _started(_gunicorn(port), environment, web_log) as web_again:
                _serving(port, web_again, web_log)
                status, _headers, page = browser.open(job_path)  # the same session, a new server
                assert status == 200
                text = page.decode()
                assert _progress(text) == held and held[0] == f"Done: {held[1] * 100 // LABELS}%"
                assert '<meta http-equiv="refresh" content="3">' in text
                os.killpg(worker.pid, signal.SIGCONT)
                _until(
                    lambda: "Ready to download" in browser.open(job_path)[2].decode(),
                    "the job is done",
                    timeout=300,
                    logs=(worker_log,),
                )
                status, headers, pdf = browser.open(f"{job_path}/labels.pdf")
                assert status == 200 and headers["Content-Type"] == "application/pdf"
                _stop(web_again, signal.SIGTERM, web_log)
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(worker.pid, signal.SIGCONT)
        _stop(worker, signal.SIGINT, worker_log)

    job = _job(db, int(job_path.rsplit("/", 1)[1]))
    assert (job.status, job.progress, job.count, job.error) == ("done", LABELS, LABELS, None)
    assert job_file(job).read_bytes() == pdf
    assert page_count(pdf) == -(-LABELS // PER_PAGE)
    urls = _item_urls(db, own.batch.id)
    assert len(urls) == LABELS
    assert [code.text for code in read_codes(rasterise(pdf, 0))] == urls[:PER_PAGE]
    last = page_count(pdf) - 1
    assert [code.text for code in read_codes(rasterise(pdf, last))] == urls[last * PER_PAGE :]


def test_a_job_whose_worker_is_killed_runs_again_on_the_next_worker(
    app, db, web, tenants, database_url, tmp_path
):
    own = tenants["daklak"]
    create_serials(own.batch, LABELS, actor=own.producer_user)
    db.session.commit()
    web.login(own.producer_user.email)
    batch_page = f"/manage/batches/{own.batch.id}"
    response = web.post_form(
        f"{batch_page}/labels", {"labels-template": "a4-5x13", "labels-ec": "M"}, form_url=batch_page
    )
    job_id = int(response.headers["Location"].rsplit("/", 1)[1])
    environment = _environment(app, database_url, LABEL_JOB_LEASE_SECONDS="3")

    first_log, second_log = tmp_path / "worker-1.log", tmp_path / "worker-2.log"
    with _started(WORKER, environment, first_log) as first:
        job = _until(
            lambda: (job := _job(db, job_id)).status != "queued" and job,
            "the first worker takes the job",
            timeout=240,
            logs=(first_log,),
        )
        os.killpg(first.pid, signal.SIGKILL)  # the worker and its encoder processes, mid-sheet
        first.wait(timeout=30)
    job = _job(db, job_id)
    assert job.status == "running" and job.progress < LABELS, (job.status, job.progress)
    dead_token = job.claim_token

    with _started(WORKER, environment, second_log) as second:
        job = _until(
            lambda: (job := _job(db, job_id)).status in ("done", "failed") and job,
            "the next worker finishes the job",
            timeout=300,
            logs=(second_log,),
        )
        _stop(second, signal.SIGINT, second_log)
    assert (job.status, job.progress, job.error) == ("done", LABELS, None)
    assert job.claim_token != dead_token
    pdf = job_file(job).read_bytes()
    assert page_count(pdf) == -(-LABELS // PER_PAGE)
    assert list(job_file(job).parent.glob(f"{job_id}-*.part")) == []
