"""Failed sign-ins are throttled per account and per client address, on the web and the API alike."""

from __future__ import annotations

import time

from tests import factories
from traceability import create_app
from traceability.config import TestConfig


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


def test_the_lock_lifts_when_the_window_has_passed(tmp_path, make, db):
    app = _app(tmp_path, LOGIN_LIMIT_PER_ACCOUNT="2 per 1 second")
    with app.app_context():
        db.create_all()
        user = make.user("ministry")
        db.session.commit()
        email = user.email
    client = app.test_client()
    for _attempt in range(2):
        assert token_request(client, email, "wrong-password-99").status_code == 401
    assert token_request(client, email, factories.PASSWORD).status_code == 429
    time.sleep(1.2)
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
        from traceability.accounts.throttle import login_throttle

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
