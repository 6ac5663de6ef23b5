"""Operations: every log line carries its request id, an optional error tracker, liveness and readiness.

**Request id.** Each request gets one id: the caller's ``X-Request-ID`` when it
is a plain token (a portal or a proxy that already numbers its calls), else a
random one. It is answered in ``X-Request-ID``, written in the audit entries
of the request, on every log line the request writes, and on the error
tracker's report, so a support call that quotes it finds all three.

**Logs** go to standard error, one line per record, as JSON (``LOG_FORMAT=json``,
the default in production: ``timestamp`` in Vietnam time, ``level``,
``logger``, ``message``, ``request_id`` and the exception when there is one)
or as text (``LOG_FORMAT=text``, the default elsewhere). ``LOG_LEVEL`` sets the
level (default ``INFO``). With ``LOG_REQUESTS`` on (the default) each request
served by Flask writes one line: method, path, status, duration. Lot pages
answered from the page cache never reach Flask and write none (they answer an
``X-Request-ID`` all the same); the server's access log (gunicorn
``--access-logfile``) has them.

**Error tracker.** With ``SENTRY_DSN`` set, unhandled errors of the web, the
API and the command line are sent to Sentry (or any service that speaks its
protocol, such as GlitchTip), tagged with the request id; no personal data
(no user, cookies, bodies, query strings or local variables) and no performance
tracing. Without it nothing is sent anywhere.

**Probes.** ``/livez`` says the process answers (it touches nothing else);
``/readyz`` says it can serve: the primary database, the read replica when
there is one and each Redis server the settings name. ``/healthz`` is
``/readyz`` under its old name.
"""

from __future__ import annotations

import logging
import re
import sys
import time
import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any

from flask import Flask, current_app, g, has_request_context, request
from pythonjsonlogger.json import JsonFormatter
from sqlalchemy import text

from traceability.core.dates import VIETNAM_OFFSET

REQUEST_ID_PATTERN = re.compile(r"[A-Za-z0-9._:-]{1,64}")
_HANDLER_NAME = "traceability"  # the one stderr handler this module installs on the root logger
_REQUEST_LOG = logging.getLogger("traceability.requests")
_REDIS_SETTINGS = ("RATELIMIT_STORAGE_URI", "PAGE_CACHE_URL", "JOB_QUEUE_URL")
PROBE_TIMEOUT_SECONDS = 2.0


def new_request_id(given: str | None) -> str:
    """The id of a request whose ``X-Request-ID`` is ``given``: itself when a plain token, else a random one."""
    given = (given or "").strip()
    return given if REQUEST_ID_PATTERN.fullmatch(given) else uuid.uuid4().hex


def request_id() -> str:
    """This request's id (``new_request_id`` of its ``X-Request-ID``), the same all through the request."""
    if "request_id" not in g:
        g.request_id = new_request_id(request.headers.get("X-Request-ID"))
    return g.request_id


class RequestIdFilter(logging.Filter):
    """Puts the current request's id on every record (``-`` outside a request)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id() if has_request_context() else "-"
        return True


class VietnamJsonFormatter(JsonFormatter):
    """One JSON object per line; the timestamp in Vietnam time, as the people reading logs live."""

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        moment = datetime.fromtimestamp(record.created, VIETNAM_OFFSET)
        return moment.isoformat(timespec="milliseconds")


class VietnamTextFormatter(logging.Formatter):
    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        return datetime.fromtimestamp(record.created, VIETNAM_OFFSET).isoformat(timespec="milliseconds")


def log_formatter(kind: str) -> logging.Formatter:
    if kind == "json":
        return VietnamJsonFormatter(
            "{asctime}{levelname}{name}{message}{request_id}",
            style="{",
            rename_fields={"asctime": "timestamp", "levelname": "level", "name": "logger"},
            json_ensure_ascii=False,
        )
    return VietnamTextFormatter("{asctime} {levelname} {name} [{request_id}] {message}", style="{")


def configure_logging(app: Flask) -> None:
    """One stderr handler on the root logger, replaced (not added again) when another app is built."""
    kind = app.config["LOG_FORMAT"]
    if kind not in ("json", "text"):
        raise RuntimeError(f"LOG_FORMAT must be json or text, not {kind!r}.")
    level = logging.getLevelName(app.config["LOG_LEVEL"].upper())
    if not isinstance(level, int):
        raise RuntimeError(
            f"LOG_LEVEL must be DEBUG, INFO, WARNING, ERROR or CRITICAL, not {app.config['LOG_LEVEL']!r}."
        )
    root = logging.getLogger()
    for handler in [h for h in root.handlers if h.get_name() == _HANDLER_NAME]:
        root.removeHandler(handler)
    handler = logging.StreamHandler(sys.stderr)
    handler.set_name(_HANDLER_NAME)
    handler.addFilter(RequestIdFilter())
    handler.setFormatter(log_formatter(kind))
    root.addHandler(handler)
    logging.getLogger("traceability").setLevel(level)
    if root.level > level or root.level == logging.NOTSET:
        root.setLevel(level)


def init_app(app: Flask) -> None:
    """Logs, the error tracker and the request id's header, for this app."""
    configure_logging(app)
    configure_error_tracker(app)

    @app.before_request
    def start_clock() -> None:
        g.request_started = time.perf_counter()

    @app.after_request
    def answer_request_id(response):
        response.headers["X-Request-ID"] = request_id()
        if app.config["LOG_REQUESTS"]:
            started = g.get("request_started")
            elapsed = (time.perf_counter() - started) * 1000 if started is not None else 0.0
            _REQUEST_LOG.info(
                "%s %s %s %.1f ms",
                request.method,
                request.path,
                response.status_code,
                elapsed,
                extra={"method": request.method, "path": request.path, "status": response.status_code},
            )
        return response


