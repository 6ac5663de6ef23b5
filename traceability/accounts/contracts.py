"""The input contracts of the accounts: signing in for a session or an API token."""

from __future__ import annotations

from marshmallow import Schema

from traceability.accounts.passwords import MAX_PASSWORD_LENGTH
from traceability.core.contracts import text
from traceability.models.accounts import ApiToken, User


class TokenRequestSchema(Schema):
    """An email and a password: ``POST /api/v1/tokens`` and the sign-in form."""

    # An empty email or password is a wrong one (401), as any other.
    email = text(User.email, required=True, min_length=0)
    password = text(MAX_PASSWORD_LENGTH, required=True, min_length=0, load_only=True)
    name = text(ApiToken.name)
