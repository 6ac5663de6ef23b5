"""EPCIS event hash IDs (CBV 2.0, "EPCIS Event Hash ID"): the pre-hash string and its ID. Pure Python.

``prehash_string`` writes an event as ``key=value`` pieces, without separators, in
the canonical property order the rules give for every event type:

    eventType, eventTime, eventTimeZoneOffset, certificationInfo, epcList, parentID,
    inputEPCList, childEPCs, quantityList, childQuantityList, inputQuantityList,
    outputEPCList, outputQuantityList, action, transformationID, bizStep,
    disposition, persistentDisposition (set, unset), readPoint (id),
    bizLocation (id), bizTransactionList, sourceList, destinationList,
    sensorElementList, ilmd, then the user extensions.

and within them:

- a list's name appears once, followed by its members sorted lexically (code
  point order); a member made of several pieces (a quantity element, a sensor
  element) is concatenated first, then sorted;
- a business transaction, source or destination is its value and then its
  type, when it has one (``bizTransaction=...type=...``), before sorting;
- a sensor element is its ``sensorMetadata`` (time, startTime, endTime,
  deviceID, deviceMetadata, rawData, dataProcessingMethod, bizRules) and its
  ``sensorReport`` entries (type, exception, deviceID, deviceMetadata, rawData,
  dataProcessingMethod, time, microorganism, chemicalSubstance, value,
  component, stringValue, booleanValue, hexBinaryValue, uriValue, minValue,
  maxValue, meanValue, sDev, percRank, percValue, uom,
  coordinateReferenceSystem), each in that order; ``bizRules``, which GS1's
  schema allows in a report but the rules do not list there, follows the listed
  fields;
- user extensions are ``{namespace}name=value`` (nested: ``{namespace}name`` and
  its children, sorted), sorted, at the end of the event, or at the end of the
  standard field that holds them (readPoint, bizLocation, sensorElement,
  sensorMetadata, sensorReport);
- values are trimmed; timestamps in UTC with milliseconds (the third decimal
  rounded up when the fourth is 5-9) and ``Z``; numbers without trailing zeros;
  standard vocabulary (bizStep, disposition, business transaction and
  source/destination types, sensor measurement types, exceptions, components)
  as web URIs, whether written as bare names, EPCIS 1.x URNs or CURIEs; other
  CURIEs expanded with the document's and the standard prefixes; EPC URNs of
  every GS1 scheme and Digital Links on any domain as constrained canonical
  Digital Links (``https://id.gs1.org``, the finest key only, no query);
- ``eventID``, ``recordTime`` and ``errorDeclaration`` are left out: an event
  declared erroneous keeps the ID it had.

The ID is ``ni:///sha-256;{hex}?ver=CBV2.0`` of the UTF-8 pre-hash string.

A user extension's value is never read as standard vocabulary: ``trace:eventType``
``shipping`` stays ``shipping``. GS1 Germany's reference generator
(epcis-event-hash-generator) differs from these rules in a few places; the list,
each with its case, is in README.md ("EPCIS event hash IDs") and is asserted by
tests/gs1/test_event_hash_cross_check.py.

Changed in issue 15: certificationInfo, the sub-order of sensor elements, UTC
sensor times, the conversion of every GS1 key (GRAI, GIAI, PGLN, GDTI, ...) and
of values inside business transactions, sources and destinations, CURIE values
and timestamps in extensions. Events whose ID was computed before and that
carry none of these keep the same ID; an eventID once stored is never recomputed.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import quote, unquote, urlsplit

from traceability.gs1.identifiers import gtin_check_digit

GS1_DOMAIN = "https://id.gs1.org"
CBV = "https://ref.gs1.org/cbv/"
GS1_VOCABULARY = "https://gs1.org/voc/"
# The prefixes GS1's EPCIS 2.0 context defines, for expanding CURIEs; a document's own come on top.
STANDARD_PREFIXES = {
    "gs1": GS1_VOCABULARY,
    "cbv": CBV,
    "epcis": "https://ref.gs1.org/epcis/",
    "cbvmda": "urn:epcglobal:cbv:mda:",
    "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
    "owl": "http://www.w3.org/2002/07/owl#",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
    "dcterms": "http://purl.org/dc/terms/",
}

# --- standard vocabulary -----------------------------------------------------------------------

# CBV term prefixes: the bare JSON-LD names and the EPCIS 1.x URNs map to these web URIs.
VOCABULARY_TERMS = {
    "bizStep": "BizStep-",
    "disposition": "Disp-",
    "bizTransactionType": "BTT-",
    "sourceDestType": "SDT-",
    "errorReason": "ER-",
    "component": "Comp-",
}
# Kinds whose bare names GS1's EPCIS context maps to the GS1 Web Vocabulary (gs1:Temperature).
GS1_VOCABULARY_KINDS = frozenset({"measurementType", "exception"})
_CBV_URNS = {
    "urn:epcglobal:cbv:bizstep:": "BizStep-",
    "urn:epcglobal:cbv:disp:": "Disp-",
    "urn:epcglobal:cbv:btt:": "BTT-",
    "urn:epcglobal:cbv:sdt:": "SDT-",
    "urn:epcglobal:cbv:er:": "ER-",
}


def _expand_curie(value: str, prefixes: Mapping[str, str]) -> str:
    prefix, colon, local = value.partition(":")
    if colon and prefix in prefixes and not local.startswith("//"):
        return prefixes[prefix] + local
    return value


def vocabulary_uri(value: str, kind: str, namespaces: Mapping[str, str] | None = None) -> str:
    """A standard vocabulary value as its web URI: ``shipping`` (a bizStep) → ``https://ref.gs1.org/cbv/BizStep-shipping``.

    Bare names, EPCIS 1.x URNs and CURIEs (the standard prefixes and ``namespaces``) are expanded.
    """
    value = value.strip()
    for urn, term in _CBV_URNS.items():
        if value.startswith(urn):
            return CBV + term + value[len(urn) :]
    if ":" not in value:
        base = GS1_VOCABULARY if kind in GS1_VOCABULARY_KINDS else CBV + VOCABULARY_TERMS[kind]
        return base + value
    return _expand_curie(value, {**STANDARD_PREFIXES, **(namespaces or {})})


def vocabulary_name(value: str, kind: str) -> str | None:
    """The bare CBV name of a value in any of its forms; None for a value outside CBV."""
    uri = vocabulary_uri(value, kind)
    for base in (CBV, GS1_VOCABULARY, "https://ns.gs1.org/cbv/"):
        prefix = base + VOCABULARY_TERMS[kind]
        if uri.startswith(prefix):
            return uri[len(prefix) :]
    return None


# --- values ------------------------------------------------------------------------------------

_NUMBER = re.compile(r"[+-]?\d+(\.\d+)?")
_TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)")


def canonical_time(value: str | datetime) -> str:
    """UTC with milliseconds (the third decimal rounded up when the fourth is 5-9) and ``Z``.

    ``2023-01-18T12:04:03.1415+01:00`` → ``2023-01-18T11:04:03.142Z``. ValueError without an offset.
    """
    moment = datetime.fromisoformat(value.strip()) if isinstance(value, str) else value
    if moment.tzinfo is None:
        raise ValueError("a timestamp needs its offset, such as +07:00 or Z")
    moment = moment.astimezone(UTC)
    milliseconds = (moment.microsecond + 500) // 1000
    moment = moment.replace(microsecond=0) + timedelta(milliseconds=milliseconds)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _time_text(value: Any) -> str:
    # A malformed time is hashed as written: hashing never refuses an event (validation does).
    text = str(value).strip()
    try:
        return canonical_time(text)
    except ValueError:
        return text


def canonical_number(value: Any) -> str:
    """A number without trailing zeros or exponent: ``452.0`` → ``452``, ``200.50`` → ``200.5``."""
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        return str(value).strip()
    if not number.is_finite():
        return str(value).strip()
    if number == number.to_integral_value():
        return str(int(number))
    return format(number.normalize(), "f")


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value).strip()


def _canonical_value(value: Any, prefixes: Mapping[str, str]) -> str:
    """Any value: booleans, numbers, timestamps, CBV URNs, CURIEs and GS1 keys in their canonical form."""
    if isinstance(value, bool):
        return _text(value)
    if isinstance(value, int | float | Decimal):
        return canonical_number(value)
    text = str(value).strip()
    if _NUMBER.fullmatch(text):
        return canonical_number(text)
    if _TIMESTAMP.fullmatch(text):
        return _time_text(text)
    for urn, term in _CBV_URNS.items():
        if text.startswith(urn):
            return CBV + term + text[len(urn) :]
    return canonical_uri(_expand_curie(text, prefixes))


# --- GS1 keys as constrained canonical Digital Links --------------------------------------------

_SET82 = r'[!"%-?A-Z_a-z]'
# What each AI may hold (GS1 General Specifications); a key that breaks them is hashed as written.
_AI_SYNTAX = {
    "00": re.compile(r"\d{18}"),
    "01": re.compile(r"\d{14}"),
    "10": re.compile(_SET82 + "{1,20}"),
    "21": re.compile(_SET82 + "{1,20}"),
    "22": re.compile(_SET82 + "{1,20}"),
    "235": re.compile(_SET82 + "{1,28}"),
    "253": re.compile(r"\d{13}" + _SET82 + "{0,17}"),
    "254": re.compile(_SET82 + "{1,20}"),
    "255": re.compile(r"\d{13}\d{0,12}"),
    "401": re.compile(_SET82 + "{1,30}"),
    "402": re.compile(r"\d{17}"),
    "414": re.compile(r"\d{13}"),
    "417": re.compile(r"\d{13}"),
    "8003": re.compile(r"0\d{13}" + _SET82 + "{0,16}"),
    "8004": re.compile(_SET82 + "{1,30}"),
    "8006": re.compile(r"\d{18}"),
    "8010": re.compile(r"[#\-/0-9A-Z]{1,30}"),
    "8011": re.compile(r"\d{1,12}"),
    "8017": re.compile(r"\d{18}"),
    "8018": re.compile(r"\d{18}"),
}
# How many leading digits of the value end with a check digit.
_CHECKED = {
    "00": 18,
    "01": 14,
    "253": 13,
    "255": 13,
    "402": 17,
    "414": 13,
    "417": 13,
    "8003": 14,
    "8006": 14,
    "8017": 18,
    "8018": 18,
}
# Primary keys and the key qualifiers that may follow them in a Digital Link path.
_QUALIFIERS: dict[str, tuple[str, ...]] = {
    "00": (),
    "01": ("22", "10", "21", "235"),
    "253": (),
    "255": (),
    "401": (),
    "402": (),
    "414": ("254",),
    "417": (),
    "8003": (),
    "8004": (),
    "8006": ("22", "10", "21"),
    "8010": ("8011",),
    "8017": (),
    "8018": (),
}
# Digital Link 1.0 short names, still read.
_SHORT_NAMES = {
    "gtin": "01",
    "itip": "8006",
    "cpid": "8010",
    "gln": "414",
    "party": "417",
    "gsrnp": "8017",
    "gsrn": "8018",
    "gcn": "255",
    "sscc": "00",
    "gdti": "253",
    "ginc": "401",
    "gsin": "402",
    "grai": "8003",
    "giai": "8004",
    "cpv": "22",
    "lot": "10",
    "ser": "21",
}

Elements = list[tuple[str, str]]


class _NotAKey(ValueError):
    """A URI shaped like a GS1 key that breaks a rule of it: hashed as written."""


def _checked(digits: str) -> str:
    return digits + str(gtin_check_digit(digits))


def _company_and_reference(company_prefix: str, reference: str, total: int) -> str:
    """``CP`` and ``REF`` of an EPC URN, digits only, ``total`` of them together."""
    if not (
        company_prefix.isascii()
        and company_prefix.isdigit()
        and 6 <= len(company_prefix) <= 12
        and (reference == "" or (reference.isascii() and reference.isdigit()))
        and len(company_prefix) + len(reference) == total
    ):
        raise _NotAKey(company_prefix + "." + reference)
    return company_prefix + reference


def _gtin(company_prefix: str, item_reference: str) -> str:
    _company_and_reference(company_prefix, item_reference, 13)
    # The indicator digit leads the item reference in the URN and the GTIN-14.
    return _checked(item_reference[0] + company_prefix + item_reference[1:])


def _split(body: str, count: int) -> list[str]:
    parts = body.split(".", count - 1)
    if len(parts) != count:
        raise _NotAKey(body)
    return parts


def _epc_elements(uri: str) -> Elements | None:
    """The AI elements of an EPC URN (TDS 2.0): pure identity, class and pattern URIs of GS1 keys."""
    match = re.fullmatch(r"urn:epc:(id|class|idpat):([a-z]+):(.+)", uri)
    if match is None:
        return None
    form, scheme, body = match.groups()
    key = f"{form}:{scheme}"
    if form == "idpat":
        if not body.endswith(".*"):
            return None
        body = body[:-2]
    value = unquote  # EPC URNs percent-encode what a Digital Link encodes its own way
    if key in ("id:sgtin", "id:upui"):
        cp, ir, serial = _split(body, 3)
        return [("01", _gtin(cp, ir)), ("21" if scheme == "sgtin" else "235", value(serial))]
    if key == "class:lgtin":
        cp, ir, lot = _split(body, 3)
        return [("01", _gtin(cp, ir)), ("10", value(lot))]
    if key in ("idpat:sgtin", "idpat:upui"):
        cp, ir = _split(body, 2)
        return [("01", _gtin(cp, ir))]
    if key in ("id:itip", "idpat:itip"):
        parts = _split(body, 5 if form == "id" else 4)
        cp, ir, piece, total = parts[:4]
        if not (re.fullmatch(r"\d\d", piece) and re.fullmatch(r"\d\d", total)):
            raise _NotAKey(body)
        elements = [("8006", _gtin(cp, ir) + piece + total)]
        return elements + ([("21", value(parts[4]))] if form == "id" else [])
    if key == "id:sscc":
        cp, sr = _split(body, 2)
        _company_and_reference(cp, sr, 17)
        # The extension digit leads the serial reference in the URN and the SSCC.
        return [("00", _checked(sr[0] + cp + sr[1:]))]
    if key == "id:sgln":
        cp, lr, extension = _split(body, 3)
        gln = _checked(_company_and_reference(cp, lr, 12))
        return [("414", gln)] + ([] if extension == "0" else [("254", value(extension))])
    if key == "id:pgln":
        cp, pr = _split(body, 2)
        return [("417", _checked(_company_and_reference(cp, pr, 12)))]
    if key in ("id:grai", "idpat:grai"):
        cp, asset_type, *serials = _split(body, 3 if form == "id" else 2)
        grai = "0" + _checked(_company_and_reference(cp, asset_type, 12))
        return [("8003", grai + "".join(value(s) for s in serials))]
    if key in ("id:gdti", "idpat:gdti", "id:sgcn", "idpat:sgcn"):
        cp, reference, *serials = _split(body, 3 if form == "id" else 2)
        digits = _checked(_company_and_reference(cp, reference, 12))
        return [("253" if scheme == "gdti" else "255", digits + "".join(value(s) for s in serials))]
    if key in ("id:giai", "id:ginc"):
        cp, reference = _split(body, 2)
        _company_and_reference(cp, "", len(cp))
        return [("8004" if scheme == "giai" else "401", cp + value(reference))]
    if key in ("id:gsrn", "id:gsrnp"):
        cp, reference = _split(body, 2)
        return [("8018" if scheme == "gsrn" else "8017", _checked(_company_and_reference(cp, reference, 17)))]
    if key == "id:gsin":
        cp, reference = _split(body, 2)
        return [("402", _checked(_company_and_reference(cp, reference, 16)))]
    if key in ("id:cpi", "idpat:cpi"):
        cp, reference, *serials = _split(body, 3 if form == "id" else 2)
        _company_and_reference(cp, "", len(cp))
        return [("8010", cp + value(reference))] + [("8011", value(s)) for s in serials]
    return None


def _link_elements(uri: str) -> Elements | None:
    """The AI elements of a GS1 Digital Link on any domain (query and fragment ignored)."""
    segments = urlsplit(uri).path.split("/")
    for index, segment in enumerate(segments):
        key = _SHORT_NAMES.get(segment, segment)
        if key not in _QUALIFIERS:
            continue
        rest = segments[index:]
        if rest[-1] == "":  # a trailing slash
            rest = rest[:-1]
        if len(rest) < 2 or len(rest) % 2:
            raise _NotAKey(uri)
        elements = [
            (_SHORT_NAMES.get(rest[i], rest[i]), unquote(rest[i + 1])) for i in range(0, len(rest), 2)
        ]
        allowed = _QUALIFIERS[key]
        positions = [allowed.index(ai) if ai in allowed else -1 for ai, _ in elements[1:]]
        if -1 in positions or positions != sorted(set(positions)):
            raise _NotAKey(uri)
        if key == "01" and len(elements[0][1]) in (8, 12, 13):
            elements[0] = ("01", elements[0][1].zfill(14))
        return elements
    return None


def _finest(elements: Elements) -> Elements:
    """The most fine-grained identification only: a serial or lot of a GTIN, never both; no variant."""
    key, qualifiers = elements[0], dict(elements[1:])
    if key[0] in ("01", "8006"):
        for ai in ("21", "235", "10"):
            if ai in qualifiers:
                return [key, (ai, qualifiers[ai])]
        return [key]
    return elements


def _valid(elements: Elements) -> bool:
    for ai, value in elements:
        if not _AI_SYNTAX[ai].fullmatch(value):
            return False
        length = _CHECKED.get(ai)
        if length and gtin_check_digit(value[: length - 1]) != int(value[length - 1]):
            return False
    return True


def canonical_uri(value: str) -> str:
    """A GS1 key (an EPC URN of any GS1 scheme, a Digital Link on any domain) as a constrained canonical Digital Link.

    ``https://id.gs1.org``, the finest key only, every character outside ``A-Za-z0-9-._~``
    percent-encoded, no query. Anything else, or a key that breaks its AI's rules, as given.
    """
    value = value.strip()
    try:
        if value.startswith("urn:epc:"):
            elements = _epc_elements(value)
        elif value.startswith(("https://", "http://")):
            elements = _link_elements(value)
        else:
            elements = None
    except _NotAKey:
        return value
    if not elements or not _valid(elements):
        return value
    return GS1_DOMAIN + "".join(f"/{ai}/{quote(part, safe='-._~')}" for ai, part in _finest(elements))


# --- the pre-hash string -----------------------------------------------------------------------

_SENSOR_METADATA = (
    "time",
    "startTime",
    "endTime",
    "deviceID",
    "deviceMetadata",
    "rawData",
    "dataProcessingMethod",
    "bizRules",
)
_SENSOR_REPORT = (
    "type",
    "exception",
    "deviceID",
    "deviceMetadata",
    "rawData",
    "dataProcessingMethod",
    "time",
    "microorganism",
    "chemicalSubstance",
    "value",
    "component",
    "stringValue",
    "booleanValue",
    "hexBinaryValue",
    "uriValue",
    "minValue",
    "maxValue",
    "meanValue",
    "sDev",
    "percRank",
    "percValue",
    "uom",
    "coordinateReferenceSystem",
    "bizRules",  # in GS1's schema, not in the rules' list: after the listed fields
)
_TIMES = frozenset({"time", "startTime", "endTime"})
_VOCABULARY_FIELDS = {"type": "measurementType", "exception": "exception", "component": "component"}
_PLAIN_TEXT = frozenset({"stringValue", "hexBinaryValue", "uom"})
_LEFT_OUT = frozenset({"type", "eventID", "recordTime", "errorDeclaration"})


def _present(value: Any) -> bool:
    return value is not None and value != "" and value != [] and value != {}


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _generic(key: str, value: Any, prefixes: Mapping[str, str]) -> list[str]:
    """Pre-hash pieces of a user extension: ``{ns}name=value``, nested children sorted."""
    name = _expand_key(key, prefixes)
    if isinstance(value, list):
        return [piece for item in value for piece in _generic(key, item, prefixes)]
    if isinstance(value, Mapping):
        return [name + "".join(_extensions(value, prefixes, ()))]
    if value is None:
        return [name]
    text = _canonical_value(value, prefixes)
    return [name + ("=" + text if text else "")]


def _expand_key(key: str, prefixes: Mapping[str, str]) -> str:
    prefix, colon, local = key.partition(":")
    if colon and prefix in prefixes and not local.startswith("//"):
        return "{" + prefixes[prefix] + "}" + local
    return key


def _extensions(
    element: Mapping[str, Any], prefixes: Mapping[str, str], standard: Iterable[str]
) -> list[str]:
    """The sorted pieces of an element's members that are not among its ``standard`` fields."""
    known = set(standard)
    return sorted(
        piece
        for key, value in element.items()
        if key not in known and not key.startswith("@")
        for piece in _generic(key, value, prefixes)
    )


