"""Verifying the audit chains: which entry of which chain was altered, removed or reordered first.

Every centre has its own chain and the ministry's entries form the national
one (``traceability.audit.service``). A walk streams one chain's entries in
position order (a server-side cursor on PostgreSQL, ``yield_per`` rows at a
time), so memory stays flat however long the chain is. Each entry must

* hash to its stored ``entry_hash`` (else it was altered, or moved: the hash
  covers the position, and the entries it links back to tell where it was
  written),
* carry the next position (a gap means entries were removed),
* link to the previous entry's hash (else it was moved, or the previous
  entry was rewritten with a recomputed hash).

Finally the newest entry must be the one the chain's ``audit_head`` row
recorded, which catches a removed tail.

Incremental runs (the nightly one): a walk that finds a chain intact keeps
its head as the chain's checkpoint (``audit_checkpoint``); the next run
checks that the checkpoint's entry is still there with the same hash and
content, then reads only the entries after it. A change to an earlier entry
is caught only by a full walk (``--full``, the monthly one).

What a walk cannot catch: someone with write access to the database who
rewrites an entry, recomputes every later hash and moves the head, or who
deletes the tail and the head row before the app writes again. Against that,
keep the heads that ``audit verify`` prints somewhere else (a ticket, a
signed e-mail, another system) and pass one back later with
``--expect ID:HASH``: the log must still hold that entry with that hash.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from types import SimpleNamespace
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import Connection, select

from traceability.audit.service import (
    GENESIS_HASH,
    LEGACY_HASH_VERSION,
    NATIONAL_CHAIN,
    centre_of_chain,
    chain_of,
    entry_hash,
)
from traceability.core.database import sqlite_begin_mode
from traceability.core.dates import utcnow
from traceability.core.extensions import db
from traceability.models.audit import AuditCheckpoint, AuditEntry, AuditHead
from traceability.models.registry import Centre

PROBLEM_KINDS = (
    "altered",
    "removed",
    "reordered",
    "truncated",
    "added",
    "head_missing",
    "anchor",
    "checkpoint",
)
_ENTRIES = AuditEntry.__table__
_MAX_LOOKBACK = 32  # how far back a moved entry's original position is traced


@dataclass(frozen=True)
class ChainProblem:
    """The first break in a chain: what happened (``kind``) at which position (and entry id, if known)."""

    kind: str
    chain: str
    position: int
    entry_id: int | None
    message: str


@dataclass(frozen=True)
class Checkpoint:
    """Where an incremental walk started: the head a previous walk found intact, and when."""

    position: int
    entry_id: int
    entry_hash: str
    verified_at: datetime


@dataclass(frozen=True)
class ChainReport:
    """One chain's walk: its entries up to the newest, how many rows were read, the first problem if any."""

    chain: str
    entries: int
    rows_read: int
    last_position: int | None
    last_id: int | None
    last_hash: str | None
    problem: ChainProblem | None
    since: Checkpoint | None = None  # the checkpoint an incremental walk started from

    @property
    def intact(self) -> bool:
        return self.problem is None


@dataclass(frozen=True)
class AuditReport:
    """The walk of every chain asked for."""

    chains: list[ChainReport] = field(default_factory=list)

    @property
    def problems(self) -> list[ChainProblem]:
        return [report.problem for report in self.chains if report.problem is not None]

    @property
    def problem(self) -> ChainProblem | None:
        """The first problem found (chains in order: national first, then by centre)."""
        problems = self.problems
        return problems[0] if problems else None

    @property
    def intact(self) -> bool:
        return not self.problems

    @property
    def entries(self) -> int:
        return sum(report.entries for report in self.chains)

    @property
    def rows_read(self) -> int:
        return sum(report.rows_read for report in self.chains)

    def chain(self, key: str) -> ChainReport:
        return next(report for report in self.chains if report.chain == key)


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


def _chain_order(chain: str) -> tuple[int, int]:
    try:
        centre_id = centre_of_chain(chain)
    except ValueError:
        return (2, 0)
    return (0, 0) if centre_id is None else (1, centre_id)


