"""Text folding for search that ignores Vietnamese diacritics and case."""

from __future__ import annotations

import unicodedata


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
