"""Scans are counted behind the response: queued, written in batches, none lost on a graceful shutdown."""

from __future__ import annotations

import http.client
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from traceability import create_app
from traceability.core.config import TestConfig
from traceability.core.dates import utcnow
from traceability.models.public import Scan
from traceability.public.scan_buffer import ScanBuffer

ROOT = Path(__file__).resolve().parents[2]
PHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148 Safari/604.1"
)


def stored(db) -> list[Scan]:
    db.session.commit()  # a new snapshot: the buffer wrote on its own connection
    return list(db.session.scalars(select(Scan).order_by(Scan.id)))


def open_page(app, path: str, **headers: str):
    return app.test_client().get(path, headers={"User-Agent": PHONE, **headers})


def scan_row(batch_id: int, **values) -> dict:
    return {
        "batch_id": batch_id,
        "scanned_at": utcnow(),
        "language": "vi",
        "device_class": "mobile",
        **values,
    }


def test_a_scan_is_written_after_the_response_with_the_time_of_the_request(app, db, tenants):
    batch = tenants["daklak"].batch
    asked_at = utcnow()
    response = open_page(app, f"/t/{batch.public_code}", **{"Accept-Language": "en"})
    answered_at = utcnow()
    assert response.status_code == 200
    assert stored(db) == []  # the page did not wait for the insert
    buffer = app.extensions["scan_buffer"]
    assert buffer.pending() == 1
    time.sleep(0.01)
    assert buffer.flush() == 1
    [scan] = stored(db)
    assert (scan.batch_id, scan.item_id, scan.language, scan.device_class) == (batch.id, None, "en", "mobile")
    assert asked_at <= scan.scanned_at <= answered_at  # when the code was opened, not when written


def test_the_writer_thread_writes_within_its_interval(app, db, tenants):
    buffer = ScanBuffer(db.engine, interval=0.05)
    buffer.add(scan_row(tenants["daklak"].batch.id))
    deadline = time.monotonic() + 5
    while buffer.written < 1 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert len(stored(db)) == 1
    buffer.close()


def test_close_writes_what_is_left_and_later_scans_at_once(app, db, tenants):
    batch_id = tenants["daklak"].batch.id
    buffer = ScanBuffer(db.engine, interval=3600)
    for _scan in range(3):
        buffer.add(scan_row(batch_id))
    assert stored(db) == []
    buffer.close()
    assert len(stored(db)) == 3
    buffer.add(scan_row(batch_id))  # a request finishing during shutdown
    assert len(stored(db)) == 4 and buffer.pending() == 0
    buffer.close()  # twice is harmless (worker_exit and atexit)


def test_a_failing_database_keeps_the_scans_for_the_next_attempt(app, db, tenants):
    batch_id = tenants["daklak"].batch.id
    buffer = ScanBuffer(db.engine, interval=3600)
    buffer.add(scan_row(batch_id))
    buffer.add(scan_row(batch_id, language="en"))
    db.session.commit()
    with db.engine.begin() as connection:  # the table is away, as during a restore
        connection.execute(text("ALTER TABLE scan RENAME TO scan_away"))
    try:
        assert buffer.flush() == 0
        assert buffer.pending() == 2
    finally:
        with db.engine.begin() as connection:
            connection.execute(text("ALTER TABLE scan_away RENAME TO scan"))
    assert buffer.flush() == 2
    assert [scan.language for scan in stored(db)] == ["vi", "en"]


def test_a_scan_of_a_deleted_lot_is_dropped_not_retried_forever(app, db, tenants):
    batch_id = tenants["daklak"].batch.id
    buffer = ScanBuffer(db.engine, interval=3600)
    buffer.add(scan_row(batch_id))
    buffer.add(scan_row(batch_id + 1000))  # its lot was deleted (retention) after the scan
    buffer.add(scan_row(batch_id, language="en"))
    assert buffer.flush() == 2
    assert buffer.pending() == 0
    assert [scan.language for scan in stored(db)] == ["vi", "en"]


# --- a real gunicorn, stopped with SIGTERM ------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _request(port: int, path: str) -> int:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        connection.request("GET", path, headers={"User-Agent": PHONE, "Accept-Language": "vi"})
        response = connection.getresponse()
        response.read()
        return response.status
    finally:
        connection.close()


def test_gunicorn_stopped_with_sigterm_stores_every_scan_it_served(tmp_path, make, db):
    """N pages served by two gunicorn workers, then SIGTERM: exactly N scans in the database."""
    database = f"sqlite:///{tmp_path / 'served.sqlite3'}"

    class FileConfig(TestConfig):
        DATABASE_URL = database

    setup = create_app(FileConfig)
    with setup.app_context():
        db.create_all()
        batch = make.batch(make.product(make.producer(make.centre())))
        db.session.commit()
        path = f"/t/{batch.public_code}"
    port = _free_port()
    environment = {
        **os.environ,
        "DATABASE_URL": database,
        "SECRET_KEY": "gunicorn-test-secret",
        "PAGE_CACHE_URL": str(tmp_path / "page-cache"),
        "SCAN_WRITE_INTERVAL": "3600",  # nothing is written before the shutdown
        "TRACEABILITY_ENV": "development",
    }
    environment.pop("TEST_DATABASE_URL", None)
    gunicorn = [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "-w", "2"]
    log = tmp_path / "gunicorn.log"
    with log.open("wb") as output:
        server = subprocess.Popen(
            [*gunicorn, "-b", f"127.0.0.1:{port}", "wsgi:app"],
            cwd=ROOT,
            env=environment,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 240  # a busy machine takes a while to import the app
        while True:
            try:
                if _request(port, "/healthz") == 200:
                    break
            except OSError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"gunicorn did not start: {log.read_text()}")
            time.sleep(0.1)
        served = 40
        assert [_request(port, path) for _page in range(served)] == [200] * served
        with setup.app_context():
            assert db.session.scalar(select(func.count(Scan.id))) == 0  # all still queued in the workers
        server.send_signal(signal.SIGTERM)
        assert server.wait(timeout=120) == 0, log.read_text()
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
    with setup.app_context():
        assert db.session.scalar(select(func.count(Scan.id))) == served
        db.engine.dispose()
