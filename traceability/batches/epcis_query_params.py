"""EPCIS 2.0 queries: reading the standard query parameters into SQL over the query index.

``parse_query`` reads the parameters of the REST binding's ``GET /events``
(and of the resources that fix one of them, such as ``/bizSteps/{bizStep}/events``)
into SQL conditions on ``EpcisQueryEvent`` and the identifier matches to join;
a parameter that is unknown, repeated where it takes one value, or malformed
raises ``QueryParameterError`` naming it (the binding's 400
``QueryParameterException``). ``epcis_query`` answers the parsed query.

Decisions where the standard leaves a choice:

- Without ``orderBy`` the order is ``eventTime`` ascending (the standard leaves
  it open); ``orderBy`` without ``orderDirection`` is descending, as it says.
- ``perPage`` defaults to 30 (the binding's default) and is capped at
  ``EPCIS_MAX_PER_PAGE``; a larger value answers that many.
- An event withdrawn by a retraction did not occur: it is left out, except from
  a query about error declarations (``EXISTS_errorDeclaration``,
  ``EQ_errorReason``, ``GE_``/``LT_errorDeclarationTime``, ``EQ_correctiveEventID``)
  and ``GET /events/{eventID}``, which answer it with its ``errorDeclaration``
  (reason ``did_not_occur``) so that a partner holding it learns it was withdrawn.
  A corrected event is answered with its ``errorDeclaration`` naming the
  corrective event, which is answered too.
- ``WD_readPoint`` and ``WD_bizLocation`` match the location and its
  sub-locations (a GLN with an extension, ``/414/{gln}/254/{ext}``): the only
  hierarchy known here.
- Parameters about fields these events never carry (sensor data,
  ``transformationID``, persistent dispositions) are accepted and match nothing.
- Identifiers match in any spelling of the same key (EPC URN or Digital Link on
  any domain); ``urn:epc:idpat:sgtin:CP.IR.*`` and a Digital Link with a GTIN
  alone match every lot and item of that GTIN. A registered item's EPC asked in
  an EPC field (``MATCH_epc``, ``MATCH_inputEPC``...) also matches the events
  that name its lot in the matching class field: the registry records events per
  lot, and an event about a lot is about each of its items.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import ColumnElement, Select, and_, false, or_, select

from traceability.batches.epcis_index import CBV_DEFINITIONS, identifier_key, vocabulary_key
from traceability.core.errors import BadRequest
from traceability.core.extensions import db
from traceability.gs1.epcis import (
    EpcisIdentifierError,
    GS1Key,
    cbv_names,
    lot_class_uri,
    parse_identifier,
    parse_time,
)
from traceability.models.batches import Batch, Item
from traceability.models.epcis import EpcisQueryEvent, EpcisQueryValue
from traceability.models.registry import Product

STANDARD_EVENT_TYPES = (
    "ObjectEvent",
    "AggregationEvent",
    "TransactionEvent",
    "TransformationEvent",
    "AssociationEvent",
)
ACTIONS = ("ADD", "OBSERVE", "DELETE")
DEFAULT_PER_PAGE = 30
MAX_VALUES = 100  # values of one list parameter

MATCH_FIELDS = {
    "MATCH_epc": ("epc", "childEPC"),
    "MATCH_parentID": ("parentID",),
    "MATCH_inputEPC": ("inputEPC",),
    "MATCH_outputEPC": ("outputEPC",),
    "MATCH_anyEPC": ("epc", "childEPC", "parentID", "inputEPC", "outputEPC"),
    "MATCH_epcClass": ("epcClass", "childEPCClass"),
    "MATCH_inputEPCClass": ("inputEPCClass",),
    "MATCH_outputEPCClass": ("outputEPCClass",),
    "MATCH_anyEPCClass": ("epcClass", "childEPCClass", "inputEPCClass", "outputEPCClass"),
}
CLASS_FIELDS = MATCH_FIELDS["MATCH_anyEPCClass"]
QUANTITY_OPERATORS = {
    "EQ_quantity": "__eq__",
    "GT_quantity": "__gt__",
    "GE_quantity": "__ge__",
    "LT_quantity": "__lt__",
    "LE_quantity": "__le__",
}
TIME_BOUNDS = {
    "GE_eventTime": (EpcisQueryEvent.event_time, "__ge__"),
    "LT_eventTime": (EpcisQueryEvent.event_time, "__lt__"),
    "GE_recordTime": (EpcisQueryEvent.record_time, "__ge__"),
    "LT_recordTime": (EpcisQueryEvent.record_time, "__lt__"),
    "GE_errorDeclarationTime": (EpcisQueryEvent.error_declared_at, "__ge__"),
    "LT_errorDeclarationTime": (EpcisQueryEvent.error_declared_at, "__lt__"),
}
# Standard parameters about fields these events never carry: valid, and matching nothing.
NEVER_LISTS = (
    "EQ_transformationID",
    "EQ_type",
    "EQ_deviceID",
    "EQ_dataProcessingMethod",
    "EQ_microorganism",
    "EQ_chemicalSubstance",
    "EQ_bizRules",
    "EQ_stringValue",
    "EQ_hexBinaryValue",
    "EQ_uriValue",
)
NEVER_TIMES = ("GE_startTime", "LT_startTime", "GE_endTime", "LT_endTime")
NEVER_VOCABULARY = ("EQ_persistentDisposition_set", "EQ_persistentDisposition_unset")
# Parameters with a type in their name: the type is a bare CBV name or a URI.
TYPED_FAMILIES = {
    "EQ_bizTransaction_": ("bizTransaction", "bizTransactionType"),
    "EQ_source_": ("source", "sourceDestType"),
    "EQ_destination_": ("destination", "sourceDestType"),
}
ERROR_PARAMETERS = (
    "EXISTS_errorDeclaration",
    "GE_errorDeclarationTime",
    "LT_errorDeclarationTime",
    "EQ_errorReason",
    "EQ_correctiveEventID",
)
PAGING = ("perPage", "nextPageToken")
ORDER_COLUMNS = {"eventTime": EpcisQueryEvent.event_time, "recordTime": EpcisQueryEvent.record_time}
# A URI: a scheme, a colon, no white space (blank nodes such as _:x too, as the schema allows).
URI = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*|_):\S+")


class QueryParameterError(BadRequest):
    """A query parameter that is unknown or malformed: the binding's ``QueryParameterException``."""

    code = "query_parameter"

    def __init__(self, parameter: str, message: Any) -> None:
        super().__init__(message, {parameter: message})
        self.parameter = parameter


