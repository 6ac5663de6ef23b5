"""Login throttling: failed sign-ins counted per account and per client address.

Both the sign-in page and ``POST /api/v1/tokens`` go through
``throttled_authenticate``. After LOGIN_LIMIT_PER_ACCOUNT failures for one
email, or LOGIN_LIMIT_PER_ADDRESS failures from one address, within the
window, further attempts are refused (429) without checking the password
until the oldest failure leaves the window; a successful sign-in clears the
account's count.

The counts live in the app's ``rate_limits`` (the ``limits`` library, the one
under Flask-Limiter, on RATELIMIT_STORAGE_URI). We use ``limits`` directly rather than
Flask-Limiter's route decorators because only failures count and two routes
share the same counters.
"""

from __future__ import annotations

import hashlib
import math
from typing import TYPE_CHECKING

from flask import current_app
from flask_babel import lazy_gettext as _l
from limits import RateLimitItem, parse

from traceability import rate_limits
from traceability.accounts.service import authenticate
from traceability.errors import TooManyAttempts

if TYPE_CHECKING:
    from traceability.accounts.models import User


class LoginThrottle:
    """Failed sign-ins per account and per address, counted in the app's ``rate_limits``."""

    @staticmethod
    def _checks(email: str, address: str | None) -> list[tuple[RateLimitItem, str, str]]:
        # The limits are read at each use, so a changed setting needs no restart of the counters.
        config = current_app.config
        checks = [(parse(config["LOGIN_LIMIT_PER_ACCOUNT"]), "login-account", _account_key(email))]
        if address:
            checks.append((parse(config["LOGIN_LIMIT_PER_ADDRESS"]), "login-address", address))
        return checks

    def retry_after(self, email: str, address: str | None) -> int:
        """Seconds until ``email`` from ``address`` may try again; 0 when it may now."""
        return rate_limits.current().retry_after(self._checks(email, address))

    def record_failure(self, email: str, address: str | None) -> None:
        for item, kind, key in self._checks(email, address):
            rate_limits.current().hit(item, kind, key)

    def record_success(self, email: str) -> None:
        item, kind, key = self._checks(email, None)[0]
        rate_limits.current().clear(item, kind, key)

    def reset(self) -> None:
        """Forget every count (tests, or after a configuration change)."""
        rate_limits.current().reset()


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