def _ordered(
    element: Mapping[str, Any],
    order: Iterable[str],
    render: Callable[[str, Any], str],
    prefixes: Mapping[str, str],
) -> str:
    """``name=value`` of the fields in ``order`` that are present, then the extensions, sorted."""
    order = tuple(order)
    pieces = [
        f"{name}={render(name, element[name])}"
        for name in order
        if name in element and _present(element[name])
    ]
    return "".join(pieces + _extensions(element, prefixes, order))


def _quantity_piece(element: Any, prefixes: Mapping[str, str]) -> str:
    if not isinstance(element, Mapping):
        return "quantityElement"

    def render(name: str, value: Any) -> str:
        if name == "quantity":
            return canonical_number(value)
        return _canonical_value(value, prefixes) if name == "epcClass" else _text(value)

    return "quantityElement" + _ordered(element, ("epcClass", "quantity", "uom"), render, prefixes)


def _typed_piece(element: Any, name: str, kind: str, prefixes: Mapping[str, str]) -> str:
    """A business transaction, source or destination: the value, then its type (when it has one)."""
    if not isinstance(element, Mapping):
        return f"{name}={_canonical_value(element, prefixes)}"

    def render(field: str, value: Any) -> str:
        if field == "type":
            return vocabulary_uri(str(value), kind, prefixes)
        return _canonical_value(value, prefixes)

    return _ordered(element, (name, "type"), render, prefixes)


