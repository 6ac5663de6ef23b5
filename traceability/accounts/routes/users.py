"""The accounts a centre admin or producer admin manages: add, disable, enable, reset, their API tokens."""

from __future__ import annotations

from flask import Blueprint, abort, flash, make_response, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import Select

from traceability.accounts.forms import ToggleForm, UserForm
from traceability.accounts.scope import get_scoped_or_404
from traceability.accounts.service import (
    add_user,
    can_manage_tokens,
    can_reset_password,
    managed_users,
    manages_users,
    reset_password,
    set_user_active,
    tokens_of,
)
from traceability.core.errors import DomainError
from traceability.core.extensions import db
from traceability.http.web import perform
from traceability.models.accounts import User

bp = Blueprint("users", __name__, url_prefix="/manage/users")


def _managed_users() -> Select:
    """The accounts the current user manages; 403 for a user who manages none."""
    if not manages_users(current_user):
        abort(403)
    return managed_users(current_user)


def token_page(owner: User):
    """The API tokens of ``owner``: its own page (``accounts.tokens``) or a managed user's."""
    tokens = tokens_of(owner)
    return render_template("accounts/tokens.html", owner=owner, tokens=tokens, toggle_form=ToggleForm())


@bp.route("")
@login_required
def index():
    """The accounts of the user's centre or producer, with enable and disable buttons."""
    rows = db.session.scalars(_managed_users()).all()
    return render_template("accounts/users.html", users=rows, toggle_form=ToggleForm())


@bp.route("/new", methods=["GET", "POST"])
@login_required
def new():
    """Add an account to the user's centre or producer."""
    _managed_users()
    form = UserForm()
    if current_user.role == "centre_admin":
        del form.is_producer_admin
    else:
        del form.role
    if form.validate_on_submit():
        data = {field.name: field.data for field in form if field.name != "csrf_token"}
        outcome = perform(add_user, data, actor=current_user, show_on=form)
        if outcome.ok:
            flash(_("The account %(email)s is created.", email=outcome.value.email), "success")
            return redirect(url_for("accounts.users.index"))
    return render_template("accounts/user_form.html", form=form), 422 if form.errors else 200


def _set_active(user_id: int, active: bool):
    form = ToggleForm()
    if not form.validate_on_submit():
        abort(400)
    user = db.session.scalars(_managed_users().where(User.id == user_id)).first()
    if user is None:
        get_scoped_or_404(User, user_id)  # outside the scope: 404; inside but not managed: 403
        abort(403)
    outcome = perform(set_user_active, user, active, actor=current_user)
    if not outcome.ok:
        rows = db.session.scalars(_managed_users()).all()
        return render_template("accounts/users.html", users=rows, toggle_form=form), outcome.error.status
    if active:
        flash(_("%(email)s can sign in again.", email=user.email), "success")
    else:
        flash(
            _("%(email)s is disabled: they can no longer sign in nor use API tokens.", email=user.email),
            "success",
        )
    return redirect(url_for("accounts.users.index"))


@bp.route("/<int:user_id>/disable", methods=["POST"])
@login_required
def disable(user_id: int):
    """Disable an account: it can no longer sign in nor use its API tokens."""
    return _set_active(user_id, False)


@bp.route("/<int:user_id>/enable", methods=["POST"])
@login_required
def enable(user_id: int):
    """Enable a disabled account again."""
    return _set_active(user_id, True)


@bp.route("/<int:user_id>/reset-password", methods=["POST"], endpoint="reset_password")
@login_required
def reset_user_password(user_id: int):
    """Give a user a temporary password, shown once on the answer, and sign them out everywhere."""
    form = ToggleForm()
    if not form.validate_on_submit():
        abort(400)
    user = get_scoped_or_404(User, user_id)
    if not can_reset_password(current_user, user):
        abort(403)
    outcome = perform(reset_password, user, actor=current_user, quiet=DomainError)
    if not outcome.ok:
        abort(outcome.error.status, str(outcome.error.message))
    password = outcome.value
    if user.role == "producer" and current_user.role == "centre_admin":
        back = url_for("registry.producers.detail", producer_id=user.producer_id)
    else:
        back = url_for("accounts.users.index")
    response = make_response(
        render_template("accounts/password_reset.html", user=user, password=password, back=back)
    )
    # The temporary password is shown once: no browser or proxy may keep a copy.
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/<int:user_id>/tokens")
@login_required
def tokens(user_id: int):
    """The API tokens of a user the current user manages."""
    user = get_scoped_or_404(User, user_id)
    if not can_manage_tokens(current_user, user):
        abort(403)
    return token_page(user)
