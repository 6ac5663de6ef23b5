"""Login throttling: failed sign-ins counted per account and per client address.

Both the sign-in page and ``POST /api/v1/tokens`` go through
``throttled_authenticate``. After LOGIN_LIMIT_PER_ACCOUNT failures for one
email, or LOGIN_LIMIT_PER_ADDRESS failures from one address, within the
window, further attempts are refused (429) without checking the password
until the oldest failure leaves the window; a successful sign-in clears the
account's count.

The counts live in a storage of the ``limits`` library (the one under
Flask-Limiter) named by RATELIMIT_STORAGE_URI: ``memory://`` keeps them in
one process (the default; the tests use it), ``redis://...`` shares them
between every worker and server. We use ``limits`` directly rather than
Flask-Limiter's route decorators because only failures count and two routes
share the same counters.
"""

from __future__ import annotations

import hashlib
import math
import time
from typing import TYPE_CHECKING

from flask import Flask, current_app
from flask_babel import lazy_gettext as _l
from limits import RateLimitItem, parse
from limits.storage import MovingWindowSupport, Storage, storage_from_string
from limits.strategies import FixedWindowRateLimiter, MovingWindowRateLimiter, RateLimiter

from traceability.accounts.service import authenticate
from traceability.errors import TooManyAttempts

if TYPE_CHECKING:
    from traceability.accounts.models import User


class LoginThrottle:
    """The per-app limiter and its two limits; bound to an app with ``init_app``."""

    def init_app(self, app: Flask) -> None:
        uri = app.config["RATELIMIT_STORAGE_URI"]
        storage = storage_from_string(uri)
        app.extensions["login_throttle"] = _AppThrottle(
            storage,
            parse(app.config["LOGIN_LIMIT_PER_ACCOUNT"]),
            parse(app.config["LOGIN_LIMIT_PER_ADDRESS"]),
        )
        if uri.startswith("memory:") and app.config.get("ENV_NAME") == "production":
            app.logger.warning(
                "Login throttling counts in one process's memory: with several workers or servers "
                "set RATELIMIT_STORAGE_URL=redis://... so they share the counts."
            )

    @staticmethod
    def _current() -> _AppThrottle:
        return current_app.extensions["login_throttle"]

    def retry_after(self, email: str, address: str | None) -> int:
        """Seconds until ``email`` from ``address`` may try again; 0 when it may now."""
        return self._current().retry_after(email, address)

    def record_failure(self, email: str, address: str | None) -> None:
        self._current().record_failure(email, address)

    def record_success(self, email: str) -> None:
        self._current().record_success(email)

    def reset(self) -> None:
        """Forget every count (tests, or after a configuration change)."""
        self._current().storage.reset()


class _AppThrottle:
    def __init__(self, storage: Storage, per_account: RateLimitItem, per_address: RateLimitItem) -> None:
        self.storage = storage
        # The moving window forgets each failure exactly its window after it happened;
        # a store without it (memcached) gets fixed windows.
        self.limiter: RateLimiter = (
            MovingWindowRateLimiter(storage)
            if isinstance(storage, MovingWindowSupport)
            else FixedWindowRateLimiter(storage)
        )
        self.per_account = per_account
        self.per_address = per_address

    def _checks(self, email: str, address: str | None) -> list[tuple[RateLimitItem, str, str]]:
        checks = [(self.per_account, "login-account", _account_key(email))]
        if address:
            checks.append((self.per_address, "login-address", address))
        return checks

    def retry_after(self, email: str, address: str | None) -> int:
        wait = 0.0
        for item, kind, key in self._checks(email, address):
            if not self.limiter.test(item, kind, key):
                reset_at = self.limiter.get_window_stats(item, kind, key).reset_time
                wait = max(wait, reset_at - time.time(), 1.0)
        return math.ceil(wait)

    def record_failure(self, email: str, address: str | None) -> None:
        for item, kind, key in self._checks(email, address):
            self.limiter.hit(item, kind, key)

    def record_success(self, email: str) -> None:
        self.limiter.clear(self.per_account, "login-account", _account_key(email))


def _account_key(email: str) -> str:
    # A digest: the counter store holds no email addresses and no over-long keys.
    return hashlib.sha256(email.strip().lower().encode()).hexdigest()


login_throttle = LoginThrottle()


def throttled_authenticate(email: str, password: str, *, address: str | None) -> User | None:
    """``authenticate``, refused with TooManyAttempts while the account or the address is throttled.

    A throttled attempt is refused before the password is checked, so even the
    right password does not get in (nor tells a guesser it was right).
    """
    wait = login_throttle.retry_after(email, address)
    if wait:
        current_app.logger.warning("sign-in throttled for %s from %s", _account_key(email)[:12], address)
        raise TooManyAttempts(
            _l(
                "Too many failed sign-ins. Wait %(minutes)d minutes and try again.",
                minutes=max(1, math.ceil(wait / 60)),
            ),
            retry_after=wait,
        )
    user = authenticate(email, password)
    if user is None:
        login_throttle.record_failure(email, address)
    else:
        login_throttle.record_success(email)
    return user
