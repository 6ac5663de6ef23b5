"""The consumer page cache, shared by every worker process, and its invalidation.

A cached lot page is stored with the *generations* of the scopes whose data it
shows: ``batch:{id}`` (the batch, its events, items, lineage links and the
recalls that reach it), ``producer:{id}`` for each producer whose records it
shows (the product's, the origin's and the events' locations', with their
products, images and certifications) and ``all`` (the centres). A committed
change gives the scopes it touches a new generation, and a cached page is
served only while all its generations are unchanged, so a change shows from
the next request on, on every worker and machine that shares the backend.

A recall of an input batch reaches the page through the batch itself: the
recall marks every downstream batch recalled and links it (``RecallBatch``)
in the same transaction, which touches ``batch:{id}`` of each. The page then
names the recalled input, so it also holds that lot's scope and its producer's.

Generations are random tokens rather than counters: two workers bumping at
once can't end on the same value, and a backend that lost a key (a restart,
an eviction) gives it a new random value, so the pages stored under the old
one just miss once. Scans never go through the ORM session (``scan_buffer``),
so counting one never invalidates a page.

With a read replica (``DATABASE_REPLICA_URL``), each new generation also
keeps the primary's WAL position (``wal:{generation}``), and a page is
stored only when the replica it was read from has replayed up to the
positions of its generations; otherwise it is rendered from the primary and
not stored (``traceability.core.replica`` explains the rule).

Backends (``PAGE_CACHE_URL``): ``redis://...`` shares the cache between
machines; a directory (the default ``instance/page-cache``) between the worker
processes of one machine; ``null`` turns caching off.

Checking a page's generations costs one read per scope, and a page of a
long chain shows dozens of scopes (every upstream lot). So every bump also
gives the cache a new *epoch* (one key), and each process remembers the
pages it has checked, with the epoch read *before* checking them, in a
bounded memo (``PAGE_CACHE_MEMO_ENTRIES``, least recently served out first):
while the epoch is unchanged, nothing any page shows has changed, and a hit
costs one read of the epoch and no read of the page. A bump writes its
generations before the epoch, so a request that starts after the bump
returned reads the new epoch and checks the page again.

A page is keyed by the canonical spelling of its path (``canonical_paths``),
so the number of pages is bounded by the lots, languages and days, whatever
spellings readers send. A directory also holds at most
``PAGE_CACHE_MAX_ENTRIES`` files (``BoundedFolderCache``); Redis expires
every key itself (a page at the end of its day, a generation after two days)
and its ``maxmemory`` bounds it.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import os
import secrets
import struct
import threading
import time
import zlib
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from cachelib import BaseCache, FileSystemCache, NullCache
from flask import Flask, current_app, has_app_context
from sqlalchemy import BindParameter, ColumnElement, Integer, bindparam, cast, event, null, select, union_all
from sqlalchemy.orm import ORMExecuteState, Session

from traceability.core import replica
from traceability.core.dates import VIETNAM_OFFSET
from traceability.core.extensions import db
from traceability.core.ownership import owner_of
from traceability.models.batches import Batch, Recall, RecallBatch, TraceEvent
from traceability.models.registry import Centre, Location, Producer, Product
from traceability.public.canonical_paths import canonical_page_path, raw_path
from traceability.public.journey import upstream_lot_ids

log = logging.getLogger(__name__)

EVERYTHING = "all"
GENERATION_SECONDS = 2 * 24 * 3600  # longer than a page lives; a lost generation only costs a miss
DEFAULT_MAX_ENTRIES = 20_000  # pages of about 4 KB: some 80 MB of disk
DEFAULT_MEMO_ENTRIES = 2_000  # pages checked and kept in each process: some 10 MB
EPOCH_KEY = "epoch"


def init_app(app: Flask) -> None:
    """Give the app its page cache, ``app.extensions["page_cache"]``, on ``PAGE_CACHE_URL``, and its fast path.

    Call it before ``ProxyFix`` wraps the app, so the fast path sees the request as the app does.
    """
    from traceability.public.fast_path import FastPath

    default_folder = str(Path(app.instance_path) / "page-cache")
    backend = make_backend(
        app.config.get("PAGE_CACHE_URL"),
        default_folder,
        max_entries=int(app.config.get("PAGE_CACHE_MAX_ENTRIES") or DEFAULT_MAX_ENTRIES),
    )
    memo_entries = app.config.get("PAGE_CACHE_MEMO_ENTRIES")
    app.extensions["page_cache"] = PageCache(
        backend, memo_entries=DEFAULT_MEMO_ENTRIES if memo_entries is None else int(memo_entries)
    )
    app.wsgi_app = FastPath(app, app.wsgi_app)  # type: ignore[method-assign]


def make_backend(
    url: str | None, default_folder: str, *, max_entries: int = DEFAULT_MAX_ENTRIES
) -> BaseCache:
    """The cachelib backend for ``PAGE_CACHE_URL``; a folder holds at most ``max_entries`` files."""
    if url == "null":
        return NullCache()
    if url and url.startswith(("redis://", "rediss://", "unix://")):
        import redis
        from cachelib import RedisCache

        return RedisCache(host=redis.Redis.from_url(url), key_prefix="page-cache:")
    return BoundedFolderCache(url or default_folder, max_entries=max_entries)


class BoundedFolderCache(FileSystemCache):
    """cachelib's folder cache, holding at most about ``max_entries`` files, however many processes write to it.

    cachelib's own ``threshold`` keeps a file count that processes update
    without a lock (it drifts), costs two more file writes per page, and once
    full lists and reads every file at every write. Instead, each process
    counts the folder's files every ``max_entries // 100`` of its own writes,
    and when there are more than ``max_entries`` removes the expired files and
    then those that expire soonest (pages before generations, which outlive
    them) down to 90 %: one pass per tenth of the bound written. Between two
    counts each process writes at most 1 % of the bound, so with W workers the
    folder holds at most ``max_entries`` × (1 + W/100) files.
    """

    def __init__(self, cache_dir: str, *, max_entries: int) -> None:
        # threshold=0: cachelib keeps no count and never prunes; this class bounds the folder.
        super().__init__(cache_dir, threshold=0)
        self.max_entries = max(1, max_entries)
        self._count_every = max(1, self.max_entries // 100)
        self._writes = 0

    def set(self, key: str, value: Any, timeout: Any = None, mgmt_element: bool = False) -> bool:
        written = super().set(key, value, timeout, mgmt_element)
        self._writes += 1
        if self._writes >= self._count_every:
            self._writes = 0
            self.enforce_bound()
        return written

    def _files(self) -> list[str]:
        return [entry.path for entry in os.scandir(self._path) if not self._is_mgmt(entry.name)]

    def enforce_bound(self) -> None:
        """Remove the expired files, then those expiring soonest, when the folder holds more than its bound."""
        files = self._files()
        if len(files) <= self.max_entries:
            return
        self._remove_expired(time.time())
        files = self._files()
        excess = len(files) - self.max_entries * 9 // 10
        if excess <= 0:
            return
        expiring: list[tuple[int, str]] = []
        for path in files:
            try:
                with open(path, "rb") as file:
                    (expires,) = struct.unpack("I", file.read(4))  # cachelib's header: 0 never expires
            except (OSError, struct.error):  # removed by another process meanwhile
                continue
            expiring.append((expires or 2**32, path))
        for _expires, path in sorted(expiring)[:excess]:
            Path(path).unlink(missing_ok=True)


@dataclass
class CachedPage:
    body: bytes  # the HTML, compressed
    etag: str
    scopes: tuple[str, ...]
    generations: tuple[str, ...]
    batch_id: int  # what a hit needs without the database: the lot, for its scan...
    entity_url: str  # ...and its public URL, for the Link header
    expires_at: float  # time.time() when the page's day is over
    # The headers the app answered the page with, learnt from its first answer (fast_path).
    headers: tuple[tuple[str, str], ...] = ()
    # A lot's shared item page (``item_pages``): the nonce of its markers and its report link, in markers.
    nonce: str = ""
    report_url: str = ""

    @property
    def content(self) -> bytes:
        return zlib.decompress(self.body)

    @property
    def html(self) -> str:
        return self.content.decode()


def page_etag(html: str) -> str:
    return hashlib.sha256(html.encode()).hexdigest()[:32]


class PageCache:
    """Rendered pages keyed by URL and language, valid while their scopes' generations hold.

    A backend that fails (Redis restarting) never fails the page: reads miss,
    writes are skipped, both logged.
    """

    def __init__(self, backend: BaseCache, *, memo_entries: int = DEFAULT_MEMO_ENTRIES) -> None:
        self.backend = backend
        self.memo_entries = max(0, memo_entries)
        # page key -> (the epoch read before its generations were checked, the page); this process's only.
        self._memo: OrderedDict[str, tuple[str, CachedPage]] = OrderedDict()
        self._memo_lock = threading.Lock()

    @property
    def enabled(self) -> bool:
        return not isinstance(self.backend, NullCache)

    def generations(self, scopes: Iterable[str]) -> tuple[str, ...] | None:
        """The generations to store a page under, read before rendering it; None when it must not be stored.

        None when the backend fails, or when this request reads from a replica
        that has not replayed the writes behind these generations: the request
        then reads from the primary (``traceability.core.replica``).
        """
        values = self._current_generations(scopes)
        if values is None or not replica.reads_from_replica() or self._replica_has_replayed(values):
            return values
        replica.use_primary()
        return None

    def _current_generations(self, scopes: Iterable[str]) -> tuple[str, ...] | None:
        """The current generation of each scope, creating the missing ones; None when the backend fails."""
        keys = [f"gen:{scope}" for scope in scopes]
        try:
            values = list(self.backend.get_many(*keys)) if keys else []
            for index, value in enumerate(values):
                if value is None:
                    self.backend.add(keys[index], secrets.token_hex(8), timeout=GENERATION_SECONDS)
                    values[index] = self.backend.get(keys[index]) or ""
        except Exception:
            log.exception("page cache unavailable")
            return None
        return tuple(values)

    def bump(self, scopes: Iterable[str]) -> None:
        """Give each scope a new generation: every page that shows it is stale from now on."""
        scopes = set(scopes)
        generations = {f"gen:{scope}": secrets.token_hex(8) for scope in scopes}
        try:
            self.backend.set_many(generations, timeout=GENERATION_SECONDS)
            # After the generations: a reader that sees the new epoch checks against them.
            self.backend.set(EPOCH_KEY, secrets.token_hex(8), timeout=GENERATION_SECONDS)
        except Exception:  # the change is committed: a cache outage must not turn it into an error
            log.exception("page cache not invalidated for %s; those pages may be stale today", sorted(scopes))
            return
        if replica.configured():  # read after the generations were written (traceability.core.replica)
            self._record_wal_position(generations.values())

    def _record_wal_position(self, generations: Iterable[str]) -> None:
        """Keep the primary's WAL position now with generations already written; a reader's replica must reach it."""
        try:
            position = replica.primary_wal_position()
            for generation in generations:
                self.backend.add(f"wal:{generation}", position, timeout=GENERATION_SECONDS)
        except Exception:  # readers record it themselves, after storing one page less
            log.exception("WAL position of new page cache generations not recorded")

    def _replica_has_replayed(self, generations: tuple[str, ...]) -> bool:
        """Whether this request's replica has replayed the writes behind ``generations``."""
        replayed = replica.replayed_position()
        if replayed is None:  # not a standby: it is the primary
            return True
        try:
            positions = self.backend.get_many(*(f"wal:{generation}" for generation in generations))
        except Exception:
            log.exception("page cache unavailable")
            return False
        unknown = [
            generation
            for generation, position in zip(generations, positions, strict=True)
            if position is None
        ]
        if unknown:
            self._record_wal_position(unknown)  # they were written before now: now is a safe bound
            return False
        return max(positions, default=0) <= replayed

    def get(self, key: str) -> CachedPage | None:
        """The cached page, if every scope it shows is still at its stored generation.

        A page this process checked since the last change anywhere (the epoch
        is unchanged) is served from the memo, its generations unread.
        """
        try:
            epoch = self._epoch()
            if epoch is not None:
                with self._memo_lock:
                    remembered = self._memo.get(key)
                    if remembered is not None and remembered[0] == epoch:
                        if remembered[1].expires_at > time.time():
                            self._memo.move_to_end(key)
                            return remembered[1]
                        del self._memo[key]
            page = self.backend.get(f"page:{key}")
        except Exception:
            log.exception("page cache unavailable")
            return None
        if not isinstance(page, CachedPage) or self._current_generations(page.scopes) != page.generations:
            return None
        if epoch is not None and page.headers:  # a page still learning its headers is read again
            self._remember(key, epoch, page)
        return page

    def _epoch(self) -> str | None:
        """The cache's epoch, new at every bump; started when missing (a restart, an eviction)."""
        if not self.memo_entries:
            return None
        epoch = self.backend.get(EPOCH_KEY)
        if epoch is None:
            self.backend.add(EPOCH_KEY, secrets.token_hex(8), timeout=GENERATION_SECONDS)
            epoch = self.backend.get(EPOCH_KEY)
        return epoch if isinstance(epoch, str) else None

    def _remember(self, key: str, epoch: str, page: CachedPage) -> None:
        with self._memo_lock:
            self._memo[key] = (epoch, page)
            self._memo.move_to_end(key)
            while len(self._memo) > self.memo_entries:
                self._memo.popitem(last=False)

    def put(
        self,
        key: str,
        html: str,
        scopes: Iterable[str],
        generations: tuple[str, ...],
        *,
        batch_id: int,
        entity_url: str,
        timeout: int,
        nonce: str = "",
        report_url: str = "",
    ) -> CachedPage:
        """Store a page rendered while ``generations`` (read *before* rendering) were current."""
        page = CachedPage(
            zlib.compress(html.encode(), 6),
            page_etag(html),
            tuple(scopes),
            generations,
            batch_id,
            entity_url,
            time.time() + timeout,
            nonce=nonce,
            report_url=report_url,
        )
        self._set(key, page)
        return page

    def add_headers(self, key: str, headers: Iterable[tuple[str, str]]) -> None:
        """Keep the headers of the page's answer with the page (its generations stay as they were)."""
        try:
            page = self.backend.get(f"page:{key}")
        except Exception:
            log.exception("page cache unavailable")
            return
        if isinstance(page, CachedPage) and not page.headers:
            self._set(key, dataclasses.replace(page, headers=tuple(headers)))

    def _set(self, key: str, page: CachedPage) -> None:
        timeout = int(page.expires_at - time.time())
        if timeout <= 0:
            return
        try:
            self.backend.set(f"page:{key}", page, timeout=timeout)
        except Exception:
            log.exception("page cache unavailable")

    def clear(self) -> None:
        self.backend.clear()
        with self._memo_lock:
            self._memo.clear()

    def sweep(self) -> int:
        """Remove the expired pages of a cache folder; Redis expires its keys itself. How many went."""
        if not isinstance(self.backend, FileSystemCache):
            return 0
        before = sum(1 for _name in self.backend._list_dir())
        self.backend._remove_expired(time.time())  # cachelib's own pruning step
        return before - sum(1 for _name in self.backend._list_dir())


