"""The traceability and product registry: create_app reads like its table of contents."""

from __future__ import annotations

from pathlib import Path

from flask import Flask, g, render_template, request
from werkzeug.exceptions import HTTPException

from traceability import jobs
from traceability.core import replica
from traceability.core.config import INSECURE_DEV_SECRET, PROJECT_ROOT, Config
from traceability.core.database import sqlite_begin_mode
from traceability.core.extensions import babel, csrf, db, login_manager, migrate
from traceability.http import input_guard, observability, rate_limits, security
from traceability.http.converters import IdConverter
from traceability.http.i18n import select_locale


def create_app(config_class: type[Config] = Config) -> Flask:
    """Build the Flask application."""
    app = Flask(
        __name__,
        template_folder=str(PROJECT_ROOT / "templates"),
        static_folder=str(PROJECT_ROOT / "static"),
    )
    app.config.from_object(config_class)
    app.url_map.converters["int"] = IdConverter
    configure(app, config_class)
    register_extensions(app)
    register_blueprints(app)
    register_errorhandlers(app)
    register_template_helpers(app)
    register_commands(app)
    return app


def configure(app: Flask, config_class: type[Config]) -> None:
    """Resolve settings that depend on the instance folder; refuse unsafe production settings."""
    if app.config["ENV_NAME"] == "production" and app.config["SECRET_KEY"] in (None, "", INSECURE_DEV_SECRET):
        raise RuntimeError("SECRET_KEY must be set to a long random value in production.")
    if app.config["ENV_NAME"] == "production" and len(app.config["SECRET_KEY"]) < 32:
        raise RuntimeError("SECRET_KEY must be at least 32 characters in production.")
    observability.init_app(app)  # logs with request ids and the error tracker, before anything logs
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    app.config["SQLALCHEMY_DATABASE_URI"] = config_class.database_url(Path(app.instance_path))
    replica.configure(app)  # refuses DATABASE_REPLICA_URL unless both databases are PostgreSQL
    if not app.config.get("UPLOAD_FOLDER"):
        app.config["UPLOAD_FOLDER"] = str(Path(app.instance_path) / "uploads")


def register_extensions(app: Flask) -> None:
    """Bind the extensions to the app."""
    db.init_app(app)
    replica.init_app(app)
    migrate.init_app(
        app, db, directory=str(PROJECT_ROOT / "migrations"), render_as_batch=True, compare_type=True
    )
    login_manager.init_app(app)
    csrf.init_app(app)
    babel.init_app(app, locale_selector=select_locale)
    jobs.init_app(app)  # the background jobs' queue, opened on first use (traceability.jobs)
    from traceability.public import compressed_links, page_cache, scan_buffer

    scan_buffer.init_app(app)
    compressed_links.init_app(app)  # inside the fast path: compressed links become their uncompressed form
    page_cache.init_app(app)  # before security's ProxyFix wraps the app: the fast path sits inside it
    security.init_app(app)
    input_guard.init_app(app)
    from traceability import models  # noqa: F401 - every model registered on the metadata
    from traceability.batches import epcis_index  # noqa: F401 - keeps the EPCIS query index at each commit

    rate_limits.init_app(app)  # every throttle's counters (sign-ins, reports, sign-ups, API calls)
    from traceability.accounts.sessions import current_session
    from traceability.models.accounts import User

    login_manager.login_view = "accounts.login"
    login_manager.login_message_category = "info"

    from flask_babel import lazy_gettext as _l

    login_manager.login_message = _l("Please sign in to see this page.")

    @login_manager.user_loader
    def load_user(session_id: str) -> User | None:
        # "id:session_version" (User.get_id): a disabled user, or one whose sessions were
        # ended (password reset or changed), is signed out at the next request.
        user_id, _sep, version = session_id.partition(":")
        if not (user_id.isdigit() and version.isdigit()):
            return None
        user = db.session.get(User, int(user_id))
        if user is None or not user.active or (user.session_version or 0) != int(version):
            return None
        # The cookie must name a live server-side session: signing out ended it (accounts.sessions).
        live = current_session(user)
        if live is None:
            return None
        g.user_session = live
        return user

    @app.before_request
    def choose_sqlite_transaction_mode() -> None:
        # Safe methods only read: their SQLite transactions need not take the write lock.
        sqlite_begin_mode.set("DEFERRED" if request.method in ("GET", "HEAD", "OPTIONS") else "IMMEDIATE")


