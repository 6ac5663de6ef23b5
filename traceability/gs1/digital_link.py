"""GS1 Digital Link URIs (URI syntax 1.6): building, strict parsing and the canonical form.

Building percent-encodes every character outside ``[A-Za-z0-9-._~]`` and
refuses a value it could not encode faithfully (a GTIN with a wrong check
digit, a lot or serial outside GS1 set 82 or longer than 20 characters).
Parsing percent-decodes each segment, then validates it; an invalid value is
refused with a reason, never truncated or repaired.

Dates are data attributes: they go in the query (``?17=YYMMDD`` expiry,
``11=`` production), never in the path. Query parameters that are not such
attributes (``linkType`` and the like) are the resolver's, not part of the
identifiers, and are ignored here.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date
from urllib.parse import parse_qsl, quote, unquote_to_bytes, urlsplit

from traceability.gs1.identifiers import GTIN_LENGTHS, is_valid_ai_value, is_valid_gtin

#: The domain of the canonical form of every Digital Link URI.
CANONICAL_DOMAIN = "https://id.gs1.org"
# The key qualifiers of a GTIN, in the only order the path may hold them.
QUALIFIER_ORDER = ("22", "10", "21")
# The date attributes this registry reads and writes, in the canonical (ascending AI) order.
DATE_ATTRIBUTES = ("11", "17")  # production date, expiry date


class DigitalLinkError(ValueError):
    """A malformed Digital Link; ``reason`` is a stable code the web layer translates.

    Reasons: ``gtin`` (not 8, 12, 13 or 14 digits, or a wrong check digit),
    ``order`` (not /01/ first, a qualifier out of order, repeated or unknown),
    ``value`` (a lot, serial or variant outside GS1 set 82 or longer than 20),
    ``empty`` (a missing value), ``encoding`` (bad percent-encoding),
    ``date`` (a date attribute that is not a valid YYMMDD or is repeated),
    ``uri`` (not an http or https URI).
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
        values = (("22", self.variant), ("10", self.lot), ("21", self.serial))
        return [(ai, value) for ai, value in values if value is not None]

    def validate(self) -> DigitalLink:
        """This link when every identifier is valid; DigitalLinkError with the reason otherwise."""
        if not _is_gtin(self.gtin):
            raise DigitalLinkError("gtin", self.gtin)
        for ai, value in self.qualifiers():
            if not value:
                raise DigitalLinkError("empty", ai)
            if not is_valid_ai_value(value):
                raise DigitalLinkError("value", ai)
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


def _decode(segment: str) -> str:
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

    Raises DigitalLinkError with reason ``gtin``, ``order``, ``value``,
    ``empty`` or ``encoding`` (see DigitalLinkError).
    """
    segments = raw_path.strip("/").split("/")
    # Percent-encoding normalises (GS1 Digital Link 1.6): ``%30%31`` is ``01``, an AI too.
    if len(segments) < 2 or _decode(segments[0]) != "01":
        raise DigitalLinkError("order", raw_path)
    gtin = _decode(segments[1])
    if not _is_gtin(gtin):
        raise DigitalLinkError("gtin", gtin)
    rest = segments[2:]
    if len(rest) % 2:
        raise DigitalLinkError("empty", raw_path)
    values: dict[str, str] = {}
    last_position = -1
    for raw_ai, raw_value in zip(rest[::2], rest[1::2], strict=True):
        ai = _decode(raw_ai)
        if ai not in QUALIFIER_ORDER or QUALIFIER_ORDER.index(ai) <= last_position:
            raise DigitalLinkError("order", ai)
        last_position = QUALIFIER_ORDER.index(ai)
        value = _decode(raw_value)
        if not value:
            raise DigitalLinkError("empty", ai)
        if not is_valid_ai_value(value):
            raise DigitalLinkError("value", ai)
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


def parse_uri(uri: str, *, today: date | None = None) -> DigitalLink:
    """The identifiers and date attributes of a full Digital Link URI, on any domain.

    A path prefix before ``/01/`` is allowed (``https://brand.example/p/01/...``);
    the path is parsed strictly by ``parse_path``; ``11`` and ``17`` in the
    query must be valid ``YYMMDD`` dates and appear once. Raises DigitalLinkError.
    """
    parts = urlsplit(uri.strip())
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        raise DigitalLinkError("uri", uri)
    segments = parts.path.split("/")
    if "01" not in segments:
        raise DigitalLinkError("order", parts.path)
    link = parse_path("/".join(segments[segments.index("01") :]))
    dates: dict[str, date] = {}
    for key, value in parse_qsl(parts.query, keep_blank_values=True):
        if key not in DATE_ATTRIBUTES:
            continue  # linkType, context and other resolver parameters
        if key in dates:
            raise DigitalLinkError("date", key)
        try:
            dates[key] = gs1_date(value, today)
        except ValueError as error:
            raise DigitalLinkError("date", key) from error
    return DigitalLink(
        gtin=link.gtin,
        variant=link.variant,
        lot=link.lot,
        serial=link.serial,
        production_date=dates.get("11"),
        expiry_date=dates.get("17"),
    )


def canonical_uri(uri: str, *, today: date | None = None) -> str:
    """The canonical form of a Digital Link URI given on any domain; DigitalLinkError when malformed."""
    return parse_uri(uri, today=today).canonical_uri()
