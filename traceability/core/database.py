"""The declarative base, shared column types and helpers for every model."""

from __future__ import annotations

import os
import sqlite3
from contextvars import ContextVar
from datetime import UTC, datetime
from decimal import Decimal
from typing import ClassVar, Protocol

from sqlalchemy import DateTime, Engine, MetaData, Numeric, Table, event
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped
from sqlalchemy.types import TypeDecorator

# Stable constraint names, so migrations can address them on every database.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """An instant stored in UTC and always returned timezone-aware.

    PostgreSQL keeps ``timestamptz``; SQLite has no time zones, so values are
    converted to naive UTC on the way in and marked UTC on the way out.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given where an instant is required")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class Quantity(TypeDecorator[Decimal]):
    """A quantity with three decimals, exact on every database.

    PostgreSQL stores ``numeric(18, 3)``. SQLite has no decimal type, so the
    value is kept as an integer count of thousandths there; sums and
    comparisons in SQL stay exact, unlike SQLite's floating point REAL.
    """

    impl = Numeric(18, 3)
    cache_ok = True
    SCALE = 1000

    def load_dialect_impl(self, dialect: Dialect):
        if dialect.name == "sqlite":
            from sqlalchemy import BigInteger

            return dialect.type_descriptor(BigInteger())
        return dialect.type_descriptor(Numeric(18, 3))

    def process_bind_param(self, value, dialect: Dialect):
        if value is None:
            return None
        value = Decimal(value).quantize(Decimal("0.001"))
        return int(value * self.SCALE) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect: Dialect) -> Decimal | None:
        if value is None:
            return None
        if dialect.name == "sqlite":
            return (Decimal(int(value)) / self.SCALE).quantize(Decimal("0.001"))
        return Decimal(value).quantize(Decimal("0.001"))


#: The largest id an INTEGER column holds on every database (PostgreSQL's int4;
#: SQLite's reach 2**63 - 1): ids in requests are checked against it before a
#: query or an insert could fail on a bigger one.
MAX_ID = 2**31 - 1


class Base(DeclarativeBase):
    """The declarative base of every model, with the naming convention."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class HasId(Protocol):
    """A model with an integer ``id`` (every model here): the bound of functions taking any model."""

    id: ClassVar[Mapped[int]]


def table_of(model: type[Base]) -> Table:
    """A model's table. SQLAlchemy types ``__table__`` as any FromClause; a model of one table has a Table."""
    table = model.__table__
    if not isinstance(table, Table):
        raise TypeError(f"{model.__name__} is not mapped to one table")
    return table


#: How the next SQLite transaction begins. IMMEDIATE takes the write lock at
#: once, so two writers queue on ``busy_timeout`` instead of one failing with
#: "database is locked" when both upgrade a read lock; read-only work (GET
#: requests) sets DEFERRED so readers never wait for one another.
#: ``SQLITE_SYNCHRONOUS`` (environment): FULL by default, so a commit survives a
#: power cut; the test suite uses OFF, since its databases are thrown away.
SQLITE_SYNCHRONOUS_LEVELS = ("OFF", "NORMAL", "FULL", "EXTRA")

sqlite_begin_mode: ContextVar[str] = ContextVar("sqlite_begin_mode", default="IMMEDIATE")


@event.listens_for(Engine, "connect")
def _sqlite_connect(dbapi_connection: object, _record: object) -> None:
    """SQLite: enforce foreign keys, wait for locks, and let SQLAlchemy control transactions.

    pysqlite by default begins transactions itself, late, and not before a
    SAVEPOINT, so a nested transaction's release would commit for real; with
    ``isolation_level = None`` the driver stays out of it and ``_sqlite_begin``
    emits BEGIN (the workaround SQLAlchemy documents for pysqlite). A database
    file runs in WAL mode, where readers and one writer proceed side by side.
    """
    if isinstance(dbapi_connection, sqlite3.Connection):
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=15000")
        if cursor.execute("PRAGMA journal_mode").fetchone()[0] not in ("memory", "wal"):
            cursor.execute("PRAGMA journal_mode=WAL")
        synchronous = os.environ.get("SQLITE_SYNCHRONOUS", "FULL").upper()
        if synchronous in SQLITE_SYNCHRONOUS_LEVELS:
            cursor.execute(f"PRAGMA synchronous={synchronous}")
        cursor.close()


@event.listens_for(Engine, "begin")
def _sqlite_begin(connection) -> None:
    if connection.dialect.name == "sqlite":
        connection.exec_driver_sql(f"BEGIN {sqlite_begin_mode.get()}")
