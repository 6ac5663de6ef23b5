"""GS1 identifiers and Digital Link URIs: pure Python, no Flask, no database."""

from traceability.gs1.digital_link import (
    CANONICAL_DOMAIN,
    DigitalLink,
    DigitalLinkError,
    batch_uri,
    canonical_uri,
    gs1_date,
    item_uri,
    parse_path,
    parse_uri,
)
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
    "CANONICAL_DOMAIN",
    "DigitalLink",
    "DigitalLinkError",
    "batch_uri",
    "canonical_uri",
    "gs1_date",
    "gtin_check_digit",
    "is_valid_ai_value",
    "is_valid_gln",
    "is_valid_gtin",
    "item_uri",
    "normalise_gtin",
    "parse_path",
    "parse_uri",
]
