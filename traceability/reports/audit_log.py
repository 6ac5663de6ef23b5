"""Reading the audit log: the filtered, scoped list of entries and an entry's before/after diff."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, select
from wtforms import SelectChoice

from traceability.accounts.scope import scoped_select
from traceability.audit.service import NATIONAL_CHAIN, centre_of_chain, chain_of, entry_hash
from traceability.core.dates import VIETNAM_OFFSET
from traceability.core.extensions import db
from traceability.core.text import like_pattern
from traceability.models.accounts import User
from traceability.models.audit import AuditEntry
from traceability.models.registry import Centre, Producer

ACTION_LABELS = {
    "create": _l("Created"),
    "update": _l("Changed"),
    "delete": _l("Deleted"),
    "approve": _l("Approved"),
    "reject": _l("Rejected"),
    "suspend": _l("Suspended"),
    "reinstate": _l("Reinstated"),
    "verify": _l("Verified"),
    "enable": _l("Account enabled"),
    "disable": _l("Account disabled"),
    "issue_token": _l("API token issued"),
    "login": _l("Signed in"),
    "login_failed": _l("Sign-in refused"),
    "logout": _l("Signed out"),
    "reset_password": _l("Password reset"),
    "change_password": _l("Password changed"),
    "recall": _l("Recalled"),
    "close": _l("Closed"),
    "return_to_sale": _l("Returned to sale"),
    "consume": _l("Used up"),
    "purge": _l("Removed after retention"),
    "answer": _l("Answered"),
    "reopen": _l("Reopened"),
}

OBJECT_TYPE_LABELS = {
    "Centre": _l("Centre"),
    "Producer": _l("Producer"),
    "User": _l("User"),
    "ApiToken": _l("API token"),
    "Location": _l("Location"),
    "Product": _l("Product"),
    "ProductImage": _l("Product image"),
    "Certification": _l("Certification"),
    "Batch": _l("Batch"),
    "BatchInput": _l("Lineage link"),
    "TraceEvent": _l("Event"),
    "Item": _l("Item"),
    "Recall": _l("Recall"),
    "Inspection": _l("Inspection"),
    "InspectionPhoto": _l("Inspection photo"),
    "Report": _l("Problem report"),  # ProblemReport.__audit_type__
}


def action_label(code: str) -> str:
    return str(ACTION_LABELS.get(code, code))


def object_type_label(code: str) -> str:
    return str(OBJECT_TYPE_LABELS.get(code, code))


def _local_midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=VIETNAM_OFFSET)


def audit_entries(filters: dict[str, Any], user: Any = None) -> Select:
    """The entries ``user`` may read matching ``filters``, newest first.

    Filters: ``date_from`` and ``date_to`` (days in Vietnam, both included),
    ``user`` (part of an email), ``object_type``, ``object_id``, ``action``,
    ``producer_id`` and ``chain`` (a chain key, ``national`` or ``centre:ID``).
    """
    query = scoped_select(AuditEntry, user)
    # The first and last days of the calendar bound nothing, and their midnights
    # in Vietnam fall outside what a datetime holds once converted to UTC.
    if filters.get("date_from") and filters["date_from"] > date.min:
        query = query.where(AuditEntry.occurred_at >= _local_midnight(filters["date_from"]))
    if filters.get("date_to") and filters["date_to"] < date.max:
        query = query.where(AuditEntry.occurred_at < _local_midnight(filters["date_to"] + timedelta(days=1)))
    if filters.get("user"):
        emails = select(User.id).where(User.email.like(like_pattern(filters["user"].lower()), escape="\\"))
        query = query.where(AuditEntry.user_id.in_(emails))
    if filters.get("object_type"):
        query = query.where(AuditEntry.object_type == filters["object_type"])
    if filters.get("object_id"):
        query = query.where(AuditEntry.object_id == str(filters["object_id"]))
    if filters.get("action"):
        query = query.where(AuditEntry.action == filters["action"])
    if filters.get("producer_id"):
        query = query.where(AuditEntry.producer_id == int(filters["producer_id"]))
    if filters.get("chain"):
        query = query.where(AuditEntry.chain == filters["chain"])
    return query.order_by(AuditEntry.id.desc())


@dataclass(frozen=True)
class Names:
    """Who and which tenant the entries on a page name, looked up once for the page."""

    users: dict[int, User]
    centres: dict[int, str]
    producers: dict[int, str]

    def chain(self, key: str) -> str:
        """A chain as a reader names it: its centre's name, or "National"."""
        return chain_label(key, self.centres)


