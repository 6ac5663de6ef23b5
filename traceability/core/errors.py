"""Errors raised by services and shown to users by the web and API layers."""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """A refusal the user can act on; ``message`` and ``fields`` are translatable."""

    status = 422
    code = "invalid"

    def __init__(self, message: Any, fields: dict[str, Any] | None = None) -> None:
        super().__init__(str(message))
        self.message = message
        self.fields = fields or {}


class InvalidInput(DomainError):
    """The input breaks a rule; ``fields`` says which field and why."""


class BadRequest(DomainError):
    """The input is not what the operation takes (a query's answer sent to capture, say); 400."""

    status = 400
    code = "bad_request"


class Conflict(DomainError):
    """The input clashes with what is stored (a duplicate lot code, say)."""

    status = 409
    code = "conflict"


class Forbidden(DomainError):
    """The user's role or tenant does not allow this."""

    status = 403
    code = "forbidden"


class TooManyAttempts(DomainError):
    """Too many failed attempts in a short time; ``retry_after`` says how many seconds to wait."""

    status = 429
    code = "too_many_requests"

    def __init__(self, message: Any, *, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after
