"""The one spelling of each consumer page's path: what the page cache keys on, and where other spellings go.

A lot's page has many spellings: ``/01/09506000134352/10/%42OT2603A`` is
``/01/09506000134352/10/BOT2603A`` (GS1 Digital Link: percent-encoding
normalises), ``/01/9506000134352/...`` its GTIN-14 form, and ``/t/k5mq...``
the ``/t/`` code in upper case (base32). Each spelling keyed its own cache
entry and rendered the page again, so anyone could fill the cache's disk and
go around the cache. Now the canonical spelling alone is served (and cached):
any other answers 301 to it (``public.routes``), and the fast path
(``fast_path``) passes it on to the app to do so.

Pure functions on the WSGI environ: the fast path calls them on every scan,
before Flask, so they cost a few microseconds and run no query.
"""

from __future__ import annotations

import functools
import re
from typing import Any
from urllib.parse import quote, unquote, urlsplit

from traceability.gs1 import DigitalLinkError, parse_path

SHORT_CODE = re.compile(r"[A-Z2-7]{1,32}")  # base32 (batches.service.new_public_code), upper case


def raw_path(environ: dict[str, Any]) -> str:
    """The request's path still percent-encoded, without the script root.

    The raw path keeps an encoded ``/`` in a lot code inside its segment;
    without one (a server that gives no ``RAW_URI``/``REQUEST_URI``), the
    decoded ``PATH_INFO`` encoded again.
    """
    raw = environ.get("RAW_URI") or environ.get("REQUEST_URI")
    path = urlsplit(raw).path if raw else quote(environ.get("PATH_INFO", ""))
    script_root = environ.get("SCRIPT_NAME", "")
    if script_root and path.startswith(script_root):
        path = path[len(script_root) :]
    return path


def short_code_path(code: str) -> str:
    return f"/t/{code}"


@functools.lru_cache(maxsize=1024)  # the hot lots' paths parse once per worker; 1,024 request lines at most
def canonical_page_path(path: str) -> str | None:
    """The canonical spelling of a lot's or item's page ``path`` (percent-encoded); None when it names no page.

    ``/01/...``: the Digital Link's own path (GTIN-14, each value encoded
    the one way ``DigitalLink.path`` does). ``/t/{code}``: the code decoded
    and in upper case. A malformed path names no page (the app answers why).
    """
    segments = path.split("/")
    if len(segments) < 3 or segments[0]:
        return None
    first = unquote(segments[1])
    if first == "t" and len(segments) == 3:
        code = unquote(segments[2]).upper()
        return short_code_path(code) if SHORT_CODE.fullmatch(code) else None
    if first == "01":
        try:
            return parse_path(path).path()
        except DigitalLinkError:
            return None
    return None