def sweep_expired_pages() -> int:
    """The worker's job ``page_cache.sweep``: expired pages leave this machine's cache folder."""
    cache = current_app.extensions.get("page_cache")
    return cache.sweep() if isinstance(cache, PageCache) else 0


def page_key(environ: dict[str, Any], language: str, canonical: str | None = None) -> str:
    """The cache key of the page at this request's URL in ``language``.

    The canonical spelling of the path names the page (``canonical_paths``:
    ``%42OT2603A`` and ``BOT2603A``, a ``/t/`` code in any case, are one page);
    the query string does not (the page never reads it, so ``?utm_source=...``
    can't fill the cache), nor does the host (absolute URLs come from
    PUBLIC_BASE_URL). The scheme and the script root do (HSTS, links), and the
    day: the page reads it (expiry, valid certificates). ``canonical``: the
    path's canonical spelling, when the caller has it already.
    """
    path = canonical or canonical_page_path(raw_path(environ)) or raw_path(environ)
    day = datetime.now(VIETNAM_OFFSET).date()
    parts = (
        language,
        str(day),
        environ.get("wsgi.url_scheme", ""),
        environ.get("SCRIPT_NAME", ""),
        path,
    )
    return page_etag("|".join(parts))


def item_page_key(environ: dict[str, Any], language: str, batch_id: int) -> str:
    """The cache key of the shared item page of a lot (``item_pages``) in ``language``: one for all its items."""
    day = datetime.now(VIETNAM_OFFSET).date()
    parts = (
        "item",
        language,
        str(day),
        environ.get("wsgi.url_scheme", ""),
        environ.get("SCRIPT_NAME", ""),
        str(batch_id),
    )
    return page_etag("|".join(parts))


