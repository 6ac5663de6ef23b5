"""The throttles' counters: sign-ins, problem reports, password checks, sign-ups and API calls.

RATELIMIT_STORAGE_URI names where they live, and every choice but one is
shared by all the workers and servers of a site:

- ``database://`` (the default without Redis): rows of ``rate_limit_counter`` in
  the app's own database. Each count is one atomic upsert (``INSERT ... ON
  CONFLICT DO UPDATE ... RETURNING``, on SQLite and PostgreSQL alike), made in
  the request's transaction: the caller commits it with its own work.
- ``redis://...``: the ``limits`` library's Redis storage, with moving windows.
- ``memory://``: one process's memory, for a single process only; refused in
  production, where gunicorn runs several workers.

A database window is fixed: it opens at its first hit and lasts the limit's
period, as the ``limits`` library's fixed windows do.
"""

from __future__ import annotations

import hashlib
import math
import random
import time
from datetime import datetime, timedelta

from flask import Flask, current_app
from limits import RateLimitItem
from limits.storage import MovingWindowSupport, Storage, storage_from_string
from limits.strategies import FixedWindowRateLimiter, MovingWindowRateLimiter, RateLimiter
from sqlalchemy import Integer, String, case, delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, mapped_column

from traceability.core.database import UTCDateTime, table_of
from traceability.core.dates import utcnow
from traceability.core.extensions import Model, db

DATABASE_STORAGE = "database://"
#: One hit in this many also deletes the counters whose window has closed.
CLEANUP_ONE_IN = 100


class RateLimitCounter(Model):
    """The hits of one throttle key in its current fixed window."""

    __tablename__ = "rate_limit_counter"

    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    hits: Mapped[int] = mapped_column(Integer)
    window_ends_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class RateLimits:
    """One app's ``limits`` storage and limiter (memory or Redis)."""

    def __init__(self, storage: Storage) -> None:
        self.storage = storage
        self.limiter: RateLimiter = (
            MovingWindowRateLimiter(storage)
            if isinstance(storage, MovingWindowSupport)
            else FixedWindowRateLimiter(storage)
        )

    def retry_after(self, checks: list[tuple[RateLimitItem, str, str]]) -> int:
        """Whole seconds until every ``(limit, kind, key)`` check allows a hit again; 0 when they do now."""
        wait = 0.0
        for item, kind, key in checks:
            if not self.limiter.test(item, kind, key):
                reset_at = self.limiter.get_window_stats(item, kind, key).reset_time
                wait = max(wait, reset_at - time.time(), 1.0)
        return math.ceil(wait)

    def hit(self, item: RateLimitItem, kind: str, key: str) -> None:
        self.limiter.hit(item, kind, key)

    def acquire(self, item: RateLimitItem, kind: str, key: str) -> int:
        """Count one hit if the limit allows it and answer 0; else the seconds to wait, counting nothing."""
        if self.limiter.hit(item, kind, key):
            return 0
        reset_at = self.limiter.get_window_stats(item, kind, key).reset_time
        return math.ceil(max(reset_at - time.time(), 1.0))

    def clear(self, item: RateLimitItem, kind: str, key: str) -> None:
        self.limiter.clear(item, kind, key)

    def reset(self) -> None:
        """Forget every count (tests, or after a configuration change)."""
        self.storage.reset()


class DatabaseRateLimits:
    """The same counters as rows of ``rate_limit_counter``, written in the request's transaction."""

    @staticmethod
    def _key(item: RateLimitItem, kind: str, key: str) -> str:
        full = item.key_for(kind, key)
        # A digest keeps an over-long key (a long address, say) inside the column.
        return full if len(full) <= 255 else hashlib.sha256(full.encode()).hexdigest()

    @staticmethod
    def _wait(window_ends_at: datetime, now: datetime) -> int:
        return math.ceil(max((window_ends_at - now).total_seconds(), 1.0))

    def retry_after(self, checks: list[tuple[RateLimitItem, str, str]]) -> int:
        """Whole seconds until every ``(limit, kind, key)`` check allows a hit again; 0 when they do now."""
        now, wait = utcnow(), 0
        for item, kind, key in checks:
            counter = db.session.execute(
                select(RateLimitCounter.hits, RateLimitCounter.window_ends_at).where(
                    RateLimitCounter.key == self._key(item, kind, key)
                )
            ).first()
            if counter is not None and counter.window_ends_at > now and counter.hits >= item.amount:
                wait = max(wait, self._wait(counter.window_ends_at, now))
        return wait

    def _increment(self, item: RateLimitItem, kind: str, key: str) -> tuple[int, datetime, datetime]:
        """Add one hit atomically (one upsert): the hits of the window, its end, and now."""
        now = utcnow()
        ends = now + timedelta(seconds=item.get_expiry())
        table = table_of(RateLimitCounter)
        insert = postgresql.insert if db.session.get_bind().dialect.name == "postgresql" else sqlite.insert
        closed = table.c.window_ends_at <= now
        statement = (
            insert(table)
            .values(key=self._key(item, kind, key), hits=1, window_ends_at=ends)
            .on_conflict_do_update(
                index_elements=[table.c.key],
                set_={
                    "hits": case((closed, 1), else_=table.c.hits + 1),
                    "window_ends_at": case((closed, ends), else_=table.c.window_ends_at),
                },
            )
            .returning(table.c.hits, table.c.window_ends_at)
        )
        hits, window_ends_at = db.session.execute(statement).one()
        if random.randrange(CLEANUP_ONE_IN) == 0:  # noqa: S311 - not a secret, a sampling rate
            db.session.execute(delete(RateLimitCounter).where(RateLimitCounter.window_ends_at <= now))
        return hits, window_ends_at, now

    def hit(self, item: RateLimitItem, kind: str, key: str) -> None:
        self._increment(item, kind, key)

    def acquire(self, item: RateLimitItem, kind: str, key: str) -> int:
        """Count one hit; 0 when it is within the limit, else the seconds until the window closes."""
        hits, window_ends_at, now = self._increment(item, kind, key)
        return 0 if hits <= item.amount else self._wait(window_ends_at, now)

    def clear(self, item: RateLimitItem, kind: str, key: str) -> None:
        db.session.execute(delete(RateLimitCounter).where(RateLimitCounter.key == self._key(item, kind, key)))

    def reset(self) -> None:
        """Forget every count (tests, or after a configuration change)."""
        db.session.execute(delete(RateLimitCounter))
        db.session.commit()


def init_app(app: Flask) -> None:
    """Give the app its counters, ``app.extensions["rate_limits"]``, on RATELIMIT_STORAGE_URI."""
    uri = app.config["RATELIMIT_STORAGE_URI"]
    if uri.rstrip(":/") == DATABASE_STORAGE.rstrip(":/"):
        app.extensions["rate_limits"] = DatabaseRateLimits()
        return
    if uri.startswith("memory:") and app.config.get("ENV_NAME") == "production":
        raise RuntimeError(
            "RATELIMIT_STORAGE_URL=memory:// counts in one process's memory, so several workers or "
            "servers would each allow the whole limit: use database:// (the default) or redis://..."
        )
    storage = storage_from_string(uri)
    if not isinstance(storage, Storage):  # an async+ storage: the app counts synchronously
        raise RuntimeError(
            f"RATELIMIT_STORAGE_URL={uri} is an asyncio storage: use database:// or redis://..."
        )
    app.extensions["rate_limits"] = RateLimits(storage)


def current() -> RateLimits | DatabaseRateLimits:
    """The counters of the current app."""
    return current_app.extensions["rate_limits"]