def _location_piece(name: str, value: Any, prefixes: Mapping[str, str]) -> str:
    if not isinstance(value, Mapping):
        return f"{name}id={_canonical_value(value, prefixes)}"
    return name + _ordered(value, ("id",), lambda _, v: _canonical_value(v, prefixes), prefixes)


def _sensor_value(name: str, value: Any, prefixes: Mapping[str, str]) -> str:
    if name in _TIMES:
        return _time_text(value)
    if name in _VOCABULARY_FIELDS:
        return vocabulary_uri(str(value), _VOCABULARY_FIELDS[name], prefixes)
    if name in _PLAIN_TEXT:
        return _text(value)
    return _canonical_value(value, prefixes)


def _sensor_element(element: Any, prefixes: Mapping[str, str]) -> str:
    if not isinstance(element, Mapping):
        return "sensorElement"

    def render(name: str, value: Any) -> str:
        return _sensor_value(name, value, prefixes)

    piece = "sensorElement"
    metadata = element.get("sensorMetadata")
    if isinstance(metadata, Mapping) and metadata:
        piece += "sensorMetadata" + _ordered(metadata, _SENSOR_METADATA, render, prefixes)
    reports = element.get("sensorReport")
    piece += "".join(
        sorted(
            "sensorReport" + _ordered(report, _SENSOR_REPORT, render, prefixes)
            for report in _as_list(reports or [])
            if isinstance(report, Mapping)
        )
    )
    # A "type" here is the JSON-LD class (epcis:SensorElement), which XML has no place for: not event data.
    return piece + "".join(_extensions(element, prefixes, ("sensorMetadata", "sensorReport", "type")))


