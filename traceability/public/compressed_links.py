"""Compressed GS1 Digital Links answered as their uncompressed form (GS1 resolver standard).

A compressed Digital Link (``gs1.compression``) names a lot in one path
segment: ``/ARFKk4XB0CDKWcnpq`` is ``/01/09506000134376/10/LOT01``, and
``/01/{gtin}/{compressed}`` keeps the GTIN in clear. The standard asks a
resolver to decompress it and answer as for the uncompressed URI, without a
redirect to it, exposing that URI in the ``Link`` header with the relation
``owl:sameAs`` (``resolver.with_resolver_headers``).

This WSGI middleware, inside the fast path and before Flask's routing,
rewrites such a request into its uncompressed form: the path, the raw URI
and the query (the compressed string's data attributes and other pairs, then
the request's own query). From there the request is the uncompressed one:
same routes, same page (and page cache entry), same linkset, same redirects,
same 400 for a malformed query attribute. ``UNCOMPRESSED`` in the environ
keeps the uncompressed path and query for the ``owl:sameAs`` link.

A path is taken for a compressed link only when it is one:

- one segment of URI-safe base64 of 10 to 512 characters (a GTIN alone takes
  10) that no route of the app answers (``/lookup``, ``/products`` and every
  route to come keep theirs), or ``/01/{gtin}/{segment}``, which the Digital
  Link route would refuse (an odd number of segments);
- for GET, HEAD or OPTIONS;
- that decompresses, every bit checked, to one GTIN with valid key
  qualifiers (``parse_path``: the check digit, set 82).

Anything else goes on unchanged and answers as before: 404 for an unknown
path, 400 for a malformed Digital Link.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import unquote_to_bytes

from flask import Flask
from werkzeug.exceptions import HTTPException, NotFound

from traceability.gs1 import DigitalLinkError, parse_path
from traceability.gs1.compression import MAX_COMPRESSED_LENGTH, MIN_COMPRESSED_LENGTH, expand
from traceability.public.canonical_paths import raw_path

#: The environ key of the uncompressed path and query of a compressed request.
UNCOMPRESSED = "traceability.uncompressed"
FULLY_COMPRESSED = re.compile(rf"/[A-Za-z0-9_-]{{{MIN_COMPRESSED_LENGTH},{MAX_COMPRESSED_LENGTH}}}/?")
PARTLY_COMPRESSED = re.compile(rf"/01/[0-9]{{8,14}}/[A-Za-z0-9_-]{{1,{MAX_COMPRESSED_LENGTH}}}/?")
METHODS = ("GET", "HEAD", "OPTIONS")

StartResponse = Callable[..., Any]


def init_app(app: Flask) -> None:
    """Put the middleware in front of Flask; call it before ``page_cache.init_app`` so the fast path wraps it."""
    app.wsgi_app = CompressedLinks(app, app.wsgi_app)  # type: ignore[method-assign]


class CompressedLinks:
    """WSGI middleware: a compressed Digital Link's request becomes its uncompressed one (module docstring)."""

    def __init__(
        self, app: Flask, wsgi_app: Callable[[dict[str, Any], StartResponse], Iterable[bytes]]
    ) -> None:
        self.app = app
        self.wsgi_app = wsgi_app

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        if environ.get("REQUEST_METHOD") in METHODS:
            uncompressed = self.uncompressed(environ)
            if uncompressed is not None:
                rewrite(environ, *uncompressed)
        return self.wsgi_app(environ, start_response)

    def uncompressed(self, environ: dict[str, Any]) -> tuple[str, str] | None:
        """The uncompressed path and query of a compressed request; None for any other request."""
        path = raw_path(environ)
        if FULLY_COMPRESSED.fullmatch(path):
            if self._routed(environ):
                return None
        elif not PARTLY_COMPRESSED.fullmatch(path):
            return None
        try:
            expanded = expand(path)
            parse_path(expanded.path)  # a GTIN with a wrong check digit is not taken for a link
        except DigitalLinkError:
            return None
        return expanded.path, expanded.query

    def _routed(self, environ: dict[str, Any]) -> bool:
        """Whether a route of the app answers this path (for any method): then it is not a compressed link."""
        adapter = self.app.url_map.bind_to_environ(environ)
        try:
            adapter.match()
        except NotFound:
            return False
        except HTTPException:  # MethodNotAllowed, RequestRedirect: a route has this path
            return True
        return True


def rewrite(environ: dict[str, Any], path: str, query: str) -> None:
    """Make ``environ`` the request of the uncompressed ``path`` and ``query``, the request's own query after it."""
    own_query = environ.get("QUERY_STRING", "")
    merged = "&".join(part for part in (query, own_query) if part)
    reference = path + (f"?{merged}" if merged else "")
    environ[UNCOMPRESSED] = path + (f"?{query}" if query else "")
    environ["PATH_INFO"] = unquote_to_bytes(path).decode("latin-1")  # WSGI: the decoded bytes
    environ["QUERY_STRING"] = merged
    environ["RAW_URI"] = environ["REQUEST_URI"] = environ.get("SCRIPT_NAME", "") + reference
