"""EPCIS 2.0 JSON-LD documents and events, their identifiers and hash IDs: pure Python, no Flask.

Identifiers. GS1 keys travel in events either as EPC URNs (what GS1's example
documents use) or as GS1 Digital Link URIs. ``parse_identifier`` reads both:
``urn:epc:id:sgtin:`` (an item), ``urn:epc:class:lgtin:`` (a lot),
``urn:epc:idpat:sgtin:CP.IR.*`` (every instance of a GTIN), ``urn:epc:id:sgln:``
(a location), ``urn:epc:id:sscc:`` (a logistic unit), and Digital Links with
the primary keys 01, 414 and 00 on any domain. In a URN the company prefix
length is given by the position of the first dot, so the URN builders take it
as an argument; the Digital Link needs none, which is why the documents built
here use ``https://id.gs1.org/...`` (GS1's canonical domain, not a resolver's).

Event hash IDs (``event_hash_id``, ``prehash_string``) are computed in
``traceability.gs1.event_hash`` by the CBV 2.0 "EPCIS Event Hash ID" rules as
written, and imported here. Since issue 15 they follow those rules where GS1's
reference generator departs from them (README.md, "EPCIS event hash IDs"); an ID
computed before changes only for an event with certificationInfo, sensor
elements, GS1 keys other than GTINs, GLNs and SSCCs, or CURIE or timestamp
values, and an eventID once given or stored is always kept as it is.

Validation (``validate_document``) uses GS1's JSON Schema (Draft 7), shipped in
``schemas/``, and reports each error against the event it belongs to, as a
``SchemaIssue``: the JSON path, the rule broken and jsonschema's detail (never
a whole event quoted), at most ``MAX_SCHEMA_ISSUES`` of them. ``date-time`` and
``uri`` formats are checked here, not by whichever optional packages are installed.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from functools import lru_cache
from itertools import islice
from pathlib import Path
from typing import Any, Literal
from urllib.parse import quote, unquote, urlsplit

from traceability.gs1.digital_link import DigitalLink, DigitalLinkError, parse_path
from traceability.gs1.event_hash import (  # noqa: F401 (the canonical form lives there; importable here too)
    CBV,
    GS1_DOMAIN,
    STANDARD_PREFIXES,
    VOCABULARY_TERMS,
    canonical_number,
    canonical_time,
    canonical_uri,
    context_namespaces,
    event_hash_id,
    prehash_string,
    vocabulary_name,
    vocabulary_uri,
)
from traceability.gs1.identifiers import gtin_check_digit, is_valid_ai_value

EPCIS_CONTEXT = "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"
SCHEMA_PATH = Path(__file__).parent / "schemas" / "EPCIS-JSON-Schema.json"


class EpcisIdentifierError(ValueError):
    """A GS1 identifier that is malformed (wrong digits, a wrong check digit, a bad lot or serial)."""


# --- identifiers -------------------------------------------------------------------------------

KeyKind = Literal["item", "lot", "product", "location", "logistic_unit"]


@dataclass(frozen=True)
class GS1Key:
    """A GS1 key found in an EPC URN or a Digital Link: what it names and its parts."""

    kind: KeyKind
    gtin: str | None = None  # 14 digits
    lot: str | None = None
    serial: str | None = None
    gln: str | None = None
    extension: str | None = None  # of a GLN (AI 254); None for the location itself
    sscc: str | None = None

    def digital_link(self) -> str:
        """The constrained canonical Digital Link: id.gs1.org, the finest key only, no query."""
        if self.kind == "item":
            return GS1_DOMAIN + DigitalLink(gtin=self.gtin or "", serial=self.serial).path()
        if self.kind == "lot":
            return GS1_DOMAIN + DigitalLink(gtin=self.gtin or "", lot=self.lot).path()
        if self.kind == "product":
            return GS1_DOMAIN + DigitalLink(gtin=self.gtin or "").path()
        if self.kind == "location":
            return gln_uri(self.gln or "", self.extension)
        return f"{GS1_DOMAIN}/00/{self.sscc}"


def _with_check_digit(digits: str) -> str:
    return digits + str(gtin_check_digit(digits))


def _split_urn_key(body: str, total: int, what: str) -> tuple[str, str]:
    """Company prefix and reference of ``CP.REF``; together they have ``total`` digits."""
    company_prefix, _, reference = body.partition(".")
    if not (
        company_prefix.isascii()
        and company_prefix.isdigit()
        and 6 <= len(company_prefix) <= 12
        and (reference == "" or (reference.isascii() and reference.isdigit()))
        and len(company_prefix) + len(reference) == total
    ):
        raise EpcisIdentifierError(f"{what}: expected a company prefix and reference of {total} digits")
    return company_prefix, reference


def _urn_value(raw: str, what: str) -> str:
    value = unquote(raw)
    if not is_valid_ai_value(value):
        raise EpcisIdentifierError(f"{what}: {value!r} is not 1-20 characters of GS1 set 82")
    return value


def _gtin_from_urn(company_prefix: str, item_reference: str) -> str:
    # The indicator digit leads the item reference in the URN and the GTIN-14.
    return _with_check_digit(item_reference[0] + company_prefix + item_reference[1:])


def _parse_urn(uri: str) -> GS1Key | None:
    parts = uri.split(":", 4)
    if len(parts) != 5 or parts[0] != "urn" or parts[1] != "epc":
        return None
    scheme, body = f"{parts[2]}:{parts[3]}", parts[4]
    # CP.REF.value: the company prefix and reference are digits; the value may hold dots.
    company_part, _, rest = body.partition(".")
    reference_part, _, value = rest.partition(".")
    key = f"{company_part}.{reference_part}"
    if scheme in ("id:sgtin", "class:lgtin", "idpat:sgtin"):
        company_prefix, item_reference = _split_urn_key(key, 13, scheme)
        gtin = _gtin_from_urn(company_prefix, item_reference)
        if scheme == "id:sgtin":
            return GS1Key("item", gtin=gtin, serial=_urn_value(value, "serial"))
        if scheme == "class:lgtin":
            return GS1Key("lot", gtin=gtin, lot=_urn_value(value, "lot"))
        if value != "*":
            raise EpcisIdentifierError("idpat:sgtin: only the pattern CP.IR.* is understood")
        return GS1Key("product", gtin=gtin)
    if scheme == "id:sgln":
        company_prefix, location_reference = _split_urn_key(key, 12, scheme)
        gln = _with_check_digit(company_prefix + location_reference)
        extension_value = None if value == "0" else _urn_value(value, "extension")
        return GS1Key("location", gln=gln, extension=extension_value)
    if scheme == "id:sscc":
        company_prefix, serial_reference = _split_urn_key(body, 17, scheme)
        sscc = _with_check_digit(serial_reference[0] + company_prefix + serial_reference[1:])
        return GS1Key("logistic_unit", sscc=sscc)
    return None


def _valid_check_digit(code: str) -> bool:
    return code.isascii() and code.isdigit() and gtin_check_digit(code[:-1]) == int(code[-1])


def _parse_web_uri(uri: str) -> GS1Key | None:
    parts = urlsplit(uri)
    segments = parts.path.split("/")
    for index, segment in enumerate(segments):
        rest = segments[index:]
        if segment == "01" and len(rest) >= 2:
            try:
                link = parse_path("/" + "/".join(rest))
            except DigitalLinkError as error:
                raise EpcisIdentifierError(f"Digital Link: {error}") from error
            if link.serial is not None:
                return GS1Key("item", gtin=link.gtin14, lot=link.lot, serial=link.serial)
            if link.lot is not None:
                return GS1Key("lot", gtin=link.gtin14, lot=link.lot)
            return GS1Key("product", gtin=link.gtin14)
        if segment == "414" and len(rest) in (2, 4):
            gln = rest[1]
            if len(gln) != 13 or not _valid_check_digit(gln):
                raise EpcisIdentifierError(f"GLN {gln!r}: 13 digits with a right check digit expected")
            if len(rest) == 4:
                if rest[2] != "254":
                    raise EpcisIdentifierError("Digital Link: only 254 may follow 414")
                return GS1Key("location", gln=gln, extension=_urn_value(rest[3], "extension"))
            return GS1Key("location", gln=gln)
        if segment == "00" and len(rest) == 2:
            sscc = rest[1]
            if len(sscc) != 18 or not _valid_check_digit(sscc):
                raise EpcisIdentifierError(f"SSCC {sscc!r}: 18 digits with a right check digit expected")
            return GS1Key("logistic_unit", sscc=sscc)
    return None


def parse_identifier(uri: str) -> GS1Key | None:
    """The GS1 key in an EPC URN or a GS1 Digital Link URI; None for any other URI.

    Raises EpcisIdentifierError when it is a GS1 key but a malformed one.
    """
    uri = uri.strip()
    if uri.startswith("urn:epc:"):
        return _parse_urn(uri)
    if uri.startswith(("https://", "http://")):
        return _parse_web_uri(uri)
    return None


def lot_class_uri(gtin14: str, lot: str) -> str:
    """``https://id.gs1.org/01/{gtin14}/10/{lot}``: the EPC class of a lot."""
    return GS1_DOMAIN + DigitalLink(gtin=gtin14, lot=lot).path()


