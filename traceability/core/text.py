"""Text folding for search that ignores Vietnamese diacritics and case, and amounts in đồng."""

from __future__ import annotations

import re
import unicodedata
from typing import Any

# Digits, optionally grouped by dots, commas or spaces as people write amounts: 1.500.000.000.
# [0-9], not \d, which takes other scripts' digits; at most 39 digits, far more than
# any amount needs, so int() never meets the thousands of digits it refuses.
AMOUNT_PATTERN = re.compile(r"[0-9]{1,3}([., ]?[0-9]{3}){0,12}")


def fold(text: str | None) -> str:
    """Lower case without diacritics: "Cà phê Đắk Lắk" → "ca phe dak lak".

    Stored beside the searchable columns, so the same plain ``LIKE`` finds
    "ca phe" in "Cà phê" on SQLite and PostgreSQL alike (neither folds
    Vietnamese by itself without extensions).
    """
    if not text:
        return ""
    text = text.replace("đ", "d").replace("Đ", "D")
    decomposed = unicodedata.normalize("NFD", text)
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(stripped.lower().split())


def like_pattern(query: str) -> str:
    """A ``LIKE`` pattern for the folded query, with ``%`` and ``_`` taken literally (escape ``\\``)."""
    folded = fold(query).replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{folded}%"


def parse_vnd(value: Any) -> int | None:
    """An amount in đồng from an int or text such as ``1.500.000.000``; None when it is not one."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    text = str(value or "").strip().removesuffix("đ").removesuffix("VND").strip()
    if not AMOUNT_PATTERN.fullmatch(text):
        return None
    return int(re.sub(r"[^0-9]", "", text))
