"""Login and logout pages, and the accounts a centre admin or producer admin manages."""

from __future__ import annotations

from flask import Blueprint, abort, flash, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user
from sqlalchemy import Select

from traceability.accounts.forms import LoginForm, PasswordChangeForm, ToggleForm, UserForm
from traceability.accounts.models import CENTRE_ROLES, User
from traceability.accounts.scope import get_scoped_or_404, scoped_select
from traceability.accounts.service import (
    add_user,
    can_reset_password,
    change_password,
    manages_users,
    reset_password,
    set_user_active,
)
from traceability.accounts.throttle import throttled_authenticate
from traceability.audit.service import record_audit
from traceability.errors import DomainError, TooManyAttempts
from traceability.extensions import db
from traceability.web import local_path, show_errors

bp = Blueprint("accounts", __name__)


def _safe_next(target: str | None) -> str:
    return local_path(target) or url_for("registry.dashboard")


@bp.route("/login", methods=["GET", "POST"])
def login():
    """Sign in with email and password."""
    form = LoginForm()
    if form.validate_on_submit():
        try:
            user = throttled_authenticate(form.email.data, form.password.data, address=request.remote_addr)
        except TooManyAttempts as error:
            flash(str(error.message), "error")
            response = make_response(render_template("accounts/login.html", form=form), 429)
            response.headers["Retry-After"] = str(error.retry_after)
            return response
        db.session.commit()  # the audit entry of the attempt, refused or not
        if user is None:
            flash(_("Wrong email or password."), "error")
            return render_template("accounts/login.html", form=form), 401
        login_user(user)
        if user.must_change_password:
            return redirect(url_for("accounts.password_change", next=request.args.get("next")))
        return redirect(_safe_next(request.args.get("next")))
    return render_template("accounts/login.html", form=form)


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    """Sign out."""
    record_audit("logout", current_user._get_current_object(), after={"email": current_user.email})
    db.session.commit()
    logout_user()
    flash(_("You are signed out."), "info")
    return redirect(url_for("accounts.login"))


def _managed_users() -> Select:
    """The accounts the current user manages: its centre's staff, or its producer's users."""
    if not manages_users(current_user):
        abort(403)
    query = scoped_select(User).order_by(User.active.desc(), User.name, User.email)
    if current_user.role == "centre_admin":
        query = query.where(User.role.in_(CENTRE_ROLES))
    return query


@bp.route("/manage/users")
@login_required
def users():
    """The accounts of the user's centre or producer, with enable and disable buttons."""
    rows = db.session.scalars(_managed_users()).all()
    return render_template("accounts/users.html", users=rows, toggle_form=ToggleForm())


@bp.route("/manage/users/new", methods=["GET", "POST"])
@login_required
def user_new():
    """Add an account to the user's centre or producer."""
    _managed_users()
    form = UserForm()
    if current_user.role == "centre_admin":
        del form.is_producer_admin
    else:
        del form.role
    if form.validate_on_submit():
        data = {field.name: field.data for field in form if field.name != "csrf_token"}
        try:
            user = add_user(data, actor=current_user)
        except DomainError as error:
            db.session.rollback()
            show_errors(form, error)
        else:
            db.session.commit()
            flash(_("The account %(email)s is created.", email=user.email), "success")
            return redirect(url_for("accounts.users"))
    return render_template("accounts/user_form.html", form=form), 422 if form.errors else 200


def _set_active(user_id: int, active: bool):
    form = ToggleForm()
    if not form.validate_on_submit():
        abort(400)
    user = db.session.scalars(_managed_users().where(User.id == user_id)).first()
    if user is None:
        get_scoped_or_404(User, user_id)  # outside the scope: 404; inside but not managed: 403
        abort(403)
    try:
        set_user_active(user, active, actor=current_user)
    except DomainError as error:
        db.session.rollback()
        flash(str(error.message), "error")
        rows = db.session.scalars(_managed_users()).all()
        return render_template("accounts/users.html", users=rows, toggle_form=form), error.status
    db.session.commit()
    if active:
        flash(_("%(email)s can sign in again.", email=user.email), "success")
    else:
        flash(
            _("%(email)s is disabled: they can no longer sign in nor use API tokens.", email=user.email),
            "success",
        )
    return redirect(url_for("accounts.users"))


@bp.route("/manage/users/<int:user_id>/disable", methods=["POST"])
@login_required
def user_disable(user_id: int):
    """Disable an account: it can no longer sign in nor use its API tokens."""
    return _set_active(user_id, False)


@bp.route("/manage/users/<int:user_id>/enable", methods=["POST"])
@login_required
def user_enable(user_id: int):
    """Enable a disabled account again."""
    return _set_active(user_id, True)


@bp.before_app_request
def require_new_password():
    """A user signed in with a temporary password sees only the page to choose a new one."""
    if request.blueprint in ("api", "public") or request.endpoint in (
        None,
        "static",
        "accounts.password_change",
        "accounts.logout",
    ):
        return None
    if current_user.is_authenticated and current_user.must_change_password:
        return redirect(url_for("accounts.password_change"))
    return None


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def password_change():
    """Choose a new password; required after a reset, open to every user at any time."""
    form = PasswordChangeForm()
    if form.validate_on_submit():
        user = current_user._get_current_object()
        try:
            change_password(
                user, current_password=form.current_password.data, new_password=form.new_password.data
            )
        except DomainError as error:
            db.session.rollback()
            show_errors(form, error)
        else:
            db.session.commit()
            login_user(user)  # this session carries the new session version; the others end
            flash(_("Your password is changed. Other devices signed in as you are signed out."), "success")
            return redirect(_safe_next(request.args.get("next")))
    return render_template("accounts/password_change.html", form=form), 422 if form.errors else 200


@bp.route("/manage/users/<int:user_id>/reset-password", methods=["POST"])
@login_required
def user_reset_password(user_id: int):
    """Give a user a temporary password, shown once on the answer, and sign them out everywhere."""
    form = ToggleForm()
    if not form.validate_on_submit():
        abort(400)
    user = get_scoped_or_404(User, user_id)
    if not can_reset_password(current_user, user):
        abort(403)
    password = reset_password(user, actor=current_user)
    db.session.commit()
    if user.role == "producer" and current_user.role == "centre_admin":
        back = url_for("producers.detail", producer_id=user.producer_id)
    else:
        back = url_for("accounts.users")
    response = make_response(
        render_template("accounts/password_reset.html", user=user, password=password, back=back)
    )
    # The temporary password is shown once: no browser or proxy may keep a copy.
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.app_context_processor
def password_helpers() -> dict:
    """``can_reset_password(actor, user)`` for the user lists (users page, producer page)."""
    return {"can_reset_password": can_reset_password}
