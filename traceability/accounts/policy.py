"""Who may act on what: the rules that name a role and a centre, in one place.

Centre staff (``centre_admin`` and ``centre_staff``; auditors read, they do not
decide) act on the records of their own centre's producers: they approve
producers, verify certificates and claims, close problem reports and recalls,
carry out inspections and decide GTIN disputes. The tenant scope
(``accounts.scope``) says what a user may *see*; these say what the people
who see a record may *do* with it.
"""

from __future__ import annotations

from typing import Any

# The centre's people who decide; auditors only read.
STAFF_ROLES = ("centre_admin", "centre_staff")


def is_centre_staff(user: Any) -> bool:
    """Whether ``user`` is a centre's admin or staff (not an auditor)."""
    return getattr(user, "role", None) in STAFF_ROLES and getattr(user, "centre_id", None) is not None


def is_centre_staff_of(user: Any, producer: Any) -> bool:
    """Whether ``user`` is staff of the centre ``producer`` belongs to (its province's centre)."""
    return is_centre_staff(user) and user.centre_id == producer.centre_id