def end_of_day() -> int:
    """Seconds until the page's day is over in Vietnam, and a minute."""
    now = datetime.now(VIETNAM_OFFSET)
    midnight = datetime.combine(now.date() + timedelta(days=1), datetime.min.time(), VIETNAM_OFFSET)
    return int((midnight - now).total_seconds()) + 60


def producer_scope(producer_id: int) -> str:
    return f"producer:{producer_id}"


def batch_scope(batch_id: int) -> str:
    return f"batch:{batch_id}"


def _shown_producers_statement():
    """One statement: (None, producer) for the shown lots' products and places, (lot, producer) for the recalls.

    The shown lots are bound as ``shown``, the page's lot as ``batch_id``. Built
    once: building and keying it cost more than running it.
    """
    shown: BindParameter[list[int]] = bindparam("shown", expanding=True)
    shown_locations: ColumnElement[bool] = Location.id.in_(
        select(TraceEvent.location_id).where(TraceEvent.batch_id.in_(shown))
    )
    shown_locations |= Location.id.in_(select(Batch.origin_location_id).where(Batch.id.in_(shown)))
    no_batch = cast(null(), Integer)
    return union_all(
        select(no_batch.label("batch_id"), Product.producer_id.label("producer_id"))
        .join(Batch, Batch.product_id == Product.id)
        .where(Batch.id.in_(shown)),
        select(no_batch, Location.producer_id).where(shown_locations),
        select(Recall.batch_id, Product.producer_id)
        .join(RecallBatch, RecallBatch.recall_id == Recall.id)
        .join(Batch, Batch.id == Recall.batch_id)
        .join(Product, Product.id == Batch.product_id)
        .where(RecallBatch.batch_id == bindparam("batch_id")),
    )


