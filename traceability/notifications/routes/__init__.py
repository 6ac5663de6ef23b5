"""The notification pages: a user's list (unread count in the navigation, mark read) and email settings;
each user reaches only their own."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask.blueprints import BlueprintSetupState
from flask_babel import gettext as _
from flask_login import current_user, login_required

from traceability.core.extensions import db
from traceability.http.converters import query_int
from traceability.http.web import local_path, perform
from traceability.models.notifications import Notification
from traceability.notifications.delivery import check_settings
from traceability.notifications.forms import SettingsForm
from traceability.notifications.messages import render
from traceability.notifications.service import (
    UNREAD_CAP,
    mark_all_read,
    mark_read,
    notification_settings,
    own_notification,
    save_settings,
    unread_count,
    user_notifications,
)

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


PER_PAGE = 20


def _own_or_404(notification_id: int) -> Notification:
    notification = own_notification(current_user, notification_id)
    if notification is None:
        abort(404)  # another user's answers as one that does not exist
    return notification


@bp.route("/")
@login_required
def index():
    """The user's notifications, newest first, worded in the page's language."""
    page = db.paginate(
        user_notifications(current_user),
        page=request.args.get("page", 1, type=query_int),
        per_page=PER_PAGE,
        error_out=False,
    )
    worded = {notification.id: render(notification.kind, notification.params) for notification in page.items}
    return render_template("notifications/index.html", page=page, worded=worded)


@bp.route("/<int:notification_id>/open", methods=["POST"])
@login_required
def open_notification(notification_id: int):
    """Mark the notification read and go to the page it is about."""
    notification = _own_or_404(notification_id)
    perform(mark_read, notification, user=current_user)
    return redirect(local_path(notification.link) or url_for("notifications.index"))


@bp.route("/<int:notification_id>/read", methods=["POST"])
@login_required
def read(notification_id: int):
    """Mark one notification read, staying on the list."""
    perform(mark_read, _own_or_404(notification_id), user=current_user)
    return redirect(local_path(request.form.get("next")) or url_for("notifications.index"))


@bp.route("/read-all", methods=["POST"])
@login_required
def read_all():
    """Mark every notification of the user read."""
    outcome = perform(mark_all_read, current_user)
    if outcome.ok and outcome.value:
        flash(_("All notifications are marked read."), "success")
    return redirect(url_for("notifications.index"))


@bp.route("/settings", methods=["GET", "POST"])
@login_required
def settings():
    """Which kinds of notification the user also gets by email, and in which language."""
    form = SettingsForm()
    current = notification_settings(current_user)
    kinds = tuple(current.emailed)
    form.offer(kinds)
    status = 200
    if request.method == "GET":
        form.emailed.data = [kind for kind, emailed in current.emailed.items() if emailed]
        form.locale.data = current.locale
    elif form.validate_on_submit():
        outcome = perform(
            save_settings, current_user, form.emailed.data or [], form.locale.data, show_on=form
        )
        if outcome.ok:
            flash(_("Your notification settings are saved."), "success")
            return redirect(url_for("notifications.settings"))
        status = outcome.error.status
    else:
        status = 422
    return render_template(
        "notifications/settings.html", form=form, kinds=kinds, mail_enabled=current.mail_enabled
    ), status
