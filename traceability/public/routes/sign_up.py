"""A producer's public sign-up (``/producers/sign-up``): it registers itself and its first user.

Its centre approves it afterwards, on the producer's page under ``/manage``
(``traceability.registry.routes.producers``).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from traceability.accounts.throttle import signup_throttle
from traceability.core.errors import TooManyAttempts
from traceability.http.web import perform
from traceability.registry.producer_forms import SignUpForm
from traceability.registry.producers import sign_up_producer

bp = Blueprint("sign_up", __name__, url_prefix="/producers/sign-up")


@bp.route("", methods=["GET", "POST"])
def new():
    """A producer registers itself and its first user; the centre approves it afterwards."""
    if current_user.is_authenticated:
        flash(_("You are signed in already: sign out to register another producer."), "info")
        return redirect(url_for("registry.producers.me"))
    form = SignUpForm()
    if form.validate_on_submit():
        try:
            signup_throttle.check(request.remote_addr)
        except TooManyAttempts as error:
            flash(str(error.message), "error")
            response = make_response(render_template("registry/producers/sign_up.html", form=form), 429)
            response.headers["Retry-After"] = str(error.retry_after)
            return response
        if perform(_counted_sign_up, form.to_data(), request.remote_addr, show_on=form).ok:
            # Not signed in at once, and the same answer whether or not the email had an
            # account: the public sign-up must not tell who has one.
            return redirect(url_for("public.sign_up.received"))
        perform(signup_throttle.record, request.remote_addr)  # refused and rolled back, it still counts
    return render_template("registry/producers/sign_up.html", form=form), 422 if form.errors else 200


def _counted_sign_up(data: dict[str, Any], address: str | None) -> None:
    """``sign_up_producer`` (None for an email with an account: answered the same), counted for ``address``."""
    sign_up_producer(data)
    signup_throttle.record(address)


@bp.route("/received")
def received():
    """What a sign-up answers: sign in with the email and password just given."""
    return render_template("registry/producers/sign_up_received.html")
