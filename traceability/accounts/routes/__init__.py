"""The accounts' web views: signing in and out, one's own password and API tokens.

The accounts a centre admin or producer admin manages are in ``users``
(``/manage/users``), a blueprint of its own under this one.
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, g, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from traceability.accounts.forms import LoginForm, PasswordChangeForm, ToggleForm
from traceability.accounts.routes import users
from traceability.accounts.scope import get_scoped_or_404
from traceability.accounts.service import can_reset_password, revoke_token
from traceability.accounts.sessions import end_session, note_seen, seen_is_stale, start_session
from traceability.accounts.throttle import throttled_authenticate, throttled_change_password
from traceability.audit.service import record_audit
from traceability.core.errors import DomainError, InvalidInput, TooManyAttempts
from traceability.core.extensions import db
from traceability.http.web import local_path, perform
from traceability.models.accounts import ApiToken, User

bp = Blueprint("accounts", __name__)
bp.register_blueprint(users.bp)


def _safe_next(target: str | None) -> str:
    return local_path(target) or url_for("registry.dashboard")


def _too_many(error: TooManyAttempts, template: str, **context):
    """The page again, answered 429 with the wait in ``Retry-After``."""
    flash(str(error.message), "error")
    response = make_response(render_template(template, **context), 429)
    response.headers["Retry-After"] = str(error.retry_after)
    return response


@bp.route("/login", methods=["GET", "POST"])
def login():
    """Sign in with email and password."""
    form = LoginForm()
    if form.validate_on_submit():
        # A failed attempt is committed too: its audit entry and its count.
        outcome = perform(
            _sign_in, form.email.data, form.password.data, request.remote_addr, quiet=TooManyAttempts
        )
        if isinstance(outcome.error, TooManyAttempts):
            return _too_many(outcome.error, "accounts/login.html", form=form)
        user = outcome.value
        if user is None:
            flash(_("Wrong email or password."), "error")
            return render_template("accounts/login.html", form=form), 401
        if user.must_change_password:
            return redirect(url_for("accounts.password_change", next=request.args.get("next")))
        return redirect(_safe_next(request.args.get("next")))
    return render_template("accounts/login.html", form=form)


def _sign_in(email: str, password: str, address: str | None) -> User | None:
    """``throttled_authenticate``; the user it lets in gets a new session."""
    user = throttled_authenticate(email, password, address=address)
    if user is not None:
        start_session(user)  # a new session and CSRF token: nothing set before sign-in carries over
    return user


def _sign_out(user: User) -> None:
    """End this browser's session of ``user``, audited."""
    record_audit("logout", user, after={"email": user.email})
    end_session(user)


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    """Sign out: the session ends on the server too, so a copy of its cookie opens nothing."""
    perform(_sign_out, current_user._get_current_object())
    flash(_("You are signed out."), "info")
    return redirect(url_for("accounts.login"))


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


@bp.before_app_request
def keep_session_seen():
    """Refresh the signed-in session's ``last_seen_at`` now and then (before any view writes)."""
    if request.blueprint in ("api", "public") or request.endpoint in (None, "static"):
        return None
    if current_user.is_authenticated and (row := g.get("user_session")) is not None and seen_is_stale(row):
        perform(note_seen, row)
    return None


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def password_change():
    """Choose a new password; required after a reset, open to every user at any time."""
    form = PasswordChangeForm()
    if form.validate_on_submit():
        # A refused change writes nothing but the count of a wrong current password: that is committed.
        outcome = perform(
            _change_password,
            current_user._get_current_object(),
            form.current_password.data,
            form.new_password.data,
            show_on=form,
            quiet=TooManyAttempts,
            commit_refused=InvalidInput,
        )
        if isinstance(outcome.error, TooManyAttempts):
            return _too_many(outcome.error, "accounts/password_change.html", form=form)
        if outcome.ok:
            flash(
                _(
                    "Your password is changed. Other devices signed in as you are signed out "
                    "and your API tokens are revoked."
                ),
                "success",
            )
            return redirect(_safe_next(request.args.get("next")))
    return render_template("accounts/password_change.html", form=form), 422 if form.errors else 200


def _change_password(user: User, current_password: str, new_password: str) -> None:
    """``throttled_change_password``; this browser keeps ``user`` signed in on a new session."""
    throttled_change_password(user, current_password=current_password, new_password=new_password)
    start_session(user)  # this browser signs in again; every other session has ended


@bp.app_context_processor
def password_helpers() -> dict:
    """``can_reset_password(actor, user)`` for the user lists (users page, producer page)."""
    return {"can_reset_password": can_reset_password}


@bp.route("/account/tokens")
@login_required
def tokens():
    """The user's own API tokens: name, created, last used, expiry; never the secret."""
    return users.token_page(current_user._get_current_object())


@bp.route("/account/tokens/<int:token_id>/revoke", methods=["POST"])
@login_required
def token_revoke(token_id: int):
    """Revoke an API token: one's own, or one of a user the current user manages."""
    form = ToggleForm()
    if not form.validate_on_submit():
        abort(400)
    api_token = db.get_or_404(ApiToken, token_id)
    owner = api_token.user
    if owner.id != current_user.id:
        get_scoped_or_404(User, owner.id)  # outside the scope: 404; inside but not managed: 403
    outcome = perform(revoke_token, api_token, actor=current_user, quiet=DomainError)
    if not outcome.ok:
        abort(outcome.error.status, str(outcome.error.message))
    flash(_("The token %(name)s is revoked.", name=api_token.name or f"#{api_token.id}"), "success")
    if owner.id == current_user.id:
        return redirect(url_for("accounts.tokens"))
    return redirect(url_for("accounts.users.tokens", user_id=owner.id))
