"""Verifying the audit chain: which entry was altered, removed or reordered first.

The walk streams the entries in id order (a server-side cursor on
PostgreSQL, ``yield_per`` rows at a time), so memory stays flat however long
the log is. Each entry must

* hash to its stored ``entry_hash`` (else it was altered, or moved: the hash
  covers the id, and the entries it links back to tell where it was written),
* carry the next id (a gap means entries were removed),
* link to the previous entry's hash (else it was moved, or the previous
  entry was rewritten with a recomputed hash).

Finally the newest entry must be the one ``audit_head`` recorded, which
catches a removed tail. What a walk cannot catch: someone with write access
to the database who rewrites an entry, recomputes every later hash and moves
the head, or who deletes the tail and the head row before the app writes
again (the app then starts a new head at the newest entry left). Against
that, keep the head that ``audit verify`` prints somewhere else (a ticket, a
signed e-mail, another system) and pass it back later with
``--expect ID:HASH``: the chain must still hold that entry with that hash.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import Connection, select

from traceability.audit.service import GENESIS_HASH, entry_hash
from traceability.core.database import sqlite_begin_mode
from traceability.core.extensions import db
from traceability.models.audit import AuditEntry, AuditHead

PROBLEM_KINDS = ("altered", "removed", "reordered", "truncated", "added", "head_missing", "anchor")
_ENTRIES = AuditEntry.__table__
_MAX_LOOKBACK = 32  # how far back a moved entry's original position is traced


@dataclass(frozen=True)
class ChainProblem:
    """The first break in the chain: what happened (``kind``) at which entry id."""

    kind: str
    entry_id: int
    message: str


@dataclass(frozen=True)
class ChainReport:
    """The outcome of a walk: how many entries, the newest one, and the first problem if any."""

    entries: int
    last_id: int | None
    last_hash: str | None
    problem: ChainProblem | None

    @property
    def intact(self) -> bool:
        return self.problem is None


@contextmanager
def _snapshot_connection() -> Iterator[Connection]:
    """A read-only connection that sees one consistent state of the log while the walk runs.

    PostgreSQL: REPEATABLE READ, so appends during the walk neither look like
    an unmoved head nor like a removed tail. SQLite: a deferred transaction
    (a WAL snapshot) that does not hold the write lock.
    """
    token = sqlite_begin_mode.set("DEFERRED")
    try:
        connection = db.engine.connect()
        if connection.dialect.name == "postgresql":
            connection = connection.execution_options(isolation_level="REPEATABLE READ")
        with connection, connection.begin():
            yield connection
    finally:
        sqlite_begin_mode.reset(token)


def _by_hash(connection: Connection, value: str) -> Any:
    return connection.execute(select(_ENTRIES).where(_ENTRIES.c.entry_hash == value)).first()


def _with_id(row: Any, entry_id: int) -> SimpleNamespace:
    return SimpleNamespace(**{**row._asdict(), "id": entry_id})


def _written_as(connection: Connection, row: Any, depth: int = 0) -> int | None:
    """The id ``row`` was hashed with, found through the entries it links back to; None if unknown."""
    if entry_hash(row) == row.entry_hash:
        return row.id
    if depth >= _MAX_LOOKBACK:
        return None
    if row.prev_hash == GENESIS_HASH:
        candidate = 1
    else:
        previous = _by_hash(connection, row.prev_hash)
        previous_id = _written_as(connection, previous, depth + 1) if previous is not None else None
        if previous_id is None:
            return None
        candidate = previous_id + 1
    return candidate if entry_hash(_with_id(row, candidate)) == row.entry_hash else None


def _missing(first: int, last: int) -> str:
    if first == last:
        return _("entry #%(id)d", id=first)
    return _("entries #%(first)d to #%(last)d", first=first, last=last)


def _diagnose(connection: Connection, previous: Any, row: Any, expected_id: int) -> ChainProblem:
    """Explain the first entry that breaks the chain (``previous`` is the last good one, or None)."""
    if entry_hash(row) != row.entry_hash:
        written_as = _written_as(connection, row)
        if written_as is not None and written_as != row.id:
            return ChainProblem(
                "reordered",
                row.id,
                _(
                    "Entry #%(id)d was written as entry #%(original)d: entries were moved or renumbered.",
                    id=row.id,
                    original=written_as,
                ),
            )
        return ChainProblem(
            "altered",
            row.id,
            _("Entry #%(id)d was altered: its content no longer matches its hash.", id=row.id),
        )
    if row.id != expected_id:
        missing = _missing(expected_id, row.id - 1)
        moved = _by_hash(connection, row.prev_hash)
        if moved is not None:
            return ChainProblem(
                "reordered",
                expected_id,
                _(
                    "%(missing)s is not in its place: entry #%(id)d follows the entry now numbered #%(moved)d.",
                    missing=missing,
                    id=row.id,
                    moved=moved.id,
                ),
            )
        return ChainProblem(
            "removed",
            expected_id,
            _(
                "%(missing)s was removed: entry #%(id)d links to an entry that no longer exists.",
                missing=missing,
                id=row.id,
            ),
        )
    # Intact content at the right id, but it does not link to the entry before it.
    moved = _by_hash(connection, row.prev_hash)
    if moved is not None:
        return ChainProblem(
            "reordered",
            row.id,
            _(
                "Entry #%(id)d was moved: it was written after the entry now numbered #%(moved)d.",
                id=row.id,
                moved=moved.id,
            ),
        )
    if previous is None:
        return ChainProblem(
            "altered",
            row.id,
            _("Entry #%(id)d does not start the chain: it was rewritten.", id=row.id),
        )
    return ChainProblem(
        "altered",
        previous.id,
        _(
            "Entry #%(id)d was altered and its hash recomputed: entry #%(next)d still links to its "
            "original hash.",
            id=previous.id,
            next=row.id,
        ),
    )


def _check_head(connection: Connection, head: Any, last: Any) -> ChainProblem | None:
    """The newest entry must be the one the head recorded."""
    last_id = last.id if last is not None else 0
    if head is None:
        if last is None:
            return None
        return ChainProblem(
            "head_missing",
            last_id,
            _("The chain's head record is missing, so entries removed at the end would go unnoticed."),
        )
    if head.last_entry_id > last_id:
        return ChainProblem(
            "truncated",
            last_id + 1,
            _(
                "%(missing)s at the end of the chain were removed: the head records entry #%(head)d.",
                missing=_missing(last_id + 1, head.last_entry_id),
                head=head.last_entry_id,
            ),
        )
    if head.last_entry_id < last_id:
        return ChainProblem(
            "added",
            head.last_entry_id + 1,
            _(
                "%(added)s were added outside the application: the head records entry #%(head)d.",
                added=_missing(head.last_entry_id + 1, last_id),
                head=head.last_entry_id,
            ),
        )
    if head.last_entry_hash != last.entry_hash:
        return ChainProblem(
            "altered",
            last_id,
            _("Entry #%(id)d was replaced: its hash is not the one the head recorded.", id=last_id),
        )
    return None


def verify_chain(*, expect: tuple[int, str] | None = None, batch_size: int = 1000) -> ChainReport:
    """Walk the whole chain and report the first entry that was altered, removed or reordered.

    ``expect`` is an (id, hash) pair recorded earlier outside the database:
    the chain must still contain that entry with that hash.
    """
    with _snapshot_connection() as connection:
        head = connection.execute(
            select(AuditHead.last_entry_id, AuditHead.last_entry_hash).where(AuditHead.id == 1)
        ).first()
        rows = connection.execution_options(yield_per=batch_size).execute(
            select(_ENTRIES).order_by(_ENTRIES.c.id)
        )
        previous: Any = None  # the last good entry's row
        count = 0
        broken: tuple[Any, Any, int] | None = None  # (previous, row, expected id) where the chain breaks
        expected_hash_seen: bool | None = None
        for row in rows:
            expected_id = previous.id + 1 if previous is not None else 1
            previous_hash = previous.entry_hash if previous is not None else GENESIS_HASH
            if row.id != expected_id or row.prev_hash != previous_hash or entry_hash(row) != row.entry_hash:
                broken = (previous, row, expected_id)
                break
            if expect is not None and row.id == expect[0]:
                expected_hash_seen = row.entry_hash == expect[1]
            previous, count = row, count + 1
        rows.close()
        problem: ChainProblem | None
        if broken is not None:
            problem = _diagnose(connection, *broken)
        else:
            problem = _check_head(connection, head, previous)
        if problem is None and expect is not None and not expected_hash_seen:
            problem = ChainProblem(
                "anchor",
                expect[0],
                _(
                    "Entry #%(id)d no longer has the hash recorded outside the database: the chain was "
                    "rewritten or cut short.",
                    id=expect[0],
                ),
            )
        return ChainReport(
            entries=count,
            last_id=previous.id if previous is not None else None,
            last_hash=previous.entry_hash if previous is not None else None,
            problem=problem,
        )
