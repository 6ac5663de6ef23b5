"""EPCIS 2.0 in: capture of EPCIS documents into key tracking events and lineage.

The document is validated against GS1's schema; every event is mapped to
known lots (a lot's EPC class, an item's SGTIN, a GTIN pattern when the
product has one lot here, our own ``/t/{code}`` URIs) and locations (GLN or
our internal code) that the caller may write for; only when every event maps
are they written through the services (``record_event``, ``add_inputs``).
Events whose eventID (given, or computed from the canonical form) is already
held are dropped: stored at an earlier capture, or the computed ID of an event
recorded here. Any refusal is raised as one InvalidInput listing the errors
per event; the caller (the API's ``operation``) rolls back, so a refused
document writes nothing.

What is not a document to capture answers BadRequest (400) saying what was
expected: a bare event (``capture_event`` takes one alone, as the REST
binding's ``POST /events`` does) or an EPCISQueryDocument (an answer, not a
capture). Schema refusals name the JSON path and the rule broken.

Mapping. ObjectEvents and TransactionEvents, and AggregationEvents that
observe or remove, become one key event per lot they name (eventID ``#n`` when
there are several). AssociationEvents (sensors or devices attached to a lot or
a pallet, or detached) become an ``association`` event of each lot among their
parent and children; the other identifiers are the devices, kept with the
action in the event's ``association`` so the lot's document gives them back. TransformationEvents and AggregationEvents that add become
lineage (inputs with the quantities consumed, mass balance kept) and a
processing or packing event of the output lot that keeps the eventID. The
type comes from our extension field when the document has our vocabulary,
else from the bizStep (commissioning from elsewhere is ``other``: growing and
harvesting cannot be told apart); the bizStep itself is kept. Items count as
one each in lots counted in pieces; a quantity without a unit counts items.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import unquote

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from traceability.accounts.scope import tenant_clause, writable_producer
from traceability.audit.service import lock_batch_chains
from traceability.batches.epcis import ANCHOR_TYPES, TRANSACTION_TYPES, Uris, batch_events, project_uris
from traceability.batches.epcis_index import pending_batches
from traceability.batches.lineage import add_inputs
from traceability.batches.service import record_event
from traceability.core.errors import BadRequest, DomainError, Forbidden, InvalidInput
from traceability.core.extensions import db
from traceability.gs1.epcis import (
    EPCIS_CONTEXT,
    EpcisIdentifierError,
    SchemaIssue,
    context_namespaces,
    event_hash_id,
    event_time_fields,
    parse_identifier,
    parse_offset,
    parse_time,
    validate_document,
    vocabulary_name,
)
from traceability.models.accounts import User
from traceability.models.batches import ASSOCIATION, EVENT_BIZ_STEPS, Batch, BatchInput, Item, TraceEvent
from traceability.models.epcis import EpcisQueryEvent
from traceability.models.registry import Location, Product

MAX_CAPTURE_EVENTS = 1000
MAX_EVENT_ID = 190  # the column holds 200; room for "#n" when one event touches several lots
# Which event type a CBV step is recorded as. Commissioning is growing or
# harvesting (our extension field says which) or, from elsewhere, "other".
EVENT_TYPES_BY_STEP = {step: kind for kind, step in EVENT_BIZ_STEPS.items() if step != "commissioning"}
# UN/ECE units that count instances, as a quantity without a unit does in EPCIS.
COUNT_UNITS = frozenset({"H87", "C62", "EA"})


# The event types of EPCIS 2.0; anything else with an eventTime is an extension event.
EPCIS_EVENT_TYPES = (
    "ObjectEvent",
    "AggregationEvent",
    "TransactionEvent",
    "TransformationEvent",
    "AssociationEvent",
)
# The association's own fields, kept as they came so the export gives them back.
ASSOCIATION_FIELDS = ("action", "parentID", "childEPCs", "childQuantityList", "disposition")


def _is_count_unit(unit: str) -> bool:
    return unit in COUNT_UNITS or unit.startswith("X")  # X + Rec 21 code: packages


@dataclass
class CaptureResult:
    """What a capture did: events written, events already held, and the IDs of those written."""

    captured: int = 0
    duplicates: int = 0
    ignored: int = 0  # declared erroneous and not held here: nothing to record
    event_ids: list[str] = field(default_factory=list)


class _EventError(Exception):
    """Why one event of a document cannot be captured."""

    def __init__(self, *messages: Any) -> None:
        super().__init__(*messages)
        self.messages = list(messages)


class _NotFound(_EventError):
    """The identifier names no lot here (for an association: a device, a sensor, a place)."""


@dataclass
class _Piece:
    """The part of an event that concerns one lot, and how much of it."""

    batch: Batch
    quantity: Decimal | None = None


@dataclass
class _Plan:
    """One captured event, mapped to our records and ready to write."""

    index: int
    event_id: str
    kind: str  # "events" (key events on lots) or "lineage"
    erroneous: bool
    data: dict[str, Any]
    biz_step: str
    pieces: list[_Piece]
    output: Batch | None = None
    lineage_kind: str = "transformation"

    @property
    def batches(self) -> list[Batch]:
        return [piece.batch for piece in self.pieces] + ([self.output] if self.output else [])


class _Resolver:
    """Finds the lots, items and locations a document names, within what the caller may write for."""

    def __init__(self, uris: Uris, actor: User) -> None:
        self.uris = uris
        self.actor = actor
        self._cache: dict[tuple[str, str], Any] = {}
        self._writable: dict[int, str | None] = {}

    def _scoped(self, query: Any, model: type) -> Any:
        return query.where(tenant_clause(model, self.actor))

    def batch(self, uri: str) -> tuple[Batch, bool]:
        """The lot an identifier names, and whether it named one instance (an item) of it."""
        cached = self._cache.get(("batch", uri))
        if cached is None:
            cached = self._cache[("batch", uri)] = self._find_batch(uri)
        return cached

    def _find_batch(self, uri: str) -> tuple[Batch, bool]:
        try:
            key = parse_identifier(uri)
        except EpcisIdentifierError as error:
            raise _EventError(
                _l("%(uri)s is not a valid GS1 identifier (%(why)s).", uri=uri, why=str(error))
            ) from error
        base = select(Batch).join(Product).options(selectinload(Batch.product))
        if key is not None and key.kind == "lot":
            found = self._unique(base.where(Product.gtin == key.gtin, Batch.lot_code == key.lot), uri)
            if found:
                return found, False
        elif key is not None and key.kind == "item":
            query = base.join(Item).where(Product.gtin == key.gtin, Item.serial == key.serial)
            if key.lot is not None:
                query = query.where(Batch.lot_code == key.lot)
            found = self._unique(query, uri)
            if found:
                return found, True
        elif key is not None and key.kind == "product":
            batches = db.session.scalars(self._scoped(base.where(Product.gtin == key.gtin), Batch)).all()
            if len(batches) == 1:  # the only lot of the product known here: nothing to guess
                return batches[0], False
            if len(batches) > 1:
                raise _EventError(
                    _l("%(uri)s names a product with several lots here, not one lot: name the lot.", uri=uri)
                )
        elif key is None:
            prefix = f"{self.uris.base_url.rstrip('/')}/t/"
            if uri.startswith(prefix):
                found = self._unique(base.where(Batch.public_code == uri[len(prefix) :].upper()), uri)
                if found:
                    return found, False
        raise _NotFound(_l("%(uri)s names no lot registered here that you may record events for.", uri=uri))

    def maybe_batch(self, uri: str) -> Batch | None:
        """The lot an identifier names, or None when it names none here; malformed or ambiguous: refused."""
        try:
            return self.batch(uri)[0]
        except _NotFound:
            return None

    def _unique(self, query: Any, uri: str) -> Batch | None:
        found = db.session.scalars(self._scoped(query, Batch).limit(2)).all()
        if len(found) > 1:  # one serial in two lots of a GTIN: which one is not ours to guess
            raise _EventError(_l("%(uri)s matches more than one lot here.", uri=uri))
        return found[0] if found else None

    def location(self, uri: str) -> Location:
        cached = self._cache.get(("location", uri))
        if cached is None:
            cached = self._cache[("location", uri)] = self._find_location(uri)
        return cached

    def _find_location(self, uri: str) -> Location:
        try:
            key = parse_identifier(uri)
        except EpcisIdentifierError as error:
            raise _EventError(
                _l("%(uri)s is not a valid GS1 identifier (%(why)s).", uri=uri, why=str(error))
            ) from error
        query = None
        prefix = f"{self.uris.base_url.rstrip('/')}/id/location/"
        if key is not None and key.kind == "location":
            query = select(Location).where(Location.gln == key.gln)
        elif key is None and uri.startswith(prefix):
            query = select(Location).where(Location.internal_code == unquote(uri[len(prefix) :]))
        location = db.session.scalars(self._scoped(query, Location)).first() if query is not None else None
        if location is None:
            raise _EventError(_l("%(uri)s names no location registered here.", uri=uri))
        return location

    def check_writable(self, batch: Batch) -> None:
        producer_id = batch.product.producer_id
        if producer_id not in self._writable:
            try:
                writable_producer(producer_id, self.actor)
                self._writable[producer_id] = None
            except Forbidden as error:
                self._writable[producer_id] = str(error.message)
        if self._writable[producer_id]:
            raise _EventError(self._writable[producer_id])


def capture_document(document: dict[str, Any], *, actor: User, base_url: str | None = None) -> CaptureResult:
    """Capture an EPCIS 2.0 document: validate, map every event, drop those already held, write the rest.

    Refusals raise InvalidInput with ``{"events": {"N": [messages]}}`` (or
    ``document``); the caller rolls back, so a refused document writes nothing.
    """
    if not actor.can_write:
        raise Forbidden(_l("Your role can read these records but not change them."))
    if actor.role == "producer":
        # A producer that is not approved captures nothing; the centre's staff hear it per event.
        writable_producer(actor.producer_id, actor)
    _check_form(document)
    report = validate_document(document)
    schema_errors = {
        index: [_schema_message(issue) for issue in issues] for index, issues in report.events.items()
    }
    if report.document or report.more:
        more = [_l("… and %(count)s more.", count=report.more)] if report.more else []
        raise InvalidInput(
            _l("This is not a valid EPCIS 2.0 document: it breaks GS1's schema."),
            {
                "document": [_schema_message(issue) for issue in report.document] + more,
                "events": {str(i): m for i, m in sorted(schema_errors.items())},
            },
        )
    events = (document.get("epcisBody") or {}).get("eventList")
    if not isinstance(events, list):  # the schema asks for it; a refusal here never becomes a 500
        raise BadRequest(_l("Expected an EPCISDocument with epcisBody.eventList."))
    if len(events) > MAX_CAPTURE_EVENTS:
        raise InvalidInput(
            _l("Send at most %(count)s events in one document.", count=MAX_CAPTURE_EVENTS),
            {"document": [_l("Split the document.")]},
        )
    uris = project_uris(base_url)
    namespaces = context_namespaces(document)
    resolver = _Resolver(uris, actor)
    errors: dict[int, list[Any]] = schema_errors
    plans = []
    result = CaptureResult()
    for index, event in enumerate(events):
        if index in errors:
            continue
        try:
            plans.append(_plan(index, event, namespaces, resolver))
        except _EventError as error:
            if "errorDeclaration" in event:  # an erroneous event about lots not held here: nothing to do
                result.ignored += 1
            else:
                errors[index] = error.messages
    _refuse_if(errors)
    known = _known_event_ids(plans, uris)
    # The chains of every lot the document writes about, all locked before the first entry and in order,
    # so two captures about lots of the same two provinces cannot deadlock (traceability.audit.service).
    lock_batch_chains(*{batch.id for plan in plans if not plan.erroneous for batch in plan.batches})
    for plan in plans:
        if plan.event_id in known:
            result.duplicates += 1
            continue
        known.add(plan.event_id)
        if plan.erroneous:
            result.ignored += 1
            continue
        try:
            with db.session.begin_nested():
                _write(plan, actor)
        except IntegrityError:  # a capture running at the same time stored this event first
            result.duplicates += 1
            continue
        except DomainError as error:
            errors[plan.index] = _messages(error)
            continue
        except _EventError as error:
            errors[plan.index] = error.messages
            continue
        result.captured += 1
        result.event_ids.append(plan.event_id)
    _refuse_if(errors)
    return result


def capture_event(event: Any, *, actor: User, base_url: str | None = None) -> CaptureResult:
    """Capture one bare EPCIS event (the REST binding's single event capture) as a one-event document."""
    if not isinstance(event, dict):
        raise BadRequest(_l("Send one EPCIS 2.0 event as a JSON object."))
    if "epcisBody" in event or event.get("type") in ("EPCISDocument", "EPCISQueryDocument"):
        raise BadRequest(
            _l(
                "Expected one bare EPCIS event; got a %(type)s: send documents to %(path)s.",
                type=event.get("type") or "document",
                path="/epcis/capture",
            )
        )
    context = event.get("@context") or [EPCIS_CONTEXT]
    document = {
        "@context": context,
        "type": "EPCISDocument",
        "schemaVersion": "2.0",
        "creationDate": event_time_fields(datetime.now(UTC))["eventTime"],
        "epcisBody": {"eventList": [{key: value for key, value in event.items() if key != "@context"}]},
    }
    return capture_document(document, actor=actor, base_url=base_url)


def _check_form(document: dict[str, Any]) -> None:
    """A query's answer or a bare event is not a document to capture: say what was expected."""
    kind = document.get("type")
    if kind == "EPCISQueryDocument":
        raise BadRequest(
            _l(
                "Expected an EPCISDocument with epcisBody.eventList; got an EPCISQueryDocument, which is "
                "the answer to a query, not a capture. Send its events in an EPCISDocument."
            )
        )
    if "epcisBody" not in document and (kind in EPCIS_EVENT_TYPES or "eventTime" in document):
        raise BadRequest(
            _l(
                "Expected an EPCISDocument with epcisBody.eventList; got a bare %(type)s: wrap it in an "
                'EPCISDocument ("type": "EPCISDocument", "schemaVersion": "2.0", "creationDate", '
                '"epcisBody": {"eventList": [...]}), or send it alone to %(path)s.',
                type=str(kind or "event")[:60],
                path="/epcis/events",
            )
        )


def _schema_message(issue: SchemaIssue) -> Any:
    """A schema refusal in the user's language; the JSON path, the rule and jsonschema's detail stay as they are."""
    return _l(
        "%(path)s breaks the rule %(rule)s of GS1's EPCIS schema: %(detail)s",
        path=issue.path,
        rule=issue.rule,
        detail=issue.detail,
    )


def _refuse_if(errors: dict[int, list[Any]]) -> None:
    if errors:
        raise InvalidInput(
            _l("The document was not captured: %(count)s events have errors.", count=len(errors)),
            {"events": {str(index): errors[index] for index in sorted(errors)}},
        )


def _messages(error: DomainError) -> list[Any]:
    if not error.fields:
        return [error.message]
    return [f"{name}: {message}" for name, message in error.fields.items()]


def _known_event_ids(plans: list[_Plan], uris: Uris) -> set[str]:
    """IDs among the plans' that are held already: stored at capture, or computed for our own events."""
    wanted = {plan.event_id for plan in plans} | {f"{plan.event_id}#1" for plan in plans}
    stored = set(
        db.session.scalars(select(TraceEvent.epcis_event_id).where(TraceEvent.epcis_event_id.in_(wanted)))
    )
    known = {event_id.removesuffix("#1") for event_id in stored if event_id is not None}
    # Our own events' computed IDs: in the EPCIS query index, kept at every commit.
    known |= set(
        db.session.scalars(
            select(EpcisQueryEvent.event_id).where(
                EpcisQueryEvent.event_id.in_({plan.event_id for plan in plans})
            )
        )
    )
    touched = {batch.id for plan in plans for batch in plan.batches}
    indexed = set(
        db.session.scalars(
            select(EpcisQueryEvent.batch_id).where(EpcisQueryEvent.batch_id.in_(touched)).distinct()
        )
    )
    # Lots the index does not hold yet (before `flask epcis reindex`, changed in this transaction,
    # or without events): export them.
    unindexed = (touched - indexed) | (touched & pending_batches(db.session))
    if unindexed:
        batches = db.session.scalars(
            select(Batch)
            .where(Batch.id.in_(unindexed))
            .options(selectinload(Batch.events), selectinload(Batch.product))
        ).all()
        known |= {event["eventID"] for event in batch_events(list(batches), uris)}
    return known & {plan.event_id for plan in plans}


# --- mapping one event -------------------------------------------------------------------------


def _plan(index: int, event: dict[str, Any], namespaces: dict[str, str], resolver: _Resolver) -> _Plan:
    uris = resolver.uris
    event_type = event["type"]
    if event_type not in EPCIS_EVENT_TYPES:
        raise _EventError(_l("%(type)s events are not captured here.", type=event_type))
    event_id = str(event.get("eventID") or event_hash_id(event, namespaces))
    if len(event_id) > MAX_EVENT_ID:
        raise _EventError(_l("eventID: at most %(count)s characters.", count=MAX_EVENT_ID))
    errors: list[Any] = []
    extensions = _own_extensions(event, namespaces, uris)
    data = _event_data(event, extensions, resolver, errors)
    biz_step, event_kind = _biz_step(event, extensions, uris)
    plan = _Plan(index, event_id, "events", "errorDeclaration" in event, data, "", [])
    action = event.get("action")
    if event_type == "TransformationEvent":
        plan.kind = "lineage"
        plan.lineage_kind = "split" if extensions.get("lineageKind") == "split" else "transformation"
        known_errors = len(errors)
        outputs = _pieces(
            event, ("outputEPCList",), ("outputQuantityList",), resolver, errors, need_quantity=False
        )
        unknown_outputs = len(errors) > known_errors
        plan.pieces = _pieces(
            event, ("inputEPCList",), ("inputQuantityList",), resolver, errors, need_quantity=True
        )
        if len({piece.batch.id for piece in outputs}) == 1:
            plan.output = outputs[0].batch
            data["quantity"] = outputs[0].quantity
        elif not unknown_outputs:
            errors.append(_l("Name exactly one output lot: send one TransformationEvent per output lot."))
        data["type"] = ANCHOR_TYPES["transformation"]
    elif event_type == "AssociationEvent":
        plan.pieces = _association_pieces(event, resolver, errors)
        if not plan.pieces and not errors:
            errors.append(
                _l(
                    "The association names no lot registered here: name the lot or pallet as its parentID "
                    "or among its children."
                )
            )
        data["type"] = ASSOCIATION
        data["association"] = {name: event[name] for name in ASSOCIATION_FIELDS if name in event}
    elif event_type == "AggregationEvent" and action == "ADD":
        plan.kind = "lineage"
        plan.lineage_kind = "aggregation"
        plan.pieces = _pieces(
            event, ("childEPCs",), ("childQuantityList",), resolver, errors, need_quantity=True
        )
        try:
            plan.output, _ = resolver.batch(str(event.get("parentID", "")))
        except _EventError as error:
            errors.append(
                _l("parentID: an aggregation into a parent needs the parent's lot registered here.")
            )
            errors.extend(error.messages)
        data["type"] = ANCHOR_TYPES["aggregation"]
    else:
        lists = ("epcList", "childEPCs")
        plan.pieces = _pieces(
            event, lists, ("quantityList", "childQuantityList"), resolver, errors, need_quantity=False
        )
        if not plan.pieces and not errors:
            errors.append(_l("The event names no lot."))
        data["type"] = event_kind
        if event.get("parentID"):
            data["note"] = " ".join(filter(None, [data["note"], f"parentID {event['parentID']}"]))
    plan.biz_step = biz_step or EVENT_BIZ_STEPS.get(data["type"], "")
    # Events are recorded on these lots; the inputs of a lineage event only need to be visible.
    recorded_on = [plan.output] if plan.kind == "lineage" else plan.batches
    for batch in filter(None, recorded_on):
        _check_batch(batch, data, resolver, errors)
    if errors:
        raise _EventError(*errors)
    return plan


def _own_extensions(event: dict[str, Any], namespaces: dict[str, str], uris: Uris) -> dict[str, Any]:
    """Our extension fields in the event, by local name, whatever prefix the document gave our vocabulary."""
    found = {}
    for key, value in event.items():
        prefix, colon, local = key.partition(":")
        namespace = namespaces.get(prefix) if colon else None
        if namespace == uris.vocabulary:
            found[local] = value
        elif key.startswith(uris.vocabulary):
            found[key[len(uris.vocabulary) :]] = value
    return found


def _biz_step(event: dict[str, Any], extensions: dict[str, Any], uris: Uris) -> tuple[str | None, str]:
    """The step to store (a CBV name, or a URI that fits; None without one) and the event type to record."""
    raw = str(event.get("bizStep") or "")
    name = vocabulary_name(raw, "bizStep") if raw else None
    if name is None and raw.startswith(f"{uris.vocabulary}BizStep-"):
        name = raw[len(f"{uris.vocabulary}BizStep-") :]
    stated = extensions.get("eventType")
    if stated in EVENT_BIZ_STEPS and (name is None or EVENT_BIZ_STEPS[stated] == name):
        kind = stated
    else:
        kind = EVENT_TYPES_BY_STEP.get(name or "other", "other")
    return name or (raw if raw and len(raw) <= 40 else None), kind


def _event_data(
    event: dict[str, Any], extensions: dict[str, Any], resolver: _Resolver, errors: list[Any]
) -> dict[str, Any]:
    """The service data of the event: time in its own offset, place, note, reference, counterparty."""
    data: dict[str, Any] = {"note": str(extensions.get("note") or "").strip()}
    try:
        data["time"] = parse_time(str(event["eventTime"])).astimezone(
            parse_offset(str(event["eventTimeZoneOffset"]))
        )
    except ValueError as error:
        errors.append(_l("eventTime: %(why)s.", why=str(error)))
    places = []
    for name in ("readPoint", "bizLocation"):
        if isinstance(event.get(name), dict):
            try:
                places.append(resolver.location(str(event[name]["id"])))
            except _EventError as error:
                errors.extend(f"{name}: {message}" for message in error.messages)
    data["location"] = places[0] if places else None
    data["places"] = places
    transactions = event.get("bizTransactionList") or []
    if transactions:
        data.update(_reference(transactions[0], resolver.uris, errors))
        others = [str(t["bizTransaction"]) for t in transactions[1:]]
        if others:
            data["note"] = " ".join(filter(None, [data["note"], *others]))
    counterparty = extensions.get("counterparty") or _party(event)
    if counterparty:
        if len(str(counterparty)) > 300:
            errors.append(_l("The recipient or source has at most 300 characters."))
        data["counterparty"] = str(counterparty)
    return data


def _reference(transaction: dict[str, Any], uris: Uris, errors: list[Any]) -> dict[str, Any]:
    uri = str(transaction["bizTransaction"])
    kind = (
        vocabulary_name(str(transaction.get("type") or ""), "bizTransactionType")
        if transaction.get("type")
        else None
    )
    reference_type = next((ours for ours, cbv in TRANSACTION_TYPES.items() if cbv == kind), "other")
    number = uri
    own = f"{uris.base_url.rstrip('/')}/id/producer/"
    if uri.startswith(own) and "/document/" in uri:
        number = unquote(uri.rsplit("/document/", 1)[1])
    if len(number) > 100:
        errors.append(_l("bizTransaction: a reference document number has at most 100 characters."))
    return {"reference_type": reference_type, "reference": number}


def _party(event: dict[str, Any]) -> str | None:
    """Who the goods went to (shipping) or came from (receiving), when the event names the party."""
    parties = ("owning_party", "possessing_party")
    shipping = vocabulary_name(str(event.get("bizStep") or "other"), "bizStep") == "shipping"
    listed = event.get("destinationList") if shipping else event.get("sourceList")
    for entry in listed or []:
        if vocabulary_name(str(entry.get("type", "")), "sourceDestType") in parties:
            return str(entry.get("destination") or entry.get("source"))
    return None


def _pieces(
    event: dict[str, Any],
    epc_lists: Iterable[str],
    quantity_lists: Iterable[str],
    resolver: _Resolver,
    errors: list[Any],
    *,
    need_quantity: bool,
) -> list[_Piece]:
    """The lots an event's lists name, with the quantity of each (items counted, quantities summed)."""
    pieces: dict[int, _Piece] = {}
    counted: dict[int, int] = defaultdict(int)

    def lot(uri: str) -> tuple[Batch, bool] | None:
        try:
            return resolver.batch(uri)
        except _EventError as error:
            errors.extend(error.messages)
            return None

    for name in epc_lists:
        for uri in event.get(name) or []:
            found = lot(str(uri))
            if found:
                pieces.setdefault(found[0].id, _Piece(found[0]))
                counted[found[0].id] += 1
    for name in quantity_lists:
        for element in event.get(name) or []:
            found = lot(str(element["epcClass"]))
            if found is None:
                continue
            batch = found[0]
            piece = pieces.setdefault(batch.id, _Piece(batch))
            amount = _amount(batch, element, errors, need_quantity)
            if amount is not None:
                piece.quantity = (piece.quantity or Decimal(0)) + amount
    for batch_id, count in counted.items():
        piece = pieces[batch_id]
        if _is_count_unit(piece.batch.unit):
            piece.quantity = (piece.quantity or Decimal(0)) + count
        elif need_quantity:
            errors.append(
                _l(
                    "Lot %(lot)s is measured in %(unit)s: give the quantity taken in a quantity list, not items.",
                    lot=piece.batch.lot_code,
                    unit=piece.batch.unit,
                )
            )
    return list(pieces.values())


def _association_pieces(event: dict[str, Any], resolver: _Resolver, errors: list[Any]) -> list[_Piece]:
    """The lots among an association's parent and children; the other identifiers are its devices."""
    uris = [str(event.get("parentID") or "")]
    uris += [str(uri) for uri in event.get("childEPCs") or []]
    uris += [str(element["epcClass"]) for element in event.get("childQuantityList") or []]
    pieces: dict[int, _Piece] = {}
    for uri in filter(None, uris):
        try:
            batch = resolver.maybe_batch(uri)
        except _EventError as error:
            errors.extend(error.messages)
            continue
        if batch is not None:
            pieces.setdefault(batch.id, _Piece(batch))
    return list(pieces.values())


def _amount(batch: Batch, element: dict[str, Any], errors: list[Any], need_quantity: bool) -> Decimal | None:
    if element.get("quantity") is None:
        if need_quantity:
            errors.append(_l("Give the quantity of lot %(lot)s.", lot=batch.lot_code))
        return None
    try:
        amount = Decimal(str(element["quantity"]))
    except InvalidOperation:
        errors.append(_l("The quantity of lot %(lot)s is not a number.", lot=batch.lot_code))
        return None
    uom = element.get("uom")
    if uom and uom != batch.unit:
        errors.append(
            _l(
                "Lot %(lot)s is measured in %(unit)s, not %(uom)s.",
                lot=batch.lot_code,
                unit=batch.unit,
                uom=uom,
            )
        )
        return None
    if not uom and not _is_count_unit(batch.unit):
        errors.append(
            _l(
                "A quantity without a unit counts items, but lot %(lot)s is measured in %(unit)s: give the uom.",
                lot=batch.lot_code,
                unit=batch.unit,
            )
        )
        return None
    return amount


def _check_batch(batch: Batch, data: dict[str, Any], resolver: _Resolver, errors: list[Any]) -> None:
    try:
        resolver.check_writable(batch)
    except _EventError as error:
        errors.extend(error.messages)
        return
    for place in data["places"]:
        if place.producer_id != batch.product.producer_id:
            errors.append(
                _l(
                    "Location %(location)s is not a location of the producer of lot %(lot)s.",
                    location=place.trace_code,
                    lot=batch.lot_code,
                )
            )


def _check_links(plan: _Plan) -> None:
    """An input recorded twice would count twice in the mass balance: refuse it."""
    assert plan.output is not None
    errors = []
    inputs = {piece.batch.id: piece.batch for piece in plan.pieces}
    existing = db.session.scalars(
        select(BatchInput.input_batch_id).where(
            BatchInput.output_batch_id == plan.output.id, BatchInput.input_batch_id.in_(inputs)
        )
    ).all()
    for input_id in existing:
        errors.append(
            _l(
                "Lot %(input)s is already recorded as an input of lot %(output)s.",
                input=inputs[input_id].lot_code,
                output=plan.output.lot_code,
            )
        )
    if errors:
        raise _EventError(*errors)


# --- writing -----------------------------------------------------------------------------------


def _write(plan: _Plan, actor: User) -> None:
    data = {key: value for key, value in plan.data.items() if key not in ("location", "places")}
    location = plan.data["location"]
    data["location_id"] = location.id if location else None
    data["biz_step"] = plan.biz_step
    if plan.kind == "lineage":
        assert plan.output is not None
        _check_links(plan)
        record_event(plan.output, {**data, "epcis_event_id": plan.event_id}, actor=actor)
        if plan.pieces:
            inputs = [{"batch_id": piece.batch.id, "quantity": piece.quantity} for piece in plan.pieces]
            add_inputs(plan.output, inputs, kind=plan.lineage_kind, actor=actor)
        return
    several = len(plan.pieces) > 1
    for number, piece in enumerate(plan.pieces, start=1):
        # One event about several lots becomes one key event per lot: "#n" keeps their IDs apart.
        event_id = f"{plan.event_id}#{number}" if several else plan.event_id
        record_event(
            piece.batch, {**data, "quantity": piece.quantity, "epcis_event_id": event_id}, actor=actor
        )
