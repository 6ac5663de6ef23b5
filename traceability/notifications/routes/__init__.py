"""The notification pages: a user's list (unread count in the navigation, mark read) and email settings."""

from __future__ import annotations

from flask import Blueprint
from flask.blueprints import BlueprintSetupState
from flask_login import current_user

from traceability.notifications.delivery import check_settings
from traceability.notifications.service import UNREAD_CAP, unread_count

bp = Blueprint("notifications", __name__, url_prefix="/manage/notifications")


@bp.record_once
def _check_mail_settings(state: BlueprintSetupState) -> None:
    check_settings(state.app.config)  # a wrong MAIL_* setting stops the app from starting


@bp.app_template_global("unread_notifications")
def unread_notifications() -> str:
    """The signed-in user's unread count as the navigation shows it: "", "3" or "99+"."""
    if not current_user.is_authenticated:
        return ""
    count = unread_count(current_user)
    if count > UNREAD_CAP:
        return f"{UNREAD_CAP}+"
    return str(count) if count else ""


from traceability.notifications.routes import pages  # noqa: F401 - declares the views
