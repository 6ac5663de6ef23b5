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

from traceability.core.errors import InvalidInput
from traceability.core.extensions import db


def select_locale() -> str:
    """The user's chosen language, else the browser's, else Vietnamese."""
    languages = current_app.config["LANGUAGES"]
    if not has_request_context():  # the command line
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    chosen = session.get("lang")
    if isinstance(chosen, str) and chosen in languages:
        return chosen
    return request.accept_languages.best_match(languages, default=current_app.config["BABEL_DEFAULT_LOCALE"])


def request_language(user: Any = None) -> str:
    """The language of whoever makes this request, for what is read later (a sheet the worker draws).

    On the web, the interface language (``select_locale``). An API call (a
    bearer token) has no interface: its ``Accept-Language``, else the caller's
    saved language (``User.locale``). Outside a request, the saved language,
    else the default.
    """
    languages = current_app.config["LANGUAGES"]
    saved = getattr(user, "locale", None)
    saved = saved if isinstance(saved, str) and saved in languages else None
    if not has_request_context():
        return saved or select_locale()
    authorization = request.authorization
    if authorization is None or authorization.type != "bearer":
        return select_locale()
    asked = request.accept_languages.best_match(languages) if request.accept_languages else None
    return asked or saved or current_app.config["BABEL_DEFAULT_LOCALE"]


def choose_language(code: str, user: Any = None) -> None:
    """Switch the language a person reads the site in: this browser's, and a signed-in user's saved one.

    The saved language (``User.locale``) is the one their emails and the
    label sheets the worker draws for them are written in, so the switch
    keeps them in step. Call it at the request boundary (it flushes the user).
    """
    if code not in current_app.config["LANGUAGES"]:
        raise InvalidInput(_l("Choose among the languages listed."), {"locale": _l("Not a valid choice.")})
    session["lang"] = code
    if getattr(user, "is_authenticated", False) and user.locale != code:
        user.locale = code
        db.session.flush()


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
