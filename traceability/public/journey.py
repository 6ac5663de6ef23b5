"""A lot's journey from the farm, for its consumer page: the upstream lots' events and the origin farms.

A roasted coffee lot is made from a green-coffee lot, itself harvested on a
farm; the consumer page tells that chain (Decree 37/2026 Art. 23.5 đ and e).
The lots upstream and their links are found by one recursive query (``trace.walk``), each once at
its shortest distance, and everything is read in a few batched queries,
whatever the chain's length:

- the lots read: the ``JOURNEY_MAX_LOTS`` nearest upstream, plus up to
  ``MAX_ORIGIN_LOTS`` at the far end (the harvest lots), however deep;
- their standing events (a voided event or a retraction never shows): on the
  page, at most ``SUMMARY_EVENTS_PER_STAGE`` per lot and ``SUMMARY_STAGES``
  lots; on the whole-journey page (``?view=journey``) at most
  ``JOURNEY_MAX_EVENTS`` in all, with a notice when there are more;
- the origin farms' verified certificates in force today.

The page cache holds the scopes of the lots read here (``page_cache.page_scopes``
calls ``upstream_lot_ids``), so a change upstream shows on the page at once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import BindParameter, and_, bindparam, func, or_, select
from sqlalchemy.orm import aliased, joinedload

from traceability.batches.trace import walk
from traceability.core.extensions import db
from traceability.models.batches import Batch, TraceEvent
from traceability.models.registry import Certification, Location, Product

JOURNEY_MAX_LOTS = 100  # upstream lots read, nearest first (the origins come on top)
MAX_ORIGIN_LOTS = 20  # lots at the far end of the chain read, whatever their depth
MAX_ORIGINS_SHOWN = 5  # origin farms named on the page
SUMMARY_STAGES = 6  # upstream lots the page shows; the whole-journey page shows every lot read
SUMMARY_ORIGIN_STAGES = 2  # of those, from the origin end; the rest are the nearest
SUMMARY_EVENTS_PER_STAGE = 5
JOURNEY_MAX_EVENTS = 500  # events on the whole-journey page


@dataclass
class Stage:
    """An upstream lot on the journey, with its standing events (some of them on the page)."""

    batch: Batch
    depth: int
    kind: str  # how it went into the next lot: transformation, aggregation, split
    events: list[TraceEvent]
    event_count: int
    is_origin: bool

    @property
    def more_events(self) -> int:
        return self.event_count - len(self.events)


@dataclass
class Origin:
    """A farm (or other place) where upstream lots began, with its harvest and its certificates in force."""

    location: Location
    lots: list[Batch]
    harvest: TraceEvent | None
    certifications: list[Certification] = field(default_factory=list)

    @property
    def map_url(self) -> str | None:
        """The place on OpenStreetMap, when its coordinates are known (a plain link: no script, no embed)."""
        if self.location.latitude is None or self.location.longitude is None:
            return None
        lat, lon = f"{self.location.latitude:.5f}", f"{self.location.longitude:.5f}"
        return f"https://www.openstreetmap.org/?mlat={lat}&mlon={lon}#map=15/{lat}/{lon}"

    @property
    def geo_uri(self) -> str | None:
        """The place as a ``geo:`` URI (RFC 5870), which opens the phone's own map application."""
        if self.location.latitude is None or self.location.longitude is None:
            return None
        return f"geo:{self.location.latitude:.5f},{self.location.longitude:.5f}"


@dataclass
class Journey:
    """What the page (or the whole-journey page) shows of a lot's upstream chain."""

    stages: list[Stage]  # origin end first
    hidden_stages: int  # stages read but left out of the summary, between its two ends
    hidden_after: int  # the summary's gap comes after this many stages
    upstream_count: int  # lots upstream in all
    lots_read: int
    origins: list[Origin]
    more_origins: int
    events_truncated: bool = False

    @property
    def lots_truncated(self) -> bool:
        return self.upstream_count > self.lots_read

    @property
    def is_summary_cut(self) -> bool:
        """Whether the whole-journey page shows more than the summary does."""
        return self.hidden_stages > 0 or any(stage.more_events for stage in self.stages)


@dataclass(frozen=True)
class UpstreamLots:
    depths: dict[int, int]  # lot id: distance from the page's lot, for the lots read
    origin_ids: list[int]
    total: int
    # How each lot read went into the next one: the kind of its link nearest the page's lot.
    kinds: dict[int, str] = field(default_factory=dict)


