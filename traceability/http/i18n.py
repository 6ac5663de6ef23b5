"""Language choice and translations of the libraries' own messages.

WTForms and marshmallow ship no Vietnamese. Their messages that our forms and
schemas can produce are listed in ``LIBRARY_MESSAGES`` so Babel extracts them
into our catalog; ``FormTranslations`` and ``translate_messages`` look them up
at run time.
"""

from __future__ import annotations

from typing import Any

from flask import current_app, has_request_context, request, session
from flask_babel import get_translations, lazy_ngettext
from flask_babel import lazy_gettext as _l


def select_locale() -> str:
    """The user's chosen language, else the browser's, else Vietnamese."""
    languages = current_app.config["LANGUAGES"]
    if not has_request_context():  # the command line
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    chosen = session.get("lang")
    if isinstance(chosen, str) and chosen in languages:
        return chosen
    return request.accept_languages.best_match(languages, default=current_app.config["BABEL_DEFAULT_LOCALE"])


class FormTranslations:
    """The gettext object WTForms asks for: our catalog, without formatting.

    WTForms formats the message itself (``message % {"max": 20}``), so this must
    not format it first as Flask-Babel's ``ngettext`` would.
    """

    def gettext(self, string: str) -> str:
        return get_translations().ugettext(string)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return get_translations().ungettext(singular, plural, n)


def translate_messages(messages: Any) -> Any:
    """Marshmallow's error messages (nested dicts and lists of strings), translated."""
    if isinstance(messages, dict):
        return {key: translate_messages(value) for key, value in messages.items()}
    if isinstance(messages, list | tuple):
        return [translate_messages(value) for value in messages]
    if isinstance(messages, str):
        return get_translations().ugettext(messages)
    return str(messages)


LIBRARY_MESSAGES = (
    # WTForms
    _l("This field is required."),
    _l("Invalid email address."),
    _l("Not a valid choice."),
    _l("Not a valid integer value."),
    _l("Not a valid decimal value."),
    _l("Not a valid date value."),
    _l("Not a valid datetime value."),
    _l("Number must be at least %(min)s."),
    _l("Number must be at most %(max)s."),
    _l("Number must be between %(min)s and %(max)s."),
    _l("Field must be between %(min)d and %(max)d characters long."),
    lazy_ngettext(
        "Field cannot be longer than %(max)d character.", "Field cannot be longer than %(max)d characters.", 1
    ),
    lazy_ngettext(
        "Field must be at least %(min)d character long.", "Field must be at least %(min)d characters long.", 1
    ),
    # marshmallow
    _l("Missing data for required field."),
    _l("Field may not be null."),
    _l("Unknown field."),
    _l("Invalid input type."),
    _l("Invalid value."),
    _l("Not a valid string."),
    _l("Not a valid integer."),
    _l("Not a valid number."),
    _l("Not a valid boolean."),
    _l("Not a valid date."),
    _l("Not a valid datetime."),
    _l("Not a valid aware datetime."),
    _l("Not a valid URL."),
    _l("Not a valid list."),
    _l("Number too large."),
    _l("Special numeric values (nan or infinity) are not permitted."),
)
