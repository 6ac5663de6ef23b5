"""Numbers in URLs: ``<int:...>`` path segments and ``?page=``-like query arguments."""

from __future__ import annotations

import re

from werkzeug.routing import IntegerConverter

from traceability.core.database import MAX_ID

QUERY_INT_PATTERN = re.compile(r"-?[0-9]{1,10}")


def digits_up_to(number: int) -> str:
    """A regex matching the decimal numbers from 0 to ``number`` (leading zeros up to its length)."""
    text = str(number)
    shorter = [rf"\d{{1,{len(text) - 1}}}"] if len(text) > 1 else []
    same_length = [
        rf"{text[:i]}[0-{int(digit) - 1}]\d{{{len(text) - i - 1}}}"
        for i, digit in enumerate(text)
        if digit != "0"
    ]
    return "(?:" + "|".join([*shorter, *same_length, text]) + ")"


class IdConverter(IntegerConverter):
    """``<int:...>`` from 0 to MAX_ID, the ids an INTEGER column holds on every database.

    A bigger number does not match the route at all, so it is a plain 404: it
    never reaches the database (PostgreSQL raises "integer out of range",
    SQLite cannot bind past 2**63 - 1) nor Python's int() (which refuses
    more than 4300 digits). Refusing it in the regex, not with a
    ValidationError after matching, keeps Werkzeug from answering 405 when
    the path has routes for other methods.
    """

    regex = digits_up_to(MAX_ID)


def query_int(value: str) -> int:
    """``type=`` for ``request.args.get``: a whole number the database can hold, else ValueError.

    ``request.args.get("page", 1, type=query_int)`` falls back to its default
    for ``?page=abc``, ``?page=²`` or ``?page=99999999999999999999`` alike,
    where ``type=int`` would pass the last one on to fail in SQL.
    """
    text = value.strip()
    if not QUERY_INT_PATTERN.fullmatch(text) or abs(int(text)) > MAX_ID:
        raise ValueError(f"not a whole number from -{MAX_ID} to {MAX_ID}")
    return int(text)