def known_chains() -> list[str]:
    """Every chain there is or should be: the national one, every centre's, any with a head or checkpoint."""
    chains = {NATIONAL_CHAIN}
    chains.update(chain_of(centre_id) for centre_id in db.session.scalars(select(Centre.id)))
    chains.update(db.session.scalars(select(AuditHead.chain)))
    chains.update(db.session.scalars(select(AuditCheckpoint.chain)))
    return sorted(chains, key=lambda chain: (_chain_order(chain), chain))


def _by_hash(connection: Connection, value: str) -> Any:
    return connection.execute(select(_ENTRIES).where(_ENTRIES.c.entry_hash == value)).first()


def _with_position(row: Any, position: int) -> SimpleNamespace:
    values = row._asdict()
    if row.hash_version == LEGACY_HASH_VERSION:
        values["id"] = position  # a legacy entry's position is the id its hash covers
    return SimpleNamespace(**{**values, "position": position})


def _written_at(connection: Connection, row: Any, depth: int = 0) -> int | None:
    """The position ``row`` was hashed at, found through the entries it links back to; None if unknown."""
    if entry_hash(row) == row.entry_hash:
        return int(row.position)
    if depth >= _MAX_LOOKBACK:
        return None
    if row.prev_hash == GENESIS_HASH:
        candidate = 1
    else:
        previous = _by_hash(connection, row.prev_hash)
        previous_position = _written_at(connection, previous, depth + 1) if previous is not None else None
        if previous_position is None:
            return None
        candidate = previous_position + 1
    return candidate if entry_hash(_with_position(row, candidate)) == row.entry_hash else None


def _positions(first: int, last: int) -> str:
    if first == last:
        return _("position %(n)d", n=first)
    return _("positions %(first)d to %(last)d", first=first, last=last)


def _diagnose(connection: Connection, chain: str, previous: Any, row: Any, expected: int) -> ChainProblem:
    """Explain the first entry that breaks ``chain`` (``previous`` is the last good one, or None)."""
    if entry_hash(row) != row.entry_hash:
        written_at = _written_at(connection, row)
        if written_at is not None and written_at != row.position:
            return ChainProblem(
                "reordered",
                chain,
                row.position,
                row.id,
                _(
                    "Chain %(chain)s: entry #%(id)d at position %(position)d was written at position "
                    "%(original)d: entries were moved.",
                    chain=chain,
                    id=row.id,
                    position=row.position,
                    original=written_at,
                ),
            )
        return ChainProblem(
            "altered",
            chain,
            row.position,
            row.id,
            _(
                "Chain %(chain)s: entry #%(id)d at position %(position)d was altered: its content no longer "
                "matches its hash.",
                chain=chain,
                id=row.id,
                position=row.position,
            ),
        )
    moved = _by_hash(connection, row.prev_hash)
    if row.position != expected:
        missing = _positions(expected, row.position - 1)
        if moved is not None:
            return ChainProblem(
                "reordered",
                chain,
                expected,
                None,
                _(
                    "Chain %(chain)s: %(missing)s is not in its place: entry #%(id)d follows the entry now at "
                    "position %(moved)d.",
                    chain=chain,
                    missing=missing,
                    id=row.id,
                    moved=moved.position,
                ),
            )
        return ChainProblem(
            "removed",
            chain,
            expected,
            None,
            _(
                "Chain %(chain)s: %(missing)s was removed: entry #%(id)d links to an entry that no longer exists.",
                chain=chain,
                missing=missing,
                id=row.id,
            ),
        )
    # Intact content at the right position, but it does not link to the entry before it.
    if moved is not None:
        return ChainProblem(
            "reordered",
            chain,
            row.position,
            row.id,
            _(
                "Chain %(chain)s: entry #%(id)d at position %(position)d was moved: it was written after the "
                "entry now at position %(moved)d.",
                chain=chain,
                id=row.id,
                position=row.position,
                moved=moved.position,
            ),
        )
    if previous is None:
        return ChainProblem(
            "altered",
            chain,
            row.position,
            row.id,
            _(
                "Chain %(chain)s: entry #%(id)d does not start the chain: it was rewritten.",
                chain=chain,
                id=row.id,
            ),
        )
    return ChainProblem(
        "altered",
        chain,
        previous.position,
        previous.id,
        _(
            "Chain %(chain)s: entry #%(id)d at position %(position)d was altered and its hash recomputed: the "
            "next entry still links to its original hash.",
            chain=chain,
            id=previous.id,
            position=previous.position,
        ),
    )


