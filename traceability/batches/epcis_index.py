"""The EPCIS query index: every lot's exported events, in SQL, kept in line with the records.

``GET /epcis/events`` filters and pages in SQL over ``EpcisQueryEvent`` rows,
each holding one event exactly as ``batch_events`` exports it (same eventID,
same JSON), with the fields the standard query filters on in indexed columns
and the event's identifiers, quantities and references in ``EpcisQueryValue``.

The index follows the records by itself: every flush notes the lots whose
export a change may alter (``affected_batches``: a key event, lineage, a
recall, the lot itself, a product's GTIN, a location's identifiers) and, just
before the transaction commits, those lots are exported again and their rows
brought in line (``index_batches``): unchanged events keep their rows, a
changed one is updated in place (same row id, so a client paging through a
query meets it once), gone ones are deleted. A new key event that changes
nothing else of its lot's export (not a correction or a retraction, not the
processing or packing event a lineage takes its time from) is exported alone
(``index_appended``): recording an event costs one event's export, not its lot's. On PostgreSQL a transaction-scoped
advisory lock per lot makes two transactions that touch one lot index it one
after the other, each seeing the other's committed events. A change the hooks
cannot see (a new ``PUBLIC_BASE_URL``, rows written by hand, a new event-hash
algorithm) needs ``flask epcis reindex``.

Canonical forms, so that the URN and Digital Link spellings of one key meet:
identifiers as constrained canonical Digital Links (``canonical_uri``), CBV
values as their bare names (``vocabulary_key``); anything else as it is.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any, cast

from flask import has_app_context
from sqlalchemy import Table, delete, event, func, insert, inspect, select, text, update
from sqlalchemy.orm import Session, selectinload

from traceability.batches.epcis import (
    ANCHOR_TYPES,
    EventSource,
    appended_events,
    project_uris,
    sourced_batch_events,
)
from traceability.core.dates import utcnow
from traceability.core.extensions import db
from traceability.gs1.epcis import (
    EpcisIdentifierError,
    canonical_uri,
    cbv_names,
    parse_identifier,
    parse_time,
    vocabulary_name,
)
from traceability.models.batches import Batch, BatchInput, Recall, RecallBatch, TraceEvent
from traceability.models.epcis import EpcisQueryEvent, EpcisQueryValue
from traceability.models.registry import Location, Producer, Product

CHUNK = 200  # lots exported and written at a time
MAX_VALUE = 300  # the columns' length: a longer identifier is not indexed (no query could name it)
# Where each list of an event goes in EpcisQueryValue.field.
EPC_LISTS = {
    "epcList": "epc",
    "childEPCs": "childEPC",
    "inputEPCList": "inputEPC",
    "outputEPCList": "outputEPC",
}
QUANTITY_LISTS = {
    "quantityList": "epcClass",
    "childQuantityList": "childEPCClass",
    "inputQuantityList": "inputEPCClass",
    "outputQuantityList": "outputEPCClass",
}
# The CBV schema definition each vocabulary kind's bare names are listed under.
CBV_DEFINITIONS = {
    "bizStep": "bizStep",
    "disposition": "disposition",
    "errorReason": "error-reason",
    "bizTransactionType": "bizTransaction-type",
    "sourceDestType": "source-dest-type",
}
# PostgreSQL advisory locks of the index: (this class, batch id).
LOCK_CLASS = 0x45504349  # "EPCI"


def vocabulary_key(value: str, kind: str) -> str:
    """A CBV value as its bare name (``urn:epcglobal:cbv:bizstep:shipping`` → ``shipping``); others as given."""
    value = value.strip()
    name = vocabulary_name(value, kind)
    if name is not None and name in cbv_names(CBV_DEFINITIONS[kind]):
        return name
    return value


def identifier_key(value: str) -> tuple[str, str | None]:
    """An identifier's canonical form and the GTIN of the GS1 key it names (None for other URIs)."""
    value = value.strip()
    try:
        key = parse_identifier(value)
    except EpcisIdentifierError:
        return value, None
    if key is None:
        return value, None
    return canonical_uri(value), key.gtin


def _time(value: Any) -> datetime | None:
    try:
        return parse_time(str(value)) if value else None
    except ValueError:
        return None


