"""Tables partitioned by month on PostgreSQL (native declarative partitioning); plain tables on SQLite.

A table declares ``info={"monthly_partitions": "<column>"}`` and
``postgresql_partition_by="RANGE (<column>)"``: on PostgreSQL it is then the
parent of one partition per Vietnamese calendar month (``scan_y2026m12``
holds 1 December 00:00 to 1 January 00:00, Vietnam time, so a Vietnamese day
never straddles two) and of a DEFAULT partition (``scan_default``) that
catches any row outside them, so an insert is never refused. PostgreSQL wants
the partition column in the primary key: the compile hook below adds it to
the primary key the table is created with, while the ORM keeps identifying a
row by its ``id`` alone (SQLite keeps ``id INTEGER PRIMARY KEY``, its rowid).

Everything here is a no-op on other databases, so callers need no test of
the dialect. ``add_months`` and the dates come from ``core.dates``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, MetaData, PrimaryKeyConstraint, Table, text
from sqlalchemy.ext.compiler import compiles

from traceability.core.dates import add_months, month_start, vietnam_midnight

INFO_KEY = "monthly_partitions"
PARTITION_PATTERN = re.compile(r"^(?P<table>\w+?)_(?:y(?P<year>\d{4})m(?P<month>\d{2})|default)$")


@compiles(PrimaryKeyConstraint, "postgresql")
def _primary_key_with_partition_column(constraint: PrimaryKeyConstraint, compiler: Any, **kw: Any) -> str:
    """``PRIMARY KEY (id, scanned_at)`` for a table partitioned by month, as PostgreSQL requires."""
    sql: str = compiler.visit_primary_key_constraint(constraint, **kw)
    table = constraint.table
    column = table.info.get(INFO_KEY) if isinstance(table, Table) else None
    if not column or column in constraint.columns or not sql.endswith(")"):
        return sql
    return f"{sql[:-1]}, {compiler.preparer.quote(column)})"


def partitioned_column(table: Table) -> str | None:
    """The column ``table`` is partitioned by on PostgreSQL, None when it is not."""
    column = table.info.get(INFO_KEY)
    return str(column) if column else None


def partition_name(table: str, month: date) -> str:
    """``scan_y2026m12``: the partition of ``table`` holding the Vietnamese month of ``month``."""
    return f"{table}_y{month.year:04d}m{month.month:02d}"


def default_partition_name(table: str) -> str:
    return f"{table}_default"


def is_partition(name: str, partitioned_tables: set[str]) -> bool:
    """Whether ``name`` is a partition of one of ``partitioned_tables`` (Alembic leaves them alone)."""
    match = PARTITION_PATTERN.match(name)
    return bool(match and match.group("table") in partitioned_tables)


def _bounds(month: date) -> tuple[datetime, datetime]:
    start = month_start(month)
    return vietnam_midnight(start), vietnam_midnight(add_months(start, 1))


@dataclass(frozen=True)
class Partition:
    """One month's partition: its table name and the first day of its Vietnamese month."""

    name: str
    month: date


def _is_postgresql(connection: Connection) -> bool:
    return connection.dialect.name == "postgresql"


def month_partitions(connection: Connection, table: str) -> list[Partition]:
    """The month partitions ``table`` has, oldest first (none on SQLite; DEFAULT left out)."""
    if not _is_postgresql(connection):
        return []
    names = connection.scalars(
        text(
            "SELECT child.relname FROM pg_inherits JOIN pg_class parent ON parent.oid = pg_inherits.inhparent "
            "JOIN pg_class child ON child.oid = pg_inherits.inhrelid WHERE parent.relname = :table"
        ),
        {"table": table},
    )
    found = []
    for name in names:
        match = PARTITION_PATTERN.match(name)
        if match and match.group("year"):
            found.append(Partition(name, date(int(match.group("year")), int(match.group("month")), 1)))
    return sorted(found, key=lambda partition: partition.month)


def ensure_default_partition(connection: Connection, table: str) -> None:
    """The DEFAULT partition of ``table``: a row outside every month's partition lands there."""
    if _is_postgresql(connection):
        connection.execute(
            text(
                f'CREATE TABLE IF NOT EXISTS "{default_partition_name(table)}" PARTITION OF "{table}" DEFAULT'
            )
        )


def ensure_month_partition(connection: Connection, table: str, column: str, month: date) -> bool:
    """Create the partition of ``month`` unless it exists; True when it was created.

    Rows of that month already caught by the DEFAULT partition move into it
    (PostgreSQL refuses to attach a range the DEFAULT partition holds rows of).
    """
    if not _is_postgresql(connection):
        return False
    name = partition_name(table, month)
    exists = connection.scalar(text("SELECT to_regclass(:name) IS NOT NULL"), {"name": f'"{name}"'})
    if exists:
        return False
    start, end = _bounds(month)
    default = default_partition_name(table)
    connection.execute(
        text(f'CREATE TABLE "{name}" (LIKE "{table}" INCLUDING DEFAULTS INCLUDING CONSTRAINTS)')
    )
    has_default = connection.scalar(text("SELECT to_regclass(:name) IS NOT NULL"), {"name": f'"{default}"'})
    if has_default:
        # The table names are this module's own.
        moving = (
            f'WITH moved AS (DELETE FROM "{default}" WHERE "{column}" >= :start AND "{column}" < :end '  # noqa: S608
            f'RETURNING *) INSERT INTO "{name}" SELECT * FROM moved'
        )
        connection.execute(
            text(moving),
            {"start": start, "end": end},
        )
    connection.execute(
        # DDL takes no bound parameters: the bounds are instants this module made, written as literals.
        text(
            f'ALTER TABLE "{table}" ATTACH PARTITION "{name}" '
            f"FOR VALUES FROM ('{start.isoformat()}') TO ('{end.isoformat()}')"
        )
    )
    return True


def ensure_partitions(connection: Connection, table: str, column: str, months: list[date]) -> list[str]:
    """The DEFAULT partition and those of ``months``; the names of the partitions created."""
    if not _is_postgresql(connection):
        return []
    ensure_default_partition(connection, table)
    return [
        partition_name(table, month)
        for month in sorted({month_start(month) for month in months})
        if ensure_month_partition(connection, table, column, month)
    ]


def drop_partition(connection: Connection, table: str, partition: Partition) -> None:
    """Detach and drop one month's partition: its rows go at once, without a row-by-row DELETE."""
    connection.execute(text(f'ALTER TABLE "{table}" DETACH PARTITION "{partition.name}"'))
    connection.execute(text(f'DROP TABLE "{partition.name}"'))


def alembic_include_name(metadata: MetaData) -> Callable[..., bool]:
    """Alembic's ``include_name``: the month and DEFAULT partitions are the database's, not the models'."""
    partitioned = {table.name for table in metadata.tables.values() if partitioned_column(table)}

    def include_name(name: str | None, type_: str, _parent_names: Any) -> bool:
        return not (type_ == "table" and name is not None and is_partition(name, partitioned))

    return include_name