# --- The error tracker -------------------------------------------------------------------------

_tracker_dsn: str | None = None  # the DSN the process's Sentry client was started with


def configure_error_tracker(app: Flask) -> None:
    """Start the Sentry client once per process when ``SENTRY_DSN`` is set."""
    global _tracker_dsn
    dsn = app.config.get("SENTRY_DSN")
    if not dsn or dsn == _tracker_dsn:
        return
    import sentry_sdk
    from sentry_sdk.integrations.logging import LoggingIntegration

    sentry_sdk.init(
        dsn=dsn,
        environment=app.config["ENV_NAME"],
        # No personal data: no user, cookies, bodies, query strings or local variables.
        data_collection={
            "user_info": False,
            "cookies": {"mode": "off"},
            "url_query_params": {"mode": "off"},
            "http_bodies": [],
            "stack_frame_variables": False,
        },
        traces_sample_rate=None,  # errors only, no performance tracing
        # Log records stay breadcrumbs; report_error sends the error itself, once, with its request id.
        integrations=[LoggingIntegration(event_level=None)],
    )
    _tracker_dsn = dsn


def report_error(error: BaseException) -> None:
    """Send an unhandled error to the tracker, tagged with the request id; nothing without ``SENTRY_DSN``."""
    if _tracker_dsn is None:
        return
    import sentry_sdk

    with sentry_sdk.new_scope() as scope:
        if has_request_context():
            scope.set_tag("request_id", request_id())
            scope.set_tag("endpoint", request.endpoint or "")
        sentry_sdk.capture_exception(error)


def flush_error_tracker(timeout: float = 5.0) -> None:
    if _tracker_dsn is not None:
        import sentry_sdk

        sentry_sdk.flush(timeout=timeout)


# --- Readiness -----------------------------------------------------------------------------------


def _database_check() -> Callable[[], None]:
    from traceability.core.extensions import db

    def check() -> None:
        with db.engine.connect() as connection:
            connection.execute(text("SELECT 1"))

    return check


def _replica_check() -> Callable[[], None] | None:
    from traceability.core import replica

    if replica.EXTENSION not in current_app.extensions:
        return None

    def check() -> None:
        with replica.replica_engine().connect() as connection:
            connection.execute(text("SELECT 1"))

    return check


def _redis_check(url: str) -> Callable[[], None]:
    def check() -> None:
        import redis

        client = redis.Redis.from_url(
            url, socket_timeout=PROBE_TIMEOUT_SECONDS, socket_connect_timeout=PROBE_TIMEOUT_SECONDS
        )
        try:
            client.ping()
        finally:
            client.close()

    return check


def readiness_checks() -> dict[str, Callable[[], None]]:
    """What the app needs to serve: name -> a check that raises when it is not there."""
    checks: dict[str, Callable[[], None]] = {"database": _database_check()}
    replica_check = _replica_check()
    if replica_check is not None:
        checks["replica"] = replica_check
    seen: set[str] = set()
    for setting in _REDIS_SETTINGS:
        url = str(current_app.config.get(setting) or "")
        if url.startswith(("redis://", "rediss://", "unix://")) and url not in seen:
            seen.add(url)
            checks[f"redis:{setting}"] = _redis_check(url)
    return checks


def readiness() -> tuple[bool, dict[str, Any]]:
    """Run every check; the answer names each and says ``ok`` or ``unreachable`` (never the error's text)."""
    results: dict[str, str] = {}
    for name, check in readiness_checks().items():
        try:
            check()
        except Exception:  # any failure of a dependency means not ready
            logging.getLogger(__name__).warning("readiness: %s is unreachable", name, exc_info=True)
            results[name] = "unreachable"
        else:
            results[name] = "ok"
    ready = all(value == "ok" for value in results.values())
    return ready, {"status": "ok" if ready else "error", "checks": results}