def _persistent_disposition(value: Any, prefixes: Mapping[str, str]) -> str:
    if not isinstance(value, Mapping):
        return "persistentDisposition"
    pieces = [
        "".join(
            sorted(f"{key}=" + vocabulary_uri(str(v), "disposition", prefixes) for v in _as_list(value[key]))
        )
        for key in ("set", "unset")
        if _present(value.get(key))
    ]
    return "persistentDisposition" + "".join(pieces + _extensions(value, prefixes, ("set", "unset")))


def _epc_list(name: str, value: Any, prefixes: Mapping[str, str]) -> str:
    return name + "".join(sorted("epc=" + _canonical_value(epc, prefixes) for epc in _as_list(value)))


def _quantity_list(name: str, value: Any, prefixes: Mapping[str, str]) -> str:
    return name + "".join(sorted(_quantity_piece(element, prefixes) for element in _as_list(value)))


def _typed_list(member: str, kind: str) -> Callable[[str, Any, Mapping[str, str]], str]:
    def render(name: str, value: Any, prefixes: Mapping[str, str]) -> str:
        return name + "".join(
            sorted(_typed_piece(entry, member, kind, prefixes) for entry in _as_list(value))
        )

    return render


def _single(render: Callable[[Any, Mapping[str, str]], str]) -> Callable[[str, Any, Mapping[str, str]], str]:
    return lambda name, value, prefixes: f"{name}={render(value, prefixes)}"


