"""The binding's query resources: ``/events``, ``/events/{eventID}``, ``/eventTypes``, ``/epcs``,
``/bizSteps``, ``/dispositions``, ``/readPoints``, ``/bizLocations`` and their ``…/{value}/events``.

Every answer is scoped to the caller's tenant (``epcis_query``). A resource
instance that names nothing the caller may read (an EPC, a custom bizStep, a
location) answers 404 ``NoSuchResourceException``, as an unknown eventID does;
the CBV's own steps and dispositions and the five event types always exist.
Path values are URIs too (``/epcs/https:%2F%2Fid.gs1.org%2F01%2F…``), so those
rules take slashes and never merge them.
"""

from __future__ import annotations

from typing import Any

from flask import abort
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from traceability.api.epcis_rest import (
    arguments,
    binding_view,
    bp,
    collection_paging,
    json_answer,
    with_next_page,
)
from traceability.batches.epcis_index import CBV_DEFINITIONS, identifier_key, vocabulary_key
from traceability.batches.epcis_query import (
    distinct_values,
    events_by_id,
    known_identifiers,
    known_in_scope,
    query_document,
    read_page_token,
    run_query,
    sign_page_token,
)
from traceability.batches.epcis_query_params import (
    MATCH_FIELDS,
    STANDARD_EVENT_TYPES,
    identifier_match,
    parse_query,
)
from traceability.gs1.epcis import EPCIS_CONTEXT, cbv_names
from traceability.models.epcis import EpcisQueryEvent

TOP_LEVEL = (
    "capture",
    "events",
    "eventTypes",
    "epcs",
    "bizSteps",
    "bizLocations",
    "readPoints",
    "dispositions",
)
# Each vocabulary resource: the query parameter its ``/{value}/events`` fixes, the indexed
# column its collection lists, and the values that exist whatever is recorded.
VOCABULARIES: dict[str, tuple[str, Any, tuple[str, ...] | None]] = {
    "eventTypes": ("eventType", EpcisQueryEvent.event_type, STANDARD_EVENT_TYPES),
    "bizSteps": ("EQ_bizStep", EpcisQueryEvent.biz_step, None),
    "dispositions": ("EQ_disposition", EpcisQueryEvent.disposition, None),
    "readPoints": ("EQ_readPoint", EpcisQueryEvent.read_point, ()),
    "bizLocations": ("EQ_bizLocation", EpcisQueryEvent.biz_location, ()),
}
CBV_KINDS = {"bizSteps": "bizStep", "dispositions": "disposition"}
ANY_IDENTIFIER = tuple(dict.fromkeys(MATCH_FIELDS["MATCH_anyEPC"] + MATCH_FIELDS["MATCH_anyEPCClass"]))
VOCABULARY_RULE = "<any(eventTypes, bizSteps, dispositions, readPoints, bizLocations):resource>"


def _collection(members: list[str]) -> dict[str, Any]:
    return {"@context": EPCIS_CONTEXT, "type": "Collection", "member": members}


def _events_answer(arguments_: dict[str, list[str]], **fixed: Any):
    query = parse_query(arguments_, user=current_user, **fixed)
    page = run_query(query, current_user)
    response = json_answer(query_document(page.events))
    return with_next_page(response, page.next_token, page.token_expires_at)


@bp.get("")
@binding_view
def top_level():
    """The repository's top-level resources."""
    return json_answer(_collection(list(TOP_LEVEL)))


@bp.get("/events")
@binding_view
def events():
    """Events matching the standard query parameters, one page, in the caller's scope."""
    return _events_answer(arguments())


@bp.get("/events/<path:event_id>", merge_slashes=False)
@binding_view
def event(event_id: str):
    """The event with this eventID (with its error declaration, if one was made)."""
    found = events_by_id(event_id, current_user)
    if not found:
        abort(404, _l("No event with this eventID that you may read."))
    return json_answer(query_document(found))


# --- collections ------------------------------------------------------------------------------