def gln_uri(gln: str, extension: str | None = None) -> str:
    """``https://id.gs1.org/414/{gln}`` (with ``/254/{extension}`` for a sub-location)."""
    uri = f"{GS1_DOMAIN}/414/{gln}"
    return uri + (f"/254/{quote(extension, safe='-._~')}" if extension else "")


def _urn_key(digits: str, company_prefix_length: int, what: str) -> tuple[str, str]:
    if not 6 <= company_prefix_length <= 12:
        raise ValueError(f"{what}: a company prefix has 6 to 12 digits")
    return digits[:company_prefix_length], digits[company_prefix_length:]


def _urn_escape(value: str) -> str:
    # EPC URIs keep set-82 characters as they are, except " % & / < > ? (TDS 2.0).
    return quote(value, safe="!'()*+,:;=")


def _gtin_urn_parts(gtin14: str, company_prefix_length: int) -> str:
    company_prefix, item_reference = _urn_key(gtin14[1:13], company_prefix_length, "GTIN")
    return f"{company_prefix}.{gtin14[0]}{item_reference}"


def lgtin_urn(gtin14: str, lot: str, company_prefix_length: int) -> str:
    """``urn:epc:class:lgtin:CP.IR.Lot``: the company prefix length sets where the dot goes."""
    return f"urn:epc:class:lgtin:{_gtin_urn_parts(gtin14, company_prefix_length)}.{_urn_escape(lot)}"


