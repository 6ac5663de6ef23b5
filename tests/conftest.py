"""Fixtures: the app on SQLite (default) or PostgreSQL (TEST_DATABASE_URL), clients and helpers.

The suite runs once per database; ``scripts/test.sh`` runs it on SQLite and
again on a throwaway PostgreSQL server.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask, has_app_context
from flask.testing import FlaskClient
from sqlalchemy import make_url, text

from tests import factories
from tests.databases import scratch_database
from traceability import create_app
from traceability.accounts.throttle import login_throttle
from traceability.core.config import TestConfig
from traceability.core.extensions import db as _db
from traceability.jobs import JobQueue, job_queue
from traceability.public.problem_reports import report_throttle

CSRF_PATTERN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


# The suite's SQLite files are thrown away: no need to wait for the disk on each commit.
os.environ.setdefault("SQLITE_SYNCHRONOUS", "OFF")


def database_kind() -> str:
    return "postgresql" if os.environ.get("TEST_DATABASE_URL", "").startswith("postgres") else "sqlite"


def pytest_report_header(config: pytest.Config) -> str:
    return f"database: {database_kind()}"


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    counts = {
        key: len(terminalreporter.stats.get(key, [])) for key in ("passed", "failed", "error", "skipped")
    }
    terminalreporter.write_line(
        f"database {database_kind()}: {counts['passed']} passed, {counts['failed'] + counts['error']} failed, "
        f"{counts['skipped']} skipped"
    )


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The suite's database: TEST_DATABASE_URL's, else a SQLite file of this run.

    Under pytest-xdist each worker on PostgreSQL gets a database of its own
    beside TEST_DATABASE_URL's (``<name>_gw0``, ...), created empty and dropped
    at the end, so workers never see one another's rows or locks.
    """
    url = os.environ.get("TEST_DATABASE_URL")
    if not url:
        # A file, not :memory:, so a live server thread (browser tests) sees the same data.
        yield f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite3'}"
        return
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if not worker:
        yield url
        return
    with scratch_database(url, f"{make_url(url).database}_{worker}") as own:
        yield own


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory) -> Iterator[str]:
    """A private redis-server on a free loopback port (Debian's package, see scripts/system_deps.sh)."""
    server = shutil.which("redis-server")
    if server is None:
        message = "redis-server is not installed (apt-get install redis-server)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    folder = tmp_path_factory.mktemp("redis")
    process = subprocess.Popen(
        [
            server,
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(folder),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise RuntimeError("redis-server did not start") from None
                time.sleep(0.05)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        process.terminate()
        process.wait(timeout=10)


class RequestIsolatedClient(FlaskClient):
    """A test client whose every request runs in its own app context, as in production.

    The ``app`` fixture keeps an app context open for the test's own database
    work; without this, requests would reuse it and share ``g`` (the signed-in
    user, the locale) and the test's session. The test's pending work is
    committed before the request, and its session expired after, so it sees
    what the request wrote.
    """

    def open(self, *args: Any, **kwargs: Any):
        in_test_context = has_app_context()
        if in_test_context:
            _db.session.commit()
        with self.application.app_context():
            response = super().open(*args, **kwargs)
        if in_test_context:
            _db.session.expire_all()
        return response


@pytest.fixture(scope="session")
def _app(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    class SuiteConfig(TestConfig):
        DATABASE_URL = database_url
        UPLOAD_FOLDER = str(tmp_path_factory.mktemp("uploads"))
        PAGE_CACHE_URL = str(tmp_path_factory.mktemp("page-cache"))
        JOB_QUEUE_URL = f"sqlite:///{tmp_path_factory.mktemp('jobs') / 'jobs.sqlite3'}"

    app = create_app(SuiteConfig)
    app.test_client_class = RequestIsolatedClient
    with app.app_context():
        _db.drop_all()
        _db.create_all()
    yield app
    # Scans recorded as the last responses closed are written (or given up)
    # while their table still exists, not retried against a dropped one.
    app.extensions["scan_buffer"].close()
    with app.app_context():
        _db.session.remove()
        _db.drop_all()
        _db.engine.dispose()


def _empty_tables() -> None:
    _db.session.remove()
    tables = list(reversed(_db.metadata.sorted_tables))
    with _db.engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            names = ", ".join(f'"{table.name}"' for table in tables)
            connection.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        else:
            for table in tables:
                connection.execute(table.delete())


@pytest.fixture
def app(_app: Flask) -> Iterator[Flask]:
    """The app inside an application context; every table is emptied afterwards."""
    with _app.app_context():
        yield _app
        _db.session.remove()  # the test's transaction, which on SQLite holds the write lock
        _app.extensions["scan_buffer"].flush()  # scans a test left queued go with its tables
        _empty_tables()
        _app.extensions["page_cache"].clear()
        job_queue(_app).discard_all()  # jobs a test queued and left are not run by the next
        login_throttle.reset()  # failed sign-ins of one test do not throttle the next
        report_throttle.reset()  # nor do one test's problem reports


@pytest.fixture
def db(app: Flask):
    return _db


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(app: Flask):
    return app.test_cli_runner()


class QueuedJobs:
    """The app's job queue for a test: ``run_pending()`` runs what was queued, as the worker does.

    The jobs run in the test's thread through the worker's own code (Huey's
    execute; each job in an app context, hence a session, of its own). As with
    ``RequestIsolatedClient``, the test's pending work is committed first (on
    SQLite its open transaction would hold the write lock the job needs) and
    its session expired after, so it sees what the jobs wrote.
    """

    def __init__(self, queue: JobQueue) -> None:
        self.queue = queue

    def run_pending(self) -> int:
        _db.session.commit()
        ran = self.queue.run_pending()
        _db.session.expire_all()
        return ran

    def waiting(self, name: str) -> list[tuple[Any, ...]]:
        return self.queue.waiting(name)

    def discard_all(self) -> None:
        self.queue.discard_all()


@pytest.fixture
def jobs(app: Flask) -> QueuedJobs:
    """The app's job queue: ``jobs.run_pending()``, ``jobs.waiting(name)`` (see ``QueuedJobs``)."""
    return QueuedJobs(job_queue(app))


@pytest.fixture
def make(app):
    """The record factories (``make.centre()``, ``make.producer(centre)``, ``make.certification(subject)``...)."""

    class Make:
        centre = staticmethod(factories.make_centre)
        producer = staticmethod(factories.make_producer)
        user = staticmethod(factories.make_user)
        location = staticmethod(factories.make_location)
        product = staticmethod(factories.make_product)
        batch = staticmethod(factories.make_batch)
        certification = staticmethod(factories.make_certification)

    return Make


class WebHelper:
    """Signs in through the login form and posts forms with their CSRF token."""

    def __init__(self, client: FlaskClient) -> None:
        self.client = client

    def csrf_token(self, url: str = "/login") -> str:
        page = self.client.get(url)
        match = CSRF_PATTERN.search(page.get_data(as_text=True))
        assert match, f"no CSRF token on {url} ({page.status_code})"
        return match.group(1)

    def login(self, email: str, password: str = factories.PASSWORD):
        _db.session.commit()
        return self.client.post(
            "/login", data={"email": email, "password": password, "csrf_token": self.csrf_token("/login")}
        )

    def post_form(self, url: str, data: dict[str, Any], *, form_url: str | None = None, **kwargs: Any):
        _db.session.commit()
        return self.client.post(url, data={**data, "csrf_token": self.csrf_token(form_url or url)}, **kwargs)


@pytest.fixture
def web(client: FlaskClient) -> WebHelper:
    return WebHelper(client)


class ApiHelper:
    """Calls /api/v1 with a bearer token obtained through POST /api/v1/tokens."""

    def __init__(self, client: FlaskClient) -> None:
        self.client = client
        self._tokens: dict[str, str] = {}

    def token(self, user: Any) -> str:
        _db.session.commit()
        if user.email not in self._tokens:
            response = self.client.post(
                "/api/v1/tokens", json={"email": user.email, "password": factories.PASSWORD}
            )
            assert response.status_code == 201, response.get_json()
            self._tokens[user.email] = response.get_json()["token"]
        return self._tokens[user.email]

    def request(self, method: str, path: str, user: Any, **kwargs: Any):
        headers = {"Authorization": f"Bearer {self.token(user)}", **kwargs.pop("headers", {})}
        _db.session.commit()
        return self.client.open(f"/api/v1{path}", method=method, headers=headers, **kwargs)

    def get(self, path: str, user: Any, **kwargs: Any):
        return self.request("GET", path, user, **kwargs)

    def post(self, path: str, user: Any, **kwargs: Any):
        return self.request("POST", path, user, **kwargs)


@pytest.fixture
def api(client: FlaskClient) -> ApiHelper:
    return ApiHelper(client)


@pytest.fixture
def tenants(make):
    """Two provinces, each with a centre, its staff and auditor, a producer with a user, product and batch."""

    class Tenant:
        pass

    result = {}
    for code, key in (("66", "daklak"), ("40", "nghean")):
        t = Tenant()
        t.centre = make.centre(code)
        t.staff = make.user("centre_staff", centre=t.centre)
        t.admin = make.user("centre_admin", centre=t.centre)
        t.auditor = make.user("auditor", centre=t.centre)
        t.producer = make.producer(t.centre)
        t.producer_user = make.user("producer", producer=t.producer)
        t.location = make.location(t.producer)
        t.product = make.product(t.producer)
        t.batch = make.batch(t.product)
        result[key] = t
    result["ministry"] = make.user("ministry")
    _db.session.commit()
    return result