def _page_of(members_after: Any, name: str) -> tuple[list[str], str | None, Any]:
    """One page of a collection listed in order by ``members_after(after, limit)``."""
    per_page, page_token = collection_paging()
    fingerprint = f"{name}:{current_user.id}"
    after = None
    if page_token is not None:
        after, _row, _left = read_page_token(page_token, fingerprint)
    members = members_after(after, per_page + 1)
    token, expires = (None, None)
    if len(members) > per_page:
        members = members[:per_page]
        token, expires = sign_page_token(fingerprint, members[-1], 0)
    return members, token, expires


def _vocabulary_members(resource: str, after: str | None, limit: int) -> list[str]:
    _parameter, column, standard = VOCABULARIES[resource]
    in_use = distinct_values(column, current_user, after=after, limit=limit)
    fixed = standard if standard is not None else tuple(cbv_names(CBV_DEFINITIONS[CBV_KINDS[resource]]))
    members = sorted({*in_use, *(value for value in fixed if after is None or value > after)})
    return members[:limit]


@bp.get("/" + VOCABULARY_RULE)
@binding_view
def vocabulary(resource: str):
    """Event types, business steps, dispositions (the standard's and those in use), read points or
    business locations (those of the caller's events), paged."""
    members, token, expires = _page_of(
        lambda after, limit: _vocabulary_members(resource, after, limit), resource
    )
    return with_next_page(json_answer(_collection(members)), token, expires)


def _vocabulary_value(resource: str, value: str) -> str:
    """The value a vocabulary resource's path names, checked: 404 when it names nothing here."""
    column = VOCABULARIES[resource][1]
    if resource == "eventTypes":
        if value not in STANDARD_EVENT_TYPES and not known_in_scope(column == value, current_user):
            abort(404, _l("This repository holds no events of this type."))
        return value
    if resource in CBV_KINDS:
        key = vocabulary_key(value, CBV_KINDS[resource])
        if key in cbv_names(CBV_DEFINITIONS[CBV_KINDS[resource]]):
            return value
    else:
        key = identifier_key(value)[0]
    if not known_in_scope(column == key, current_user):
        abort(404, _l("None of your events names this value."))
    return value


@bp.get("/" + VOCABULARY_RULE + "/<path:value>", merge_slashes=False)
@binding_view
def vocabulary_member(resource: str, value: str):
    """A business step, disposition, event type or location: its sub-resources (``events``)."""
    _vocabulary_value(resource, value)
    return json_answer(_collection(["events"]))


@bp.get("/" + VOCABULARY_RULE + "/<path:value>/events", merge_slashes=False)
@binding_view
def vocabulary_events(resource: str, value: str):
    """The events of a business step, disposition, event type or location, filtered further by the query."""
    _vocabulary_value(resource, value)
    parameter = VOCABULARIES[resource][0]
    return _events_answer(arguments(), fixed={parameter: [value]})


# --- EPCs -------------------------------------------------------------------------------------


@bp.get("/epcs")
@binding_view
def epcs():
    """The identifiers (EPCs and EPC classes) of the caller's events, paged."""
    members, token, expires = _page_of(
        lambda after, limit: known_identifiers(ANY_IDENTIFIER, current_user, after=after, limit=limit), "epcs"
    )
    return with_next_page(json_answer(_collection(members)), token, expires)


def _epc_condition(epc: str) -> Any:
    """Events naming ``epc`` anywhere: as an EPC, a parent, an input or output, or an EPC class."""
    return identifier_match("epc", epc, ANY_IDENTIFIER)


@bp.get("/epcs/<path:epc>", merge_slashes=False)
@binding_view
def epc(epc: str):
    """An EPC or EPC class named by the caller's events: its sub-resources (``events``)."""
    if not known_in_scope(_epc_condition(epc), current_user):
        abort(404, _l("None of your events names this identifier."))
    return json_answer(_collection(["events"]))


@bp.get("/epcs/<path:epc>/events", merge_slashes=False)
@binding_view
def epc_events(epc: str):
    """The events that name an EPC or EPC class (any list, parent, input or output), filtered further."""
    condition = _epc_condition(epc)
    if not known_in_scope(condition, current_user):
        abort(404, _l("None of your events names this identifier."))
    return _events_answer(arguments(), matches=[condition])
