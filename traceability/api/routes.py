"""API v1: tokens and the OpenAPI document; the other operations live in their modules."""

from __future__ import annotations

from typing import Any

from flask import abort, request
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from traceability.accounts.service import can_manage_tokens, issue_token, revoke_token
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
    notifications,
    producers,
    products,
    qr_codes,
    schemas,
)
from traceability.api.errors import error_response
from traceability.api.spec import build_spec, operation, paginate
from traceability.core.errors import TooManyAttempts
from traceability.core.extensions import db
from traceability.models.accounts import ApiToken


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


@operation(
    "/tokens",
    "GET",
    summary="The caller's own API tokens, newest first (never their secrets)",
    tag="auth",
    query=schemas.PageQuerySchema,
    response=schemas.ApiTokenSchema,
    paginated=True,
    errors=(401,),
)
def list_tokens(args: dict[str, Any]):
    query = (
        select(ApiToken)
        .where(ApiToken.user_id == current_user.id)
        .order_by(ApiToken.created_at.desc(), ApiToken.id.desc())
    )
    return paginate(query, args)


@operation(
    "/tokens/<int:token_id>",
    "DELETE",
    summary="Revoke an API token: one's own, or one of a user the caller manages",
    tag="auth",
    response=schemas.ApiTokenSchema,
    errors=(401, 404),
)
def delete_token(token_id: int):
    api_token = db.session.get(ApiToken, token_id)
    # Another user's token the caller may not manage is as unknown as a missing one.
    if api_token is None or not can_manage_tokens(current_user, api_token.user):
        abort(404)
    return revoke_token(api_token, actor=current_user)


@operation("/openapi.json", "GET", summary="This OpenAPI document", tag="meta", auth=False, errors=())
def openapi():
    return build_spec(request.url_root.rstrip("/") + "/api/v1")
