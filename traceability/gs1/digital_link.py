"""GS1 Digital Link URIs (URI syntax 1.6): building and strict parsing of the path.

Building percent-encodes every character outside ``[A-Za-z0-9-._~]``.
Parsing percent-decodes each segment, then validates it; an invalid value is
refused with a reason, never truncated or repaired.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote, unquote_to_bytes

from traceability.gs1.identifiers import GTIN_LENGTHS, is_valid_ai_value, is_valid_gtin

# The key qualifiers of a GTIN, in the only order the path may hold them.
QUALIFIER_ORDER = ("22", "10", "21")


class DigitalLinkError(ValueError):
    """A malformed Digital Link path; ``reason`` is a stable code the web layer translates."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail


@dataclass(frozen=True)
class DigitalLink:
    """The identifiers in a Digital Link path: GTIN (as given) and its qualifiers."""

    gtin: str
    variant: str | None = None
    lot: str | None = None
    serial: str | None = None

    @property
    def gtin14(self) -> str:
        return self.gtin.zfill(14)

    @property
    def is_canonical_gtin(self) -> bool:
        return len(self.gtin) == 14

    def path(self) -> str:
        """The canonical path: GTIN-14, qualifiers in order, each percent-encoded."""
        parts = ["", "01", self.gtin14]
        for ai, value in (("22", self.variant), ("10", self.lot), ("21", self.serial)):
            if value is not None:
                parts += [ai, _segment(value)]
        return "/".join(parts)


def _segment(value: str) -> str:
    return quote(value, safe="-._~")


def _decode(segment: str) -> str:
    try:
        return unquote_to_bytes(segment).decode("utf-8")
    except UnicodeDecodeError as error:
        raise DigitalLinkError("encoding", segment) from error


def batch_uri(base_url: str, gtin14: str, lot: str) -> str:
    """``{base}/01/{gtin14}/10/{lot}``: the Digital Link of a lot."""
    return base_url.rstrip("/") + DigitalLink(gtin=gtin14, lot=lot).path()


def item_uri(base_url: str, gtin14: str, lot: str, serial: str) -> str:
    """``{base}/01/{gtin14}/10/{lot}/21/{serial}``: the Digital Link of one item."""
    return base_url.rstrip("/") + DigitalLink(gtin=gtin14, lot=lot, serial=serial).path()


def parse_path(raw_path: str) -> DigitalLink:
    """The identifiers of a still percent-encoded path such as ``/01/{gtin}/10/{lot}``.

    Raises DigitalLinkError with reason ``gtin`` (not a GTIN or a wrong check
    digit), ``order`` (a qualifier out of order, repeated or unknown),
    ``value`` (a lot, serial or variant outside GS1 set 82 or longer than 20),
    ``empty`` (a missing value) or ``encoding`` (bad percent-encoding).
    """
    segments = raw_path.strip("/").split("/")
    if len(segments) < 2 or segments[0] != "01":
        raise DigitalLinkError("order", raw_path)
    gtin = _decode(segments[1])
    if not (gtin.isascii() and gtin.isdigit() and len(gtin) in GTIN_LENGTHS and is_valid_gtin(gtin)):
        raise DigitalLinkError("gtin", gtin)
    rest = segments[2:]
    if len(rest) % 2:
        raise DigitalLinkError("empty", raw_path)
    values: dict[str, str] = {}
    last_position = -1
    for ai, raw_value in zip(rest[::2], rest[1::2], strict=True):
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
