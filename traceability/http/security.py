"""Security headers on every response, and the client address behind trusted proxies.

The Content-Security-Policy allows scripts, styles and frames from this site
only: no inline ``<script>``, no ``style=""`` attribute, no ``<style>`` block.
Templates keep their styling in ``static/css/app.css``.
"""

from __future__ import annotations

from flask import Flask, Response, request
from werkzeug.middleware.proxy_fix import ProxyFix

CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "img-src 'self' data:",
        "style-src 'self'",
        "script-src 'self'",
        "frame-ancestors 'none'",
        "form-action 'self'",
        "base-uri 'none'",
        "object-src 'none'",
    )
)
# Chromium shows a PDF through its built-in viewer, which a policy written for
# HTML pages (object-src 'none') can block: a PDF only keeps the framing rule.
PDF_CONTENT_SECURITY_POLICY = "frame-ancestors 'none'"


def init_app(app: Flask) -> None:
    """Trust the configured proxies' X-Forwarded-* headers and add the headers to every response."""
    trusted_proxies = int(app.config.get("TRUSTED_PROXIES") or 0)
    if trusted_proxies > 0:
        # Only as many hops as there are proxies we run: a client can forge the rest.
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app,
            x_for=trusted_proxies,
            x_proto=trusted_proxies,
            x_host=trusted_proxies,
            x_port=trusted_proxies,
            x_prefix=trusted_proxies,
        )

    @app.after_request
    def add_security_headers(response: Response) -> Response:
        headers = response.headers
        if response.mimetype == "application/pdf":
            headers.setdefault("Content-Security-Policy", PDF_CONTENT_SECURITY_POLICY)
        else:
            headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("X-Frame-Options", "DENY")  # frame-ancestors for browsers without CSP 2
        headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
        if served_over_https(app):
            headers.setdefault("Strict-Transport-Security", f"max-age={app.config['HSTS_SECONDS']}")
        return response


def served_over_https(app: Flask) -> bool:
    """Whether this request reached us over HTTPS (directly or, with TRUSTED_PROXIES, via the proxy).

    In production a site configured with PREFERRED_URL_SCHEME=https is taken
    to be HTTPS-only even when the proxy in front does not say so.
    """
    if request.is_secure:
        return True
    return app.config.get("ENV_NAME") == "production" and app.config.get("PREFERRED_URL_SCHEME") == "https"
