"""A live server on a free port and Debian's Chromium driven by Playwright.

The server runs the suite's app (``_app``) in a background thread. The suite's
database is a SQLite file or PostgreSQL, never ``:memory:``, so the server
thread sees what a test commits: commit (``db.session.commit()``) before the
browser needs the data. The ``app`` fixture empties every table after each
test; the page fixtures close their browser context before that.

Browsers are never downloaded (no ``playwright install``): the tests use the
system's Chromium (``apt-get install chromium``). Without it they are skipped,
or fail when ``CI=true`` so a CI run can't pass without running them.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from flask import Flask
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from traceability.core.database import sqlite_begin_mode

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
DEFAULT_TIMEOUT_MS = 15_000


def chromium_path() -> str | None:
    path = shutil.which("chromium") or "/usr/bin/chromium"
    return path if os.path.isfile(path) and os.access(path, os.X_OK) else None


@dataclass(frozen=True)
class LiveServer:
    url: str  # http://127.0.0.1:PORT, no trailing slash


class _QuietHandler(WSGIRequestHandler):
    """Werkzeug's handler without one log line per request (errors are still logged)."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass


@pytest.fixture(scope="session")
def chromium_executable() -> str:
    path = chromium_path()
    if path is None:
        message = (
            "Chromium is not installed: install Debian's package (apt-get install chromium); "
            "the browser tests never download a browser"
        )
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    return path


@pytest.fixture(scope="session")
def live_server(_app: Flask) -> Iterator[LiveServer]:
    """The app served over HTTP on 127.0.0.1 and a free port, in a background thread."""
    server: BaseWSGIServer = make_server("127.0.0.1", 0, _app, threaded=True, request_handler=_QuietHandler)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    try:
        yield LiveServer(f"http://127.0.0.1:{server.server_port}")
    finally:
        server.shutdown()  # stops serve_forever and waits for it
        server.server_close()
        thread.join(timeout=10)


@pytest.fixture(scope="session")
def browser(chromium_executable: str, live_server: LiveServer) -> Iterator[Any]:
    """One Chromium for the session; it closes before the live server stops."""
    from playwright.sync_api import sync_playwright

    playwright = sync_playwright().start()
    try:
        chromium = playwright.chromium.launch(executable_path=chromium_executable, args=CHROMIUM_ARGS)
    except BaseException:
        playwright.stop()
        raise
    try:
        yield chromium
    finally:
        chromium.close()
        playwright.stop()


@pytest.fixture
def public_base_url(app: Flask, live_server: LiveServer, monkeypatch: pytest.MonkeyPatch) -> str:
    """QR codes and public links point at the live server for the test, so the browser can follow them."""
    monkeypatch.setitem(app.config, "PUBLIC_BASE_URL", live_server.url)
    return live_server.url


@pytest.fixture
def new_context(app: Flask, browser: Any, live_server: LiveServer) -> Iterator[Any]:
    """``new_context(**options)``: a fresh browser context (own cookies), closed after the test.

    It depends on ``app`` so the contexts close before the tables are emptied.
    """
    contexts: list[Any] = []

    def factory(**options: Any) -> Any:
        options.setdefault("base_url", live_server.url)
        context = browser.new_context(**options)
        context.set_default_timeout(DEFAULT_TIMEOUT_MS)
        contexts.append(context)
        return context

    yield factory
    for context in contexts:
        # Let the pages finish loading first: a download (an image) the browser drops at closing
        # leaves the live server's file unclosed (werkzeug's connection_dropped), a ResourceWarning.
        for page in context.pages:
            # A page still busy after 5 s (a Playwright timeout, or already closed) is closed anyway.
            with contextlib.suppress(Exception):
                page.wait_for_load_state("networkidle", timeout=5_000)
        context.close()


@pytest.fixture(autouse=True)
def _test_thread_reads_without_the_write_lock() -> Iterator[None]:
    """The test thread's SQLite transactions begin DEFERRED, as a GET request's do.

    Reading a record after a commit opens a transaction; begun IMMEDIATE it
    would hold SQLite's write lock until the test ends, and every write of the
    live server (a sign-in, a form) would wait for it until busy_timeout.
    """
    token = sqlite_begin_mode.set("DEFERRED")
    yield
    sqlite_begin_mode.reset(token)


@pytest.fixture
def page(new_context: Any) -> Any:
    """A page in a fresh context with a desktop viewport and a Vietnamese browser."""
    return new_context(locale="vi-VN", viewport={"width": 1280, "height": 900}).new_page()
