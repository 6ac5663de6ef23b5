"""The page a notification points at, as a path on this site; emails put PUBLIC_BASE_URL before it.

Built from endpoint names in a request, in the worker and on the command line
alike (no request context needed). The names are listed here, in one place,
so a renamed view is fixed once. A name that no longer builds is logged and
the link falls back to the user's overview: a notification never stops the
change that causes it.
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import urlsplit

from flask import current_app
from werkzeug.routing import BuildError

from traceability.gs1 import batch_uri

log = logging.getLogger(__name__)

PAGES = {
    "producer": "registry.producers.detail",
    "certification": "registry.certifications.detail",
    "product": "registry.product_detail",
    "batch": "batches.batch_detail",
    "problem_reports": "public.problem_reports.index",
    "overview": "registry.dashboard",
    "notifications": "notifications.index",
    "settings": "notifications.settings",
}


def page_path(page: str, **values: Any) -> str:
    """The path of one of ``PAGES`` with its URL ``values`` (others go in the query string)."""
    adapter = current_app.url_map.bind("localhost")
    try:
        return adapter.build(PAGES[page], values, force_external=False)
    except BuildError:
        log.exception("no view for notification link %s %r", PAGES[page], values)
        return adapter.build(PAGES["overview"], {}, force_external=False)


def absolute(path: str) -> str:
    """``path`` on the public site (PUBLIC_BASE_URL), as an email gives it."""
    if urlsplit(path).scheme:
        return path
    return f"{current_app.config['PUBLIC_BASE_URL'].rstrip('/')}{path}"


def public_lot_path(gtin: str | None, lot_code: str, public_code: str) -> str:
    """The consumer page of a lot, as its QR code encodes it, without the domain."""
    return batch_uri("", gtin, lot_code) if gtin else f"/t/{public_code}"