@dataclass
class EventQuery:
    """A parsed query: its conditions in SQL, its order, its limits, and what identifies it for paging."""

    conditions: list[ColumnElement[bool]] = field(default_factory=list)
    # Identifier and reference matches (few events each): joined, so the database starts from them.
    matches: list[Select] = field(default_factory=list)
    include_retracted: bool = False
    order_by: str = "eventTime"
    descending: bool = False
    event_count_limit: int | None = None
    max_event_count: int | None = None
    per_page: int = DEFAULT_PER_PAGE
    fingerprint: str = ""
    page_token: str | None = None


# --- reading parameters ----------------------------------------------------------------------------


def _fail(parameter: str, message: Any) -> QueryParameterError:
    return QueryParameterError(parameter, message)


def _single(parameter: str, values: list[str]) -> str:
    if len(values) != 1:
        raise _fail(parameter, _l("Give %(name)s once.", name=parameter))
    return values[0]


def _list(parameter: str, values: list[str]) -> list[str]:
    """A pipe-delimited list (``a|b``); repeating the parameter adds to it."""
    items = [item.strip() for value in values for item in value.split("|")]
    if not items or any(not item for item in items):
        raise _fail(parameter, _l("%(name)s has an empty value: separate values with |.", name=parameter))
    if len(items) > MAX_VALUES:
        raise _fail(
            parameter, _l("%(name)s takes at most %(count)s values.", name=parameter, count=MAX_VALUES)
        )
    return items


def _time(parameter: str, values: list[str]) -> datetime:
    raw = _single(parameter, values).strip()
    # An unencoded "+" in a query string arrives as a space: "…T08:00:00 07:00" meant +07:00.
    raw = re.sub(r" (\d\d:?\d\d)$", r"+\1", raw)
    try:
        return parse_time(raw)
    except ValueError:
        raise _fail(
            parameter,
            _l(
                "%(name)s must be a date and time with its offset, such as 2026-11-05T08:00:00+07:00 "
                "(encode + as %%2B in a URL).",
                name=parameter,
            ),
        ) from None


