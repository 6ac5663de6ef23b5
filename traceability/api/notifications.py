"""API: the caller's own notifications (the in-app list, marking read) and email settings.

The same service functions as the notification pages (``traceability.notifications.service``);
an API token belongs to a user, who reaches only their own notifications: another's id answers 404.
"""

from __future__ import annotations

from typing import Any

from flask import abort
from flask_login import current_user
from marshmallow import Schema, fields

from traceability.api.schemas import PageQuerySchema
from traceability.api.spec import operation, paginate
from traceability.models.notifications import Notification
from traceability.notifications.contracts import NotificationSettingsSchema
from traceability.notifications.messages import KIND_LABELS, render
from traceability.notifications.service import (
    mark_all_read,
    mark_read,
    notification_settings,
    own_notification,
    save_settings,
    unread_count,
    user_notifications,
)


class NotificationSchema(Schema):
    """One notification, worded in the caller's language (``Accept-Language``, else Vietnamese)."""

    id = fields.Integer(required=True)
    kind = fields.String(required=True)
    subject = fields.Method("_subject", metadata={"type": "string"})
    paragraphs = fields.Method("_paragraphs", metadata={"type": "array", "items": {"type": "string"}})
    link = fields.String(required=True, metadata={"description": "The page concerned, a path on this site"})
    created_at = fields.AwareDateTime(required=True)
    read_at = fields.AwareDateTime(allow_none=True)
    read = fields.Function(
        lambda notification: notification.read_at is not None, metadata={"type": "boolean"}
    )

    def _subject(self, notification: Notification) -> str:
        return render(notification.kind, notification.params).subject

    def _paragraphs(self, notification: Notification) -> list[str]:
        return [str(text) for text in render(notification.kind, notification.params).paragraphs]


class NotificationQuerySchema(PageQuerySchema):
    unread = fields.Boolean(load_default=False, metadata={"description": "`true`: only the unread ones"})


class ReadAllSchema(Schema):
    marked_read = fields.Integer(required=True, metadata={"description": "How many were unread"})
    unread = fields.Integer(required=True, metadata={"description": "Unread left (0)"})


class KindSettingSchema(Schema):
    kind = fields.String(required=True)
    label = fields.String(
        required=True, metadata={"description": "What the kind is about, in the caller's language"}
    )
    email = fields.Boolean(required=True, metadata={"description": "Also sent by email (else in-app only)"})


class NotificationSettingsOutSchema(Schema):
    kinds = fields.List(
        fields.Nested(KindSettingSchema),
        required=True,
        metadata={"description": "Each kind the caller's role receives; every kind stays in the in-app list"},
    )
    locale = fields.String(required=True, metadata={"description": "The language of the emails"})
    mail_enabled = fields.Boolean(
        required=True,
        metadata={"description": "Whether this site sends emails at all (a mail server is set up)"},
    )


def _settings_answer() -> dict[str, Any]:
    settings = notification_settings(current_user)
    return {
        "kinds": [
            {"kind": kind, "label": str(KIND_LABELS[kind]), "email": emailed}
            for kind, emailed in settings.emailed.items()
        ],
        "locale": settings.locale,
        "mail_enabled": settings.mail_enabled,
    }


def _own_or_404(notification_id: int) -> Notification:
    notification = own_notification(current_user, notification_id)
    if notification is None:
        abort(404)  # another user's answers as one that does not exist
    return notification


@operation(
    "/notifications",
    "GET",
    summary="The caller's own notifications, newest first (`unread=true`: only the unread ones)",
    tag="notifications",
    query=NotificationQuerySchema,
    response=NotificationSchema,
    paginated=True,
    errors=(422,),
)
def notifications_list(args: dict[str, Any]):
    return paginate(user_notifications(current_user, unread=args["unread"]), args)


@operation(
    "/notifications/<int:notification_id>/read",
    "POST",
    summary="Mark one of the caller's notifications read (another user's answers 404)",
    tag="notifications",
    response=NotificationSchema,
    errors=(404,),
)
def notifications_read(notification_id: int):
    return mark_read(_own_or_404(notification_id), user=current_user)


@operation(
    "/notifications/read-all",
    "POST",
    summary="Mark every unread notification of the caller read",
    tag="notifications",
    response=ReadAllSchema,
    errors=(),
)
def notifications_read_all():
    marked = mark_all_read(current_user)
    return {"marked_read": marked, "unread": unread_count(current_user)}


@operation(
    "/notification-settings",
    "GET",
    summary="Which kinds of notification the caller also gets by email, and in which language",
    tag="notifications",
    response=NotificationSettingsOutSchema,
    errors=(),
)
def notification_settings_get():
    return _settings_answer()


@operation(
    "/notification-settings",
    "PUT",
    summary="Choose the kinds emailed (the others stay in-app only) and the emails' language",
    tag="notifications",
    body=NotificationSettingsSchema,
    response=NotificationSettingsOutSchema,
    errors=(422,),
)
def notification_settings_put(data: dict[str, Any]):
    save_settings(current_user, data["emailed"], data.get("locale"))
    return _settings_answer()
