"""The API's error body: ``{"error": {"code", "message", "fields"}}``."""

from __future__ import annotations

from typing import Any

from flask import Response, jsonify
from werkzeug.exceptions import HTTPException

from traceability.errors import DomainError

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


def _strings(fields: Any) -> Any:
    if isinstance(fields, dict):
        return {str(k): _strings(v) for k, v in fields.items()}
    if isinstance(fields, list | tuple):
        return [_strings(v) for v in fields]
    return str(fields)


def error_response(status: int, message: Any, *, code: str | None = None, fields: Any = None) -> Response:
    body = {
        "error": {
            "code": code or HTTP_CODES.get(status, "error"),
            "message": str(message),
            "fields": _strings(fields or {}),
        }
    }
    response = jsonify(body)
    response.status_code = status
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="api"'
    return response


def domain_error_response(error: DomainError) -> Response:
    return error_response(error.status, error.message, code=error.code, fields=error.fields)


def http_error_response(error: HTTPException) -> Response:
    response = error_response(error.code or 500, error.description or error.name)
    if error.code == 405 and error.valid_methods:
        response.headers["Allow"] = ", ".join(error.valid_methods)
    return response
