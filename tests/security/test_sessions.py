"""Password reset by an administrator, the forced change after it, and sessions that end when they must."""

from __future__ import annotations

import re

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from tests import factories
from tests.conftest import WebHelper
from traceability.accounts.models import ApiToken, User

TEMPORARY = re.compile(r'<p class="temporary-password"><code>([^<]+)</code></p>')
NEW_PASSWORD = "mot-mat-khau-moi-2026"


def second_browser(app) -> WebHelper:
    return WebHelper(app.test_client())


def reset(web: WebHelper, user: User, *, form_url: str = "/manage/users"):
    return web.post_form(f"/manage/users/{user.id}/reset-password", {}, form_url=form_url)


def signed_in(client: FlaskClient) -> bool:
    return client.get("/manage").status_code == 200


def test_centre_admin_resets_a_staff_password_shown_once_and_the_staff_must_change_it(app, web, tenants, db):
    own = tenants["daklak"]
    staff_browser = second_browser(app)
    staff_browser.login(own.staff.email)
    assert signed_in(staff_browser.client)

    web.login(own.admin.email)
    response = reset(web, own.staff)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    temporary = TEMPORARY.search(response.get_data(as_text=True)).group(1)
    assert len(temporary) == 14

    # The staff member's open session has ended, and the old password no longer works.
    assert not signed_in(staff_browser.client)
    assert staff_browser.login(own.staff.email).status_code == 401

    # With the temporary password: every page leads to the change form until a new password is set.
    response = staff_browser.login(own.staff.email, temporary)
    assert response.headers["Location"].startswith("/account/password")
    assert staff_browser.client.get("/manage/products").headers["Location"] == "/account/password"
    page = staff_browser.client.get("/account/password", headers={"Accept-Language": "en"})
    assert "Your password was reset. Choose your own password to continue." in page.get_data(as_text=True)
    # ... nor can it get an API token meanwhile.
    response = staff_browser.client.post(
        "/api/v1/tokens", json={"email": own.staff.email, "password": temporary}
    )
    assert response.status_code == 403

    response = staff_browser.post_form(
        "/account/password",
        {"current_password": temporary, "new_password": NEW_PASSWORD, "new_password_again": NEW_PASSWORD},
    )
    assert response.status_code == 302
    assert signed_in(staff_browser.client)
    assert db.session.get(User, own.staff.id).must_change_password is False
    assert (
        staff_browser.client.post(
            "/api/v1/tokens", json={"email": own.staff.email, "password": NEW_PASSWORD}
        ).status_code
        == 201
    )


def test_a_reset_revokes_the_users_api_tokens(app, web, api, tenants, db):
    own = tenants["daklak"]
    assert api.get(f"/producers/{own.producer.id}", own.staff).status_code == 200
    web.login(own.admin.email)
    assert reset(web, own.staff).status_code == 200
    assert api.get(f"/producers/{own.producer.id}", own.staff).status_code == 401
    tokens = db.session.scalars(select(ApiToken).where(ApiToken.user_id == own.staff.id)).all()
    assert tokens and all(token.revoked_at is not None for token in tokens)


def test_centre_admin_resets_a_producer_user_of_its_province_from_the_producer_page(web, tenants):
    own = tenants["daklak"]
    web.login(own.admin.email)
    page = web.client.get(f"/manage/producers/{own.producer.id}").get_data(as_text=True)
    assert f"/manage/users/{own.producer_user.id}/reset-password" in page
    response = reset(web, own.producer_user, form_url=f"/manage/producers/{own.producer.id}")
    assert response.status_code == 200
    assert f'href="/manage/producers/{own.producer.id}"' in response.get_data(as_text=True)


