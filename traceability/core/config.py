"""Settings read from the environment.

Every setting has a development default except SECRET_KEY in production:
``create_app`` refuses to start without a real one.
"""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]
INSECURE_DEV_SECRET = "dev-only-insecure-secret"  # noqa: S105 - refused in production


def _psycopg_url(url: str) -> str:
    # Heroku-style URLs and bare postgresql:// pick psycopg 3, the driver we ship.
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    return url


def _database_url(instance_path: Path) -> str:
    url = os.environ.get("DATABASE_URL")
    if not url:
        return f"sqlite:///{instance_path / 'traceability.sqlite3'}"
    return _psycopg_url(url)


def _replica_url() -> str | None:
    url = os.environ.get("DATABASE_REPLICA_URL")
    return _psycopg_url(url) if url else None


class Config:
    """Configuration for development and production, from the environment."""

    ENV_NAME = os.environ.get("TRACEABILITY_ENV", "development")
    TESTING = False
    SECRET_KEY = os.environ.get("SECRET_KEY", INSECURE_DEV_SECRET)
    DATABASE_URL: str | None = None  # resolved in create_app (needs the instance path)
    # A PostgreSQL streaming replica the public pages read from (traceability.core.replica); unset: the primary.
    DATABASE_REPLICA_URL = _replica_url()
    PUBLIC_BASE_URL = os.environ.get("PUBLIC_BASE_URL", "http://localhost:5000").rstrip("/")
    UPLOAD_FOLDER = os.environ.get("UPLOAD_FOLDER")  # default: instance/uploads
    MAX_CONTENT_LENGTH = int(os.environ.get("MAX_CONTENT_LENGTH", str(16 * 1024 * 1024)))
    API_TOKEN_DAYS = int(os.environ.get("API_TOKEN_DAYS", "90"))
    MAX_IMAGE_BYTES = int(os.environ.get("MAX_IMAGE_BYTES", str(8 * 1024 * 1024)))
    MAX_DOCUMENT_BYTES = int(os.environ.get("MAX_DOCUMENT_BYTES", str(10 * 1024 * 1024)))
    # Retention (DESIGN.md): months a batch is kept after its expiry date, or after production without one.
    RETENTION_MONTHS_AFTER_EXPIRY = int(os.environ.get("RETENTION_MONTHS_AFTER_EXPIRY", "12"))
    RETENTION_MONTHS_WITHOUT_EXPIRY = int(os.environ.get("RETENTION_MONTHS_WITHOUT_EXPIRY", "60"))

    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}
    SQLALCHEMY_TRACK_MODIFICATIONS = False

    BABEL_DEFAULT_LOCALE = "vi"
    BABEL_DEFAULT_TIMEZONE = "Asia/Ho_Chi_Minh"
    BABEL_TRANSLATION_DIRECTORIES = str(PROJECT_ROOT / "translations")
    LANGUAGES = ("vi", "en")

    WTF_CSRF_TIME_LIMIT = None  # the token lives as long as the session
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = ENV_NAME == "production"
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_SECURE = ENV_NAME == "production"

    # Behind nginx or a load balancer: how many proxies in front set X-Forwarded-For
    # and -Proto (0: none, the client address is the peer's). Never more than you run.
    TRUSTED_PROXIES = int(os.environ.get("TRUSTED_PROXIES", "0"))
    PREFERRED_URL_SCHEME = os.environ.get(
        "PREFERRED_URL_SCHEME", "https" if ENV_NAME == "production" else "http"
    )
    HSTS_SECONDS = int(os.environ.get("HSTS_SECONDS", str(365 * 24 * 3600)))

    # Logs on standard error: json (one object per line; the default in production) or text,
    # at LOG_LEVEL; LOG_REQUESTS writes one line per request Flask serves (traceability.http.observability).
    LOG_FORMAT = os.environ.get("LOG_FORMAT", "json" if ENV_NAME == "production" else "text")
    LOG_LEVEL = os.environ.get("LOG_LEVEL", "INFO")
    LOG_REQUESTS = os.environ.get("LOG_REQUESTS", "true").lower() in ("1", "true", "yes", "on")
    # An error tracker speaking Sentry's protocol (Sentry, GlitchTip); unset, nothing is sent.
    SENTRY_DSN = os.environ.get("SENTRY_DSN") or None

    # Failed sign-ins, per account and per client address ("N per M minutes").
    # Every throttle's counts live in RATELIMIT_STORAGE_URI, shared by all workers and
    # servers: database:// (the default, the app's database) or redis://host:6379/0;
    # memory:// (one process only) is refused in production.
    RATELIMIT_STORAGE_URI = (
        os.environ.get("RATELIMIT_STORAGE_URL") or os.environ.get("REDIS_URL") or "database://"
    )
    LOGIN_LIMIT_PER_ACCOUNT = os.environ.get("LOGIN_LIMIT_PER_ACCOUNT", "5 per 15 minutes")
    LOGIN_LIMIT_PER_ADDRESS = os.environ.get("LOGIN_LIMIT_PER_ADDRESS", "20 per 15 minutes")
    # Wrong current passwords on the password change form, per account.
    PASSWORD_CHECK_LIMIT_PER_ACCOUNT = os.environ.get("PASSWORD_CHECK_LIMIT_PER_ACCOUNT", "5 per 15 minutes")
    # Producer sign-ups submitted from one client address.
    SIGNUP_LIMIT_PER_ADDRESS = os.environ.get("SIGNUP_LIMIT_PER_ADDRESS", "5 per hour")
    # Calls per API token; more answer 429 with Retry-After.
    API_RATE_LIMIT = os.environ.get("API_RATE_LIMIT", "600 per minute")
    # The EPCIS 2.0 REST binding (/epcis): the most events one page answers (a larger perPage
    # answers this many), and how long a nextPageToken stays valid (seconds).
    EPCIS_MAX_PER_PAGE = int(os.environ.get("EPCIS_MAX_PER_PAGE", "500"))
    EPCIS_PAGE_TOKEN_SECONDS = int(os.environ.get("EPCIS_PAGE_TOKEN_SECONDS", "86400"))
    # The consumer page cache: a folder (default instance/page-cache) shared by one machine's
    # workers, redis://host:6379/1 shared by several machines, or "null" (off).
    PAGE_CACHE_URL = os.environ.get("PAGE_CACHE_URL")
    # At most this many files in a page cache folder (pages of about 4 KB, and their generations).
    PAGE_CACHE_MAX_ENTRIES = int(os.environ.get("PAGE_CACHE_MAX_ENTRIES", "20000"))
    # Pages each worker keeps in memory once checked, served while nothing changed (0: none).
    PAGE_CACHE_MEMO_ENTRIES = int(os.environ.get("PAGE_CACHE_MEMO_ENTRIES", "2000"))
    # Scans are written behind the response: each worker inserts its queue this often (seconds).
    SCAN_WRITE_INTERVAL = float(os.environ.get("SCAN_WRITE_INTERVAL", "0.5"))
    # Consumers' problem reports sent from one client address (public report form).
    REPORT_LIMIT_PER_ADDRESS = os.environ.get("REPORT_LIMIT_PER_ADDRESS", "10 per hour")
    # When a serialised item's page warns of a copied code (traceability.public.copied_codes).
    COPIED_CODE_SCANS = int(os.environ.get("COPIED_CODE_SCANS", "20"))
    COPIED_CODE_DAYS = int(os.environ.get("COPIED_CODE_DAYS", "7"))
    COPIED_CODE_WINDOW_MINUTES = int(os.environ.get("COPIED_CODE_WINDOW_MINUTES", "10"))
    # The most lots of a chain, in each direction, that the chain page, the API's trace, the chain
    # spreadsheet and the EPCIS document read: the nearest ones; each says when the chain is larger.
    CHAIN_MAX_LOTS = int(os.environ.get("CHAIN_MAX_LOTS", "1000"))
    # Label sheets (traceability.batches.label_sheets, label_jobs): serialised items one lot may
    # have, labels one print job may hold, and hours a finished job's PDF is kept before removal.
    MAX_ITEMS_PER_LOT = int(os.environ.get("MAX_ITEMS_PER_LOT", "100000"))
    MAX_LABELS_PER_JOB = int(os.environ.get("MAX_LABELS_PER_JOB", "100000"))
    LABEL_JOB_KEEP_HOURS = float(os.environ.get("LABEL_JOB_KEEP_HOURS", "48"))
    # A label job's time from its first start to its end, retries included (seconds), and how long
    # a running job's heartbeat may stop before its worker is presumed dead and the job runs again.
    LABEL_JOB_TIME_LIMIT = float(os.environ.get("LABEL_JOB_TIME_LIMIT", "1800"))
    LABEL_JOB_LEASE_SECONDS = float(os.environ.get("LABEL_JOB_LEASE_SECONDS", "120"))
    # The background jobs' queue (traceability.jobs): unset, a SQLite file in the instance folder
    # (one machine); redis://host:6379/2 for several. JOB_WORKERS: jobs one worker runs at once.
    JOB_QUEUE_URL = os.environ.get("JOB_QUEUE_URL") or None
    JOB_WORKERS = int(os.environ.get("JOB_WORKERS", "2"))
    # When the worker removes the batches past their retention period (cron, Vietnam time,
    # e.g. "30 2 * * *"); empty: never by itself, only with `flask retention purge --apply`.
    RETENTION_PURGE_SCHEDULE = os.environ.get("RETENTION_PURGE_SCHEDULE", "")
    # How many months of raw scans are kept (traceability.public.scan_retention): older months are
    # dropped whole by the worker each night; empty or 0 keeps every scan. Their daily counts stay.
    SCAN_RETENTION_MONTHS = int(os.environ.get("SCAN_RETENTION_MONTHS") or "0")
    # How long the first answer of a write sent with an Idempotency-Key is kept to answer its repeats
    # (traceability.idempotency): a week, so a phone that comes back online days later still repeats safely.
    IDEMPOTENCY_KEEP_HOURS = float(os.environ.get("IDEMPOTENCY_KEEP_HOURS", "168"))

    # Notifications by email (traceability.notifications): the SMTP server (unset: no emails, the
    # in-app list only), STARTTLS on port 587 or TLS from the start (MAIL_USE_SSL, port 465), the
    # account, the sender, seconds to wait for the server, and days a message is retried before
    # it is given up. NOTIFICATION_KEEP_DAYS: how long notifications stay in the users' lists.
    MAIL_SERVER = os.environ.get("MAIL_SERVER", "")
    MAIL_PORT = int(os.environ.get("MAIL_PORT", "587"))
    MAIL_USE_SSL = os.environ.get("MAIL_USE_SSL", "false").lower() in ("1", "true", "yes", "on")
    MAIL_USE_STARTTLS = os.environ.get("MAIL_USE_STARTTLS", str(not MAIL_USE_SSL)).lower() in (
        "1",
        "true",
        "yes",
        "on",
    )
    MAIL_USERNAME = os.environ.get("MAIL_USERNAME", "")
    MAIL_PASSWORD = os.environ.get("MAIL_PASSWORD", "")
    MAIL_FROM = os.environ.get("MAIL_FROM", "")  # default: noreply@ the host of PUBLIC_BASE_URL
    MAIL_TIMEOUT = float(os.environ.get("MAIL_TIMEOUT", "30"))
    MAIL_RETRY_DAYS = float(os.environ.get("MAIL_RETRY_DAYS", "4"))
    NOTIFICATION_KEEP_DAYS = float(os.environ.get("NOTIFICATION_KEEP_DAYS", "365"))

    @classmethod
    def database_url(cls, instance_path: Path) -> str:
        return cls.DATABASE_URL or _database_url(instance_path)


class TestConfig(Config):
    """Configuration for the test suite: a throwaway database, fast hashing."""

    ENV_NAME = "testing"
    TESTING = True
    SECRET_KEY = "test-secret"  # noqa: S105
    PUBLIC_BASE_URL = "https://trace.example.vn"
    DATABASE_URL = os.environ.get("TEST_DATABASE_URL") or "sqlite://"
    DATABASE_REPLICA_URL = None  # tests/public/test_replica.py configures its own
    SESSION_COOKIE_SECURE = False
    REMEMBER_COOKIE_SECURE = False
    RATELIMIT_STORAGE_URI = "database://"  # the default set-up, shared by two apps on one database
    PAGE_CACHE_URL = "null"  # tests/conftest.py gives the suite's app a folder of its own
    SCAN_WRITE_INTERVAL = 3600.0  # a test writes the queued scans itself, with flush()
    PASSWORD_HASH_METHOD = "pbkdf2:sha256:1000"  # noqa: S105 - speed only; production keeps scrypt
    MAIL_SERVER = ""  # no emails; tests/notifications start their own SMTP server
