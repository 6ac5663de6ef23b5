"""GS1 identifiers and Digital Link URIs: pure Python, no Flask, no database."""

from traceability.gs1.digital_link import DigitalLink, DigitalLinkError, batch_uri, item_uri, parse_path
from traceability.gs1.identifiers import (
    AI_VALUE_PATTERN,
    gtin_check_digit,
    is_valid_ai_value,
    is_valid_gln,
    is_valid_gtin,
    normalise_gtin,
)

__all__ = [
    "AI_VALUE_PATTERN",
    "DigitalLink",
    "DigitalLinkError",
    "batch_uri",
    "gtin_check_digit",
    "is_valid_ai_value",
    "is_valid_gln",
    "is_valid_gtin",
    "item_uri",
    "normalise_gtin",
    "parse_path",
]