# The canonical property order (CBV 2.0) and how each field is written.
_ORDER: tuple[tuple[str, Callable[[str, Any, Mapping[str, str]], str]], ...] = (
    ("eventTime", _single(lambda value, _: _time_text(value))),
    ("eventTimeZoneOffset", _single(lambda value, _: _text(value))),
    (
        "certificationInfo",
        lambda name, value, prefixes: "".join(
            sorted(f"{name}={_canonical_value(item, prefixes)}" for item in _as_list(value))
        ),
    ),
    ("epcList", _epc_list),
    ("parentID", _single(_canonical_value)),
    ("inputEPCList", _epc_list),
    ("childEPCs", _epc_list),
    ("quantityList", _quantity_list),
    ("childQuantityList", _quantity_list),
    ("inputQuantityList", _quantity_list),
    ("outputEPCList", _epc_list),
    ("outputQuantityList", _quantity_list),
    ("action", _single(lambda value, _: _text(value))),
    ("transformationID", _single(_canonical_value)),
    ("bizStep", _single(lambda value, prefixes: vocabulary_uri(str(value), "bizStep", prefixes))),
    ("disposition", _single(lambda value, prefixes: vocabulary_uri(str(value), "disposition", prefixes))),
    ("persistentDisposition", lambda _, value, prefixes: _persistent_disposition(value, prefixes)),
    ("readPoint", _location_piece),
    ("bizLocation", _location_piece),
    ("bizTransactionList", _typed_list("bizTransaction", "bizTransactionType")),
    ("sourceList", _typed_list("source", "sourceDestType")),
    ("destinationList", _typed_list("destination", "sourceDestType")),
    (
        "sensorElementList",
        lambda name, value, prefixes: (
            name + "".join(sorted(_sensor_element(element, prefixes) for element in _as_list(value)))
        ),
    ),
    (
        "ilmd",
        lambda name, value, prefixes: (
            name + "".join(_extensions(value, prefixes, ()) if isinstance(value, Mapping) else ())
        ),
    ),
)
_STANDARD_FIELDS = frozenset(name for name, _ in _ORDER) | _LEFT_OUT


