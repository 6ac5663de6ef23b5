"""The email settings form: which kinds of notification to get by email, and in which language
(``PUT /api/v1/notification-settings``' contract)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import SelectChoice, SelectField, SelectMultipleField
from wtforms.validators import DataRequired
from wtforms.widgets import CheckboxInput, ListWidget

from traceability.http.forms import SchemaForm
from traceability.notifications.contracts import NotificationSettingsSchema
from traceability.notifications.messages import KIND_LABELS

LANGUAGE_CHOICES = [SelectChoice("vi", "Tiếng Việt"), SelectChoice("en", "English")]


class SettingsForm(SchemaForm):
    """Kinds emailed (the others stay in the in-app list) and the language of the emails."""

    schema = NotificationSettingsSchema

    emailed = SelectMultipleField(
        _l("Also send me an email when"),
        widget=ListWidget(prefix_label=False),
        option_widget=CheckboxInput(),
        choices=[],
        description=_l("Every notification stays in your list here, whatever you choose."),
    )
    locale = SelectField(_l("Language of the emails"), choices=LANGUAGE_CHOICES, validators=[DataRequired()])

    def offer(self, kinds: tuple[str, ...]) -> None:
        """Offer the kinds the user can receive."""
        self.emailed.choices = [SelectChoice(kind, KIND_LABELS[kind]) for kind in kinds]