_SHOWN_PRODUCERS = _shown_producers_statement()


def page_scopes(batch: Batch) -> tuple[str, ...]:
    """The scopes the lot page of ``batch`` shows (two queries, on a miss only).

    Besides its own: the upstream lots its journey shows (``journey``: their
    events, links and origin farms) with their products' producers; the
    producers of the locations it names (origin, events, the upstream lots'
    too: a farm's certificate is its producer's); and the lots whose recalls
    reach it, with their producers (a recalled input is named on the page).
    A change to any of these (an input lot's new event, the farm's
    certificate, the input's product) bumps one of the scopes.
    """
    upstream = upstream_lot_ids(batch.id)
    batches, producers = {batch.id, *upstream}, set()
    for recalled_batch, producer in db.session.execute(
        _SHOWN_PRODUCERS, {"shown": sorted(batches), "batch_id": batch.id}
    ):
        if recalled_batch is not None:
            batches.add(recalled_batch)
        producers.add(producer)
    return (
        EVERYTHING,
        *sorted(batch_scope(batch_id) for batch_id in batches),
        *sorted(producer_scope(producer_id) for producer_id in producers),
    )


# --- invalidation on commit ----------------------------------------------------------------------


def _changed_scopes(session: Session, objects: Iterable[Any]) -> set[str]:
    """The cache scopes the changed rows show in: the roots themselves, else the owner they declare."""
    producers: set[int] = set()
    products: set[int] = set()
    batches: set[int] = set()
    recalls: set[int] = set()
    everything = False
    for obj in objects:
        if isinstance(obj, Centre):
            everything = True
        elif isinstance(obj, Producer):
            producers.add(obj.id)
        elif isinstance(obj, Batch):
            batches.add(obj.id)  # a lot's own pages, not every page of its producer
        elif isinstance(obj, Recall):
            batches.add(obj.batch_id)
            recalls.add(obj.id)
        elif (owner := owner_of(type(obj))) is not None and owner.public:
            owners = {"producer": producers, "product": products, "batch": batches}[owner.kind]
            owners.update(getattr(obj, name) for name in (owner.column, *owner.also))
    if recalls:  # closing a recall shows on every batch it reached
        batches.update(
            session.scalars(select(RecallBatch.batch_id).where(RecallBatch.recall_id.in_(recalls))).all()
        )
    if products:
        producers.update(session.scalars(select(Product.producer_id).where(Product.id.in_(products))).all())
    scopes = {producer_scope(producer_id) for producer_id in producers if producer_id is not None}
    scopes.update(batch_scope(batch_id) for batch_id in batches if batch_id is not None)
    if everything:
        scopes.add(EVERYTHING)
    return scopes


