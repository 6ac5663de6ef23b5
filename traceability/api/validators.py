"""Marshmallow validators whose messages are translated at validation time."""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _
from marshmallow import validate


class Length(validate.Length):
    def _format_error(self, value: Any, message: str) -> str:
        if self.equal is not None:
            return _("Length must be %(n)s.", n=self.equal)
        if self.min is not None and self.max is not None:
            return _("Length must be between %(min)s and %(max)s.", min=self.min, max=self.max)
        if self.max is not None:
            return _("Longer than maximum length %(max)s.", max=self.max)
        return _("Shorter than minimum length %(min)s.", min=self.min)


class Range(validate.Range):
    def _format_error(self, value: Any, message: str) -> str:
        if self.min is not None and self.max is not None:
            return _("Must be between %(min)s and %(max)s.", min=self.min, max=self.max)
        if self.min is not None:
            return _("Must be at least %(min)s.", min=self.min)
        return _("Must be at most %(max)s.", max=self.max)


class OneOf(validate.OneOf):
    def _format_error(self, value: Any) -> str:
        return _("Must be one of: %(choices)s.", choices=self.choices_text)