def register_blueprints(app: Flask) -> None:
    """Mount the feature packages: each one's web views are ``<feature>.routes.bp``, its areas under it."""
    from traceability.accounts.routes import bp as accounts_bp
    from traceability.api import epcis_rest_capture as _capture  # noqa: F401 - declares the binding's routes
    from traceability.api import epcis_rest_queries as _queries  # noqa: F401
    from traceability.api import routes as _api_routes  # noqa: F401 - declares the operations
    from traceability.api.blueprint import bp as api_bp
    from traceability.api.epcis_rest import bp as epcis_bp
    from traceability.batches.routes import bp as batches_bp
    from traceability.field.routes import bp as field_bp
    from traceability.inspections.routes import bp as inspections_bp
    from traceability.notifications.routes import bp as notifications_bp
    from traceability.public.routes import bp as public_bp
    from traceability.registry.routes import bp as registry_bp
    from traceability.reports.routes import bp as reports_bp

    for blueprint in (
        public_bp,
        accounts_bp,
        registry_bp,
        batches_bp,
        inspections_bp,
        field_bp,
        notifications_bp,
        reports_bp,
        api_bp,
        epcis_bp,
    ):
        app.register_blueprint(blueprint)


def register_errorhandlers(app: Flask) -> None:
    """JSON errors under /api/, translated HTML pages elsewhere."""
    from flask_babel import gettext as _
    from flask_wtf.csrf import CSRFError

    from traceability.api.epcis_rest import http_problem, is_binding_path, server_problem
    from traceability.api.errors import HTTP_MESSAGES, error_response, http_error_response

    @app.errorhandler(HTTPException)
    def handle_http_error(error: HTTPException):
        if is_binding_path(request.path):  # the EPCIS REST binding: RFC 7807 problems
            return http_problem(error)
        if request.path.startswith("/api/"):
            return http_error_response(error)
        # A reason given with abort() is ours and translated; Werkzeug's defaults are English only.
        reason = error.description if error.description != type(error).description else None
        if isinstance(error, CSRFError):
            reason = _(
                "The form expired or did not come from this site. Go back, reload the page and try again."
            )
        message = reason or HTTP_MESSAGES.get(error.code or 500, error.name)
        return render_template("errors/error.html", code=error.code, message=message), error.code

    @app.errorhandler(Exception)
    def handle_unexpected(error: Exception):
        app.logger.exception("unhandled error")
        observability.report_error(error)
        db.session.rollback()
        if is_binding_path(request.path):
            return server_problem()
        if request.path.startswith("/api/"):
            return error_response(500, HTTP_MESSAGES[500])
        return render_template("errors/error.html", code=500, message=HTTP_MESSAGES[500]), 500


def register_template_helpers(app: Flask) -> None:
    """Globals the templates use: the current language and the province names."""
    from functools import partial

    from flask_babel import format_date, format_decimal, get_locale

    from traceability.accounts.service import manages_users
    from traceability.batches.service import current_events, event_party, local_time, person_label
    from traceability.core.dates import VIETNAM_OFFSET
    from traceability.core.provinces import province_name
    from traceability.core.vocabulary import (
        EVENT_TYPE_LABELS,
        RECALL_OUTCOME_LABELS,
        ROLE_LABELS,
        STATUS_LABELS,
        UNIT_SYMBOLS,
        label,
    )
    from traceability.public.placeholders import placeholder_path

    app.jinja_env.globals.update(
        get_locale=get_locale,
        province_name=province_name,
        role_label=partial(label, ROLE_LABELS),
        status_label=partial(label, STATUS_LABELS),
        event_label=partial(label, EVENT_TYPE_LABELS),
        recall_outcome_label=partial(label, RECALL_OUTCOME_LABELS),
        event_local_time=local_time,
        product_placeholder=placeholder_path,
        event_party=event_party,
        person_label=person_label,
        current_events=current_events,
        manages_users=manages_users,
    )
    app.jinja_env.filters["unit"] = partial(label, UNIT_SYMBOLS)
    app.jinja_env.filters["date"] = lambda value: format_date(value, "dd/MM/yyyy") if value else ""
    # Every time a page shows is Vietnam's: stored instants are UTC, event times carry their offset.
    app.jinja_env.filters["vietnam"] = lambda value: value.astimezone(VIETNAM_OFFSET) if value else value
    app.jinja_env.filters["datetime"] = lambda value: (
        (value.astimezone(VIETNAM_OFFSET) if value.tzinfo else value).strftime("%d/%m/%Y %H:%M")
        if value
        else ""
    )
    app.jinja_env.filters["quantity"] = lambda value: format_decimal(value) if value is not None else ""


def register_commands(app: Flask) -> None:
    """The flask commands: create-centre, create-user, seed-demo."""
    from traceability.cli import register

    register(app)