def sgtin_urn(gtin14: str, serial: str, company_prefix_length: int) -> str:
    """``urn:epc:id:sgtin:CP.IR.Serial``."""
    return f"urn:epc:id:sgtin:{_gtin_urn_parts(gtin14, company_prefix_length)}.{_urn_escape(serial)}"


def sgln_urn(gln: str, company_prefix_length: int, extension: str | None = None) -> str:
    """``urn:epc:id:sgln:CP.LocationRef.Ext`` (extension ``0`` for the location itself)."""
    company_prefix, location_reference = _urn_key(gln[:12], company_prefix_length, "GLN")
    return f"urn:epc:id:sgln:{company_prefix}.{location_reference}.{_urn_escape(extension or '0')}"


# --- times ------------------------------------------------------------------------------------


def parse_time(value: str) -> datetime:
    """An EPCIS timestamp as an aware datetime; ValueError without an offset or when malformed."""
    moment = datetime.fromisoformat(value.strip())
    if moment.tzinfo is None:
        raise ValueError("a timestamp needs its offset, such as +07:00 or Z")
    return moment


def parse_offset(value: str) -> timezone:
    """``+07:00`` as a timezone; ValueError when malformed."""
    match = re.fullmatch(r"([+-])(\d\d):(\d\d)", value.strip())
    if not match:
        raise ValueError("an offset looks like +07:00")
    sign = -1 if match.group(1) == "-" else 1
    return timezone(sign * timedelta(hours=int(match.group(2)), minutes=int(match.group(3))))