def _positive(parameter: str, values: list[str]) -> int:
    raw = _single(parameter, values).strip()
    if not raw.isascii() or not raw.isdigit() or int(raw) < 1 or len(raw) > 9:
        raise _fail(parameter, _l("%(name)s must be a whole number from 1.", name=parameter))
    return int(raw)


def _number(parameter: str, values: list[str]) -> Decimal:
    raw = _single(parameter, values).strip()
    try:
        number = Decimal(raw)
    except InvalidOperation:
        number = Decimal("NaN")
    if not number.is_finite() or abs(number) >= Decimal(10) ** 14:
        raise _fail(parameter, _l("%(name)s must be a number.", name=parameter))
    return number


def _boolean(parameter: str, values: list[str]) -> bool:
    raw = _single(parameter, values).strip().lower()
    if raw not in ("", "true", "false"):
        raise _fail(parameter, _l("%(name)s is true or false.", name=parameter))
    return raw != "false"


def _uris(parameter: str, values: list[str]) -> list[str]:
    items = _list(parameter, values)
    for item in items:
        if not URI.fullmatch(item):
            raise _fail(parameter, _l("%(name)s: %(value)s is not a URI.", name=parameter, value=item[:80]))
    return items


def _vocabulary(parameter: str, values: list[str], kind: str) -> list[str]:
    """CBV values in any spelling, as bare names; values outside CBV must be URIs."""
    keys = []
    for item in _list(parameter, values):
        key = vocabulary_key(item, kind)
        if ":" not in key and key not in cbv_names(CBV_DEFINITIONS[kind]):
            raise _fail(
                parameter,
                _l(
                    "%(name)s: %(value)s is not a CBV value; values of your own are URIs.",
                    name=parameter,
                    value=item[:80],
                ),
            )
        keys.append(key)
    return keys


@dataclass(frozen=True)
class Identifier:
    """A value to match identifiers against: a canonical identifier, or every key of a GTIN;
    for a registered item, also the lot it belongs to (this registry records events per lot)."""

    value: str
    gtin: str | None = None  # set for a pattern: any lot or item of this GTIN
    lot_classes: tuple[str, ...] = ()


# Where an item's lot is named when the item is asked for in an EPC field.
LOT_FIELDS = {
    "epc": "epcClass",
    "childEPC": "childEPCClass",
    "inputEPC": "inputEPCClass",
    "outputEPC": "outputEPCClass",
}


def _lots_of_item(gtin: str, serial: str, lot: str | None) -> tuple[str, ...]:
    query = (
        select(Batch.lot_code)
        .join(Product, Product.id == Batch.product_id)
        .join(Item, Item.batch_id == Batch.id)
        .where(Product.gtin == gtin, Item.serial == serial)
        .limit(MAX_VALUES)
    )
    if lot is not None:
        query = query.where(Batch.lot_code == lot)
    return tuple(lot_class_uri(gtin, lot_code) for lot_code in db.session.scalars(query))


def _gs1_key(parameter: str, value: str) -> GS1Key | None:
    """``value`` read as a GS1 key (None for a URI that is not one), or a 400 naming ``parameter``."""
    try:
        return parse_identifier(value)
    except EpcisIdentifierError as error:
        raise _fail(
            parameter,
            _l(
                "%(name)s: %(value)s is not a valid GS1 key (%(why)s).",
                name=parameter,
                value=value[:80],
                why=str(error),
            ),
        ) from None


def _identifiers(parameter: str, values: list[str]) -> list[Identifier]:
    found = []
    for item in _uris(parameter, values):
        key = _gs1_key(parameter, item)
        if key is not None and key.kind == "product":
            found.append(Identifier(key.digital_link(), key.gtin))
        elif key is not None and key.kind == "item" and key.gtin and key.serial:
            lots = _lots_of_item(key.gtin, key.serial, key.lot)
            found.append(Identifier(key.digital_link(), lot_classes=lots))
        else:
            found.append(Identifier(identifier_key(item)[0]))
    return found