def _check_head(chain: str, head: Any, last: Any) -> ChainProblem | None:
    """The newest entry must be the one the chain's head recorded."""
    last_position = last.position if last is not None else 0
    if head is None:
        if last is None:
            return None
        return ChainProblem(
            "head_missing",
            chain,
            last_position,
            last.id,
            _(
                "Chain %(chain)s: its head record is missing, so entries removed at the end would go unnoticed.",
                chain=chain,
            ),
        )
    if head.last_position > last_position:
        return ChainProblem(
            "truncated",
            chain,
            last_position + 1,
            None,
            _(
                "Chain %(chain)s: %(missing)s at the end of the chain were removed: the head records entry "
                "#%(head)d at position %(position)d.",
                chain=chain,
                missing=_positions(last_position + 1, head.last_position),
                head=head.last_entry_id,
                position=head.last_position,
            ),
        )
    if head.last_position < last_position:
        return ChainProblem(
            "added",
            chain,
            head.last_position + 1,
            None,
            _(
                "Chain %(chain)s: %(added)s were added outside the application: the head records position "
                "%(position)d.",
                chain=chain,
                added=_positions(head.last_position + 1, last_position),
                position=head.last_position,
            ),
        )
    if head.last_entry_hash != last.entry_hash:
        return ChainProblem(
            "altered",
            chain,
            last_position,
            last.id,
            _(
                "Chain %(chain)s: entry #%(id)d at position %(position)d was replaced: its hash is not the one "
                "the head recorded.",
                chain=chain,
                id=last.id,
                position=last_position,
            ),
        )
    return None


def _report(chain: str, last: Any, rows_read: int, problem: ChainProblem | None, since: Any) -> ChainReport:
    return ChainReport(
        chain=chain,
        entries=int(last.position) if last is not None else 0,
        rows_read=rows_read,
        last_position=last.position if last is not None else None,
        last_id=last.id if last is not None else None,
        last_hash=last.entry_hash if last is not None else None,
        problem=problem,
        since=since,
    )


def _walk(connection: Connection, chain: str, *, incremental: bool, batch_size: int) -> ChainReport:
    """Verify one chain: from its checkpoint when ``incremental`` and it has one, else from the start."""
    head = connection.execute(
        select(AuditHead.last_position, AuditHead.last_entry_id, AuditHead.last_entry_hash).where(
            AuditHead.chain == chain
        )
    ).first()
    previous: Any = None  # the last good entry's row
    rows_read = 0
    since = None
    if incremental:
        kept = connection.execute(select(AuditCheckpoint).where(AuditCheckpoint.chain == chain)).first()
        if kept is not None:
            since = Checkpoint(kept.last_position, kept.last_entry_id, kept.last_entry_hash, kept.verified_at)
            row = connection.execute(
                select(_ENTRIES).where(_ENTRIES.c.chain == chain, _ENTRIES.c.position == kept.last_position)
            ).first()
            rows_read = 1
            if (
                row is None
                or row.id != kept.last_entry_id
                or row.entry_hash != kept.last_entry_hash
                or entry_hash(row) != row.entry_hash
            ):
                changed = ChainProblem(
                    "checkpoint",
                    chain,
                    kept.last_position,
                    kept.last_entry_id,
                    _(
                        "Chain %(chain)s: entry #%(id)d at position %(position)d, the head verified last time, "
                        "was changed or removed since: run a full verification (--full) to find the first "
                        "change.",
                        chain=chain,
                        id=kept.last_entry_id,
                        position=kept.last_position,
                    ),
                )
                return _report(chain, None, rows_read, changed, since)
            previous = row
    start = previous.position if previous is not None else 0
    rows = connection.execution_options(yield_per=batch_size).execute(
        select(_ENTRIES)
        .where(_ENTRIES.c.chain == chain, _ENTRIES.c.position > start)
        .order_by(_ENTRIES.c.position)
    )
    broken: tuple[Any, Any, int] | None = None  # (previous, row, expected position) where the chain breaks
    for row in rows:
        rows_read += 1
        expected = previous.position + 1 if previous is not None else 1
        previous_hash = previous.entry_hash if previous is not None else GENESIS_HASH
        if row.position != expected or row.prev_hash != previous_hash or entry_hash(row) != row.entry_hash:
            broken = (previous, row, expected)
            break
        previous = row
    rows.close()
    problem: ChainProblem | None
    if broken is not None:
        problem = _diagnose(connection, chain, *broken)
    else:
        problem = _check_head(chain, head, previous)
    return _report(chain, previous, rows_read, problem, since)


