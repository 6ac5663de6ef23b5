"""The input contract of the email settings: ``PUT /api/v1/notification-settings`` and the settings page."""

from __future__ import annotations

from marshmallow import Schema, fields

from traceability.core.contracts import Length, OneOf, text
from traceability.models.accounts import User
from traceability.models.notifications import NOTIFICATION_KINDS


class NotificationSettingsSchema(Schema):
    """The kinds to get by email (every other kind the user receives stays in-app only) and the emails' language.

    Which of the kinds a user may choose depends on their role; the service
    (``save_settings``) refuses the others. ``locale`` left out keeps the current one.
    """

    emailed = fields.List(
        fields.String(validate=OneOf(NOTIFICATION_KINDS)),
        required=True,
        validate=Length(max=len(NOTIFICATION_KINDS)),
        metadata={"description": "The kinds to get by email; an empty list: none by email, all in-app"},
    )
    locale = text(User.locale, allow_none=False, metadata={"description": "`vi` or `en`"})
