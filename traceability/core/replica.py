"""The public pages read from a PostgreSQL read replica; every write goes to the primary.

``DATABASE_REPLICA_URL`` (optional) names a streaming replica of the primary
in ``DATABASE_URL``. Unset, nothing here runs: every query goes to the
primary, as on one machine. Set, both URLs must be PostgreSQL (a replica is
PostgreSQL streaming replication; SQLite has none), or the app refuses to start.

**Routing.** The replica is a second engine, ``replica_engine()``, made
from the same ``SQLALCHEMY_ENGINE_OPTIONS`` (not a Flask-SQLAlchemy bind:
a bind would add an empty metadata that ``db.create_all`` then walks).
``db.session`` is a ``RoutingSession``: in a GET or HEAD request
to one of ``REPLICA_ENDPOINTS`` (the consumer pages with the GS1 resolver's
linkset and EPCIS answers, the public directory, its product pages and
sitemap.xml) its reads go to the replica, while a flush or an INSERT, UPDATE
or DELETE statement still goes to the primary. Everything else (``/manage``,
``/api``, sign-in, problem reports, the commands) reads and writes the
primary, and so do the scans: the scan writer (``public.scan_buffer``) holds
the primary's engine. A flag on ``g`` rather than a second session, so the
public views, the services they call and the lazy loads of their objects
stay as they are.

**Lag and the page cache.** A replica is behind the primary by milliseconds,
more under load. A page read a moment old is the price of a replica; a stale
page *stored* in the page cache would stay until its data changed again.
So a lot's page is stored only when the replica has replayed every write
behind the generations it is stored under (``public.page_cache``):

- a commit that invalidates pages writes the scopes' new generations, then
  reads the primary's WAL insert position (``pg_current_wal_insert_lsn()``)
  and keeps it with each new generation. Read after the generation was
  written, it is past the commit of this write and of every write whose
  generation the new one replaced, whichever worker wrote last. The insert
  position rather than ``pg_current_wal_lsn()`` (the write position): with
  ``synchronous_commit = off`` the write position can still be short of a
  commit that has returned;
- a request that reads from the replica measures the replica's replay
  position (``pg_last_wal_replay_lsn()``) once, as its first transaction on
  the replica begins, so before it has read anything of the page. A server
  not in recovery is a primary and has everything;
- before a page is rendered to be stored, the generations it will carry are
  read: when one of their positions is past the replica's, or not known,
  the request reads from the primary from then on, and that page is
  rendered from the primary and not stored. The next reader, once the
  replica has caught up, stores it. A generation without a known position
  (created by a reader, or its position lost from the cache) is given the
  primary's current one, a safe bound, so the next reader can decide.

The pages that are never stored (a serialised item's page, the linkset, the
directory) may show the replica's moment-old data, like any replica read.
Not built: failing over to the primary when the replica is down; its
requests fail until the setting is removed.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, current_app, g, has_app_context, request
from flask_sqlalchemy.session import Session
from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.sql.dml import UpdateBase

EXTENSION = "replica_engine"  # app.extensions: the replica's engine, when there is one
# The views whose reads the replica serves (GET and HEAD): public pages that write nothing.
REPLICA_ENDPOINTS = frozenset(
    {
        "public.digital_link",
        "public.short_code",
        "public.directory.index",
        "public.directory.product",
        "public.directory.product_by_id",
        "public.directory.sitemap",
    }
)
_READS_REPLICA = "reads_from_replica"  # on g: this request reads from the replica
_REPLAYED = "replica_replayed"  # on g: the replica's replay position when the request first read it


def configure(app: Flask) -> None:
    """Refuse ``DATABASE_REPLICA_URL`` unless both databases are PostgreSQL (at start-up, with the other settings)."""
    url = app.config.get("DATABASE_REPLICA_URL")
    if not url:
        return
    if make_url(app.config["SQLALCHEMY_DATABASE_URI"]).get_backend_name() != "postgresql":
        raise RuntimeError(
            "DATABASE_REPLICA_URL needs PostgreSQL: a read replica is a PostgreSQL streaming replica "
            "of the primary in DATABASE_URL, and DATABASE_URL is not PostgreSQL. Unset DATABASE_REPLICA_URL."
        )
    if make_url(url).get_backend_name() != "postgresql":
        raise RuntimeError(
            "DATABASE_REPLICA_URL must be a PostgreSQL URL (postgresql://user:password@host/database)."
        )


def init_app(app: Flask) -> None:
    """Give the app its replica engine and route the public pages' reads to it; nothing without one."""
    url = app.config.get("DATABASE_REPLICA_URL")
    if not url:
        return
    engine = create_engine(url, **app.config.get("SQLALCHEMY_ENGINE_OPTIONS", {}))
    event.listen(engine, "begin", _measure_replayed)
    app.extensions[EXTENSION] = engine
    app.before_request(_choose_database)


def replica_engine() -> Engine:
    """The current app's replica engine (only when it has one)."""
    return current_app.extensions[EXTENSION]


class RoutingSession(Session):
    """``db.session``: reads of a replica request from the replica, flushes and DML statements on the primary."""

    def get_bind(
        self, mapper: Any = None, clause: Any = None, bind: Any = None, **kwargs: Any
    ) -> Engine | Connection:
        if (
            bind is None
            and reads_from_replica()
            and not self._flushing
            and not isinstance(clause, UpdateBase)
        ):
            return replica_engine()
        return super().get_bind(mapper, clause=clause, bind=bind, **kwargs)


def _choose_database() -> None:
    if request.method in ("GET", "HEAD") and request.endpoint in REPLICA_ENDPOINTS:
        setattr(g, _READS_REPLICA, True)


def configured() -> bool:
    """Whether the app has a replica (``DATABASE_REPLICA_URL``)."""
    return has_app_context() and EXTENSION in current_app.extensions


def reads_from_replica() -> bool:
    """Whether this request's reads go to the replica."""
    return has_app_context() and bool(g.get(_READS_REPLICA))


def use_primary() -> None:
    """Send this request's reads to the primary from its next query on."""
    if has_app_context():
        setattr(g, _READS_REPLICA, False)


def replayed_position() -> int | None:
    """The replica's replay position as this request began reading it; None when it is not a standby."""
    return g.get(_REPLAYED, 0)  # not measured: nothing is known to be there


def replica_replay_lsn(connection: Connection) -> int | None:
    """The WAL position the replica has replayed, in bytes; None when the server is not in recovery (a primary)."""
    # A primary that went through crash recovery still reports that recovery's last position: ask first.
    in_recovery, replayed = connection.execute(
        text("SELECT pg_is_in_recovery(), (pg_last_wal_replay_lsn() - '0/0'::pg_lsn)::bigint")
    ).one()
    return (replayed or 0) if in_recovery else None


def primary_wal_position() -> int:
    """The primary's WAL insert position, in bytes: past every commit that has returned."""
    from traceability.core.extensions import db

    with db.engine.connect() as connection:
        return int(connection.scalar(text("SELECT (pg_current_wal_insert_lsn() - '0/0'::pg_lsn)::bigint")))


def _measure_replayed(connection: Connection) -> None:
    # The first replica transaction of the request: before it reads anything of the page.
    if reads_from_replica() and _REPLAYED not in g:
        setattr(g, _REPLAYED, replica_replay_lsn(connection))