def upstream_lots(batch_id: int) -> UpstreamLots:
    """The upstream lots a page reads: the nearest ``JOURNEY_MAX_LOTS`` and the origins (one query).

    The origins are the lots of the chain made from no other lot (``origin_batch_ids``): every
    link that makes a lot of the chain is in the walk, so they are found in its links.
    """
    chain = walk(batch_id, "upstream")
    depths = {lot_id: depth for lot_id, depth in chain.depths.items() if lot_id != batch_id}
    if not depths:
        return UpstreamLots({}, [], 0)
    nearest = sorted(depths, key=lambda lot_id: (depths[lot_id], lot_id))[:JOURNEY_MAX_LOTS]
    made_from_something = {start for _link_id, start, _end in chain.links}
    origins = sorted(lot_id for lot_id in depths if lot_id not in made_from_something)[:MAX_ORIGIN_LOTS]
    read = {lot_id: depths[lot_id] for lot_id in (*nearest, *origins)}
    kinds: dict[int, tuple[int, str]] = {}
    for link_id, output_id, input_id in chain.links:
        distance = 0 if output_id == batch_id else read.get(output_id)
        if (
            input_id in read
            and distance is not None
            and (input_id not in kinds or distance < kinds[input_id][0])
        ):
            kinds[input_id] = (distance, chain.kinds[link_id])
    return UpstreamLots(read, origins, len(depths), {lot_id: kind for lot_id, (_d, kind) in kinds.items()})


def upstream_lot_ids(batch_id: int) -> list[int]:
    """The ids of the upstream lots the page of ``batch_id`` shows (its cache scopes)."""
    return sorted(upstream_lots(batch_id).depths)


def _standing(lot_ids: list[int] | BindParameter[list[int]]):
    """SQL: events of these lots that stand (not voided by a correction, not a retraction)."""
    voiding = aliased(TraceEvent)
    return and_(
        TraceEvent.batch_id.in_(lot_ids),
        TraceEvent.is_retraction.is_(False),
        ~select(voiding.id).where(voiding.voids_event_id == TraceEvent.id).exists(),
    )


# The public pages name the place of an event and who operated it (``event_party``), never the account.
_EVENT_OPTIONS = (joinedload(TraceEvent.location).joinedload(Location.producer),)

# The statements of a page's journey, built once with bound lists of ids: building a statement and
# computing its cache key cost more than running it, on every uncached page (bench/render.py).
_LOT_IDS: BindParameter[list[int]] = bindparam("lot_ids", expanding=True)
_LOTS = (
    select(Batch)
    .where(Batch.id.in_(_LOT_IDS))
    .options(
        joinedload(Batch.product).joinedload(Product.producer),
        joinedload(Batch.origin_location).joinedload(Location.producer),
    )
)


def _summary_events_statement():
    ranked = (
        select(
            TraceEvent.id.label("event_id"),
            func.row_number()
            .over(partition_by=TraceEvent.batch_id, order_by=(TraceEvent.event_time, TraceEvent.id))
            .label("position"),
            func.count().over(partition_by=TraceEvent.batch_id).label("total"),
        )
        .where(_standing(_LOT_IDS))
        .subquery()
    )
    origin_harvest = and_(
        TraceEvent.type == "harvesting", TraceEvent.batch_id.in_(bindparam("origin_ids", expanding=True))
    )
    return (
        select(TraceEvent, ranked.c.position, ranked.c.total)
        .join(ranked, ranked.c.event_id == TraceEvent.id)
        .where(or_(ranked.c.position <= SUMMARY_EVENTS_PER_STAGE, origin_harvest))
        .options(*_EVENT_OPTIONS)
        .order_by(TraceEvent.event_time, TraceEvent.id)
    )


_SUMMARY_EVENTS = _summary_events_statement()
_ALL_EVENTS = (
    select(TraceEvent)
    .where(_standing(_LOT_IDS))
    .options(*_EVENT_OPTIONS)
    .order_by(TraceEvent.event_time, TraceEvent.id)
    .limit(JOURNEY_MAX_EVENTS + 1)
)
_PLACE_CERTIFICATIONS = (
    select(Certification)
    .where(
        Certification.status == "verified",
        Certification.scope == "location",
        Certification.location_id.in_(bindparam("location_ids", expanding=True)),
    )
    .order_by(Certification.type, Certification.id)
)


def _summary_events(
    lot_ids: list[int], origin_ids: list[int]
) -> tuple[dict[int, list[TraceEvent]], dict[int, int]]:
    """The first events of each lot (and every harvest of an origin lot), with each lot's count: one query."""
    rows = db.session.execute(_SUMMARY_EVENTS, {"lot_ids": lot_ids, "origin_ids": origin_ids}).all()
    events: dict[int, list[TraceEvent]] = {}
    counts: dict[int, int] = {}
    for event, _position, total in rows:
        events.setdefault(event.batch_id, []).append(event)
        counts[event.batch_id] = total
    return events, counts


