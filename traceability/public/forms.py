"""The forms of the public pages: a consumer's problem report, and the centre closing it."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import StringField, TextAreaField

from traceability.http.forms import Form, text_validators
from traceability.public.problem_reports import CONTACT_MAX_LENGTH, MESSAGE_MAX_LENGTH, REPLY_MAX_LENGTH

#: What the centre says it did about a report (a Text column).
CLOSING_NOTE_LENGTH = 500


class ProblemReportForm(Form):
    """A consumer's report: what is wrong, and how to reach them if they want an answer."""

    message = TextAreaField(
        _l("What is wrong?"),
        description=_l(
            "For example: the package is damaged, the product smells or tastes odd, the label or code looks copied."
        ),
        render_kw={"maxlength": MESSAGE_MAX_LENGTH, "required": True, "rows": 5},
    )
    contact = StringField(
        _l("Your phone number or email (optional)"),
        description=_l("Only the centre and the producer see it, to answer you."),
        render_kw={"maxlength": CONTACT_MAX_LENGTH, "autocomplete": "email"},
    )


class CloseReportForm(Form):
    """Closing a report, with what was done about it."""

    note = StringField(_l("What was done (optional)"), validators=text_validators(CLOSING_NOTE_LENGTH))


class ReplyReportForm(Form):
    """An answer to the consumer, shown on their report's status page (and emailed when they left an address)."""

    body = TextAreaField(
        _l("Your answer to the consumer"),
        description=_l(
            "The consumer reads it on their report's page; no names or phone numbers of your staff."
        ),
        render_kw={"maxlength": REPLY_MAX_LENGTH, "required": True, "rows": 3},
    )
