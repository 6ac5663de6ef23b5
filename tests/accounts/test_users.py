"""Managing accounts: a centre admin its centre's staff, a producer admin its producer's users."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from tests.factories import PASSWORD
from traceability.accounts.service import add_user, set_user_active
from traceability.core.errors import Conflict, Forbidden, InvalidInput
from traceability.core.extensions import db as _db
from traceability.models.accounts import User
from traceability.models.audit import AuditEntry


@pytest.fixture(autouse=True)
def english(client):
    """Pages in English, so the assertions hold whatever the Vietnamese catalog says."""
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"


def _user(email: str) -> User | None:
    return _db.session.scalar(select(User).where(User.email == email))


def _entries(action: str, user: User) -> list[AuditEntry]:
    return _db.session.scalars(
        select(AuditEntry).where(
            AuditEntry.action == action,
            AuditEntry.object_type == "User",
            AuditEntry.object_id == str(user.id),
        )
    ).all()


def test_a_centre_admin_lists_only_its_centres_staff(web, tenants):
    own, other = tenants["daklak"], tenants["nghean"]
    web.login(own.admin.email)
    page = web.client.get("/manage/users").get_data(as_text=True)
    for user in (own.staff, own.admin, own.auditor):
        assert user.email in page
    for user in (other.staff, other.admin, own.producer_user, tenants["ministry"]):
        assert user.email not in page


def test_a_centre_admin_adds_staff_who_can_then_sign_in(web, tenants, db):
    own = tenants["daklak"]
    web.login(own.admin.email)
    response = web.post_form(
        "/manage/users/new",
        {
            "name": "Trần Văn Bình",
            "email": "Binh@TTUD-DakLak.vn",
            "password": "mat-khau-dai-1",
            "role": "centre_staff",
        },
    )
    assert response.status_code == 302
    assert "binh@ttud-daklak.vn is created" in web.client.get(response.headers["Location"]).get_data(
        as_text=True
    )
    user = _user("binh@ttud-daklak.vn")
    assert (user.role, user.centre_id, user.name) == ("centre_staff", own.centre.id, "Trần Văn Bình")
    (entry,) = _entries("create", user)
    assert (entry.user_id, entry.role, entry.centre_id) == (own.admin.id, "centre_admin", own.centre.id)

    web.post_form("/logout", {}, form_url="/manage")
    assert web.login("binh@ttud-daklak.vn", "mat-khau-dai-1").status_code == 302


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"password": "short"}, "Use at least 10 characters."),
        ({"password": "qwertyuiop123"}, "This password is one of the most common ones"),
        ({"email": "duplicate"}, "A user with this email already exists."),
        ({"role": "producer"}, "Not a valid choice."),
        ({"role": "ministry"}, "Not a valid choice."),
        ({"email": "not-an-email"}, "Invalid email address."),
    ],
)
def test_refused_accounts_are_not_stored(web, tenants, db, overrides, message):
    own = tenants["daklak"]
    if overrides.get("email") == "duplicate":
        overrides["email"] = tenants["nghean"].staff.email
    users = db.session.scalar(select(func.count()).select_from(User))
    web.login(own.admin.email)
    data = {
        "name": "Lê Thị Cúc",
        "email": "cuc@ttud-daklak.vn",
        "password": "mat-khau-dai-1",
        "role": "auditor",
    }
    response = web.post_form("/manage/users/new", {**data, **overrides})
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(User)) == users


def test_the_service_keeps_a_centre_admin_to_centre_roles_of_its_centre(tenants):
    own = tenants["daklak"]
    with pytest.raises(InvalidInput) as caught:
        add_user({"email": "x@example.vn", "password": PASSWORD, "role": "producer"}, actor=own.admin)
    assert "role" in caught.value.fields
    user = add_user({"email": "y@example.vn", "password": PASSWORD, "role": "centre_admin"}, actor=own.admin)
    assert user.centre_id == own.centre.id
    for actor in (own.staff, own.auditor, own.producer_user, tenants["ministry"]):
        with pytest.raises(Forbidden):
            add_user({"email": "z@example.vn", "password": PASSWORD, "role": "centre_staff"}, actor=actor)


@pytest.mark.parametrize("role", ["staff", "auditor", "producer_user", "ministry"])
def test_other_roles_do_not_manage_users(web, tenants, role):
    user = tenants["ministry"] if role == "ministry" else getattr(tenants["daklak"], role)
    web.login(user.email)
    assert web.client.get("/manage/users").status_code == 403
    assert web.client.get("/manage/users/new").status_code == 403
    target = tenants["daklak"].auditor
    response = web.post_form(f"/manage/users/{target.id}/disable", {}, form_url="/manage")
    assert response.status_code in (403, 404)
    _db.session.refresh(target)
    assert target.active


def test_a_producer_admin_adds_and_disables_users_of_its_own_producer(web, api, tenants, db):
    own = tenants["daklak"]
    own.producer_user.is_producer_admin = True
    db.session.commit()
    web.login(own.producer_user.email)
    page = web.client.get("/manage/users/new").get_data(as_text=True)
    assert 'name="role"' not in page and 'name="is_producer_admin"' in page

    response = web.post_form(
        "/manage/users/new", {"name": "Y Blúp", "email": "yblup@htx.vn", "password": "mat-khau-dai-2"}
    )
    assert response.status_code == 302
    user = _user("yblup@htx.vn")
    assert (user.role, user.producer_id, user.is_producer_admin) == ("producer", own.producer.id, False)
    page = web.client.get("/manage/users").get_data(as_text=True)
    assert "yblup@htx.vn" in page and own.staff.email not in page

    response = web.post_form(f"/manage/users/{user.id}/disable", {}, form_url="/manage/users")
    assert response.status_code == 302
    db.session.refresh(user)
    assert not user.active
    (entry,) = _entries("disable", user)
    assert entry.before["active"] is True and entry.after["active"] is False
    assert entry.producer_id == own.producer.id


def test_nobody_manages_users_of_another_centre_or_producer(web, make, tenants, db):
    own, other = tenants["daklak"], tenants["nghean"]
    neighbour = make.producer(own.centre)
    neighbour_admin = make.user("producer", producer=neighbour, is_producer_admin=True)
    db.session.commit()

    web.login(own.admin.email)
    for target in (other.staff, other.admin, other.producer_user):
        assert web.post_form(f"/manage/users/{target.id}/disable", {}, form_url="/manage").status_code == 404
    # A producer's user of its own centre is the producer's to manage, not the centre admin's.
    assert (
        web.post_form(f"/manage/users/{own.producer_user.id}/disable", {}, form_url="/manage").status_code
        == 403
    )
    web.post_form("/logout", {}, form_url="/manage")

    web.login(neighbour_admin.email)
    for target in (own.producer_user, own.staff, other.producer_user):
        assert web.post_form(f"/manage/users/{target.id}/disable", {}, form_url="/manage").status_code == 404
    for target in (other.staff, other.admin, other.producer_user, own.producer_user, own.staff):
        db.session.refresh(target)
        assert target.active
    with pytest.raises(Forbidden):
        set_user_active(own.producer_user, False, actor=neighbour_admin)


def test_no_one_disables_their_own_account(web, tenants, db):
    own = tenants["daklak"]
    with pytest.raises(Conflict):
        set_user_active(own.admin, False, actor=own.admin)
    web.login(own.admin.email)
    response = web.post_form(f"/manage/users/{own.admin.id}/disable", {}, form_url="/manage")
    assert response.status_code == 409
    assert "You cannot disable your own account." in response.get_data(as_text=True)
    db.session.refresh(own.admin)
    assert own.admin.active


def test_a_disabled_user_is_signed_out_at_the_next_request_and_loses_the_api(client, web, api, tenants, db):
    own = tenants["daklak"]
    staff = own.staff
    assert api.get(f"/producers/{own.producer.id}", staff).status_code == 200  # token issued
    web.login(staff.email)
    assert web.client.get("/manage").status_code == 200

    set_user_active(staff, False, actor=own.admin)
    db.session.commit()

    response = web.client.get("/manage")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")
    assert web.client.get(f"/manage/producers/{own.producer.id}").status_code == 302
    assert api.get(f"/producers/{own.producer.id}", staff).status_code == 401
    assert web.login(staff.email).status_code == 401

    # Enabled again through the web by the centre admin: it signs in again.
    other_client = client.application.test_client()
    other_client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    admin_web = type(web)(other_client)
    admin_web.login(own.admin.email)
    response = admin_web.post_form(f"/manage/users/{staff.id}/enable", {}, form_url="/manage/users")
    assert response.status_code == 302
    assert "can sign in again" in other_client.get("/manage/users").get_data(as_text=True)
    db.session.refresh(staff)
    assert staff.active and [e.action for e in _entries("enable", staff)] == ["enable"]
    assert web.login(staff.email).status_code == 302
    # The token of before the disabling stays revoked (issue 14); a new one works.
    assert api.get(f"/producers/{own.producer.id}", staff).status_code == 401
    api._tokens.clear()
    assert api.get(f"/producers/{own.producer.id}", staff).status_code == 200


def test_enable_and_disable_need_the_forms_csrf_token(web, tenants, db):
    own = tenants["daklak"]
    web.login(own.admin.email)
    assert web.client.post(f"/manage/users/{own.staff.id}/disable").status_code == 400
    assert web.client.get(f"/manage/users/{own.staff.id}/disable").status_code == 405
    db.session.refresh(own.staff)
    assert own.staff.active
