"""The base of every web form: CSRF from Flask-WTF, messages in the user's language, the API's contract.

A form whose operation has an API too is a ``SchemaForm``: after WTForms'
own checks (the CSRF token, turning text into dates and numbers, required
fields) it loads its data through the API's schema of the same operation and
shows that schema's refusals on its fields, so the web and the API refuse the
same values with the same words. Its fields' lengths come from the model
columns (``text_validators(Product.gtin)``), as the schema's do, and render
as the inputs' ``maxlength``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from flask_wtf import FlaskForm
from marshmallow import EXCLUDE, Schema, ValidationError
from wtforms import Field, FieldList, FormField, validators
from wtforms.validators import DataRequired
from wtforms.validators import Optional as OptionalValidator

from traceability.core.contracts import column_length, length_message, range_message
from traceability.http.i18n import FormTranslations, translate_messages

_translations = FormTranslations()


class Form(FlaskForm):
    """A Flask-WTF form whose built-in WTForms messages come from our catalog."""

    class Meta:
        def get_translations(self, form: Any) -> FormTranslations:
            return _translations


class Length(validators.Length):
    """WTForms' Length worded as the API's (``core.contracts.length_message``); renders ``maxlength``."""

    def __call__(self, form: Any, field: Field) -> None:
        length = len(field.data) if field.data else 0
        if length >= self.min and (self.max == -1 or length <= self.max):
            return
        raise validators.ValidationError(
            length_message(self.min if self.min != -1 else None, self.max if self.max != -1 else None)
        )


class NumberRange(validators.NumberRange):
    """WTForms' NumberRange worded as the API's Range (``core.contracts.range_message``, or the ``message``
    the schema's Range gives too); renders ``min`` and ``max``."""

    def __call__(self, form: Any, field: Field) -> None:
        try:
            super().__call__(form, field)
        except validators.ValidationError:
            message = str(self.message) if self.message else range_message(self.min, self.max)
            raise validators.ValidationError(message) from None


def text_validators(limit: Any, *, required: bool = False, min_length: int | None = None) -> list[Any]:
    """A text field's validators: required or optional, at most ``limit`` characters.

    ``limit`` is a column (``Product.name``: its length) or a named constant for
    a Text column. As the API's ``core.contracts.text``, a required field needs
    one character unless ``min_length`` says otherwise (0: the web form requires
    what the API's schema leaves to the service).
    """
    maximum = limit if isinstance(limit, int) else column_length(limit)
    minimum = 1 if required and min_length is None else (min_length or -1)
    length = Length(min=minimum, max=maximum)
    return [DataRequired(), length] if required else [OptionalValidator(), length]


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and value == "")


def without_blanks(data: Mapping[str, Any]) -> dict[str, Any]:
    """``data`` without its empty values, in nested objects too: what a form left empty is not sent."""
    return {
        key: without_blanks(value) if isinstance(value, Mapping) else value
        for key, value in data.items()
        if not _blank(value)
    }


class SchemaForm(Form):
    """A web form validated by the API's schema of the same operation, on top of WTForms' checks.

    ``schema`` is that schema; ``schema_only`` names the fields of it this
    form has when it has not all of them, ``schema_exclude`` those it has
    not, and ``schema_partial`` loads it without (some of) its required
    fields, which the form or its view checks. ``schema_names`` maps a form
    field to the schema's name for it (``{"street": "address"}``).
    ``schema_input`` is the form's data as the API's body; ``schema_field``
    the form field a refusal belongs to, where it is shown; one WTForms
    refused already is not told twice (for a limit, in the same words), and
    one that belongs to no field is shown above the form.
    """

    schema: ClassVar[type[Schema] | None] = None
    schema_only: ClassVar[tuple[str, ...] | None] = None
    schema_exclude: ClassVar[tuple[str, ...]] = ()
    schema_partial: ClassVar[bool | tuple[str, ...]] = False
    schema_names: ClassVar[dict[str, str]] = {}

    @classmethod
    def contract(cls) -> Schema:
        """The schema the form's data loads through."""
        assert cls.schema is not None
        return cls.schema(
            only=cls.schema_only, exclude=cls.schema_exclude, partial=cls.schema_partial, unknown=EXCLUDE
        )

    @classmethod
    def schema_keys(cls) -> set[str]:
        """The names the schema loads (its fields' data keys)."""
        return {field.data_key or name for name, field in cls.contract().load_fields.items()}

    def schema_input(self) -> dict[str, Any]:
        """The form's data as the API's body of the same operation; empty fields are left out."""
        keys = self.schema_keys()
        data = {}
        for field in self:
            key = self.schema_names.get(field.short_name, field.short_name)
            if key in keys:
                data[key] = field.data
        return without_blanks(data)

    def schema_field(self, path: tuple[Any, ...]) -> Field | None:
        """The form field a refusal of the schema at ``path`` (``("ocop", "stars")``) belongs to."""
        names = {schema_name: form_name for form_name, schema_name in self.schema_names.items()}
        target: Any = self._fields.get(names.get(path[0], path[0]))
        for part in path[1:]:
            if isinstance(target, FormField) and part in target.form._fields:
                target = target.form._fields[part]
            elif isinstance(target, FieldList) and isinstance(part, int) and part < len(target.entries):
                target = target.entries[part]
            else:
                break
        return target

    def validate(self, extra_validators: Mapping[str, Any] | None = None) -> bool:
        valid = super().validate(extra_validators)
        if self.schema is None:
            return valid
        try:
            self.contract().load(self.schema_input())
        except ValidationError as error:
            self._show_refusals(translate_messages(error.messages), ())
            return False
        return valid

    def _show_refusals(self, messages: Any, path: tuple[Any, ...]) -> None:
        if isinstance(messages, Mapping):
            for key, value in messages.items():
                self._show_refusals(value, (*path, key))
            return
        texts = [str(message) for message in (messages if isinstance(messages, list | tuple) else [messages])]
        field = self.schema_field(path) if path and path[0] != "_schema" else None
        if field is None or isinstance(field, FormField | FieldList):
            self.form_errors.extend(text for text in texts if text not in self.form_errors)
        elif not field.errors:  # WTForms refused it already, with the same words for a limit
            field.errors = list(texts)
