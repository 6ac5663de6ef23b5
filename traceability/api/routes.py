"""API v1: tokens and the OpenAPI document; the other operations live in their modules."""

from __future__ import annotations

from typing import Any

from flask import request
from flask_babel import gettext as _

from traceability.accounts.service import authenticate, issue_token

# auth registers the token check; each other module declares its operations on import.
from traceability.api import (  # noqa: F401
    auth,
    batches,
    certifications,
    epcis,
    exports,
    locations,
    producers,
    products,
    schemas,
)
from traceability.api.errors import error_response
from traceability.api.spec import build_spec, operation


@operation(
    "/tokens",
    "POST",
    summary="Exchange email and password for a bearer token",
    tag="auth",
    body=schemas.TokenRequestSchema,
    response=schemas.TokenSchema,
    status=201,
    auth=False,
    errors=(401,),
)
def create_token(data: dict[str, Any]):
    user = authenticate(data["email"], data["password"])
    if user is None:
        return error_response(401, _("Wrong email or password."))
    token, api_token = issue_token(user, name=data.get("name", ""))
    return {"token": token, "expires_at": api_token.expires_at}


@operation("/openapi.json", "GET", summary="This OpenAPI document", tag="meta", auth=False, errors=())
def openapi():
    return build_spec(request.url_root.rstrip("/") + "/api/v1")
