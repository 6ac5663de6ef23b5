"""Schemas shared by the API modules: answers of tokens, pagination; ids, quantities and the token
request are input contracts (`traceability.core.contracts`, `traceability.accounts.contracts`)."""

from __future__ import annotations

from marshmallow import Schema, fields

from traceability.accounts.contracts import TokenRequestSchema
from traceability.core.contracts import IdField, QuantityField, Range

__all__ = [
    "MAX_PAGE",
    "ApiTokenSchema",
    "IdField",
    "PageQuerySchema",
    "QuantityField",
    "TokenRequestSchema",
    "TokenSchema",
]

#: The last page a list answers; a bigger one would overflow the SQL OFFSET.
MAX_PAGE = 1_000_000


class TokenSchema(Schema):
    token = fields.String(required=True)
    expires_at = fields.AwareDateTime()


class ApiTokenSchema(Schema):
    """One API token as its lists show it: never its secret."""

    id = fields.Integer(required=True)
    user_id = fields.Integer(required=True)
    name = fields.String(required=True)
    created_at = fields.AwareDateTime(required=True)
    expires_at = fields.AwareDateTime(required=True)
    last_used_at = fields.AwareDateTime(allow_none=True)
    revoked_at = fields.AwareDateTime(allow_none=True)
    state = fields.String(required=True, metadata={"enum": ["active", "revoked", "expired"]})


class PageQuerySchema(Schema):
    page = fields.Integer(load_default=1, validate=Range(1, MAX_PAGE))
    per_page = fields.Integer(load_default=20, validate=Range(1, 100))
