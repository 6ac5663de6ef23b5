"""The API's error body: ``{"error": {"code", "message", "fields"}}``."""

from __future__ import annotations

from typing import Any

from flask import Response, jsonify
from flask_babel import lazy_gettext as _l
from werkzeug.exceptions import HTTPException, MethodNotAllowed

from traceability.core.errors import DomainError

HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "too_large",
    415: "unsupported_media_type",
    422: "invalid",
    429: "too_many_requests",
    500: "server_error",
}

# Werkzeug's own descriptions are English only; these replace them when a view
# aborts without saying why.
HTTP_MESSAGES = {
    400: _l("The request is malformed."),
    401: _l("Send a valid API token: Authorization: Bearer TOKEN."),
    403: _l("You are not allowed to do this."),
    404: _l("Not found, or outside the records you may see."),
    405: _l("This method is not allowed here."),
    413: _l("The request is too large."),
    415: _l("Unsupported media type: send JSON."),
    429: _l("Too many requests. Try again later."),
    500: _l("Internal server error."),
}


def _strings(fields: Any) -> Any:
    if isinstance(fields, dict):
        return {str(k): _strings(v) for k, v in fields.items()}
    if isinstance(fields, list | tuple):
        return [_strings(v) for v in fields]
    return str(fields)


def error_object(status: int, message: Any, *, code: str | None = None, fields: Any = None) -> dict[str, Any]:
    """The ``error`` object of an error body: its code, message and the fields that are wrong."""
    return {
        "code": code or HTTP_CODES.get(status, "error"),
        "message": str(message),
        "fields": _strings(fields or {}),
    }


def error_response(status: int, message: Any, *, code: str | None = None, fields: Any = None) -> Response:
    response = jsonify({"error": error_object(status, message, code=code, fields=fields)})
    response.status_code = status
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="api"'
    return response


def domain_error_response(error: DomainError) -> Response:
    return error_response(error.status, error.message, code=error.code, fields=error.fields)


def http_error_response(error: HTTPException) -> Response:
    description = error.description
    if not description or description == type(error).description:
        description = HTTP_MESSAGES.get(error.code or 500, error.name)
    response = error_response(error.code or 500, description)
    if isinstance(error, MethodNotAllowed) and error.valid_methods:
        response.headers["Allow"] = ", ".join(error.valid_methods)
    return response
