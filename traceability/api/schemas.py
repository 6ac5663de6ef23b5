"""Schemas shared by the API modules: quantities, tokens, pagination."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from flask_babel import gettext as _
from marshmallow import Schema, ValidationError, fields

from traceability.api.validators import Length, Range
from traceability.core.database import MAX_ID

#: The last page a list answers; a bigger one would overflow the SQL OFFSET.
MAX_PAGE = 1_000_000


class QuantityField(fields.Decimal):
    """A quantity: a JSON number or numeric string in, a JSON number out."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(places=None, allow_nan=False, **kwargs)

    # A JSON number out, where marshmallow's Decimal field says a Decimal (or its string).
    def _serialize(self, value: Any, attr: Any, obj: Any, **kwargs: Any) -> float | None:  # type: ignore[override]
        return None if value is None else float(value)

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> Decimal:
        if isinstance(value, bool):
            raise ValidationError(_("Not a valid number."))
        return super()._deserialize(value, attr, data, **kwargs)


class IdField(fields.Integer):
    """A record's id in a body or query: from 1 to MAX_ID, so the database never sees a bigger number."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(validate=Range(1, MAX_ID), **kwargs)


class TokenRequestSchema(Schema):
    email = fields.String(required=True, validate=Length(max=254))
    password = fields.String(required=True, load_only=True, validate=Length(max=200))
    name = fields.String(validate=Length(max=100))


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