def _anchor_problem(
    connection: Connection, expect: tuple[int, str], fallback_chain: str
) -> ChainProblem | None:
    """The entry kept outside the database must still be there with that hash and its content."""
    entry_id, expected_hash = expect
    row = connection.execute(select(_ENTRIES).where(_ENTRIES.c.id == entry_id)).first()
    if row is not None and row.entry_hash == expected_hash and entry_hash(row) == expected_hash:
        return None
    return ChainProblem(
        "anchor",
        row.chain if row is not None else fallback_chain,
        row.position if row is not None else 0,
        entry_id,
        _(
            "Entry #%(id)d no longer has the hash recorded outside the database: the chain was "
            "rewritten or cut short.",
            id=entry_id,
        ),
    )


def verify_chain(
    chains: str | Iterable[str] | None = None,
    *,
    full: bool = True,
    expect: tuple[int, str] | list[tuple[int, str]] | None = None,
    batch_size: int = 1000,
) -> AuditReport:
    """Walk the chains (one key, several, or all when None) and report each one's first break.

    ``full=False`` starts each chain after its checkpoint (see the module's
    docstring). ``expect`` is an (entry id, hash) pair, or a list of them (a
    head per chain), recorded earlier outside the database: the log must
    still contain each entry with its hash.
    """
    if chains is None:
        keys = known_chains()
    elif isinstance(chains, str):
        keys = [chains]
    else:
        keys = list(chains)
    anchors = [expect] if isinstance(expect, tuple) else list(expect or [])
    with _snapshot_connection() as connection:
        reports = [_walk(connection, key, incremental=not full, batch_size=batch_size) for key in keys]
        for anchor_entry in anchors:
            anchor = _anchor_problem(connection, anchor_entry, keys[0] if keys else NATIONAL_CHAIN)
            if anchor is None:
                continue
            reports = [
                _with_problem(report, anchor)
                if report.chain == anchor.chain and report.problem is None
                else report
                for report in reports
            ]
            if all(report.chain != anchor.chain for report in reports):
                reports.append(_report(anchor.chain, None, 0, anchor, None))
    return AuditReport(reports)


def _with_problem(report: ChainReport, problem: ChainProblem) -> ChainReport:
    return ChainReport(
        report.chain,
        report.entries,
        report.rows_read,
        report.last_position,
        report.last_id,
        report.last_hash,
        problem,
        report.since,
    )


def keep_checkpoints(report: AuditReport) -> None:
    """Keep each intact chain's head as its checkpoint for the next incremental run (commits)."""
    now = utcnow()
    for chain in report.chains:
        if chain.problem is not None or chain.last_position is None:
            continue
        checkpoint = db.session.get(AuditCheckpoint, chain.chain) or AuditCheckpoint(chain=chain.chain)
        checkpoint.last_position = chain.last_position
        checkpoint.last_entry_id = chain.last_id or 0
        checkpoint.last_entry_hash = chain.last_hash or ""
        checkpoint.verified_at = now
        db.session.add(checkpoint)
    db.session.commit()
