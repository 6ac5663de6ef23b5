"""Building GS1 Digital Link URIs (URI syntax 1.6)."""

from __future__ import annotations

from urllib.parse import quote


def _segment(value: str) -> str:
    # Every character outside the unreserved set is percent-encoded.
    return quote(value, safe="-._~")


def batch_uri(base_url: str, gtin14: str, lot: str) -> str:
    """``{base}/01/{gtin14}/10/{lot}``: the Digital Link of a lot."""
    return f"{base_url.rstrip('/')}/01/{gtin14}/10/{_segment(lot)}"


def item_uri(base_url: str, gtin14: str, lot: str, serial: str) -> str:
    """``{base}/01/{gtin14}/10/{lot}/21/{serial}``: the Digital Link of one item."""
    return f"{batch_uri(base_url, gtin14, lot)}/21/{_segment(serial)}"
