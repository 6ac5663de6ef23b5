"""Counters of the ``limits`` library, shared by the sign-in and the problem-report throttles.

The storage is named by RATELIMIT_STORAGE_URI: ``memory://`` keeps the counts
in one process (the default; the tests use it), ``redis://...`` shares them
between every worker and server. A moving window forgets each hit exactly its
window after it happened; a store without one (memcached) gets fixed windows.
"""

from __future__ import annotations

import math
import time

from flask import Flask, current_app
from limits import RateLimitItem
from limits.storage import MovingWindowSupport, Storage, storage_from_string
from limits.strategies import FixedWindowRateLimiter, MovingWindowRateLimiter, RateLimiter


class RateLimits:
    """One app's storage and limiter."""

    def __init__(self, storage: Storage) -> None:
        self.storage = storage
        self.limiter: RateLimiter = (
            MovingWindowRateLimiter(storage)
            if isinstance(storage, MovingWindowSupport)
            else FixedWindowRateLimiter(storage)
        )

    def retry_after(self, checks: list[tuple[RateLimitItem, str, str]]) -> int:
        """Whole seconds until every ``(limit, kind, key)`` check allows a hit again; 0 when they do now."""
        wait = 0.0
        for item, kind, key in checks:
            if not self.limiter.test(item, kind, key):
                reset_at = self.limiter.get_window_stats(item, kind, key).reset_time
                wait = max(wait, reset_at - time.time(), 1.0)
        return math.ceil(wait)

    def hit(self, item: RateLimitItem, kind: str, key: str) -> None:
        self.limiter.hit(item, kind, key)

    def clear(self, item: RateLimitItem, kind: str, key: str) -> None:
        self.limiter.clear(item, kind, key)

    def reset(self) -> None:
        """Forget every count (tests, or after a configuration change)."""
        self.storage.reset()


def init_app(app: Flask) -> None:
    """Give the app its counters, ``app.extensions["rate_limits"]``, on RATELIMIT_STORAGE_URI."""
    uri = app.config["RATELIMIT_STORAGE_URI"]
    app.extensions["rate_limits"] = RateLimits(storage_from_string(uri))
    if uri.startswith("memory:") and app.config.get("ENV_NAME") == "production":
        app.logger.warning(
            "Login throttling counts in one process's memory: with several workers or servers "
            "set RATELIMIT_STORAGE_URL=redis://... so they share the counts."
        )


def current() -> RateLimits:
    """The counters of the current app."""
    return current_app.extensions["rate_limits"]
