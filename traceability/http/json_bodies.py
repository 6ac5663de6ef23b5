"""JSON request bodies of any shape answer 4xx, never a server error.

Python's JSON decoder recurses once per level: ``[`` × 400 then ``]`` × 400
(801 bytes) decodes, but everything that walks the value afterwards (the NUL
check, marshmallow, the EPCIS schema) recurses as deep again and runs out of
stack, and a few thousand levels make the decoder itself raise
``RecursionError``, which is no ``ValueError``: Flask let it through as a 500.

The app's JSON provider refuses both before any code sees the value: the
decoder's ``RecursionError`` and any value nested deeper than
``MAX_JSON_DEPTH`` become ``JSONTooDeep``, a ``ValueError``, so
``request.get_json`` fails as it does for malformed JSON (``None`` when
silent, 400 otherwise). ``refuse_too_deep`` (run by ``input_guard`` before
any view) answers such a body 400 with the reason, in the error shape on
the API. No document the registry reads comes near the bound: an EPCIS 2.0
document with extensions is about ten levels deep.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from flask import Flask, abort, request
from flask.json.provider import DefaultJSONProvider
from flask_babel import gettext as _

MAX_JSON_DEPTH = 32


class JSONTooDeep(ValueError):
    """A JSON text nested deeper than ``MAX_JSON_DEPTH`` levels."""


def json_depth(value: Any) -> int:
    """How many arrays and objects deep ``value`` is (0 for a string or number), without recursion."""
    deepest = 0
    pending = [(value, 1)]
    while pending:
        item, depth = pending.pop()
        children: Iterable[Any]
        if isinstance(item, dict):
            children = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        deepest = max(deepest, depth)
        if depth > MAX_JSON_DEPTH:
            break  # already refused: don't walk the rest
        pending.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return deepest


class JSONNotText(ValueError):
    """A JSON string holding a lone surrogate (``"\\ud800"``): valid JSON, but no text a column can hold."""


def loads_bounded(text: str | bytes, **kwargs: Any) -> Any:
    """``json.loads``, refusing too deep a value (``JSONTooDeep``) and lone surrogates (``JSONNotText``)."""
    try:
        value = json.loads(text, **kwargs)
    except RecursionError as error:
        raise JSONTooDeep(str(error)) from None
    if json_depth(value) > MAX_JSON_DEPTH:
        raise JSONTooDeep(f"nested deeper than {MAX_JSON_DEPTH} levels")
    if isinstance(text, bytes | bytearray) and b"\\u" not in text:
        return value  # no escape, and the decoder checked the UTF-8: no surrogate
    try:
        json.dumps(value, ensure_ascii=False).encode()
    except UnicodeEncodeError as error:  # a surrogate would fail later, writing it to the database
        raise JSONNotText(str(error)) from None
    return value


class BoundedJSONProvider(DefaultJSONProvider):
    """Flask's JSON provider, whose ``loads`` refuses values nested too deeply (``JSONTooDeep``)."""

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        return loads_bounded(s, **kwargs)


def init_app(app: Flask) -> None:
    """Parse request bodies with the bounded provider (``app.json``)."""
    app.json_provider_class = BoundedJSONProvider
    app.json = BoundedJSONProvider(app)


def refuse_unreadable_json() -> None:
    """Answer 400 to a JSON body nested too deeply or holding a lone surrogate.

    Any other body goes on to the view, parsed once and cached; a malformed
    one is parsed again here, only to tell why, and the view says what it expects.
    """
    if not request.is_json or request.get_json(silent=True) is not None:
        return
    try:
        loads_bounded(request.get_data(cache=True))
    except JSONTooDeep:
        abort(
            400,
            _("The JSON body is nested too deeply: at most %(depth)d levels.", depth=MAX_JSON_DEPTH),
        )
    except JSONNotText:
        abort(
            400, _("The JSON body holds an escaped character that is not text (a lone \\ud800 to \\udfff).")
        )
    except ValueError:
        return