def _all_events(lot_ids: list[int]) -> tuple[dict[int, list[TraceEvent]], bool]:
    """Every standing event of the lots, up to ``JOURNEY_MAX_EVENTS``; True when there were more."""
    found = db.session.scalars(_ALL_EVENTS, {"lot_ids": lot_ids}).unique().all()
    events: dict[int, list[TraceEvent]] = {}
    for event in found[:JOURNEY_MAX_EVENTS]:
        events.setdefault(event.batch_id, []).append(event)
    return events, len(found) > JOURNEY_MAX_EVENTS


def _origin_certifications(location_ids: list[int], today: date) -> dict[int, list[Certification]]:
    """The verified certificates in force of these places, by place."""
    if not location_ids:
        return {}
    certifications: dict[int, list[Certification]] = {}
    for certification in db.session.scalars(_PLACE_CERTIFICATIONS, {"location_ids": location_ids}):
        if certification.location_id is not None and certification.is_valid_on(today):
            certifications.setdefault(certification.location_id, []).append(certification)
    return certifications


def _origins(
    lots: dict[int, Batch], origin_ids: list[int], events: dict[int, list[TraceEvent]], today: date
) -> tuple[list[Origin], int]:
    """The places where the origin lots began, each with its latest harvest and certificates."""
    by_place: dict[int, Origin] = {}
    for lot_id in origin_ids:
        lot = lots.get(lot_id)
        if lot is None:
            continue
        harvests = [event for event in events.get(lot_id, []) if event.type == "harvesting"]
        place = lot.origin_location or next((e.location for e in harvests if e.location), None)
        if place is None:
            continue
        origin = by_place.setdefault(place.id, Origin(place, [], None))
        origin.lots.append(lot)
        for harvest in harvests:
            if origin.harvest is None or harvest.event_time > origin.harvest.event_time:
                origin.harvest = harvest
    origins = list(by_place.values())
    shown = origins[:MAX_ORIGINS_SHOWN]
    certifications = _origin_certifications([origin.location.id for origin in shown], today)
    for origin in shown:
        origin.certifications = certifications.get(origin.location.id, [])
    return shown, len(origins) - len(shown)


def batch_journey(batch: Batch, *, today: date, whole: bool = False) -> Journey | None:
    """The journey of ``batch`` from its origins; None for a lot made from no other lot.

    ``whole``: every lot read with up to ``JOURNEY_MAX_EVENTS`` events, for the
    whole-journey page; else the page's summary.
    """
    upstream = upstream_lots(batch.id)
    if not upstream.depths:
        return None
    lot_ids = sorted(upstream.depths)
    lots = {lot.id: lot for lot in db.session.scalars(_LOTS, {"lot_ids": lot_ids}).unique()}
    if whole:
        events, truncated = _all_events(lot_ids)
        counts = {lot_id: len(found) for lot_id, found in events.items()}
    else:
        events, counts = _summary_events(lot_ids, upstream.origin_ids)
        truncated = False
    origin_set = set(upstream.origin_ids)
    stages = [
        Stage(
            batch=lot,
            depth=upstream.depths[lot.id],
            kind=upstream.kinds.get(lot.id, "transformation"),
            events=[
                event
                for position, event in enumerate(events.get(lot.id, []))
                if whole or position < SUMMARY_EVENTS_PER_STAGE
            ],
            event_count=counts.get(lot.id, 0),
            is_origin=lot.id in origin_set,
        )
        for lot in lots.values()
    ]
    # From the origin end: the farthest lots first, then by when they were made.
    stages.sort(key=lambda stage: (-stage.depth, stage.batch.production_date, stage.batch.id))
    hidden, hidden_after = 0, len(stages)
    if not whole and len(stages) > SUMMARY_STAGES:
        nearest = SUMMARY_STAGES - SUMMARY_ORIGIN_STAGES
        hidden = len(stages) - SUMMARY_STAGES
        hidden_after = SUMMARY_ORIGIN_STAGES
        stages = stages[:SUMMARY_ORIGIN_STAGES] + stages[-nearest:]
    origins, more_origins = _origins(lots, upstream.origin_ids, events, today)
    return Journey(
        stages=stages,
        hidden_stages=hidden,
        hidden_after=hidden_after,
        upstream_count=upstream.total,
        lots_read=len(lot_ids),
        origins=origins,
        more_origins=more_origins,
        events_truncated=truncated,
    )