def _match(fields: tuple[str, ...], identifiers: list[Identifier]) -> Select:
    exact = [identifier.value for identifier in identifiers if identifier.gtin is None]
    gtins = [identifier.gtin for identifier in identifiers if identifier.gtin is not None]
    lots = [lot for identifier in identifiers for lot in identifier.lot_classes]
    conditions = []
    if exact:
        conditions.append(and_(EpcisQueryValue.field.in_(fields), EpcisQueryValue.value.in_(exact)))
    if gtins:
        conditions.append(and_(EpcisQueryValue.field.in_(fields), EpcisQueryValue.gtin.in_(gtins)))
    lot_fields = sorted({LOT_FIELDS[name] for name in fields if name in LOT_FIELDS})
    if lots and lot_fields:
        conditions.append(and_(EpcisQueryValue.field.in_(lot_fields), EpcisQueryValue.value.in_(lots)))
    return select(EpcisQueryValue.query_event_id).where(or_(*conditions))


def identifier_match(parameter: str, value: str, fields: tuple[str, ...]) -> Select:
    """The ids of the events naming the identifier ``value`` (any spelling; a GTIN pattern) in one
    of ``fields``: a match to join (``EventQuery.matches``)."""
    return _match(fields, _identifiers(parameter, [value]))


def _values(field_name: str, values: list[str], kind: str | None = None) -> Select:
    condition = and_(EpcisQueryValue.field == field_name, EpcisQueryValue.value.in_(values))
    if kind is not None:
        condition = and_(condition, EpcisQueryValue.kind == kind)
    return select(EpcisQueryValue.query_event_id).where(condition)


def _places(parameter: str, column: Any, places: list[str], *, descendants: bool) -> ColumnElement[bool]:
    for place in places:
        _gs1_key(parameter, place)
    keys = [identifier_key(place)[0] for place in places]
    conditions = [column.in_(keys)]
    if descendants:
        conditions += [
            column.like(key.replace("%", r"\%").replace("_", r"\_") + "/254/%", escape="\\") for key in keys
        ]
    return or_(*conditions)


def _fingerprint(arguments: dict[str, list[str]], fixed: dict[str, list[str]], user_id: Any) -> str:
    parts = sorted(
        (name, tuple(values)) for name, values in {**arguments, **fixed}.items() if name not in PAGING
    )
    return hashlib.sha256(repr((user_id, parts)).encode()).hexdigest()[:32]


