"""The input contract of an operation: its limits, taken from the model columns, and their messages.

Each write operation has one marshmallow schema (in its feature's ``contracts.py``):
the API loads its JSON body with it, and the web form of the same operation
validates its data with it too (``traceability.http.forms.SchemaForm``). The
lengths in both come from the columns through ``column_length``, never from a
literal, and the web form's own validators (``http.forms.Length`` and
``NumberRange``) word their refusals with the same functions as the schema's
(``length_message``, ``range_message``), so a value the API refuses the web
form refuses with the same words, in the user's language.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from flask_babel import gettext as _
from marshmallow import ValidationError, fields, validate
from sqlalchemy import Column, inspect
from sqlalchemy.orm import ColumnProperty

from traceability.core.database import MAX_ID

#: The words a list is searched for (``?q=``), on the web and in the API.
MAX_SEARCH_LENGTH = 100


def _column(attribute: Any) -> Column[Any]:
    """The table column behind a mapped attribute (``Product.gtin``) or a column itself."""
    if isinstance(attribute, Column):
        return attribute
    prop = getattr(attribute, "property", None)
    if not isinstance(prop, ColumnProperty) or len(prop.columns) != 1:
        raise TypeError(f"{attribute!r} is not a mapped column")
    column = prop.columns[0]
    if not isinstance(column, Column):
        raise TypeError(f"{attribute!r} is not a table column")
    return column


def column_length(attribute: Any) -> int:
    """The most characters the column of ``attribute`` holds (``String(14)`` gives 14)."""
    length = getattr(_column(attribute).type, "length", None)
    if not isinstance(length, int):
        raise TypeError(f"{attribute!r} has no length: give its limit as a named constant")
    return length


def column_nullable(attribute: Any) -> bool:
    """Whether the column of ``attribute`` takes NULL."""
    return bool(_column(attribute).nullable)


def column_required(attribute: Any) -> bool:
    """Whether a new row needs a value for ``attribute``: NOT NULL, no default, not generated."""
    column = _column(attribute)
    return not (
        column.nullable
        or column.primary_key
        or column.default is not None
        or column.server_default is not None
    )


def model_columns(model: type) -> dict[str, Column[Any]]:
    """A model's columns by attribute name (``street`` of an address, not its column's name)."""
    attributes: Any = inspect(model).column_attrs
    return {prop.key: _column(getattr(model, prop.key)) for prop in attributes}


def length_message(min: int | None, max: int | None, equal: int | None = None) -> str:
    """What is wrong with a text of the wrong length, the same words on the web and in the API."""
    if equal is not None:
        return _("Length must be %(n)s.", n=equal)
    if min is not None and max is not None:
        return _("Length must be between %(min)s and %(max)s.", min=min, max=max)
    if max is not None:
        return _("Longer than maximum length %(max)s.", max=max)
    return _("Shorter than minimum length %(min)s.", min=min)


def range_message(min: Any, max: Any) -> str:
    """What is wrong with a number out of range, the same words on the web and in the API."""
    if min is not None and max is not None:
        return _("Must be between %(min)s and %(max)s.", min=min, max=max)
    if min is not None:
        return _("Must be at least %(min)s.", min=min)
    return _("Must be at most %(max)s.", max=max)


class Length(validate.Length):
    """marshmallow's Length, saying what is wrong in the user's language."""

    def _format_error(self, value: Any, message: str) -> str:
        return length_message(self.min, self.max, self.equal)


class Range(validate.Range):
    """marshmallow's Range, saying what is wrong in the user's language (or with ``error`` when given)."""

    def _format_error(self, value: Any, message: str) -> str:
        if self.error:
            return str(self.error)
        return range_message(self.min, self.max)


class OneOf(validate.OneOf):
    def _format_error(self, value: Any) -> str:
        return _("Must be one of: %(choices)s.", choices=self.choices_text)


def text(
    limit: Any,
    *,
    required: bool = False,
    allow_none: bool | None = None,
    min_length: int | None = None,
    **kwargs: Any,
) -> fields.String:
    """A text field of at most ``limit`` characters: a column (``Product.name``) or a named constant.

    A required one needs at least one character unless ``min_length`` says
    otherwise (0: an empty text is the service's to refuse). ``allow_none``
    follows the column's nullability unless given.
    """
    if isinstance(limit, int):
        maximum, nullable = limit, False
    else:
        maximum, nullable = column_length(limit), column_nullable(limit)
    return fields.String(
        required=required,
        allow_none=nullable if allow_none is None else allow_none,
        validate=Length(min=_min_length(required, min_length), max=maximum),
        **kwargs,
    )


def when_missing(message: Any) -> dict[str, str | list[Any] | dict[Any, Any]]:
    """A field's ``error_messages`` saying ``message`` when it is left out or null.

    In a list: marshmallow formats a plain string at once, while a lazy one is
    translated into the user's language when the refusal is shown.
    """
    return {"required": [message], "null": [message]}


def _min_length(required: bool, min_length: int | None) -> int | None:
    if min_length is None:
        return 1 if required else None
    return min_length or None


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
