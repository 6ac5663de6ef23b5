"""API v1: tokens and the OpenAPI document; the other operations live in their modules."""

from __future__ import annotations

from typing import Any

from flask import request
from flask_babel import gettext as _

from traceability.accounts.service import issue_token
from traceability.accounts.throttle import throttled_authenticate

# auth registers the token check; each other module declares its operations on import.
from traceability.api import (  # noqa: F401
    auth,
    batches,
    certifications,
    epcis,
    exports,
    gtin_disputes,
    inspections,
    labels,
    locations,
    producers,
    products,
    qr_codes,
    schemas,
)
from traceability.api.errors import error_response
from traceability.api.spec import build_spec, operation
from traceability.errors import TooManyAttempts


@operation(
    "/tokens",
    "POST",
    summary="Exchange email and password for a bearer token",
    tag="auth",
    body=schemas.TokenRequestSchema,
    response=schemas.TokenSchema,
    status=201,
    auth=False,
    errors=(401, 403, 429),
)
def create_token(data: dict[str, Any]):
    try:
        user = throttled_authenticate(data["email"], data["password"], address=request.remote_addr)
    except TooManyAttempts as error:
        response = error_response(429, error.message, code=error.code)
        response.headers["Retry-After"] = str(error.retry_after)
        return response
    if user is None:
        return error_response(401, _("Wrong email or password."))
    if user.must_change_password:
        return error_response(
            403, _("Your password was reset: sign in on the website and choose a new password first.")
        )
    token, api_token = issue_token(user, name=data.get("name", ""))
    return {"token": token, "expires_at": api_token.expires_at}


@operation("/openapi.json", "GET", summary="This OpenAPI document", tag="meta", auth=False, errors=())
def openapi():
    return build_spec(request.url_root.rstrip("/") + "/api/v1")
