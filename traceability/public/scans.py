"""Scans: one row per open of a public batch or item page, the only place that writes them.

A scan keeps the batch, the item (for a serialised item's URL), the time of
the request, the page's language and a coarse device class read from the
User-Agent; never the IP address nor the User-Agent itself. Crawlers and link
previews are not scans: ``record_scan`` leaves them out. Scans are written
behind the response, in batches (``scan_buffer``): the page never waits for
the insert, and the page cache does not hear of them (no ORM session).
"""

from __future__ import annotations

import functools
import re
from datetime import datetime

from flask import current_app

from traceability.core.dates import utcnow
from traceability.public.scan_buffer import ScanBuffer

# Crawlers, link previews (chat apps fetch a link to show its card) and HTTP libraries.
# Matched against the lowercased header: IGNORECASE makes these alternations several times slower.
BOT_PATTERN = re.compile(
    r"bot\b|bot/|crawl|spider|slurp|preview|facebookexternalhit|embedly|headless|lighthouse|"
    r"curl/|wget/|python-requests|python-urllib|httpx|go-http-client|okhttp|java/|libwww|scrapy"
)
TABLET_PATTERN = re.compile(r"ipad|tablet|kindle|silk/|playbook|android(?!.*mobile)")
MOBILE_PATTERN = re.compile(r"mobi|iphone|ipod|android|windows phone|opera mini|blackberry")
DESKTOP_PATTERN = re.compile(r"windows nt|macintosh|x11|cros|linux x86_64")


@functools.lru_cache(maxsize=4096)  # a page hit should not pay for four regexes: agents repeat
def device_class(user_agent: str | None) -> str:
    """``bot``, ``tablet``, ``mobile``, ``desktop`` or ``other``, from a User-Agent header."""
    agent = (user_agent or "").lower()
    if not agent.strip() or BOT_PATTERN.search(agent):
        return "bot"  # a real browser always says who it is
    if TABLET_PATTERN.search(agent):
        return "tablet"
    if MOBILE_PATTERN.search(agent):
        return "mobile"
    if DESKTOP_PATTERN.search(agent):
        return "desktop"
    return "other"


def record_scan(
    batch_id: int,
    item_id: int | None,
    language: str,
    user_agent: str | None,
    *,
    buffer: ScanBuffer | None = None,
    scanned_at: datetime | None = None,
) -> bool:
    """Count one open of a public page, timed now and written shortly; False for crawlers and previews."""
    kind = device_class(user_agent)
    if kind == "bot":
        return False
    (buffer or current_app.extensions["scan_buffer"]).add(
        {
            "batch_id": batch_id,
            "item_id": item_id,
            "scanned_at": scanned_at or utcnow(),
            "language": language[:5],
            "device_class": kind,
        }
    )
    return True
