"""The audit browser's filter form."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from wtforms import DateField, SelectChoice, SelectField, StringField
from wtforms.validators import Optional, ValidationError

from traceability.http.forms import Form, text_validators
from traceability.models.accounts import User
from traceability.models.audit import AuditEntry
from traceability.reports.audit_log import ACTION_LABELS, OBJECT_TYPE_LABELS


class AuditFilterForm(Form):
    """Date range, user, object type, action, producer and chain; read from the query string."""

    class Meta:
        csrf = False  # a GET search form changes nothing

    date_from = DateField(_l("From"), validators=[Optional()])
    date_to = DateField(_l("To"), validators=[Optional()])
    user = StringField(_l("User (email)"), validators=text_validators(User.email))
    object_type = SelectField(
        _l("Record"),
        choices=[
            SelectChoice("", _l("All")),
            *(SelectChoice(c, label) for c, label in OBJECT_TYPE_LABELS.items()),
        ],
        validators=[Optional()],
    )
    object_id = StringField(_l("Record number"), validators=text_validators(AuditEntry.object_id))
    action = SelectField(
        _l("Action"),
        choices=[
            SelectChoice("", _l("All")),
            *(SelectChoice(c, label) for c, label in ACTION_LABELS.items()),
        ],
        validators=[Optional()],
    )
    producer_id = SelectField(_l("Producer"), validators=[Optional()])
    # Its choices are the chains the reader's scope holds: a key outside them is ignored, with its error.
    chain = SelectField(_l("Audit chain"), validators=[Optional()])

    def validate_date_to(self, field: DateField) -> None:
        if field.data and self.date_from.data and field.data < self.date_from.data:
            raise ValidationError(_l("The end date cannot be before the start date."))

    def filters(self) -> dict[str, Any]:
        """The filters that hold a valid value; the others are ignored (and shown with their error)."""
        self.validate()
        return {field.name: field.data for field in self if field.data and not field.errors}
