"""Cached lot pages answered before Flask: the hottest path of the service.

A consumer's scan is a GET of a lot's URL, most often one the page cache
holds. Flask's request machinery (session, sign-in, routing, hooks) costs
several times the cache lookup, so this WSGI middleware, inside the app's
``ProxyFix``, answers such a request itself: the cached HTML with the headers
the app answered it with the first time (kept with the page), its ETag, a 304
when ``If-None-Match`` matches, and the scan queued like any other. It runs
no query.

Everything else goes on to the app, unchanged: other paths, other methods, a
path spelt otherwise than its canonical form (``canonical_paths``: the app
answers 301 to it), a query string (``?linkType=``), an ``Accept`` naming JSON (the linkset), a
cookie of the session or of a remembered sign-in (the reader may be signed
in, or have chosen a language), a page not cached yet or stale, or one whose
headers are not known yet. The app's answer to a page it stores teaches the
middleware its headers.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from flask import Flask
from werkzeug.datastructures import LanguageAccept
from werkzeug.http import parse_accept_header, parse_etags, remove_entity_headers

from traceability.http.observability import new_request_id
from traceability.public.canonical_paths import canonical_page_path, raw_path
from traceability.public.page_cache import page_key
from traceability.public.scans import record_scan

PAGE_PATHS = ("/01/", "/t/")  # the lots' GS1 Digital Links and short codes (public.routes)
# Headers of one answer only: never replayed from the cache.
NOT_KEPT = {
    "content-length",
    "date",
    "server",
    "connection",
    "set-cookie",
    "etag",
    "x-page-cache",
    "x-request-id",
}

StartResponse = Callable[..., Any]


class FastPath:
    """WSGI middleware: cached lot pages answered without the app (see the module docstring)."""

    def __init__(
        self, app: Flask, wsgi_app: Callable[[dict[str, Any], StartResponse], Iterable[bytes]]
    ) -> None:
        self.app = app
        self.wsgi_app = wsgi_app
        self.session_cookies = (
            app.config.get("SESSION_COOKIE_NAME", "session"),
            app.config.get("REMEMBER_COOKIE_NAME", "remember_token"),
        )

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        language = self._shared_page_language(environ)
        if language is None:
            return self.wsgi_app(environ, start_response)
        cache = self.app.extensions["page_cache"]
        key = page_key(environ, language)
        page = cache.get(key)
        if page is None or not page.headers:
            return self._learn_headers(environ, start_response, key)
        not_modified = parse_etags(environ.get("HTTP_IF_NONE_MATCH")).contains_weak(page.etag)
        headers = [
            *page.headers,
            ("ETag", f'W/"{page.etag}"'),
            ("X-Page-Cache", "hit"),
            ("X-Request-ID", new_request_id(environ.get("HTTP_X_REQUEST_ID"))),
        ]
        if not_modified:
            status, body = "304 Not Modified", b""
            remove_entity_headers(headers)
        else:
            status, body = "200 OK", page.content
            headers.append(("Content-Length", str(len(body))))
        if environ["REQUEST_METHOD"] == "GET":
            record_scan(
                page.batch_id,
                None,
                language,
                environ.get("HTTP_USER_AGENT"),
                buffer=self.app.extensions["scan_buffer"],
            )
        start_response(status, headers)
        return [body] if environ["REQUEST_METHOD"] == "GET" else []

    def _shared_page_language(self, environ: dict[str, Any]) -> str | None:
        """The language of the shared page this request asks for; None when the app must answer."""
        if environ.get("REQUEST_METHOD") not in ("GET", "HEAD") or environ.get("QUERY_STRING"):
            return None
        if not environ.get("PATH_INFO", "").startswith(PAGE_PATHS):
            return None
        path = raw_path(environ)
        if canonical_page_path(path) != path:
            return None  # another spelling: the app answers 301 to the canonical one (or 400, 404)
        if "json" in environ.get("HTTP_ACCEPT", ""):
            return None  # maybe the linkset (resolver.requested_link_type decides)
        cookies = environ.get("HTTP_COOKIE", "")
        if any(name in cookies for name in self.session_cookies):
            return None
        if not self.app.extensions["page_cache"].enabled:
            return None
        # As i18n.select_locale does for a reader without a session.
        accepted = parse_accept_header(environ.get("HTTP_ACCEPT_LANGUAGE"), LanguageAccept)
        return accepted.best_match(
            self.app.config["LANGUAGES"], default=self.app.config["BABEL_DEFAULT_LOCALE"]
        )

    def _learn_headers(
        self, environ: dict[str, Any], start_response: StartResponse, key: str
    ) -> Iterable[bytes]:
        """The app's answer; when it is a page it holds in the cache, keep its headers with the page."""

        def remember_headers(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            names = {name.lower(): value for name, value in headers}
            if (
                status.startswith("200")
                and names.get("x-page-cache") in ("miss", "hit")
                and "set-cookie" not in names
            ):
                kept = [(name, value) for name, value in headers if name.lower() not in NOT_KEPT]
                self.app.extensions["page_cache"].add_headers(key, kept)
            return start_response(status, headers, exc_info) if exc_info else start_response(status, headers)

        return self.wsgi_app(environ, remember_headers)