def offset_text(moment: datetime) -> str:
    """The offset of an aware datetime as ``+07:00``."""
    minutes = int((moment.utcoffset() or timedelta(0)).total_seconds() // 60)
    sign = "+" if minutes >= 0 else "-"
    return f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


# --- building documents and events -------------------------------------------------------------


@dataclass(frozen=True)
class QuantityElement:
    """An entry of a quantity list: an EPC class (a lot), how much of it and the UN/ECE unit."""

    epc_class: str
    quantity: Decimal | None = None
    uom: str | None = None

    def as_json(self) -> dict[str, Any]:
        element: dict[str, Any] = {"epcClass": self.epc_class}
        if self.quantity is not None:
            element["quantity"] = json_number(self.quantity)
            # No uom means a count of instances; H87 (piece) says the same explicitly.
            if self.uom:
                element["uom"] = self.uom
        return element


def json_number(value: Decimal) -> int | float:
    """A Decimal as a JSON number (an int when it is whole)."""
    return int(value) if value == value.to_integral_value() else float(value)


def event_time_fields(moment: datetime) -> dict[str, str]:
    """``eventTime`` (in its own offset, milliseconds) and ``eventTimeZoneOffset``."""
    if moment.tzinfo is None:
        raise ValueError("event times need an offset")
    return {
        "eventTime": moment.isoformat(timespec="milliseconds"),
        "eventTimeZoneOffset": offset_text(moment),
    }


@dataclass
class EventParts:
    """What the event builders share: where, why, and the business documents."""

    biz_step: str | None = None
    disposition: str | None = None
    read_point: str | None = None
    biz_location: str | None = None
    biz_transactions: Sequence[tuple[str | None, str]] = ()  # (type, URI)
    sources: Sequence[tuple[str, str]] = ()  # (type, URI)
    destinations: Sequence[tuple[str, str]] = ()
    extensions: Mapping[str, Any] = field(default_factory=dict)

    def fields(self) -> dict[str, Any]:
        result: dict[str, Any] = {}
        if self.biz_step:
            result["bizStep"] = self.biz_step
        if self.disposition:
            result["disposition"] = self.disposition
        if self.read_point:
            result["readPoint"] = {"id": self.read_point}
        if self.biz_location:
            result["bizLocation"] = {"id": self.biz_location}
        if self.biz_transactions:
            result["bizTransactionList"] = [
                {"type": kind, "bizTransaction": uri} if kind else {"bizTransaction": uri}
                for kind, uri in self.biz_transactions
            ]
        if self.sources:
            result["sourceList"] = [{"type": kind, "source": uri} for kind, uri in self.sources]
        if self.destinations:
            result["destinationList"] = [
                {"type": kind, "destination": uri} for kind, uri in self.destinations
            ]
        result.update(self.extensions)
        return result


def _with_id(event: dict[str, Any], event_id: str | None, namespaces: Mapping[str, str]) -> dict[str, Any]:
    identified = {"type": event["type"], "eventID": event_id or event_hash_id(event, namespaces)}
    identified.update((k, v) for k, v in event.items() if k != "type")
    return identified


def object_event(
    *,
    event_time: datetime,
    quantities: Sequence[QuantityElement],
    action: str = "OBSERVE",
    parts: EventParts | None = None,
    event_id: str | None = None,
    namespaces: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """An ObjectEvent about lots (``quantityList``), with its eventID (given, or computed)."""
    event: dict[str, Any] = {"type": "ObjectEvent", **event_time_fields(event_time)}
    event["quantityList"] = [element.as_json() for element in quantities]
    event["action"] = action
    event.update((parts or EventParts()).fields())
    return _with_id(event, event_id, namespaces or {})


def transformation_event(
    *,
    event_time: datetime,
    inputs: Sequence[QuantityElement],
    outputs: Sequence[QuantityElement],
    parts: EventParts | None = None,
    event_id: str | None = None,
    namespaces: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """A TransformationEvent: input lots and the quantities consumed, the output lots."""
    event: dict[str, Any] = {"type": "TransformationEvent", **event_time_fields(event_time)}
    event["inputQuantityList"] = [element.as_json() for element in inputs]
    event["outputQuantityList"] = [element.as_json() for element in outputs]
    event.update((parts or EventParts()).fields())
    return _with_id(event, event_id, namespaces or {})


def aggregation_event(
    *,
    event_time: datetime,
    parent_id: str,
    children: Sequence[QuantityElement],
    action: str = "ADD",
    parts: EventParts | None = None,
    event_id: str | None = None,
    namespaces: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """An AggregationEvent: lots (``childQuantityList``) put into, or observed in, a parent."""
    event: dict[str, Any] = {"type": "AggregationEvent", **event_time_fields(event_time)}
    event["parentID"] = parent_id
    event["childQuantityList"] = [element.as_json() for element in children]
    event["action"] = action
    event.update((parts or EventParts()).fields())
    return _with_id(event, event_id, namespaces or {})


def association_event(
    *,
    event_time: datetime,
    parent_id: str,
    child_epcs: Sequence[str] = (),
    child_quantities: Sequence[Mapping[str, Any]] = (),
    action: str = "ADD",
    parts: EventParts | None = None,
    event_id: str | None = None,
    namespaces: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """An AssociationEvent: sensors, devices or lots (children) attached to or detached from a parent."""
    event: dict[str, Any] = {"type": "AssociationEvent", **event_time_fields(event_time)}
    event["parentID"] = parent_id
    if child_epcs:
        event["childEPCs"] = list(child_epcs)
    if child_quantities:
        event["childQuantityList"] = [dict(element) for element in child_quantities]
    event["action"] = action
    event.update((parts or EventParts()).fields())
    return _with_id(event, event_id, namespaces or {})


def declare_error(
    event: Mapping[str, Any],
    *,
    declared_at: datetime,
    reason: str = "incorrect_data",
    corrective_event_ids: Sequence[str] = (),
    extensions: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The event declared erroneous (EPCIS 2.0 §7.4.1.4); its eventID stays the same."""
    declaration: dict[str, Any] = {"declarationTime": declared_at.isoformat(timespec="milliseconds")}
    if reason:
        declaration["reason"] = reason
    if corrective_event_ids:
        declaration["correctiveEventIDs"] = list(corrective_event_ids)
    declaration.update(extensions or {})
    return {**event, "errorDeclaration": declaration}


def epcis_document(
    events: Sequence[Mapping[str, Any]],
    *,
    created_at: datetime,
    namespaces: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """An EPCISDocument: the standard context (plus ``namespaces`` for extensions) and the events."""
    context: list[Any] = [EPCIS_CONTEXT]
    if namespaces:
        context.append(dict(namespaces))
    return {
        "@context": context,
        "type": "EPCISDocument",
        "schemaVersion": "2.0",
        "creationDate": created_at.isoformat(timespec="milliseconds"),
        "epcisBody": {"eventList": list(events)},
    }


# --- validation --------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def load_schema() -> dict[str, Any]:
    """GS1's EPCIS 2.0 JSON Schema, as shipped with the package."""
    return json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))


@lru_cache(maxsize=8)
def cbv_names(definition: str) -> frozenset[str]:
    """The bare CBV names GS1's schema accepts for ``bizStep``, ``disposition``, ``bizTransaction-type``..."""
    choices = load_schema()["definitions"][definition]["anyOf"]
    return frozenset(name for choice in choices for name in choice.get("enum", ()))


def _is_timestamp(value: object) -> bool:
    # What capture reads: ISO 8601 with an offset (RFC 3339 is a subset).
    return not isinstance(value, str) or (bool(value.strip()) and parse_time(value).tzinfo is not None)


def _is_uri(value: object) -> bool:
    # Lenient on purpose: a scheme and no white space; the identifier parsers judge the rest.
    # JSON-LD blank node identifiers (``_:document1``, in GS1's own examples) pass too.
    return not isinstance(value, str) or re.fullmatch(r"([A-Za-z][A-Za-z0-9+.-]*|_):\S+", value) is not None


@lru_cache(maxsize=1)
def _validator() -> Any:
    from jsonschema import Draft7Validator, FormatChecker  # imported here: only validation needs it

    # Formats checked here rather than by optional packages, so production checks what tests do.
    checker = FormatChecker(formats=())
    checker.checks("date-time", raises=ValueError)(_is_timestamp)
    checker.checks("uri")(_is_uri)
    return Draft7Validator(load_schema(), format_checker=checker)


MAX_MESSAGE = 300
MAX_SCHEMA_ISSUES = 20  # per document: the first ones say enough, a long list hides them


class SchemaIssue(str):
    """One rule of GS1's schema a document breaks: where (a JSON path), which rule, and what is wrong.

    A ``str`` (``"$.path: detail (rule)"``) so it reads as a message; the web and API layers
    translate the sentence around ``path``, ``rule`` and ``detail``, which stay as they are.
    """

    path: str
    rule: str
    detail: str

    def __new__(cls, path: str, rule: str, detail: str) -> SchemaIssue:
        issue = super().__new__(cls, f"{path}: {detail} ({rule})")
        issue.path, issue.rule, issue.detail = path, rule, detail
        return issue


def _short(value: Any, limit: int = 80) -> str:
    import reprlib

    shortener = reprlib.Repr()
    shortener.maxstring = shortener.maxother = limit
    shortener.maxlist = shortener.maxdict = 4
    shortener.maxlevel = 1
    return shortener.repr(value)


def _issue(error: Any) -> SchemaIssue:
    """The closest alternative of an anyOf / oneOf, with its path, rule and a message of bounded length."""
    from jsonschema.exceptions import best_match

    if error.context:
        error = best_match([error])
    rule = f"{error.validator}: {_short(error.validator_value, 60)}"
    detail = error.message
    if len(detail) > MAX_MESSAGE:
        # jsonschema quotes the whole instance (a whole event, say): name it in short instead.
        instance = _short(error.instance)
        detail = (
            detail.replace(repr(error.instance), instance, 1)
            if repr(error.instance) in detail
            else f"{instance} does not satisfy {error.validator}"
        )
        detail = detail if len(detail) <= MAX_MESSAGE else detail[: MAX_MESSAGE - 1] + "…"
    return SchemaIssue(error.json_path, rule, detail)


@dataclass
class ValidationReport:
    """Schema errors of a document: for the document itself and for each event by its index."""

    document: list[SchemaIssue] = field(default_factory=list)
    events: dict[int, list[SchemaIssue]] = field(default_factory=dict)
    more: int = 0  # issues beyond MAX_SCHEMA_ISSUES, not listed

    @property
    def valid(self) -> bool:
        return not self.document and not self.events


def validate_document(document: Any) -> ValidationReport:
    """Validate an EPCIS document against GS1's schema; errors inside events go under their index.

    At most ``MAX_SCHEMA_ISSUES`` issues are listed; ``more`` counts the others.
    """
    report = ValidationReport()
    errors = list(islice(_validator().iter_errors(document), 10 * MAX_SCHEMA_ISSUES))
    paths = [tuple(error.absolute_path) for error in errors]
    listed = 0
    for error, path in zip(errors, paths, strict=True):
        if error.validator in ("anyOf", "oneOf") and any(
            len(other) > len(path) and other[: len(path)] == path for other in paths
        ):
            continue  # "none of the alternatives": a more precise error inside says which rule
        issue = _issue(error)
        if len(path) >= 3 and path[:2] == ("epcisBody", "eventList") and isinstance(path[2], int):
            messages = report.events.setdefault(path[2], [])
        else:
            messages = report.document
        if issue in messages:
            continue
        if listed >= MAX_SCHEMA_ISSUES:
            report.more += 1
            continue
        messages.append(issue)
        listed += 1
    report.events = {index: messages for index, messages in report.events.items() if messages}
    return report
