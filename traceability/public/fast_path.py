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

import functools
import logging
from collections.abc import Callable, Iterable
from typing import Any

from flask import Flask
from flask_babel import force_locale
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.datastructures import LanguageAccept
from werkzeug.http import parse_accept_header, parse_etags, remove_entity_headers

from traceability.core.dates import utcnow
from traceability.core.extensions import db
from traceability.gs1 import DigitalLinkError, parse_path
from traceability.http.observability import new_request_id
from traceability.public.canonical_paths import canonical_page_path, raw_path
from traceability.public.consumer import copied_code_rule
from traceability.public.copied_codes import ScanMark
from traceability.public.item_pages import fill, fills_exactly, item_facts
from traceability.public.item_scans import (
    COUNTED_SCAN,
    CountedScan,
    ItemRef,
    count_item_scan,
    item_at_digital_link,
    item_of_code,
    tally_engine,
)
from traceability.public.page_cache import item_page_key, page_etag, page_key
from traceability.public.resolver import ITEM_PAGE
from traceability.public.scans import device_class, record_scan

log = logging.getLogger(__name__)

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
        self._engine: Engine | None = None
        self.session_cookies = (
            app.config.get("SESSION_COOKIE_NAME", "session"),
            app.config.get("REMEMBER_COOKIE_NAME", "remember_token"),
        )

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        path = raw_path(environ)
        language = self._shared_page_language(environ, path)
        if language is None:
            return self.wsgi_app(environ, start_response)
        cache = self.app.extensions["page_cache"]
        key = page_key(environ, language, canonical=path)  # the canonical spelling: checked above
        item_id = _item_at(path)
        page = cache.get(key) if item_id is None or path.startswith("/t/") else None
        if page is None or not page.headers:
            if item_id is not None:
                answer = self._item_page(environ, start_response, language, item_id)
                if answer is not None:
                    return answer
            return self._learn_headers(environ, start_response, key)
        if environ["REQUEST_METHOD"] == "GET":
            record_scan(
                page.batch_id,
                None,
                language,
                environ.get("HTTP_USER_AGENT"),
                buffer=self.app.extensions["scan_buffer"],
            )
        return self._answer(environ, start_response, list(page.headers), page.etag, page.content)

    def _answer(
        self,
        environ: dict[str, Any],
        start_response: StartResponse,
        headers: list[tuple[str, str]],
        etag: str,
        content: bytes,
    ) -> Iterable[bytes]:
        """The page with its kept headers and ETag, or 304 when ``If-None-Match`` names it."""
        not_modified = parse_etags(environ.get("HTTP_IF_NONE_MATCH")).contains_weak(etag)
        headers = [
            *headers,
            ("ETag", f'W/"{etag}"'),
            ("X-Page-Cache", "hit"),
            ("X-Request-ID", new_request_id(environ.get("HTTP_X_REQUEST_ID"))),
        ]
        if not_modified:
            status, body = "304 Not Modified", b""
            remove_entity_headers(headers)
        else:
            status, body = "200 OK", content
            headers.append(("Content-Length", str(len(body))))
        start_response(status, headers)
        return [body] if environ["REQUEST_METHOD"] == "GET" else []

    @property
    def tally_engine(self) -> Engine:
        """The engine of the items' tallies, on the primary (``item_scans.tally_engine``)."""
        if self._engine is None:
            with self.app.app_context():
                self._engine = tally_engine(db.engine)
        return self._engine

    def _item_page(
        self,
        environ: dict[str, Any],
        start_response: StartResponse,
        language: str,
        item_id: ItemRef,
    ) -> Iterable[bytes] | None:
        """A serialised item's page from its lot's shared item page (``item_pages``), its scan counted; None to pass on.

        The scan is counted first (one UPDATE ... RETURNING on PostgreSQL,
        committed by itself), which names the item's lot and so its shared
        page. When that page is not cached the app answers, with the scan
        already counted (``COUNTED_SCAN``): a page served is one scan counted,
        whichever answers it.
        """
        user_agent = environ.get("HTTP_USER_AGENT")
        mark = ScanMark(utcnow(), device_class(user_agent))
        counting = environ["REQUEST_METHOD"] == "GET" and mark.device_class != "bot"
        rule = copied_code_rule(self.app.config)
        cache = self.app.extensions["page_cache"]
        if not counting:  # a crawler or a HEAD: the app reads the tally, from a replica when there is one
            return None
        try:
            with self.tally_engine.begin() as connection:
                # An item's first scan starts its tally here too, from its stored scans (read on the primary).
                counted = count_item_scan(connection, item_id, mark, rule.window)
        except SQLAlchemyError:  # the database is away, or dropped this connection: the app counts it
            log.warning("item scan not counted before the app", exc_info=True)
            return None
        if counted is None:  # no such item (a lot's /t/ code not cached, a mistyped serial): the app answers
            return None
        page = cache.get(item_page_key(environ, language, counted.batch_id))
        if (
            page is None
            or not page.headers
            or not page.nonce
            or not fills_exactly(counted.serial, counted.public_code)
        ):
            environ[COUNTED_SCAN] = CountedScan(mark, counted)
            return None
        with self.app.app_context(), force_locale(language):
            facts = item_facts(counted.tally, rule, page.report_url)
        html = fill(page.html, page.nonce, counted.serial, counted.public_code, facts)
        etag = page_etag(html)
        headers = [
            (name, fill(value, page.nonce, counted.serial, counted.public_code, facts))
            for name, value in page.headers
        ]
        record_scan(
            counted.batch_id,
            counted.item_id,
            language,
            user_agent,
            buffer=self.app.extensions["scan_buffer"],
            scanned_at=mark.scanned_at,
        )
        return self._answer(environ, start_response, headers, etag, html.encode())

    def _shared_page_language(self, environ: dict[str, Any], path: str) -> str | None:
        """The language of the shared page at ``path`` (the raw path); None when the app must answer."""
        if environ.get("REQUEST_METHOD") not in ("GET", "HEAD") or environ.get("QUERY_STRING"):
            return None
        if not environ.get("PATH_INFO", "").startswith(PAGE_PATHS):
            return None
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
                page_key, real_url, marker_url = environ.get(ITEM_PAGE) or (key, "", "")
                if real_url:  # an item's answer: kept for its lot's shared item page, with the markers
                    kept = [(name, value.replace(real_url, marker_url)) for name, value in kept]
                self.app.extensions["page_cache"].add_headers(page_key, kept)
            return start_response(status, headers, exc_info) if exc_info else start_response(status, headers)

        return self.wsgi_app(environ, remember_headers)


@functools.lru_cache(maxsize=1024)  # bounded; a code scanned again parses once
def _item_at(path: str) -> ItemRef | None:
    """The item a canonical page path may name; None when it names no item.

    A GS1 Digital Link with a serial names one; a ``/t/`` code may be a lot's or an item's.
    """
    if path.startswith("/t/"):
        return item_of_code(path[3:])
    if "/21/" not in path:  # a lot's page, the hot path: no second parse of its Digital Link
        return None
    try:
        link = parse_path(path)
    except DigitalLinkError:
        return None
    if link.serial is None or link.lot is None or link.variant is not None:
        return None
    return item_at_digital_link(link.gtin14, link.lot, link.serial)