def _shown_publicly(model: type) -> bool:
    """Whether rows of ``model`` show on the public pages (a bulk change to them forgets every page)."""
    if model in (Centre, Producer, Batch, Recall):
        return True
    owner = owner_of(model)
    return owner is not None and owner.public


def _listening() -> bool:
    return has_app_context() and "page_cache" in current_app.extensions


@event.listens_for(Session, "after_flush")  # new, dirty and deleted still list what was flushed
def _collect(session: Session, _context: Any) -> None:
    if not _listening():
        return
    touched = [*session.new, *session.dirty, *session.deleted]
    if touched:
        session.info.setdefault("page_cache_scopes", set()).update(_changed_scopes(session, touched))


@event.listens_for(Session, "do_orm_execute")
def _collect_bulk(state: ORMExecuteState) -> None:
    # A bulk UPDATE or DELETE (retention) names no objects: every page may show what it changed.
    if (
        (state.is_update or state.is_delete)
        and _listening()
        and any(_shown_publicly(mapper.class_) for mapper in state.all_mappers)
    ):
        state.session.info.setdefault("page_cache_scopes", set()).add(EVERYTHING)


@event.listens_for(Session, "after_commit")
def _invalidate(session: Session) -> None:
    if session.in_nested_transaction():  # a savepoint: the real commit comes later
        return
    scopes = session.info.pop("page_cache_scopes", None)
    if scopes and _listening():
        current_app.extensions["page_cache"].bump(scopes)


@event.listens_for(Session, "after_rollback")
def _forget(session: Session) -> None:
    # A savepoint's rollback keeps what was collected: at worst a few pages miss once.
    if not session.in_nested_transaction():
        session.info.pop("page_cache_scopes", None)
