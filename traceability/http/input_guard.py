"""Refuse NUL characters in the text a request carries, before any view reads it.

No field of the registry takes a NUL (U+0000), and PostgreSQL refuses one in
a text value with an error where SQLite stores it: a NUL in a path, a search
box, a form field or a JSON string would be a 500 on one database and pass
on the other. One check at the request boundary answers 400 on both.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, abort, request
from flask_babel import gettext as _
from werkzeug.datastructures import MultiDict

from traceability.http import json_bodies

NUL = "\x00"


def contains_nul(value: Any) -> bool:
    """Whether a string, or any key or string inside a JSON-like value, holds a NUL."""
    if isinstance(value, str):
        return NUL in value
    if isinstance(value, dict):
        return any(contains_nul(key) or contains_nul(item) for key, item in value.items())
    if isinstance(value, list):
        return any(contains_nul(item) for item in value)
    return False


def _in_fields(fields: MultiDict) -> bool:
    return any(NUL in key or NUL in value for key, value in fields.items(multi=True))


def init_app(app: Flask) -> None:
    """Answer 400 to a request with a NUL in its path, query string, form fields or JSON body, or unreadable JSON."""
    json_bodies.init_app(app)

    @app.before_request
    def refuse_nul_characters() -> None:
        json_bodies.refuse_unreadable_json()  # first: the NUL check walks the body
        if (
            NUL in request.path
            or _in_fields(request.args)
            or (request.method in ("POST", "PUT", "PATCH") and _in_fields(request.form))
            or (request.is_json and contains_nul(request.get_json(silent=True)))
        ):
            abort(400, _("The request contains a NUL character (\\0), which no field accepts."))