def _short(value: Any) -> str | None:
    if value is None:
        return None
    text_value = str(value)
    return text_value if len(text_value) <= MAX_VALUE else None


def _quantity(value: Any) -> Decimal | None:
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None
    return number if number.is_finite() and abs(number) < Decimal(10) ** 14 else None


def query_values(event: dict[str, Any]) -> list[dict[str, Any]]:
    """The identifiers, quantities and references of an exported event, as EpcisQueryValue rows."""
    values: list[dict[str, Any]] = []

    def add(field: str, raw: Any, *, kind: str | None = None, quantity: Any = None) -> None:
        canonical, gtin = identifier_key(str(raw))
        if _short(canonical) is not None:
            values.append(
                {
                    "field": field,
                    "kind": _short(kind),
                    "value": canonical,
                    "gtin": gtin,
                    "quantity": _quantity(quantity) if quantity is not None else None,
                }
            )

    for name, field in EPC_LISTS.items():
        for uri in event.get(name) or []:
            add(field, uri)
    if event.get("parentID"):
        add("parentID", event["parentID"])
    for name, field in QUANTITY_LISTS.items():
        for element in event.get(name) or []:
            if isinstance(element, dict) and element.get("epcClass"):
                add(field, element["epcClass"], quantity=element.get("quantity"))
    for corrective in (event.get("errorDeclaration") or {}).get("correctiveEventIDs") or []:
        values.append({"field": "correctiveEventID", "kind": None, "value": str(corrective)})
    for entry in event.get("bizTransactionList") or []:
        kind = vocabulary_key(str(entry["type"]), "bizTransactionType") if entry.get("type") else None
        add("bizTransaction", entry.get("bizTransaction", ""), kind=kind)
    for name, field in (("sourceList", "source"), ("destinationList", "destination")):
        for entry in event.get(name) or []:
            add(
                field, entry.get(field, ""), kind=vocabulary_key(str(entry.get("type", "")), "sourceDestType")
            )
    for value in values:
        value.setdefault("gtin", None)
        value.setdefault("quantity", None)
    return values


def query_row(source: EventSource, event: dict[str, Any], owner: tuple[int, int]) -> dict[str, Any]:
    """The EpcisQueryEvent columns of an exported event of a lot of ``owner`` (producer id, centre id);
    ``record_time`` is set by the caller."""
    declaration = event.get("errorDeclaration") or {}
    reason = vocabulary_key(str(declaration["reason"]), "errorReason") if declaration.get("reason") else None
    places = {}
    for name in ("readPoint", "bizLocation"):
        place = event.get(name)
        places[name] = _short(identifier_key(str(place["id"]))[0]) if isinstance(place, dict) else None
    return {
        "batch_id": source.batch_id,
        "producer_id": owner[0],
        "centre_id": owner[1],
        "source": source.kind,
        "source_id": source.source_id,
        "event_id": event["eventID"],
        "event_type": event["type"],
        "event_time": parse_time(event["eventTime"]),
        "action": event.get("action"),
        "biz_step": _short(vocabulary_key(str(event["bizStep"]), "bizStep"))
        if event.get("bizStep")
        else None,
        "disposition": (
            _short(vocabulary_key(str(event["disposition"]), "disposition"))
            if event.get("disposition")
            else None
        ),
        "read_point": places["readPoint"],
        "biz_location": places["bizLocation"],
        "error_declared_at": _time(declaration.get("declarationTime")),
        "error_reason": _short(reason),
        "retracted": reason == "did_not_occur",
        "document": event,
    }


def _lock(batch_ids: list[int]) -> None:
    """PostgreSQL: wait for any other transaction indexing these lots (locks taken in id order)."""
    if db.session.get_bind().dialect.name != "postgresql":
        return  # SQLite: a writing transaction holds the database's write lock from its start
    for batch_id in batch_ids:
        db.session.execute(
            text("SELECT pg_advisory_xact_lock(:lock_class, :batch_id)"),
            {"lock_class": LOCK_CLASS, "batch_id": batch_id},
        )


def _chunks(ids: list[int], size: int) -> Iterator[list[int]]:
    for start in range(0, len(ids), size):
        yield ids[start : start + size]


Key = tuple[int, str, int]  # (batch id, source kind, source id): one exported event


