"""The base of every web form: CSRF from Flask-WTF, messages in the user's language."""

from __future__ import annotations

from typing import Any

from flask_wtf import FlaskForm

from traceability.http.i18n import FormTranslations

_translations = FormTranslations()


class Form(FlaskForm):
    """A Flask-WTF form whose built-in WTForms messages come from our catalog."""

    class Meta:
        def get_translations(self, form: Any) -> FormTranslations:
            return _translations