def prehash_string(event: Mapping[str, Any], namespaces: Mapping[str, str] | None = None) -> str:
    """The canonical pre-hash string of an event (CBV 2.0 "EPCIS Event Hash ID").

    ``namespaces``: the prefixes of the document's ``@context`` (``context_namespaces``).
    """
    prefixes = {**STANDARD_PREFIXES, **(namespaces or {})}
    pieces = [f"eventType={_text(event.get('type', ''))}"]
    pieces += [render(name, event[name], prefixes) for name, render in _ORDER if _present(event.get(name))]
    pieces += _extensions(event, prefixes, _STANDARD_FIELDS)
    return "".join(pieces)


def event_hash_id(event: Mapping[str, Any], namespaces: Mapping[str, str] | None = None) -> str:
    """``ni:///sha-256;{hex}?ver=CBV2.0``: the event's ID computed from its canonical form."""
    digest = hashlib.sha256(prehash_string(event, namespaces).encode("utf-8")).hexdigest()
    return f"ni:///sha-256;{digest}?ver=CBV2.0"


def context_namespaces(document: Mapping[str, Any]) -> dict[str, str]:
    """The prefixes a document's ``@context`` defines (its objects; remote contexts are not fetched)."""
    context = document.get("@context")
    entries = context if isinstance(context, list) else [context]
    namespaces: dict[str, str] = {}
    for entry in entries:
        if isinstance(entry, Mapping):
            namespaces.update(
                {k: v for k, v in entry.items() if isinstance(v, str) and not k.startswith("@")}
            )
    return namespaces