def index_batches(
    batch_ids: Iterable[int], *, base_url: str | None = None, now: datetime | None = None
) -> int:
    """Bring the query index of these lots in line with their EPCIS export; the number of rows written."""
    ids = sorted({batch_id for batch_id in batch_ids if batch_id is not None})
    if not ids:
        return 0
    uris = project_uris(base_url)
    written = 0
    _lock(ids)
    for chunk in _chunks(ids, CHUNK):
        batches = db.session.scalars(
            select(Batch)
            .where(Batch.id.in_(chunk))
            .options(
                selectinload(Batch.events).selectinload(TraceEvent.location).selectinload(Location.producer),
                selectinload(Batch.product).selectinload(Product.producer),
            )
            .execution_options(populate_existing=True)  # events committed by others since they were read
        ).all()
        fresh = {
            _key(source): (source, exported) for source, exported in sourced_batch_events(list(batches), uris)
        }
        held = _held(EpcisQueryEvent.batch_id.in_(chunk))
        written += _apply(fresh, held, _owners(batches), now or utcnow(), prune=True)
    return written


def index_appended(events: dict[int, set[int]], *, base_url: str | None = None) -> int:
    """Index key events just appended to their lots that change nothing else of the lots' export
    (``appended_events``): only these events are exported, not their whole lots."""
    ids = sorted(events)
    if not ids:
        return 0
    uris = project_uris(base_url)
    written = 0
    _lock(ids)
    for chunk in _chunks(ids, CHUNK):
        batches = db.session.scalars(
            select(Batch)
            .where(Batch.id.in_(chunk))
            .options(selectinload(Batch.product).selectinload(Product.producer))
        ).all()
        event_ids = sorted({event_id for batch_id in chunk for event_id in events[batch_id]})
        rows = db.session.scalars(
            select(TraceEvent)
            .where(TraceEvent.id.in_(event_ids))
            .options(selectinload(TraceEvent.location).selectinload(Location.producer))
        ).all()
        by_batch: dict[int, list[TraceEvent]] = {}
        for row in rows:
            by_batch.setdefault(row.batch_id, []).append(row)
        fresh = {
            _key(source): (source, exported)
            for batch in batches
            for source, exported in appended_events(batch, by_batch.get(batch.id, []), uris)
        }
        held = _held(  # by the lot first: the unique index (batch_id, source, source_id)
            EpcisQueryEvent.batch_id.in_(chunk),
            EpcisQueryEvent.source == "event",
            EpcisQueryEvent.source_id.in_(event_ids),
        )
        written += _apply(fresh, held, _owners(batches), utcnow(), prune=False)
    return written


def _owners(batches: Iterable[Batch]) -> dict[int, tuple[int, int]]:
    """Each lot's producer and the producer's centre: who may read its events."""
    return {batch.id: (batch.product.producer_id, batch.product.producer.centre_id) for batch in batches}


def _key(source: EventSource) -> Key:
    return (source.batch_id, source.kind, source.source_id)


def _held(*conditions: Any) -> dict[Key, Any]:
    columns = (
        EpcisQueryEvent.id,
        EpcisQueryEvent.batch_id,
        EpcisQueryEvent.source,
        EpcisQueryEvent.source_id,
        EpcisQueryEvent.producer_id,
        EpcisQueryEvent.centre_id,
        EpcisQueryEvent.document,
    )
    return {
        (row.batch_id, row.source, row.source_id): row
        for row in db.session.execute(select(*columns).where(*conditions))
    }