@pytest.mark.parametrize(
    ("actor", "target", "status"),
    [
        ("staff", "auditor", 403),  # centre staff manage no accounts
        ("admin", "other_producer_user", 404),  # another province's producer
        ("admin", "other_staff", 404),  # another centre's staff
        ("producer_user", "producer_user", 403),  # not a producer admin (and it is themselves)
        ("ministry", "staff", 403),
    ],
)
def test_who_may_not_reset_a_password(web, tenants, db, actor, target, status):
    own, other = tenants["daklak"], tenants["nghean"]
    people = {
        "staff": own.staff,
        "admin": own.admin,
        "auditor": own.auditor,
        "producer_user": own.producer_user,
        "other_producer_user": other.producer_user,
        "other_staff": other.staff,
        "ministry": tenants["ministry"],
    }
    web.login(people[actor].email)
    before = people[target].password_hash
    response = reset(web, people[target], form_url="/manage")
    assert response.status_code == status
    assert db.session.get(User, people[target].id).password_hash == before


def test_producer_admin_resets_its_own_users_only(web, make, tenants, db):
    own, other = tenants["daklak"], tenants["nghean"]
    producer_admin = make.user("producer", producer=own.producer, is_producer_admin=True)
    db.session.commit()
    web.login(producer_admin.email)
    page = web.client.get("/manage/users").get_data(as_text=True)
    assert f"/manage/users/{own.producer_user.id}/reset-password" in page
    assert reset(web, own.producer_user).status_code == 200
    assert reset(web, other.producer_user).status_code == 404


def test_disabling_a_user_ends_its_session_and_its_api_tokens_at_once(app, web, api, tenants, db):
    own = tenants["daklak"]
    staff_browser = second_browser(app)
    staff_browser.login(own.staff.email)
    assert signed_in(staff_browser.client)
    assert api.get(f"/producers/{own.producer.id}", own.staff).status_code == 200

    web.login(own.admin.email)
    assert (
        web.post_form(f"/manage/users/{own.staff.id}/disable", {}, form_url="/manage/users").status_code
        == 302
    )
    assert not signed_in(staff_browser.client)
    assert api.get(f"/producers/{own.producer.id}", own.staff).status_code == 401

    # Enabling the account again does not bring the old session back.
    assert (
        web.post_form(f"/manage/users/{own.staff.id}/enable", {}, form_url="/manage/users").status_code == 302
    )
    assert not signed_in(staff_browser.client)
    assert staff_browser.login(own.staff.email).status_code == 302


def test_changing_ones_password_keeps_this_session_and_ends_the_others(app, web, tenants, db):
    own = tenants["daklak"]
    other_device = second_browser(app)
    other_device.login(own.staff.email)
    web.login(own.staff.email)
    response = web.post_form(
        "/account/password",
        {
            "current_password": factories.PASSWORD,
            "new_password": NEW_PASSWORD,
            "new_password_again": NEW_PASSWORD,
        },
    )
    assert response.status_code == 302
    assert signed_in(web.client)
    assert not signed_in(other_device.client)
    assert db.session.get(User, own.staff.id).password_changed_at is not None


@pytest.mark.parametrize(
    ("current", "new", "message"),
    [
        ("not-my-password", NEW_PASSWORD, "This is not your current password."),
        (factories.PASSWORD, "password1234", "This password is one of the most common ones"),
        (factories.PASSWORD, "short", "Use at least 10 characters."),
        (factories.PASSWORD, factories.PASSWORD, "Choose a password different from the current one."),
    ],
)
def test_a_refused_password_change_says_why_and_changes_nothing(web, tenants, db, current, new, message):
    own = tenants["daklak"]
    before = own.staff.password_hash
    web.login(own.staff.email)
    response = web.post_form(
        "/account/password",
        {"current_password": current, "new_password": new, "new_password_again": new},
        headers={"Accept-Language": "en"},
    )
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert db.session.get(User, own.staff.id).password_hash == before
    assert signed_in(web.client)


def test_a_session_cookie_from_before_the_change_is_refused(app, web, tenants, db):
    """A copied session cookie (the user id without the current version) opens nothing."""
    own = tenants["daklak"]
    web.login(own.staff.email)
    stolen = web.client.get_cookie("session").value
    user = db.session.get(User, own.staff.id)
    user.end_sessions()
    db.session.commit()
    thief = app.test_client()
    thief.set_cookie("session", stolen)
    assert thief.get("/manage").status_code == 302
