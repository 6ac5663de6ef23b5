"""The consumer page cache, shared by every worker process, and its invalidation.

A cached page is stored with the *generations* of the producers whose data it
shows (the batch's own producer and those of every batch upstream of it,
since an input's recall shows on the page). Any committed change to a
producer's records (its profile, products, images, locations,
certifications, batches, items, events, lineage, recalls) gives that
producer a new generation; a change to a centre gives everything a new one.
A cached page is served only while all its generations are unchanged, so a
change shows from the next request on, on every worker and machine that
shares the backend.

Generations are random tokens rather than counters: two workers bumping at
once can't end on the same value, and a backend that lost its keys (a
restart, an eviction) just makes every page miss once.

Backends (``PAGE_CACHE_URL``): ``redis://...`` shares the cache between
machines; a directory path (the default ``instance/page-cache``) between the
worker processes of one machine; ``null`` turns caching off.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from cachelib import BaseCache, FileSystemCache, NullCache
from flask import current_app, has_app_context
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from traceability.batches.models import Batch, BatchInput, Item, Recall, RecallBatch, TraceEvent
from traceability.registry.models import Centre, Certification, Location, Producer, Product, ProductImage

EVERYTHING = "all"


def make_backend(url: str | None, default_folder: str, *, timeout: int) -> BaseCache:
    """The cachelib backend for ``PAGE_CACHE_URL``."""
    if url == "null":
        return NullCache()
    if url and url.startswith(("redis://", "rediss://", "unix://")):
        import redis
        from cachelib import RedisCache

        return RedisCache(host=redis.Redis.from_url(url), default_timeout=timeout, key_prefix="page-cache:")
    return FileSystemCache(url or default_folder, threshold=50_000, default_timeout=timeout)


@dataclass
class CachedPage:
    body: bytes
    etag: str
    scopes: tuple[str, ...]
    generations: tuple[str, ...]


class PageCache:
    """Rendered pages keyed by URL and language, valid while their producers' generations hold."""

    def __init__(self, backend: BaseCache) -> None:
        self.backend = backend

    def generations(self, scopes: Iterable[str]) -> tuple[str, ...]:
        """The current generation of each scope, creating the missing ones."""
        scopes = tuple(scopes)
        keys = [f"gen:{scope}" for scope in scopes]
        values = list(self.backend.get_many(*keys)) if keys else []
        for index, value in enumerate(values):
            if value is None:
                self.backend.add(keys[index], secrets.token_hex(8), timeout=0)
                values[index] = self.backend.get(keys[index]) or ""
        return tuple(values)

    def bump(self, scopes: Iterable[str]) -> None:
        """Give each scope a new generation: every page that shows it is stale from now on."""
        for scope in set(scopes):
            self.backend.set(f"gen:{scope}", secrets.token_hex(8), timeout=0)

    def get(self, key: str) -> CachedPage | None:
        """The cached page, if every scope it depends on is still at its stored generation."""
        page = self.backend.get(f"page:{key}")
        if not isinstance(page, CachedPage):
            return None
        if self.generations(page.scopes) != page.generations:
            return None
        return page

    def put(self, key: str, body: bytes, scopes: Iterable[str], generations: tuple[str, ...]) -> CachedPage:
        """Store a page rendered while ``generations`` (read *before* rendering) were current."""
        scopes = tuple(scopes)
        page = CachedPage(body, f'"{hashlib.sha256(body).hexdigest()[:32]}"', scopes, generations)
        self.backend.set(f"page:{key}", page)
        return page


def producer_scope(producer_id: int) -> str:
    return f"producer:{producer_id}"


def page_scopes(producer_ids: Iterable[int]) -> tuple[str, ...]:
    """The scopes of a page showing data of these producers (and of centres, always)."""
    return (EVERYTHING, *sorted({producer_scope(producer_id) for producer_id in producer_ids}))


# --- invalidation on commit ----------------------------------------------------------------------

_DIRECT = (Producer,)
_BY_PRODUCER = (Product, Location, Certification)
_BY_PRODUCT = (ProductImage, Batch)
_BY_BATCH = (Item, TraceEvent, Recall, RecallBatch)


def _changed_scopes(session: Session, objects: Iterable[Any]) -> set[str]:
    producers: set[int] = set()
    products: set[int] = set()
    batches: set[int] = set()
    everything = False
    for obj in objects:
        if isinstance(obj, Centre):
            everything = True
        elif isinstance(obj, _DIRECT):
            producers.add(obj.id)
        elif isinstance(obj, _BY_PRODUCER):
            producers.add(obj.producer_id)
        elif isinstance(obj, _BY_PRODUCT):
            products.add(obj.product_id)
        elif isinstance(obj, _BY_BATCH):
            batches.add(obj.batch_id)
        elif isinstance(obj, BatchInput):
            batches.update((obj.output_batch_id, obj.input_batch_id))
    if batches:
        products.update(
            session.execute(select(Batch.product_id).where(Batch.id.in_(batches))).scalars().all()
        )
    if products:
        producers.update(
            session.execute(select(Product.producer_id).where(Product.id.in_(products))).scalars().all()
        )
    scopes = {producer_scope(producer_id) for producer_id in producers if producer_id is not None}
    if everything:
        scopes.add(EVERYTHING)
    return scopes


@event.listens_for(Session, "after_flush")  # new, dirty and deleted still list what was flushed
def _collect(session: Session, _context: Any) -> None:
    if not has_app_context() or "page_cache" not in current_app.extensions:
        return
    touched = [*session.new, *session.dirty, *session.deleted]
    if touched:
        session.info.setdefault("page_cache_scopes", set()).update(_changed_scopes(session, touched))


@event.listens_for(Session, "after_commit")
def _invalidate(session: Session) -> None:
    scopes = session.info.pop("page_cache_scopes", None)
    if scopes and has_app_context() and "page_cache" in current_app.extensions:
        current_app.extensions["page_cache"].bump(scopes)


@event.listens_for(Session, "after_rollback")
def _forget(session: Session) -> None:
    session.info.pop("page_cache_scopes", None)
