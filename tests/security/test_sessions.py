"""Password reset by an administrator, the forced change after it, and sessions that end when they must."""

from __future__ import annotations

import re

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from tests import factories
from tests.conftest import WebHelper
from traceability.accounts.service import issue_token
from traceability.core.dates import utcnow
from traceability.models.accounts import ApiToken, User

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


# Issue 14: sessions end on the server; tokens die with the password and stay dead --------------


def test_a_session_cookie_copied_before_sign_out_opens_nothing_afterwards(app, web, tenants, db):
    web.login(tenants["daklak"].staff.email)
    copied = web.client.get_cookie("session").value
    assert web.post_form("/logout", {}, form_url="/manage").status_code == 302
    thief = app.test_client()
    thief.set_cookie("session", copied)
    response = thief.get("/manage")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")
    # Only this browser's session ended: another device stays signed in.
    other = second_browser(app)
    other.login(tenants["daklak"].staff.email)
    web.login(tenants["daklak"].staff.email)
    assert web.post_form("/logout", {}, form_url="/manage").status_code == 302
    assert signed_in(other.client)


def test_signing_in_renews_the_session_and_its_csrf_token(web, tenants):
    web.csrf_token("/login")
    with web.client.session_transaction() as session:
        before = session["csrf_token"]
        session["planted"] = "by someone else"  # session fixation: set before the victim signs in
    assert web.login(tenants["daklak"].staff.email).status_code == 302
    with web.client.session_transaction() as session:
        assert "planted" not in session
        assert session.get("csrf_token") != before
    assert signed_in(web.client)


def test_a_password_change_revokes_the_users_api_tokens(web, api, tenants, db):
    own = tenants["daklak"]
    assert api.get(f"/producers/{own.producer.id}", own.staff).status_code == 200
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
    assert api.get(f"/producers/{own.producer.id}", own.staff).status_code == 401
    tokens = db.session.scalars(select(ApiToken).where(ApiToken.user_id == own.staff.id)).all()
    assert tokens and all(token.revoked_at is not None for token in tokens)


def test_a_token_issued_before_the_last_password_change_is_dead_even_unrevoked(api, tenants, db):
    own = tenants["daklak"]
    assert api.get(f"/producers/{own.producer.id}", own.staff).status_code == 200
    user = db.session.get(User, own.staff.id)
    user.password_changed_at = utcnow()  # as a change made before tokens were revoked with it
    db.session.commit()
    assert api.get(f"/producers/{own.producer.id}", own.staff).status_code == 401


def test_re_enabling_an_account_does_not_revive_its_api_tokens(web, api, tenants, db):
    own = tenants["daklak"]
    assert api.get(f"/producers/{own.producer.id}", own.staff).status_code == 200
    web.login(own.admin.email)
    assert (
        web.post_form(f"/manage/users/{own.staff.id}/disable", {}, form_url="/manage/users").status_code
        == 302
    )
    assert (
        web.post_form(f"/manage/users/{own.staff.id}/enable", {}, form_url="/manage/users").status_code == 302
    )
    assert api.get(f"/producers/{own.producer.id}", own.staff).status_code == 401


def test_users_see_and_revoke_their_own_tokens_never_their_secrets(web, tenants, db):
    own = tenants["daklak"]
    secret, api_token = issue_token(db.session.get(User, own.staff.id), name="Cổng tỉnh")
    db.session.commit()
    web.login(own.staff.email)
    page = web.client.get("/account/tokens", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Cổng tỉnh" in page and "never" in page
    assert secret not in page and api_token.token_hash not in page
    response = web.post_form(f"/account/tokens/{api_token.id}/revoke", {}, form_url="/account/tokens")
    assert response.status_code == 302 and response.headers["Location"] == "/account/tokens"
    db.session.refresh(api_token)
    assert api_token.revoked_at is not None
    assert (
        web.client.get("/api/v1/producers", headers={"Authorization": f"Bearer {secret}"}).status_code == 401
    )


def test_a_centre_admin_sees_and_revokes_its_users_tokens_only(web, tenants, db):
    own, other = tenants["daklak"], tenants["nghean"]
    _secret, staff_token = issue_token(db.session.get(User, own.staff.id), name="ERP")
    _secret, other_token = issue_token(db.session.get(User, other.staff.id), name="ERP khác")
    db.session.commit()
    web.login(own.admin.email)
    assert f"/manage/users/{own.staff.id}/tokens" in web.client.get("/manage/users").get_data(as_text=True)
    assert "ERP" in web.client.get(f"/manage/users/{own.staff.id}/tokens").get_data(as_text=True)
    assert web.client.get(f"/manage/users/{other.staff.id}/tokens").status_code == 404
    assert (
        web.post_form(f"/account/tokens/{other_token.id}/revoke", {}, form_url="/manage/users").status_code
        == 404
    )
    response = web.post_form(f"/account/tokens/{staff_token.id}/revoke", {}, form_url="/manage/users")
    assert response.headers["Location"] == f"/manage/users/{own.staff.id}/tokens"
    db.session.refresh(staff_token)
    db.session.refresh(other_token)
    assert staff_token.revoked_at is not None and other_token.revoked_at is None
    # Centre staff manage nobody's tokens but their own.
    web.login(own.staff.email)
    assert web.client.get(f"/manage/users/{own.admin.id}/tokens").status_code == 403


def test_the_api_lists_and_revokes_ones_tokens(api, client, tenants, db):
    own = tenants["daklak"]
    token = api.token(own.staff)
    _secret, spare = issue_token(db.session.get(User, own.staff.id), name="dự phòng")
    _secret, admins = issue_token(db.session.get(User, own.admin.id), name="của quản trị")
    db.session.commit()
    listed = api.get("/tokens", own.staff).get_json()
    assert listed["total"] == 2 and {item["name"] for item in listed["items"]} == {"", "dự phòng"}
    assert all("token" not in item and "token_hash" not in item for item in listed["items"])
    assert api.request("DELETE", f"/tokens/{admins.id}", own.staff).status_code == 404
    response = api.request("DELETE", f"/tokens/{spare.id}", own.staff)
    assert response.status_code == 200 and response.get_json()["state"] == "revoked"
    # The centre admin revokes its staff member's token, the one in use.
    in_use = db.session.scalar(
        select(ApiToken.id).where(ApiToken.user_id == own.staff.id, ApiToken.name == "")
    )
    assert api.request("DELETE", f"/tokens/{in_use}", own.admin).status_code == 200
    assert client.get("/api/v1/tokens", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    assert "get" in paths["/tokens"] and "delete" in paths["/tokens/{token_id}"]
    assert "429" in paths["/tokens"]["get"]["responses"]
