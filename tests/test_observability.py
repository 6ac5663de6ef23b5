"""Operations: the request id on every log line and on the error tracker's report; liveness and readiness."""

from __future__ import annotations

import gzip
import io
import json
import logging
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from traceability import create_app
from traceability.core.config import TestConfig
from traceability.http import observability


def separate_app(tmp_path, **settings):
    """An app of its own (routes can be added to it), on its own SQLite file, its schema created."""
    config = type(
        "ObservedConfig",
        (TestConfig,),
        {
            "DATABASE_URL": f"sqlite:///{tmp_path / 'observed.sqlite3'}",
            "UPLOAD_FOLDER": str(tmp_path),
            **settings,
        },
    )
    app = create_app(config)

    @app.route("/boom")
    def boom():
        raise RuntimeError("the disk is full")

    @app.route("/work")
    def work():
        logging.getLogger("traceability.something").info("counted %d lots", 3)
        return "done"

    return app


def log_stream() -> io.StringIO:
    """Point the app's log handler at a buffer the test reads."""
    (handler,) = [h for h in logging.getLogger().handlers if h.get_name() == "traceability"]
    stream = io.StringIO()
    handler.setStream(stream)
    return stream


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_json_logs_carry_the_request_id_on_every_line(tmp_path):
    app = separate_app(tmp_path, LOG_FORMAT="json")
    stream = log_stream()
    client = app.test_client()

    answer = client.get("/work", headers={"X-Request-ID": "portal-7f3a-0001"})
    assert answer.headers["X-Request-ID"] == "portal-7f3a-0001"
    assert client.get("/boom", headers={"X-Request-ID": "call-2"}).status_code == 500

    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    by_message = {line["message"]: line for line in lines}
    assert by_message["counted 3 lots"]["request_id"] == "portal-7f3a-0001"
    assert by_message["counted 3 lots"]["level"] == "INFO"
    request_lines = [line for line in lines if line["logger"] == "traceability.requests"]
    assert [(line["method"], line["path"], line["status"], line["request_id"]) for line in request_lines] == [
        ("GET", "/work", 200, "portal-7f3a-0001"),
        ("GET", "/boom", 500, "call-2"),
    ]
    error = by_message["unhandled error"]
    assert error["request_id"] == "call-2"
    assert error["level"] == "ERROR"
    assert "RuntimeError: the disk is full" in error["exc_info"]
    # Vietnam time, which is what the people reading the logs live in.
    assert all(line["timestamp"].endswith("+07:00") for line in lines)


def test_a_request_without_an_id_gets_one_and_a_bad_one_is_replaced(tmp_path):
    app = separate_app(tmp_path, LOG_FORMAT="text")
    stream = log_stream()
    client = app.test_client()

    given = client.get("/work").headers["X-Request-ID"]
    replaced = client.get("/work", headers={"X-Request-ID": "a b forged;line"}).headers["X-Request-ID"]

    assert len(given) == 32 and len(replaced) == 32 and given != replaced
    text = stream.getvalue()
    assert f"[{given}] counted 3 lots" in text
    assert f"[{replaced}] GET /work 200" in text
    assert "forged" not in text


def test_logging_settings_are_checked_at_start(tmp_path):
    with pytest.raises(RuntimeError, match="LOG_FORMAT must be json or text"):
        separate_app(tmp_path, LOG_FORMAT="xml")
    with pytest.raises(RuntimeError, match="LOG_LEVEL must be"):
        separate_app(tmp_path, LOG_LEVEL="LOUD")


def test_livez_and_readyz_answer_when_all_is_well(client):
    assert client.get("/livez").get_json() == {"status": "ok"}
    for path in ("/readyz", "/healthz"):
        response = client.get(path)
        assert response.status_code == 200
        assert response.get_json() == {"status": "ok", "checks": {"database": "ok"}}
        assert response.headers["Cache-Control"] == "no-store"


def test_readyz_names_what_is_unreachable(tmp_path, redis_url):
    down = f"redis://127.0.0.1:{closed_port()}/0"
    app = separate_app(tmp_path, PAGE_CACHE_URL=down, JOB_QUEUE_URL=redis_url)
    response = app.test_client().get("/readyz")
    assert response.status_code == 503
    assert response.get_json() == {
        "status": "error",
        "checks": {"database": "ok", "redis:PAGE_CACHE_URL": "unreachable", "redis:JOB_QUEUE_URL": "ok"},
    }
    # The process itself is alive: restarting it would not bring Redis back.
    assert app.test_client().get("/livez").status_code == 200


def test_readyz_says_the_database_is_unreachable(tmp_path):
    app = separate_app(
        tmp_path, DATABASE_URL=f"postgresql+psycopg://trace:trace@127.0.0.1:{closed_port()}/none"
    )
    response = app.test_client().get("/readyz")
    assert response.status_code == 503
    assert response.get_json()["checks"]["database"] == "unreachable"
    assert "127.0.0.1" not in response.get_data(as_text=True)  # nothing about the setup leaks


class _Receiver(BaseHTTPRequestHandler):
    """A stand-in error tracker: keeps every envelope POSTed to it."""

    envelopes: list[tuple[str, bytes]]

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        if self.headers.get("Content-Encoding") == "gzip":
            body = gzip.decompress(body)
        self.server.envelopes.append((self.path, body))  # type: ignore[attr-defined]
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def tracker():
    """A real HTTP server speaking for the tracker, and a process-wide Sentry client closed afterwards."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Receiver)
    server.envelopes = []  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        import sentry_sdk

        sentry_sdk.get_client().close(timeout=2)
        observability._tracker_dsn = None
        server.shutdown()
        server.server_close()


def test_an_unhandled_error_reaches_the_tracker_with_its_request_id(tmp_path, tracker):
    port = tracker.server_address[1]
    app = separate_app(tmp_path, SENTRY_DSN=f"http://publickey@127.0.0.1:{port}/42")
    client = app.test_client()

    assert client.get("/work").status_code == 200
    assert client.get("/boom", headers={"X-Request-ID": "support-call-9"}).status_code == 500
    observability.flush_error_tracker()

    events = [
        body
        for path, body in tracker.envelopes
        if path == "/api/42/envelope/" and b'"type":"event"' in body.replace(b" ", b"")
    ]
    assert len(events) == 1  # the error, once; a request that went well sends nothing
    (event,) = [json.loads(line) for line in events[0].splitlines() if b"exception" in line]
    assert event["tags"]["request_id"] == "support-call-9"
    (exception,) = event["exception"]["values"]
    assert (exception["type"], exception["value"]) == ("RuntimeError", "the disk is full")
    assert "cookies" not in event.get("request", {})


def test_without_a_dsn_nothing_is_sent(tmp_path, tracker):
    app = separate_app(tmp_path)
    assert app.test_client().get("/boom").status_code == 500
    observability.flush_error_tracker()
    assert tracker.envelopes == []
