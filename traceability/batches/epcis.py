"""EPCIS 2.0 out: a batch's whole chain as an EPCIS 2.0 JSON-LD document (capture: ``epcis_capture``).

Every key tracking event becomes an ObjectEvent about the lot (``quantityList``
with the lot's EPC class), every output batch made from inputs a
TransformationEvent (transformation and split) or an AggregationEvent
(aggregation into a shipment), and every recall an ObjectEvent with the
disposition ``recalled``. A captured association (sensors or devices attached
to the lot) goes back out as the AssociationEvent it came as. The processing event of a batch made from inputs is
its transformation, and the packing event of a shipment its aggregation: the
first of each gives the lineage event its time, place and ID instead of
appearing twice. A voided event is exported with an ``errorDeclaration``
naming its correction (a retraction: ``did_not_occur``); in the public
document (``public=True``, what the resolver answers) it keeps only that
declaration and its skeleton: its note, recipient or source, reference
document and the reason it was voided are left out. A recall that ended with
its lots returned to sale adds an ObjectEvent with the disposition
``sellable_accessible`` at its closing time. Event IDs are the ones
stored at capture, otherwise computed from the canonical form, so capturing an
export again finds every event a duplicate.

Identifiers. A lot of a product with a GTIN is ``https://id.gs1.org/01/{gtin}/10/{lot}``;
without one, and as the parent of an aggregation (EPCIS wants an instance
there, and a shipment batch is one consignment), it is the batch's public URL
``{PUBLIC_BASE_URL}/t/{code}``. A location is ``https://id.gs1.org/414/{gln}``
or ``{PUBLIC_BASE_URL}/id/location/{internal code}``. Our own extension fields
(the event type, such as growing or harvesting under ``commissioning``, the
note, the recipient or source) sit under ``{PUBLIC_BASE_URL}/voc/``, never
under a GS1 namespace.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, time
from typing import Any
from urllib.parse import quote

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from traceability.batches.service import current_events, event_party, local_time
from traceability.batches.trace import trace
from traceability.core.dates import VIETNAM_OFFSET
from traceability.core.extensions import db
from traceability.gs1.epcis import (
    EventParts,
    QuantityElement,
    aggregation_event,
    association_event,
    canonical_time,
    cbv_names,
    declare_error,
    epcis_document,
    gln_uri,
    lot_class_uri,
    object_event,
    transformation_event,
)
from traceability.models.batches import (
    ASSOCIATION,
    EVENT_BIZ_STEPS,
    Batch,
    BatchInput,
    Recall,
    RecallBatch,
    TraceEvent,
)
from traceability.models.registry import Location

PREFIX = "trace"  # the document's prefix for our vocabulary
DISPOSITIONS = {
    "commissioning": "active",
    "shipping": "in_transit",
    "receiving": "in_progress",
    "retail_selling": "retail_sold",
}
# Reference document types of the event form and the CBV business transaction types.
TRANSACTION_TYPES = {
    "invoice": "inv",
    "delivery_note": "desadv",
    "purchase_order": "po",
    "test_report": "testres",
}
# The event type of a lineage group's anchor: the key event it is the same as.
ANCHOR_TYPES = {"transformation": "processing", "aggregation": "packing"}


@dataclass(frozen=True)
class Uris:
    """The project URIs of a deployment, built from its PUBLIC_BASE_URL."""

    base_url: str

    @property
    def vocabulary(self) -> str:
        return f"{self.base_url.rstrip('/')}/voc/"

    def term(self, name: str) -> str:
        return f"{PREFIX}:{name}"

    def lot(self, batch: Batch) -> str:
        gtin = batch.product.gtin
        return lot_class_uri(gtin, batch.lot_code) if gtin else self.batch(batch)

    def batch(self, batch: Batch) -> str:
        return f"{self.base_url.rstrip('/')}/t/{batch.public_code}"

    def location(self, location: Location) -> str:
        if location.gln:
            return gln_uri(location.gln)
        return f"{self.base_url.rstrip('/')}/id/location/{quote(location.internal_code, safe='')}"

    def producer(self, producer_id: int) -> str:
        return f"{self.base_url.rstrip('/')}/id/producer/{producer_id}"

    def document(self, producer_id: int, number: str) -> str:
        return f"{self.producer(producer_id)}/document/{quote(number, safe='')}"

    def biz_step(self, stored: str) -> str:
        # A step outside CBV 2.0 (ours: "transforming") goes under our vocabulary.
        return (
            stored
            if stored in cbv_names("bizStep") or ":" in stored
            else f"{self.vocabulary}BizStep-{stored}"
        )


def project_uris(base_url: str | None = None) -> Uris:
    """The project URIs of this deployment (PUBLIC_BASE_URL) or of ``base_url``."""
    return Uris(base_url or current_app.config["PUBLIC_BASE_URL"])


# --- export ------------------------------------------------------------------------------------


def export_batch_chain(
    batch: Batch, *, base_url: str | None = None, now: datetime | None = None, public: bool = False
) -> dict:
    """The batch's whole chain, upstream and downstream, as an EPCIS 2.0 JSON-LD document.

    ``public``: the document anyone may read, without the content of voided events. Each lot
    comes once; at most ``CHAIN_MAX_LOTS`` in each direction, the nearest, and then the
    document carries ``trace:chainTruncated: true``.
    """
    uris = project_uris(base_url)
    traces = [trace(batch, direction) for direction in ("upstream", "downstream")]
    nodes = {node.id: node for result in traces for node in result.nodes}  # the batch is in both
    events = batch_events(list(nodes.values()), uris, public=public)
    document = epcis_document(
        events, created_at=now or datetime.now(VIETNAM_OFFSET), namespaces={PREFIX: uris.vocabulary}
    )
    if any(result.truncated for result in traces):
        # Only the nearest CHAIN_MAX_LOTS lots each way: say so, under our vocabulary.
        document[uris.term("chainTruncated")] = True
    return document


@dataclass
class _Chain:
    """What the events of some batches need, loaded in a few queries."""

    batches: list[Batch]
    lineage: dict[int, list[BatchInput]]
    locations: dict[int, Location]
    recalls: dict[int, list[Recall]]


def _load(batches: list[Batch]) -> _Chain:
    ids = [batch.id for batch in batches]
    links = db.session.scalars(
        select(BatchInput)
        .where(BatchInput.output_batch_id.in_(ids))
        .options(selectinload(BatchInput.input_batch).selectinload(Batch.product))
        .order_by(BatchInput.id)
    ).all()
    lineage: dict[int, list[BatchInput]] = defaultdict(list)
    for link in links:
        lineage[link.output_batch_id].append(link)
    location_ids = {e.location_id for b in batches for e in b.events if e.location_id}
    location_ids |= {b.origin_location_id for b in batches if b.origin_location_id}
    locations = {
        location.id: location
        for location in db.session.scalars(select(Location).where(Location.id.in_(location_ids)))
    }
    recalls: dict[int, list[Recall]] = defaultdict(list)
    for row in db.session.execute(
        select(RecallBatch.batch_id, Recall).join(Recall).where(RecallBatch.batch_id.in_(ids))
    ):
        recalls[row[0]].append(row[1])
    return _Chain(batches, lineage, locations, recalls)


@dataclass
class EventSource:
    """Where an exported event comes from, and when what it says was last recorded.

    ``kind`` is ``event`` (``source_id`` a TraceEvent), ``transformation`` or ``aggregation``
    (the lineage of the batch ``source_id``), ``recall`` or ``recall_ended`` (a Recall).
    """

    batch_id: int
    kind: str
    source_id: int
    recorded_at: datetime


def batch_events(batches: list[Batch], uris: Uris, *, public: bool = False) -> list[dict[str, Any]]:
    """The EPCIS events of these batches: their key events, the lineage that made them, their recalls.

    ``public``: a voided event keeps its eventID, time, step and error declaration, not its content.
    """
    return [event for _source, event in sourced_batch_events(batches, uris, public=public)]


def sourced_batch_events(
    batches: list[Batch], uris: Uris, *, public: bool = False
) -> list[tuple[EventSource, dict[str, Any]]]:
    """``batch_events``, each event with the record it comes from (what the EPCIS query index keeps)."""
    chain = _load(batches)
    namespaces = {PREFIX: uris.vocabulary}
    exported: list[dict[str, Any]] = []
    sources: list[EventSource] = []  # exported[i] comes from sources[i]
    event_ids: dict[int, str] = {}  # TraceEvent.id -> the eventID it is exported under
    declarations: list[tuple[int, TraceEvent]] = []  # (index of the voided event's export, its correction)
    for batch in chain.batches:
        corrections = {e.voids_event_id: e for e in batch.events if e.voids_event_id}
        anchors = _lineage_events(
            batch, chain, current_events(batch.events), uris, namespaces, exported, event_ids, sources
        )
        for event in batch.events:
            if event.is_retraction or event.id in anchors:
                continue
            build = _association_event if event.type == ASSOCIATION and event.association else _object_event
            exported.append(build(batch, event, chain, uris, namespaces))
            sources.append(EventSource(batch.id, "event", event.id, event.recorded_at))
            event_ids[event.id] = exported[-1]["eventID"]
            if event.id in corrections:
                declarations.append((len(exported) - 1, corrections[event.id]))
        for recall in chain.recalls.get(batch.id, []):
            exported.append(_recall_event(batch, recall, uris, namespaces))
            sources.append(EventSource(batch.id, "recall", recall.id, recall.opened_at))
            if recall.outcome == "returned_to_sale" and recall.closed_at is not None:
                exported.append(_recall_ended_event(batch, recall, uris, namespaces))
                sources.append(EventSource(batch.id, "recall_ended", recall.id, recall.closed_at))
    for index, correction in declarations:
        retraction = correction.is_retraction
        extensions = {uris.term("reason"): correction.void_reason} if correction.void_reason else {}
        voided = exported[index]
        if public:
            voided, extensions = _without_content(voided, uris), {}
        exported[index] = declare_error(
            voided,
            declared_at=correction.recorded_at.astimezone(VIETNAM_OFFSET),
            reason="did_not_occur" if retraction else "incorrect_data",
            corrective_event_ids=[] if retraction else [event_ids[correction.id]],
            extensions=extensions,
        )
        # The declaration is recorded later than the event: the repository's copy changed then.
        sources[index].recorded_at = max(sources[index].recorded_at, correction.recorded_at)
    pairs = list(zip(sources, exported, strict=True))
    return sorted(pairs, key=lambda pair: (canonical_time(pair[1]["eventTime"]), pair[1]["eventID"]))


def appended_events(
    batch: Batch, events: list[TraceEvent], uris: Uris
) -> list[tuple[EventSource, dict[str, Any]]]:
    """The export of key events just appended to a lot, as ``sourced_batch_events`` gives them.

    Only for events that leave the rest of the lot's export as it was: not a correction or a
    retraction (they declare an earlier event erroneous), not a processing or packing event
    (a lot's lineage event takes its time and place from the first of those). Builds only
    these events, so recording one event does not export the whole lot again.
    """
    namespaces = {PREFIX: uris.vocabulary}
    location_ids = {event.location_id for event in events if event.location_id}
    locations = {
        location.id: location
        for location in db.session.scalars(select(Location).where(Location.id.in_(location_ids)))
    }
    chain = _Chain([batch], {}, locations, {})
    appended = []
    for event in events:
        build = _association_event if event.type == ASSOCIATION and event.association else _object_event
        source = EventSource(batch.id, "event", event.id, event.recorded_at)
        appended.append((source, build(batch, event, chain, uris, namespaces)))
    return appended


# What a voided event's public export leaves out: what was typed about it, never who or where.
PRIVATE_FIELDS = ("bizTransactionList",)
PRIVATE_TERMS = ("note", "counterparty")


def _without_content(event: dict[str, Any], uris: Uris) -> dict[str, Any]:
    """A voided event for the public: its eventID, time, step, place and lot, not its note, party or document."""
    private = {*PRIVATE_FIELDS, *(uris.term(name) for name in PRIVATE_TERMS)}
    return {key: value for key, value in event.items() if key not in private}


def _read_point(event: TraceEvent | None, fallback_id: int | None, chain: _Chain, uris: Uris) -> str | None:
    location_id = event.location_id if event is not None else fallback_id
    location = chain.locations.get(location_id) if location_id else None
    return uris.location(location) if location else None


def _extensions(event: TraceEvent, uris: Uris) -> dict[str, Any]:
    extensions: dict[str, Any] = {uris.term("eventType"): event.type}
    if event.note:
        extensions[uris.term("note")] = event.note
    if event.counterparty:
        extensions[uris.term("counterparty")] = event.counterparty
    return extensions


def _object_event(
    batch: Batch, event: TraceEvent, chain: _Chain, uris: Uris, namespaces: dict[str, str]
) -> dict[str, Any]:
    quantity = QuantityElement(uris.lot(batch), event.quantity, event.unit or batch.unit)
    place = _read_point(event, None, chain, uris)
    producer_id = batch.product.producer_id
    parts = EventParts(
        biz_step=uris.biz_step(event.biz_step),
        disposition=DISPOSITIONS.get(event.biz_step),
        read_point=place,
        # In transit or sold, the goods are no longer at the place of the event.
        biz_location=place if event.biz_step not in ("shipping", "retail_selling") else None,
        extensions=_extensions(event, uris),
    )
    if event.reference_number:
        document = uris.document(producer_id, event.reference_number)
        parts.biz_transactions = [(TRANSACTION_TYPES.get(event.reference_type or ""), document)]
    # The party that did the work: the operator of the event's place, else the batch's producer.
    own = [("owning_party", uris.producer(event_party(event).id))] + ([("location", place)] if place else [])
    if event.biz_step == "shipping":
        parts.sources = own
    elif event.biz_step == "receiving":
        parts.destinations = own
    return object_event(
        event_time=local_time(event),
        quantities=[quantity],
        action="ADD" if event.biz_step == "commissioning" else "OBSERVE",
        parts=parts,
        event_id=event.epcis_event_id,
        namespaces=namespaces,
    )


def _association_event(
    batch: Batch, event: TraceEvent, chain: _Chain, uris: Uris, namespaces: dict[str, str]
) -> dict[str, Any]:
    """The AssociationEvent a captured association came as: its parent, children and action."""
    association = event.association or {}
    place = _read_point(event, None, chain, uris)
    parts = EventParts(
        biz_step=uris.biz_step(event.biz_step) if event.biz_step else None,
        disposition=association.get("disposition"),
        read_point=place,
        biz_location=place,
        extensions=_extensions(event, uris),
    )
    if event.reference_number:
        document = uris.document(batch.product.producer_id, event.reference_number)
        parts.biz_transactions = [(TRANSACTION_TYPES.get(event.reference_type or ""), document)]
    return association_event(
        event_time=local_time(event),
        parent_id=str(association.get("parentID") or uris.lot(batch)),
        child_epcs=association.get("childEPCs") or (),
        child_quantities=association.get("childQuantityList") or (),
        action=str(association.get("action") or "OBSERVE"),
        parts=parts,
        event_id=event.epcis_event_id,
        namespaces=namespaces,
    )


def _lineage_events(
    batch: Batch,
    chain: _Chain,
    valid: list[TraceEvent],
    uris: Uris,
    namespaces: dict[str, str],
    exported: list[dict[str, Any]],
    event_ids: dict[int, str],
    sources: list[EventSource],
) -> set[int]:
    """Append the batch's TransformationEvent and AggregationEvent; the ids of the key events merged into them."""
    groups: dict[str, list[BatchInput]] = defaultdict(list)
    for link in chain.lineage.get(batch.id, []):
        groups["aggregation" if link.kind == "aggregation" else "transformation"].append(link)
    anchors: set[int] = set()
    for group, links in groups.items():
        anchor = next((e for e in valid if e.type == ANCHOR_TYPES[group]), None)
        if anchor is not None:
            moment = local_time(anchor)
            extensions = _extensions(anchor, uris)
            stored_step = anchor.biz_step if anchor.biz_step != EVENT_BIZ_STEPS[anchor.type] else None
        else:
            moment = datetime.combine(batch.production_date, time(0), VIETNAM_OFFSET)
            extensions, stored_step = {}, None
        parts = EventParts(
            read_point=_read_point(anchor, batch.origin_location_id, chain, uris),
            extensions=extensions,
        )
        inputs = [
            QuantityElement(uris.lot(link.input_batch), link.quantity, link.input_batch.unit)
            for link in links
        ]
        event_id = anchor.epcis_event_id if anchor is not None else None
        if group == "aggregation":
            parts.biz_step = uris.biz_step(stored_step or "packing")
            event = aggregation_event(
                event_time=moment,
                parent_id=uris.batch(batch),
                children=inputs,
                parts=parts,
                event_id=event_id,
                namespaces=namespaces,
            )
        else:
            parts.biz_step = uris.biz_step(stored_step or "commissioning")
            kinds = {link.kind for link in links}
            parts.extensions = {
                **extensions,
                uris.term("lineageKind"): "split" if kinds == {"split"} else "transformation",
            }
            event = transformation_event(
                event_time=moment,
                inputs=inputs,
                outputs=[QuantityElement(uris.lot(batch), batch.quantity, batch.unit)],
                parts=parts,
                event_id=event_id,
                namespaces=namespaces,
            )
        exported.append(event)
        recorded = [link.created_at for link in links] + ([anchor.recorded_at] if anchor is not None else [])
        sources.append(EventSource(batch.id, group, batch.id, max(recorded)))
        if anchor is not None:
            anchors.add(anchor.id)
            event_ids[anchor.id] = event["eventID"]
    return anchors


def _recall_event(batch: Batch, recall: Recall, uris: Uris, namespaces: dict[str, str]) -> dict[str, Any]:
    return object_event(
        event_time=recall.opened_at.astimezone(VIETNAM_OFFSET),
        quantities=[QuantityElement(uris.lot(batch))],
        parts=EventParts(disposition="recalled", extensions={uris.term("eventType"): "recall"}),
        namespaces=namespaces,
    )


def _recall_ended_event(
    batch: Batch, recall: Recall, uris: Uris, namespaces: dict[str, str]
) -> dict[str, Any]:
    """The lot back on sale: the recall closed with the outcome ``returned_to_sale``."""
    return object_event(
        event_time=(recall.closed_at or recall.opened_at).astimezone(VIETNAM_OFFSET),
        quantities=[QuantityElement(uris.lot(batch))],
        parts=EventParts(
            disposition="sellable_accessible", extensions={uris.term("eventType"): "recall_ended"}
        ),
        namespaces=namespaces,
    )