def _apply(
    fresh: dict[Key, tuple[EventSource, dict[str, Any]]],
    held: dict[Key, Any],
    owners: dict[int, tuple[int, int]],
    now: datetime,
    *,
    prune: bool,
) -> int:
    """Write what changed: new events inserted, changed ones updated in place (their row id kept,
    so a client paging meets them once), and with ``prune`` the held ones no longer exported deleted."""
    gone = [row.id for key, row in held.items() if key not in fresh] if prune else []
    new_rows, new_values, changed = [], [], []
    for key, (source, exported) in fresh.items():
        row = query_row(source, exported, owners[source.batch_id])
        before = held.get(key)
        if before is None:
            new_rows.append({**row, "record_time": source.recorded_at})
            new_values.append(query_values(exported))
        elif before.document != exported or (before.producer_id, before.centre_id) != owners[source.batch_id]:
            # What the repository holds changed now (an error declared, a key renamed).
            changed.append((before.id, {**row, "record_time": max(now, source.recorded_at)}, exported))
    if gone:
        db.session.execute(delete(EpcisQueryValue).where(EpcisQueryValue.query_event_id.in_(gone)))
        db.session.execute(delete(EpcisQueryEvent).where(EpcisQueryEvent.id.in_(gone)))
    if changed:
        changed_ids = [row_id for row_id, _row, _event in changed]
        db.session.execute(delete(EpcisQueryValue).where(EpcisQueryValue.query_event_id.in_(changed_ids)))
        for row_id, row, _exported in changed:
            db.session.execute(update(EpcisQueryEvent).where(EpcisQueryEvent.id == row_id).values(**row))
        _insert_values([(row_id, query_values(exported)) for row_id, _row, exported in changed])
    if new_rows:
        # Plain executemany (RETURNING many rows is slow on SQLite), then the new ids by their keys.
        db.session.execute(insert(cast(Table, EpcisQueryEvent.__table__)), new_rows)
        keys = [(row["batch_id"], row["source"], row["source_id"]) for row in new_rows]
        inserted = _held(EpcisQueryEvent.batch_id.in_({key[0] for key in keys}))
        _insert_values([(inserted[key].id, values) for key, values in zip(keys, new_values, strict=True)])
    return len(new_rows) + len(changed) + len(gone)


def _insert_values(rows: list[tuple[int, list[dict[str, Any]]]]) -> None:
    values = [{**value, "query_event_id": row_id} for row_id, row_values in rows for value in row_values]
    if values:
        db.session.execute(insert(cast(Table, EpcisQueryValue.__table__)), values)


def reindex_all(*, base_url: str | None = None, progress: Callable[[int, int], None] | None = None) -> int:
    """Export every lot again and rebuild the whole index (``flask epcis reindex``); the rows written.

    Commits after each chunk of lots, so memory stays flat and a large registry indexes in pieces.
    """
    ids = list(db.session.scalars(select(Batch.id).order_by(Batch.id)))
    stale = select(EpcisQueryEvent.id).where(EpcisQueryEvent.batch_id.not_in(select(Batch.id)))
    db.session.execute(delete(EpcisQueryEvent).where(EpcisQueryEvent.id.in_(stale)))
    written, done = 0, 0
    for chunk in _chunks(ids, CHUNK):
        written += index_batches(chunk, base_url=base_url)
        db.session.commit()
        db.session.expunge_all()
        done += len(chunk)
        if progress is not None:
            progress(done, len(ids))
    return written


def indexed_count() -> int:
    """How many events the index holds."""
    return db.session.scalar(select(func.count(EpcisQueryEvent.id))) or 0


# --- which lots a change reaches -----------------------------------------------------------------

# A lot's own columns its export shows (the output of its lineage, its identifiers, its origin).
_BATCH_FIELDS = (
    "product_id",
    "lot_code",
    "public_code",
    "quantity",
    "unit",
    "production_date",
    "origin_location_id",
)
# A lot's identifiers, which the lineage events of the lots made from it show too.
_BATCH_KEYS = ("product_id", "lot_code", "public_code", "unit")
_LOCATION_FIELDS = ("gln", "internal_code", "producer_id")


def _changed(obj: Any, fields: Iterable[str]) -> bool:
    state = inspect(obj)
    return any(state.attrs[name].history.has_changes() for name in fields if name in state.attrs)


def _made_from(session: Session, batch_ids: set[int]) -> set[int]:
    if not batch_ids:
        return set()
    return set(
        session.scalars(select(BatchInput.output_batch_id).where(BatchInput.input_batch_id.in_(batch_ids)))
    )