def chain_label(key: str, centres: dict[int, str]) -> str:
    """``key``'s centre name from ``centres`` (by id), "National" for the national chain."""
    try:
        centre_id = centre_of_chain(key)
    except ValueError:
        return key
    if centre_id is None:
        return _("National")
    return centres.get(centre_id, f"#{centre_id}")


def chain_choices(user: Any = None) -> list[SelectChoice]:
    """The chain filter: "All", "National", then the chain of each centre ``user`` may see, by name.

    At most one per centre (34): the ministry's list; a centre's users get their own.
    """
    centres = db.session.execute(
        scoped_select(Centre, user).with_only_columns(Centre.id, Centre.name).order_by(Centre.name)
    ).all()
    return [
        SelectChoice("", _("All")),
        SelectChoice(NATIONAL_CHAIN, _("National")),
        *(SelectChoice(chain_of(centre_id), name) for centre_id, name in centres),
    ]


def names_for(entries: list[AuditEntry]) -> Names:
    """The users, centres (of the entries and of their chains) and producers the entries refer to, in three
    queries."""

    def ids(attribute: str) -> set[int]:
        return {value for entry in entries if (value := getattr(entry, attribute)) is not None}

    users = {user.id: user for user in db.session.scalars(select(User).where(User.id.in_(ids("user_id"))))}
    centre_ids = ids("centre_id") | {
        centre_id for entry in entries if (centre_id := _chain_centre(entry.chain)) is not None
    }
    centres = dict(db.session.execute(select(Centre.id, Centre.name).where(Centre.id.in_(centre_ids))).all())
    producers = dict(
        db.session.execute(
            select(Producer.id, Producer.name).where(Producer.id.in_(ids("producer_id")))
        ).all()
    )
    return Names(users, centres, producers)


def _chain_centre(key: str) -> int | None:
    try:
        return centre_of_chain(key)
    except ValueError:
        return None


def _shown(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return str(value)


@dataclass(frozen=True)
class FieldChange:
    """One field of an entry's object: its value before and after, and whether it changed."""

    name: str
    before: str
    after: str
    changed: bool


def diff(entry: AuditEntry) -> list[FieldChange]:
    """The fields of ``before`` and ``after``, changed ones first, then in name order."""
    before, after = entry.before or {}, entry.after or {}
    rows = []
    for name in sorted(set(before) | set(after)):
        old, new = before.get(name), after.get(name)
        changed = (name in before) != (name in after) or old != new
        if entry.before is None or entry.after is None:
            changed = True  # a creation or a removal: every field is news
        rows.append(FieldChange(name, _shown(old), _shown(new), changed))
    return sorted(rows, key=lambda row: (not row.changed, row.name))


def hash_matches(entry: AuditEntry) -> bool:
    """Whether the entry's content still matches the hash it was written with."""
    return entry_hash(entry) == entry.entry_hash


@dataclass(frozen=True)
class PreviousEntry:
    """The entry before one in its chain: None when that position holds none (it was removed), and
    whether the reader may open it."""

    entry: AuditEntry | None
    readable: bool

    @property
    def links(self) -> bool:
        """Whether the reader may follow the link to it."""
        return self.entry is not None and self.readable


def previous_in_chain(entry: AuditEntry, user: Any = None) -> PreviousEntry:
    """The entry at the position before ``entry``'s in its chain, and whether ``user`` may read it.

    The national chain holds every province's older entries, so a centre's
    reader may not be allowed to open the entry before one of its own there.
    """
    previous = db.session.scalar(
        select(AuditEntry).where(AuditEntry.chain == entry.chain, AuditEntry.position == entry.position - 1)
    )
    if previous is None:
        return PreviousEntry(None, False)
    readable = db.session.scalar(
        scoped_select(AuditEntry, user).with_only_columns(AuditEntry.id).where(AuditEntry.id == previous.id)
    )
    return PreviousEntry(previous, readable is not None)
