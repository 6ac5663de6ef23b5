"""Failed sign-ins are throttled per account and per client address, on the web and the API alike."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import timedelta

import pytest
from flask import has_request_context
from sqlalchemy import event, func, make_url, select
from sqlalchemy.orm import Session

from tests import factories
from tests.databases import scratch_database
from tests.registry.test_producers import _sign_up_form
from traceability import create_app
from traceability.accounts.throttle import login_throttle
from traceability.core.config import Config, TestConfig
from traceability.core.dates import utcnow
from traceability.http import rate_limits
from traceability.models.registry import Location, Producer


def login(client, email: str, password: str, address: str = "127.0.0.1"):
    page = client.get("/login", environ_base={"REMOTE_ADDR": address})
    token = page.get_data(as_text=True).split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
    return client.post(
        "/login",
        data={"email": email, "password": password, "csrf_token": token},
        environ_base={"REMOTE_ADDR": address},
        headers={"Accept-Language": "en"},
    )


def token_request(client, email: str, password: str, address: str = "127.0.0.1"):
    return client.post(
        "/api/v1/tokens",
        json={"email": email, "password": password},
        environ_base={"REMOTE_ADDR": address},
        headers={"Accept-Language": "en"},
    )


def test_five_failures_lock_the_account_even_for_the_right_password(client, tenants):
    email = tenants["daklak"].staff.email
    for _attempt in range(5):
        assert login(client, email, "wrong-password-99").status_code == 401
    response = login(client, email, factories.PASSWORD)
    assert response.status_code == 429
    assert "Too many failed sign-ins. Wait 15 minutes and try again." in response.get_data(as_text=True)
    assert 800 < int(response.headers["Retry-After"]) <= 900
    assert client.get("/manage").status_code == 302  # not signed in
    # The API shares the count: no token either, from any address.
    response = token_request(client, email, factories.PASSWORD, address="198.51.100.4")
    assert response.status_code == 429
    assert response.get_json()["error"]["code"] == "too_many_requests"
    assert "Retry-After" in response.headers
    # Another account is not affected.
    assert login(client, tenants["daklak"].admin.email, factories.PASSWORD).status_code == 302


def test_a_successful_sign_in_clears_the_account_count(client, tenants):
    email = tenants["daklak"].staff.email
    for _attempt in range(4):
        assert login(client, email, "wrong-password-99").status_code == 401
    assert login(client, email, factories.PASSWORD).status_code == 302
    for _attempt in range(4):
        assert token_request(client, email, "wrong-password-99").status_code == 401
    assert token_request(client, email, factories.PASSWORD).status_code == 201


def test_one_address_trying_many_accounts_is_stopped_after_twenty_failures(client, make, db, tenants):
    for number in range(20):
        # Unknown accounts count against the address as much as known ones.
        assert (
            token_request(client, f"khong-co-{number}@example.vn", "guess-12345", "203.0.113.9").status_code
            == 401
        )
    blocked = token_request(client, tenants["daklak"].staff.email, factories.PASSWORD, "203.0.113.9")
    assert blocked.status_code == 429
    assert login(client, tenants["daklak"].admin.email, factories.PASSWORD, "203.0.113.9").status_code == 429
    # Another address signs in to the same account.
    assert (
        token_request(client, tenants["daklak"].staff.email, factories.PASSWORD, "203.0.113.10").status_code
        == 201
    )


def test_the_lock_lifts_when_the_window_has_passed(tmp_path, make, db, monkeypatch):
    app = _app(tmp_path, LOGIN_LIMIT_PER_ACCOUNT="2 per 15 minutes")
    with app.app_context():
        db.create_all()
        user = make.user("ministry")
        db.session.commit()
        email = user.email
    client = app.test_client()
    for _attempt in range(2):
        assert token_request(client, email, "wrong-password-99").status_code == 401
    locked = token_request(client, email, factories.PASSWORD)
    assert locked.status_code == 429
    assert 14 * 60 < int(locked.headers["Retry-After"]) <= 15 * 60
    # The counters' clock (the database storage reads utcnow) moves past the window: no sleeping.
    later = utcnow() + timedelta(minutes=15, seconds=1)
    monkeypatch.setattr(rate_limits, "utcnow", lambda: later)
    assert token_request(client, email, factories.PASSWORD).status_code == 201


def test_behind_a_trusted_proxy_each_forwarded_client_has_its_own_count(tmp_path, make, db):
    app = _app(tmp_path, TRUSTED_PROXIES=1, LOGIN_LIMIT_PER_ADDRESS="3 per 15 minutes")
    with app.app_context():
        db.create_all()
    client = app.test_client()

    def attempt(forwarded_for: str):
        return client.post(
            "/api/v1/tokens",
            json={"email": "ai-do@example.vn", "password": "guess-12345"},
            headers={"X-Forwarded-For": forwarded_for},
        )

    for _attempt in range(3):
        assert attempt("203.0.113.20").status_code == 401
    assert attempt("203.0.113.20").status_code == 429
    assert attempt("203.0.113.21").status_code == 401  # another client behind the same proxy


def test_without_trusted_proxies_a_forged_forwarded_for_does_not_escape_the_count(client):
    for number in range(20):
        response = client.post(
            "/api/v1/tokens",
            json={"email": f"ai-do-{number}@example.vn", "password": "guess-12345"},
            headers={"X-Forwarded-For": f"198.51.100.{number}"},
        )
        assert response.status_code == 401
    response = client.post(
        "/api/v1/tokens",
        json={"email": "nguoi-khac@example.vn", "password": "guess-12345"},
        headers={"X-Forwarded-For": "198.51.100.99"},
    )
    assert response.status_code == 429


# Redis: the counts shared by every worker and server -------------------------------------------


def test_with_redis_two_servers_share_the_counts(tmp_path, redis_url, make, db):
    database = f"sqlite:///{tmp_path / 'shared.sqlite3'}"
    first = _app(tmp_path, RATELIMIT_STORAGE_URI=redis_url, DATABASE_URL=database)
    second = _app(tmp_path, RATELIMIT_STORAGE_URI=redis_url, DATABASE_URL=database)
    with first.app_context():
        db.create_all()
        user = make.user("ministry")
        db.session.commit()
        email = user.email
    with first.app_context():
        login_throttle.reset()
    for attempt in range(5):
        server = first if attempt % 2 else second
        assert token_request(server.test_client(), email, "wrong-password-99").status_code == 401
    assert token_request(first.test_client(), email, factories.PASSWORD).status_code == 429
    assert token_request(second.test_client(), email, factories.PASSWORD).status_code == 429


def _app(tmp_path, **settings):
    settings.setdefault("DATABASE_URL", f"sqlite:///{tmp_path / 'throttle.sqlite3'}")
    config = type("ThrottleConfig", (TestConfig,), {"UPLOAD_FOLDER": str(tmp_path), **settings})
    return create_app(config)


# Issue 14: every throttle, shared by every worker without Redis ---------------------------------


def change_password(web, current: str, address: str = "127.0.0.1"):
    new = "mot-mat-khau-moi-2026"
    return web.post_form(
        "/account/password",
        {"current_password": current, "new_password": new, "new_password_again": new},
        headers={"Accept-Language": "en"},
        environ_base={"REMOTE_ADDR": address},
    )


def test_wrong_current_passwords_are_throttled_even_the_right_one_then(web, tenants, db):
    web.login(tenants["daklak"].staff.email)
    for _attempt in range(5):
        assert change_password(web, "khong-phai-mat-khau").status_code == 422
    response = change_password(web, factories.PASSWORD)
    assert response.status_code == 429
    assert "Too many wrong current passwords. Wait 15 minutes and try again." in response.get_data(
        as_text=True
    )
    assert 800 < int(response.headers["Retry-After"]) <= 900
    db.session.refresh(tenants["daklak"].staff)
    assert tenants["daklak"].staff.password_changed_at is None


@pytest.fixture
def shared_database(tmp_path) -> Iterator[str]:
    """A database of its own for two apps: a SQLite file, or a scratch PostgreSQL database."""
    url = os.environ.get("TEST_DATABASE_URL", "")
    if not url.startswith("postgres"):
        yield f"sqlite:///{tmp_path / 'workers.sqlite3'}"
        return
    url = url.replace("postgresql://", "postgresql+psycopg://", 1)
    with scratch_database(url, f"{make_url(url).database}_workers") as own:
        yield own


def test_two_workers_without_redis_share_the_counts_in_the_database(tmp_path, shared_database, make, db):
    """Two apps on one database stand for two gunicorn workers (or two servers) with the default set-up."""
    assert (
        os.environ.get("RATELIMIT_STORAGE_URL") or os.environ.get("REDIS_URL") or "database://"
    ) == Config.RATELIMIT_STORAGE_URI
    first = _app(tmp_path, DATABASE_URL=shared_database, API_RATE_LIMIT="4 per minute")
    second = _app(tmp_path, DATABASE_URL=shared_database, API_RATE_LIMIT="4 per minute")
    with first.app_context():
        db.create_all()
        email = make.user("ministry").email
        db.session.commit()
    try:
        for attempt in range(5):
            server = first if attempt % 2 else second
            assert token_request(server.test_client(), email, "wrong-password-99").status_code == 401
        assert token_request(first.test_client(), email, factories.PASSWORD).status_code == 429
        assert token_request(second.test_client(), email, factories.PASSWORD).status_code == 429
        # API calls per token too: four calls, half on each worker, then 429 on both.
        with first.app_context():
            login_throttle.reset()
        token = token_request(first.test_client(), email, factories.PASSWORD).get_json()["token"]
        headers = {"Authorization": f"Bearer {token}"}
        for attempt in range(4):
            server = first if attempt % 2 else second
            assert server.test_client().get("/api/v1/tokens", headers=headers).status_code == 200
        for server in (first, second):
            assert server.test_client().get("/api/v1/tokens", headers=headers).status_code == 429
    finally:
        for server in (first, second):
            with server.app_context():
                db.session.remove()
                db.engine.dispose()


def test_memory_counts_are_refused_in_production(monkeypatch):
    config = type(
        "ProductionConfig",
        (TestConfig,),
        {"ENV_NAME": "production", "SECRET_KEY": "x" * 40, "RATELIMIT_STORAGE_URI": "memory://"},
    )
    with pytest.raises(RuntimeError, match="memory://"):
        create_app(config)


def test_each_api_token_is_limited_to_api_rate_limit_calls(app, api, client, tenants, monkeypatch):
    monkeypatch.setitem(app.config, "API_RATE_LIMIT", "3 per minute")
    own = tenants["daklak"]
    for _call in range(3):
        assert api.get(f"/producers/{own.producer.id}", own.staff).status_code == 200
    response = api.get(f"/producers/{own.producer.id}", own.staff, headers={"Accept-Language": "en"})
    assert response.status_code == 429
    assert 0 < int(response.headers["Retry-After"]) <= 60
    error = response.get_json()["error"]
    assert error["code"] == "too_many_requests" and "Too many API calls with this token" in error["message"]
    # Another token, even of the same user, has its own count.
    assert api.get(f"/producers/{own.producer.id}", own.admin).status_code == 200


def test_sign_ups_from_one_address_are_limited(web, tenants, db):
    for _attempt in range(5):  # valid forms the service refuses (no centre there) count as well
        response = web.post_form("/producers/sign-up", _sign_up_form(province_code="96"))
        assert response.status_code == 422
    response = web.post_form("/producers/sign-up", _sign_up_form(), headers={"Accept-Language": "en"})
    assert response.status_code == 429
    assert "Too many sign-ups from your network." in response.get_data(as_text=True)
    assert int(response.headers["Retry-After"]) > 0
    assert db.session.scalar(select(Producer).where(Producer.tax_code == "6000777001")) is None


def test_sign_up_answers_the_same_whether_or_not_the_email_has_an_account(web, tenants, db):
    existing = tenants["daklak"].staff
    taken = web.post_form(
        "/producers/sign-up", _sign_up_form(user_email=existing.email.upper(), tax_code="6000777002")
    )
    new = web.post_form("/producers/sign-up", _sign_up_form())
    assert (taken.status_code, taken.headers["Location"]) == (new.status_code, new.headers["Location"])
    assert db.session.scalar(select(Producer).where(Producer.tax_code == "6000777002")) is None
    db.session.refresh(existing)
    assert existing.role == "centre_staff"
    assert web.client.get("/manage").status_code == 302  # signed in by neither


def test_failed_api_calls_count_and_only_the_count_commits_without_waiting_for_the_disk(
    app, api, db, tenants, monkeypatch
):
    monkeypatch.setitem(app.config, "API_RATE_LIMIT", "3 per minute")
    own = tenants["daklak"]
    postgresql = db.engine.dialect.name == "postgresql"
    settings: list[str] = []  # per commit: "off" (set for this transaction) or the server's setting

    def record_setting(session, *_args):
        # The setting each commit of the call runs under (PostgreSQL; SQLite keeps its own).
        if postgresql and has_request_context():
            # Its value and where it comes from: "session" is the transaction's own SET LOCAL; the work
            # keeps the server's default (which a test server may itself set to off).
            row = (
                session.connection()
                .exec_driver_sql("SELECT setting, source FROM pg_settings WHERE name = 'synchronous_commit'")
                .one()
            )
            settings.append("off" if tuple(row) == ("off", "session") else "server's")

    assert api.get(f"/producers/{own.producer.id}", own.producer_user).status_code == 200  # its token made
    event.listen(Session, "before_commit", record_setting)
    try:
        refused = api.post("/locations", own.producer_user, json={"name": "Kho", "kind": "no-such-kind"})
        assert refused.status_code == 422
        refused_settings, settings[:] = list(settings), []
        created = api.post("/locations", own.producer_user, json={"name": "Kho mới", "kind": "warehouse"})
        assert created.status_code == 201
        created_settings = list(settings)
    finally:
        event.remove(Session, "before_commit", record_setting)
    if postgresql:
        assert refused_settings == ["off"]  # the count only: the refused work was rolled back
        # The location is a record: its commit keeps the server's setting (waits for the disk by default).
        assert created_settings == ["off", "server's"]
    # The refused call counted: the next is the fourth.
    assert api.get(f"/producers/{own.producer.id}", own.producer_user).status_code == 429
    assert db.session.scalar(select(func.count()).select_from(Location).where(Location.name == "Kho")) == 0
