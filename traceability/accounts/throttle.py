"""Throttles of the accounts: failed sign-ins, wrong current passwords, sign-ups and API calls.

Failed sign-ins are counted per account and per client address.

Both the sign-in page and ``POST /api/v1/tokens`` go through
``throttled_authenticate``. After LOGIN_LIMIT_PER_ACCOUNT failures for one
email, or LOGIN_LIMIT_PER_ADDRESS failures from one address, within the
window, further attempts are refused (429) without checking the password
until the oldest failure leaves the window; a successful sign-in clears the
account's count.

The other throttles work the same way: PASSWORD_CHECK_LIMIT_PER_ACCOUNT wrong
current passwords on the password change form, SIGNUP_LIMIT_PER_ADDRESS
producer sign-ups from one address, API_RATE_LIMIT calls per API token.

The counts live in the app's ``rate_limits`` (``database://`` by default, or
Redis, on RATELIMIT_STORAGE_URI), so every worker and server shares them. The
database counts are written in the request's transaction: the callers commit
them, also when they refuse the request. We count by hand rather than with
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

from traceability.accounts.service import authenticate, change_password
from traceability.core.errors import InvalidInput, TooManyAttempts
from traceability.http import rate_limits

if TYPE_CHECKING:
    from traceability.models.accounts import ApiToken, User


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
                minutes=_minutes(wait),
            ),
            retry_after=wait,
        )
    user = authenticate(email, password)
    if user is None:
        login_throttle.record_failure(email, address)
    else:
        login_throttle.record_success(email)
    return user


def _minutes(seconds: int) -> int:
    return max(1, math.ceil(seconds / 60))


class PasswordCheckThrottle:
    """Wrong current passwords given to the password change form, per account."""

    @staticmethod
    def _check(user: User) -> tuple[RateLimitItem, str, str]:
        return parse(current_app.config["PASSWORD_CHECK_LIMIT_PER_ACCOUNT"]), "password-check", str(user.id)

    def retry_after(self, user: User) -> int:
        return rate_limits.current().retry_after([self._check(user)])

    def record_failure(self, user: User) -> None:
        rate_limits.current().hit(*self._check(user))


password_check_throttle = PasswordCheckThrottle()


def throttled_change_password(user: User, *, current_password: str, new_password: str) -> User:
    """``change_password``, refused with TooManyAttempts once too many current passwords were wrong.

    Someone at an unlocked, signed-in browser must not be able to guess the
    password by trying it here. A wrong current password is counted (the
    caller commits the count even though the change is refused).
    """
    wait = password_check_throttle.retry_after(user)
    if wait:
        current_app.logger.warning("password change throttled for user %s", user.id)
        raise TooManyAttempts(
            _l(
                "Too many wrong current passwords. Wait %(minutes)d minutes and try again.",
                minutes=_minutes(wait),
            ),
            retry_after=wait,
        )
    try:
        return change_password(user, current_password=current_password, new_password=new_password)
    except InvalidInput as error:
        if "current_password" in (error.fields or {}):
            password_check_throttle.record_failure(user)
        raise


class SignupThrottle:
    """Producer sign-ups submitted from one client address, accepted or not."""

    @staticmethod
    def _check(address: str) -> tuple[RateLimitItem, str, str]:
        return parse(current_app.config["SIGNUP_LIMIT_PER_ADDRESS"]), "sign-up", address

    def check(self, address: str | None) -> None:
        """Refuse with TooManyAttempts while ``address`` is throttled."""
        wait = rate_limits.current().retry_after([self._check(address)]) if address else 0
        if wait:
            raise TooManyAttempts(
                _l(
                    "Too many sign-ups from your network. Wait %(minutes)d minutes and try again.",
                    minutes=_minutes(wait),
                ),
                retry_after=wait,
            )

    def record(self, address: str | None) -> None:
        if address:
            rate_limits.current().hit(*self._check(address))


signup_throttle = SignupThrottle()


def check_api_rate(api_token: ApiToken) -> None:
    """Count one call of ``api_token``; TooManyAttempts once it has made API_RATE_LIMIT calls."""
    item = parse(current_app.config["API_RATE_LIMIT"])
    wait = rate_limits.current().acquire(item, "api-token", str(api_token.id))
    if wait:
        raise TooManyAttempts(
            _l("Too many API calls with this token. Wait %(seconds)d seconds and try again.", seconds=wait),
            retry_after=wait,
        )
