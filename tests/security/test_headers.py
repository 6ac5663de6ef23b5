"""Security headers on every response, HSTS only over HTTPS, cookies a script cannot read."""

from __future__ import annotations

import subprocess
import sys

import pytest
from flask import Response

from traceability import create_app
from traceability.core.config import PROJECT_ROOT, TestConfig
from traceability.http.security import CONTENT_SECURITY_POLICY

EXPECTED_POLICY = {
    "default-src": "'self'",
    "img-src": "'self' data:",
    "style-src": "'self'",
    "script-src": "'self'",
    "frame-ancestors": "'none'",
    "form-action": "'self'",
    "base-uri": "'none'",
    "object-src": "'none'",
}


def policy(response) -> dict[str, str]:
    directives = (part.strip() for part in response.headers["Content-Security-Policy"].split(";"))
    return dict(directive.split(" ", 1) for directive in directives if directive)


def assert_common_headers(response) -> None:
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert response.headers["X-Frame-Options"] == "DENY"


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/", 200),
        ("/login", 200),
        ("/healthz", 200),
        ("/manage", 302),
        ("/no-such-page", 404),
        ("/api/v1/openapi.json", 200),
        ("/api/v1/producers/1", 401),
        ("/static/css/app.css", 200),
    ],
)
def test_every_response_carries_the_policy_and_headers(client, path, status):
    response = client.get(path)
    response.close()  # a static file's stream
    assert response.status_code == status
    assert policy(response) == EXPECTED_POLICY
    assert "unsafe-inline" not in response.headers["Content-Security-Policy"]
    assert_common_headers(response)


def test_a_server_error_page_carries_them_too(tmp_path):
    app = _separate_app(tmp_path)

    @app.route("/boom")
    def boom():
        raise RuntimeError("kaput")

    response = app.test_client().get("/boom")
    assert response.status_code == 500
    assert policy(response) == EXPECTED_POLICY
    assert_common_headers(response)


def test_a_pdf_keeps_only_the_framing_rule_so_the_browser_viewer_shows_it(tmp_path):
    app = _separate_app(tmp_path)

    @app.route("/document.pdf")
    def document():
        return Response(b"%PDF-1.4\n%%EOF\n", mimetype="application/pdf")

    response = app.test_client().get("/document.pdf")
    assert response.headers["Content-Security-Policy"] == "frame-ancestors 'none'"
    assert_common_headers(response)


def test_hsts_only_over_https(client):
    assert "Strict-Transport-Security" not in client.get("/healthz").headers
    secure = client.get("/healthz", base_url="https://trace.example.vn")
    assert secure.headers["Strict-Transport-Security"] == "max-age=31536000"


def test_behind_a_trusted_proxy_its_https_and_client_address_count(tmp_path):
    app = _separate_app(tmp_path, TRUSTED_PROXIES=1)

    @app.route("/whoami")
    def whoami():
        from flask import request

        return {"address": request.remote_addr, "secure": request.is_secure}

    forwarded = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.7"}
    response = app.test_client().get("/whoami", headers=forwarded)
    assert response.get_json() == {"address": "203.0.113.7", "secure": True}
    assert "Strict-Transport-Security" in response.headers


def test_without_trusted_proxies_forwarded_headers_are_ignored(tmp_path):
    app = _separate_app(tmp_path)

    @app.route("/whoami")
    def whoami():
        from flask import request

        return {"address": request.remote_addr, "secure": request.is_secure}

    forwarded = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.7"}
    response = app.test_client().get("/whoami", headers=forwarded)
    assert response.get_json() == {"address": "127.0.0.1", "secure": False}
    assert "Strict-Transport-Security" not in response.headers


def test_production_over_https_sends_hsts_even_when_the_proxy_does_not_say_https(tmp_path):
    app = _separate_app(tmp_path, ENV_NAME="production", SECRET_KEY="p" * 40, PREFERRED_URL_SCHEME="https")
    assert "Strict-Transport-Security" in app.test_client().get("/healthz").headers


def test_session_cookie_is_httponly_and_samesite_lax(web, tenants):
    response = web.login(tenants["daklak"].staff.email)
    cookie = next(value for value in response.headers.getlist("Set-Cookie") if value.startswith("session="))
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie


def test_production_cookies_are_secure_only_and_https_is_preferred():
    # Config reads the environment when it is imported: ask a fresh interpreter.
    code = (
        "from traceability.core.config import Config as C; "
        "print(C.SESSION_COOKIE_SECURE, C.REMEMBER_COOKIE_SECURE, C.SESSION_COOKIE_HTTPONLY, "
        "C.SESSION_COOKIE_SAMESITE, C.PREFERRED_URL_SCHEME)"
    )
    env = {"TRACEABILITY_ENV": "production", "PATH": "/usr/bin:/bin"}
    output = subprocess.run(
        [sys.executable, "-c", code], env=env, cwd=PROJECT_ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    assert output == ["True", "True", "True", "Lax", "https"]


def test_the_policy_constant_is_what_the_design_asks():
    assert "; ".join(f"{name} {value}" for name, value in EXPECTED_POLICY.items()) == CONTENT_SECURITY_POLICY


def _separate_app(tmp_path, **settings):
    """An app of its own (routes can be added to it), on its own SQLite file."""
    config = type(
        "SeparateConfig",
        (TestConfig,),
        {
            "DATABASE_URL": f"sqlite:///{tmp_path / 'separate.sqlite3'}",
            "UPLOAD_FOLDER": str(tmp_path),
            **settings,
        },
    )
    return create_app(config)