def parse_query(
    arguments: dict[str, list[str]],
    *,
    fixed: dict[str, list[str]] | None = None,
    matches: list[Select] | None = None,
    user: Any = None,
) -> EventQuery:
    """The query of these parameters; ``fixed``: those a resource's path sets (its bizStep, say),
    ``matches``: the resource's own (the events of an EPC, ``identifier_match``)."""
    fixed = fixed or {}
    for name in fixed:
        if name in arguments:
            raise _fail(name, _l("%(name)s is already given by this resource's path.", name=name))
    query = EventQuery(fingerprint=_fingerprint(arguments, fixed, getattr(user, "id", None)))
    conditions = query.conditions
    query.matches.extend(matches or [])
    for name, values in {**arguments, **fixed}.items():
        if name in ("eventType",):
            types = _list(name, values)
            for kind in types:
                if kind not in STANDARD_EVENT_TYPES and not URI.fullmatch(kind):
                    raise _fail(
                        name,
                        _l(
                            "%(name)s: %(value)s is not an EPCIS event type (%(types)s, or a URI).",
                            name=name,
                            value=kind[:80],
                            types=", ".join(STANDARD_EVENT_TYPES),
                        ),
                    )
            conditions.append(EpcisQueryEvent.event_type.in_(types))
        elif name in TIME_BOUNDS:
            column, operator = TIME_BOUNDS[name]
            conditions.append(getattr(column, operator)(_time(name, values)))
        elif name == "EQ_action":
            actions = _list(name, values)
            for action in actions:
                if action not in ACTIONS:
                    raise _fail(name, _l("%(name)s takes ADD, OBSERVE or DELETE.", name=name))
            conditions.append(EpcisQueryEvent.action.in_(actions))
        elif name == "EQ_bizStep":
            conditions.append(EpcisQueryEvent.biz_step.in_(_vocabulary(name, values, "bizStep")))
        elif name == "EQ_disposition":
            conditions.append(EpcisQueryEvent.disposition.in_(_vocabulary(name, values, "disposition")))
        elif name in ("EQ_readPoint", "WD_readPoint"):
            conditions.append(
                _places(
                    name, EpcisQueryEvent.read_point, _uris(name, values), descendants=name.startswith("WD")
                )
            )
        elif name in ("EQ_bizLocation", "WD_bizLocation"):
            conditions.append(
                _places(
                    name, EpcisQueryEvent.biz_location, _uris(name, values), descendants=name.startswith("WD")
                )
            )
        elif name in MATCH_FIELDS:
            query.matches.append(_match(MATCH_FIELDS[name], _identifiers(name, values)))
        elif name in QUANTITY_OPERATORS:
            amount = _number(name, values)
            compare = getattr(EpcisQueryValue.quantity, QUANTITY_OPERATORS[name])(amount)
            quantities = select(EpcisQueryValue.query_event_id).where(
                EpcisQueryValue.field.in_(CLASS_FIELDS), compare
            )
            conditions.append(EpcisQueryEvent.id.in_(quantities))
        elif name == "EQ_eventID":
            conditions.append(EpcisQueryEvent.event_id.in_(_uris(name, values)))
        elif name == "EXISTS_errorDeclaration":
            if _boolean(name, values):
                conditions.append(EpcisQueryEvent.error_declared_at.is_not(None))
                query.include_retracted = True
        elif name == "EQ_errorReason":
            conditions.append(EpcisQueryEvent.error_reason.in_(_vocabulary(name, values, "errorReason")))
        elif name == "EQ_correctiveEventID":
            query.matches.append(_values("correctiveEventID", _uris(name, values)))
        elif name == "orderBy":
            order = _single(name, values).strip()
            if order not in ORDER_COLUMNS:
                raise _fail(name, _l("%(name)s takes eventTime or recordTime.", name=name))
            query.order_by = order
            if "orderDirection" not in arguments:
                query.descending = True  # the standard's default once orderBy is given
        elif name == "orderDirection":
            direction = _single(name, values).strip()
            if direction not in ("ASC", "DESC"):
                raise _fail(name, _l("%(name)s takes ASC or DESC.", name=name))
            query.descending = direction == "DESC"
        elif name == "eventCountLimit":
            query.event_count_limit = _positive(name, values)
        elif name == "maxEventCount":
            query.max_event_count = _positive(name, values)
        elif name == "perPage":
            query.per_page = min(_positive(name, values), current_app.config["EPCIS_MAX_PER_PAGE"])
        elif name == "nextPageToken":
            query.page_token = _single(name, values)
        elif name in NEVER_LISTS:
            _list(name, values)
            conditions.append(false())
        elif name in NEVER_TIMES:
            _time(name, values)
            conditions.append(false())
        elif name in NEVER_VOCABULARY:
            _vocabulary(name, values, "disposition")
            conditions.append(false())
        elif name == "EQ_booleanValue":
            _boolean(name, values)
            conditions.append(false())
        elif family := next((prefix for prefix in TYPED_FAMILIES if name.startswith(prefix)), None):
            field_name, kind = TYPED_FAMILIES[family]
            type_name = name[len(family) :]
            if not type_name:
                raise _fail(name, _l("%(name)s needs a type after the last underscore.", name=name))
            query.matches.append(_values(field_name, _uris(name, values), vocabulary_key(type_name, kind)))
        else:
            raise _fail(name, _l("%(name)s is not a query parameter this repository understands.", name=name))
    if query.event_count_limit is not None and query.max_event_count is not None:
        raise _fail("eventCountLimit", _l("Give eventCountLimit or maxEventCount, not both."))
    if query.event_count_limit is not None and "orderBy" not in arguments:
        raise _fail("eventCountLimit", _l("eventCountLimit needs orderBy: which events come first?"))
    if any(name in arguments for name in ERROR_PARAMETERS if name != "EXISTS_errorDeclaration"):
        query.include_retracted = True  # a query about error declarations: withdrawn events too
    return query
