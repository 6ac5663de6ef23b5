"""GS1 Digital Link URIs (URI syntax 1.6): building, strict parsing and the canonical form.

Building percent-encodes every character outside ``[A-Za-z0-9-._~]`` and
refuses a value it could not encode faithfully (a GTIN with a wrong check
digit, a lot or serial outside GS1 set 82 or longer than 20 characters).
Parsing percent-decodes each segment, then validates it; an invalid value is
refused with a reason, never truncated or repaired.

Dates are data attributes: they go in the query (``?17=YYMMDD`` expiry,
``11=`` production), never in the path. A query key made of digits is a GS1
Application Identifier and must be a data attribute GS1's syntax dictionary
allows with a GTIN, with a valid value (``parse_query``); other query
parameters (``linkType`` and the like) are the resolver's, not part of the
identifiers, and are ignored here.

The key qualifiers of a GTIN (GS1 syntax dictionary, ``01 ... 22,10,21|235``):
``/22/``, ``/10/``, ``/21/`` in that order, each optional, or ``/235/`` (the
third-party controlled extension, TPX) alone.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date
from urllib.parse import parse_qsl, quote, unquote_to_bytes, urlsplit

from traceability.gs1.identifiers import GTIN_LENGTHS, is_valid_ai_value, is_valid_gtin

#: The domain of the canonical form of every Digital Link URI.
CANONICAL_DOMAIN = "https://id.gs1.org"
# The key qualifiers of a GTIN, in the only order the path may hold them.
QUALIFIER_ORDER = ("22", "10", "21")
# The third-party controlled, serialised extension of a GTIN: never with 22, 10 or 21.
TPX = "235"
# The date attributes this registry reads and writes, in the canonical (ascending AI) order.
DATE_ATTRIBUTES = ("11", "17")  # production date, expiry date
SET_82 = r'[!"%-?A-Z_a-z]'
# The data attributes GS1's syntax dictionary allows with a GTIN in a Digital Link's query,
# as (AI pattern, value pattern); dates (YYMMDD) are checked as dates too.
DATA_ATTRIBUTES: tuple[tuple[re.Pattern[str], re.Pattern[str]], ...] = tuple(
    (re.compile(ai), re.compile(value))
    for ai, value in (
        (r"1[1-7]", r"\d{6}"),  # production, due, packaging, best before, sell by, expiry dates
        (r"20", r"\d{2}"),  # internal product variant
        (r"30|37", r"\d{1,8}"),  # variable count, count of trade items
        (r"3[1-6]\d\d", r"\d{6}"),  # trade measures (kg, m, l, ...)
        (r"39[0-3]\d", r"\d{1,15}"),  # amounts and prices
        (r"242", r"\d{1,6}"),  # made-to-order variation
        (r"24[013]|25[01]", SET_82 + r"{1,30}"),  # additional product ids, secondary serial
        (r"42[2-6]", r"\d{3}"),  # countries of origin and processing (ISO 3166 numeric)
        (r"7003", r"\d{10}"),  # expiration date and time
        (r"7006", r"\d{6}"),  # first freeze date
        (r"7007", r"\d{6}(\d{6})?"),  # harvest date (or dates)
        (r"8008", r"\d{8,12}"),  # production date and time
        (r"90", SET_82 + r"{1,30}"),  # mutually agreed information
        (r"9[1-9]", SET_82 + r"{1,90}"),  # company internal information
    )
)
DATE_AIS = re.compile(r"1[1-7]|7006")
TPX_PATTERN = re.compile(SET_82 + "{1,28}")  # X..28
BAD_PERCENT = re.compile(r"%(?![0-9A-Fa-f]{2})")


class DigitalLinkError(ValueError):
    """A malformed Digital Link; ``reason`` is a stable code the web layer translates.

    Reasons: ``gtin`` (not 8, 12, 13 or 14 digits, or a wrong check digit),
    ``order`` (not /01/ first, a qualifier out of order, repeated or unknown),
    ``value`` (a lot, serial or variant outside GS1 set 82 or longer than 20),
    ``empty`` (a missing value), ``encoding`` (bad percent-encoding),
    ``date`` (a date attribute that is not a valid YYMMDD or is repeated),
    ``attribute`` (a numeric query key that is no data attribute of a GTIN, a
    repeated one, or a value outside its format), ``uri`` (not an http or https URI).
    """

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail


@dataclass(frozen=True)
class DigitalLink:
    """The identifiers of a Digital Link: GTIN (as given), its qualifiers and date attributes."""

    gtin: str
    variant: str | None = None
    lot: str | None = None
    serial: str | None = None
    tpx: str | None = None
    production_date: date | None = None
    expiry_date: date | None = None

    @property
    def gtin14(self) -> str:
        return self.gtin.zfill(14)

    @property
    def is_canonical_gtin(self) -> bool:
        return len(self.gtin) == 14

    def qualifiers(self) -> list[tuple[str, str]]:
        """The (AI, value) pairs of the key qualifiers present, in path order."""
        values = (("22", self.variant), ("10", self.lot), ("21", self.serial), (TPX, self.tpx))
        return [(ai, value) for ai, value in values if value is not None]

    def validate(self) -> DigitalLink:
        """This link when every identifier is valid; DigitalLinkError with the reason otherwise."""
        if not _is_gtin(self.gtin):
            raise DigitalLinkError("gtin", self.gtin)
        if self.tpx is not None and (self.variant or self.lot or self.serial) is not None:
            raise DigitalLinkError("order", TPX)
        for ai, value in self.qualifiers():
            _check_value(ai, value)
        return self

    def path(self) -> str:
        """The canonical path: GTIN-14, qualifiers in order, each percent-encoded."""
        parts = ["", "01", self.gtin14]
        for ai, value in self.qualifiers():
            parts += [ai, _segment(value)]
        return "/".join(parts)

    def query(self) -> str:
        """The date attributes as a query string (ascending AI order), or ``""``."""
        dates = (("11", self.production_date), ("17", self.expiry_date))
        return "&".join(f"{ai}={day:%y%m%d}" for ai, day in dates if day is not None)

    def uri(self, base_url: str = CANONICAL_DOMAIN) -> str:
        """The validated URI on ``base_url`` (the public domain, or id.gs1.org by default)."""
        self.validate()
        query = self.query()
        return base_url.rstrip("/") + self.path() + (f"?{query}" if query else "")

    def canonical_uri(self) -> str:
        """The canonical form: id.gs1.org, GTIN-14, qualifiers in order, date attributes by AI."""
        return self.uri(CANONICAL_DOMAIN)

    def element_string(self) -> str:
        """The human-readable GS1 element string, such as ``(01)09506000134352(10)ABC``."""
        self.validate()
        parts = [f"(01){self.gtin14}"] + [f"({ai}){value}" for ai, value in self.qualifiers()]
        dates = (("11", self.production_date), ("17", self.expiry_date))
        parts += [f"({ai}){day:%y%m%d}" for ai, day in dates if day is not None]
        return "".join(parts)


def _is_gtin(code: str) -> bool:
    return code.isascii() and code.isdigit() and len(code) in GTIN_LENGTHS and is_valid_gtin(code)


def _segment(value: str) -> str:
    return quote(value, safe="-._~")


def _check_value(ai: str, value: str) -> None:
    if not value:
        raise DigitalLinkError("empty", ai)
    valid = TPX_PATTERN.fullmatch(value) if ai == TPX else is_valid_ai_value(value)
    if not valid:
        raise DigitalLinkError("value", ai)


def _decode(segment: str) -> str:
    # ``%`` not followed by two hex digits is malformed (RFC 3986), not a literal ``%``.
    if BAD_PERCENT.search(segment):
        raise DigitalLinkError("encoding", segment)
    try:
        return unquote_to_bytes(segment).decode("utf-8")
    except UnicodeDecodeError as error:
        raise DigitalLinkError("encoding", segment) from error


def batch_uri(base_url: str, gtin: str, lot: str) -> str:
    """``{base}/01/{gtin14}/10/{lot}``: the Digital Link of a lot; DigitalLinkError when invalid."""
    return DigitalLink(gtin=gtin, lot=lot).uri(base_url)


def item_uri(base_url: str, gtin: str, lot: str, serial: str) -> str:
    """``{base}/01/{gtin14}/10/{lot}/21/{serial}``: the Digital Link of one item; DigitalLinkError when invalid."""
    return DigitalLink(gtin=gtin, lot=lot, serial=serial).uri(base_url)


def parse_path(raw_path: str) -> DigitalLink:
    """The identifiers of a still percent-encoded path such as ``/01/{gtin}/10/{lot}``.

    One trailing ``/`` is tolerated (GS1 resolver standard); an empty segment
    inside the path (``//``) is not. Raises DigitalLinkError with reason
    ``gtin``, ``order``, ``value``, ``empty`` or ``encoding`` (see DigitalLinkError).
    """
    path = raw_path.removesuffix("/") if raw_path.endswith("/") and len(raw_path) > 1 else raw_path
    segments = path.removeprefix("/").split("/")
    # Percent-encoding normalises (GS1 Digital Link 1.6): ``%30%31`` is ``01``, an AI too.
    if not segments or _decode(segments[0]) != "01":
        raise DigitalLinkError("order", raw_path)
    if len(segments) < 2 or not segments[1]:
        raise DigitalLinkError("gtin", "")
    gtin = _decode(segments[1])
    if not _is_gtin(gtin):
        raise DigitalLinkError("gtin", gtin)
    rest = segments[2:]
    if len(rest) % 2 or "" in rest[::2]:
        raise DigitalLinkError("empty", raw_path)
    pairs = [
        (_decode(raw_ai), _decode(raw_value)) for raw_ai, raw_value in zip(rest[::2], rest[1::2], strict=True)
    ]
    if any(ai == TPX for ai, _value in pairs):
        if len(pairs) != 1:
            raise DigitalLinkError("order", TPX)  # 235 stands alone after the GTIN
        _check_value(TPX, pairs[0][1])
        return DigitalLink(gtin=gtin, tpx=pairs[0][1])
    values: dict[str, str] = {}
    last_position = -1
    for ai, value in pairs:
        if ai not in QUALIFIER_ORDER or QUALIFIER_ORDER.index(ai) <= last_position:
            raise DigitalLinkError("order", ai)
        last_position = QUALIFIER_ORDER.index(ai)
        _check_value(ai, value)
        values[ai] = value
    return DigitalLink(gtin=gtin, variant=values.get("22"), lot=values.get("10"), serial=values.get("21"))


def gs1_date(text: str, today: date | None = None) -> date:
    """The date of a GS1 ``YYMMDD`` value; ValueError when it is not one.

    The century follows the GS1 General Specifications (7.12): the year is
    within 49 years before and 50 years after ``today``. Day ``00`` means the
    last day of the month.
    """
    if not (len(text) == 6 and text.isascii() and text.isdigit()):
        raise ValueError(text)
    yy, month, day = int(text[:2]), int(text[2:4]), int(text[4:])
    current = (today or date.today()).year
    difference = yy - current % 100
    century = current // 100 + (1 if difference < -49 else -1 if difference > 50 else 0)
    year = century * 100 + yy
    if not 1 <= month <= 12:
        raise ValueError(text)
    if day == 0:
        day = calendar.monthrange(year, month)[1]
    return date(year, month, day)  # ValueError for 31 April and the like


def parse_query(query: str, *, today: date | None = None) -> dict[str, str]:
    """The GS1 data attributes of a Digital Link's query string, each validated; DigitalLinkError when one is not.

    A key of digits is an Application Identifier: it must be a data attribute
    of a GTIN (``DATA_ATTRIBUTES``: not a key or key qualifier, which belong
    in the path), appear once and hold a value of its format; a date a real
    date. Other keys (``linkType``, ``context``, ...) are not GS1's and pass.
    """
    if BAD_PERCENT.search(query):
        raise DigitalLinkError("encoding", query)
    attributes: dict[str, str] = {}
    try:
        pairs = parse_qsl(query, keep_blank_values=True, errors="strict")
    except UnicodeDecodeError as error:
        raise DigitalLinkError("encoding", query) from error
    for key, value in pairs:
        if not (key.isascii() and key.isdigit()):
            continue  # linkType, context and other resolver parameters
        reason = "date" if DATE_AIS.fullmatch(key) else "attribute"
        if key in attributes or not any(
            ai.fullmatch(key) and pattern.fullmatch(value) for ai, pattern in DATA_ATTRIBUTES
        ):
            raise DigitalLinkError(reason, key)
        if reason == "date":
            try:
                gs1_date(value[:6], today)
            except ValueError as error:
                raise DigitalLinkError("date", key) from error
        attributes[key] = value
    return attributes


def parse_uri(uri: str, *, today: date | None = None) -> DigitalLink:
    """The identifiers and date attributes of a full Digital Link URI, on any domain.

    A path prefix before ``/01/`` is allowed (``https://brand.example/p/01/...``);
    the path is parsed strictly by ``parse_path``, the query by ``parse_query``
    (``11`` and ``17`` are kept as dates). Raises DigitalLinkError.
    """
    parts = urlsplit(uri.strip())
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        raise DigitalLinkError("uri", uri)
    segments = parts.path.split("/")
    if "01" not in segments:
        raise DigitalLinkError("order", parts.path)
    link = parse_path("/" + "/".join(segments[segments.index("01") :]))
    attributes = parse_query(parts.query, today=today)
    dates = {key: gs1_date(attributes[key], today) for key in DATE_ATTRIBUTES if key in attributes}
    return DigitalLink(
        gtin=link.gtin,
        variant=link.variant,
        lot=link.lot,
        serial=link.serial,
        tpx=link.tpx,
        production_date=dates.get("11"),
        expiry_date=dates.get("17"),
    )


def canonical_uri(uri: str, *, today: date | None = None) -> str:
    """The canonical form of a Digital Link URI given on any domain; DigitalLinkError when malformed."""
    return parse_uri(uri, today=today).canonical_uri()