def affected_batches(
    session: Session, new: Iterable[Any], dirty: Iterable[Any], deleted: Iterable[Any] = ()
) -> set[int]:
    """The lots whose EPCIS export the flushed new, changed and deleted rows may alter (a few queries at most)."""
    batches: set[int] = set()
    keys_changed: set[int] = set()
    recalls: set[int] = set()
    products: set[int] = set()
    locations: set[int] = set()
    producers: set[int] = set()
    for obj in [*new, *deleted]:
        if isinstance(obj, TraceEvent | RecallBatch):
            batches.add(obj.batch_id)
        elif isinstance(obj, BatchInput):
            batches.add(obj.output_batch_id)
        elif isinstance(obj, Recall):
            batches.add(obj.batch_id)
    for obj in dirty:
        if isinstance(obj, TraceEvent):
            batches.add(obj.batch_id)
        elif isinstance(obj, BatchInput):
            batches.add(obj.output_batch_id)
        elif isinstance(obj, Recall):
            recalls.add(obj.id)
        elif isinstance(obj, Batch) and _changed(obj, _BATCH_FIELDS):
            batches.add(obj.id)
            if _changed(obj, _BATCH_KEYS):
                keys_changed.add(obj.id)
        elif isinstance(obj, Product) and _changed(obj, ("gtin",)):
            products.add(obj.id)
        elif isinstance(obj, Location) and _changed(obj, _LOCATION_FIELDS):
            locations.add(obj.id)
        elif isinstance(obj, Producer) and _changed(obj, ("centre_id",)):
            producers.add(obj.id)  # its events are read by another centre now
    if recalls:  # closing a recall shows on every lot it reached
        batches |= set(
            session.scalars(select(RecallBatch.batch_id).where(RecallBatch.recall_id.in_(recalls)))
        )
    if producers:
        products |= set(session.scalars(select(Product.id).where(Product.producer_id.in_(producers))))
    if products:
        of_products = set(session.scalars(select(Batch.id).where(Batch.product_id.in_(products))))
        batches |= of_products
        keys_changed |= of_products
    if locations:
        batches |= set(
            session.scalars(
                select(TraceEvent.batch_id).where(TraceEvent.location_id.in_(locations)).distinct()
            )
        )
        batches |= set(session.scalars(select(Batch.id).where(Batch.origin_location_id.in_(locations))))
    return batches | _made_from(session, keys_changed)


# --- keeping the index at every commit -----------------------------------------------------------

PENDING = "epcis_index_batches"  # lots to export whole at the commit
APPENDED = "epcis_index_appended"  # lot id -> key events appended to it, to export alone


def _listening() -> bool:
    return has_app_context()  # the export's URIs come from the app's PUBLIC_BASE_URL


def _appended_alone(obj: Any) -> bool:
    """A new key event whose export changes nothing else of its lot's (``appended_events``)."""
    return (
        isinstance(obj, TraceEvent)
        and obj.voids_event_id is None
        and not obj.is_retraction
        and obj.type not in ANCHOR_TYPES.values()
    )


def pending_batches(session: Any) -> set[int]:
    """The lots whose rows in the index wait for this transaction's commit to be brought in line."""
    session.flush()
    return set(session.info.get(PENDING, ())) | set(session.info.get(APPENDED, {}))


@event.listens_for(Session, "after_flush")
def _collect(session: Session, _context: Any) -> None:
    if not _listening():
        return
    new = list(session.new)
    for obj in new:
        if _appended_alone(obj):
            session.info.setdefault(APPENDED, {}).setdefault(obj.batch_id, set()).add(obj.id)
    others = [obj for obj in new if not _appended_alone(obj)]
    touched = affected_batches(session, others, list(session.dirty), list(session.deleted))
    if touched:
        session.info.setdefault(PENDING, set()).update(touched)


@event.listens_for(Session, "before_commit")
def _index_before_commit(session: Session) -> None:
    if not _listening() or session.in_nested_transaction():  # a savepoint: the real commit comes later
        return
    session.flush()  # what is still pending notes its lots too
    whole = session.info.pop(PENDING, None) or set()
    appended = session.info.pop(APPENDED, None) or {}
    if whole:
        index_batches(whole)
    alone = {batch_id: ids for batch_id, ids in appended.items() if batch_id not in whole}
    if alone:
        index_appended(alone)


@event.listens_for(Session, "after_rollback")
def _forget(session: Session) -> None:
    # A savepoint's rollback keeps what was noted: at worst a lot is exported again for nothing,
    # and an event rolled back is simply not found when its lot is indexed.
    if not session.in_nested_transaction():
        session.info.pop(PENDING, None)
        session.info.pop(APPENDED, None)
