"""Login, logout, CSRF and the pages behind them."""

import pytest

from traceability.models.accounts import User


def test_login_with_right_password_opens_the_dashboard(web, tenants):
    response = web.login(tenants["daklak"].staff.email)
    assert response.status_code == 302
    assert response.headers["Location"] == "/manage"


def test_wrong_password_is_refused_with_a_message(web, tenants):
    response = web.login(tenants["daklak"].staff.email, "not-the-password")
    assert response.status_code == 401
    assert "Sai email hoặc mật khẩu" in response.get_data(as_text=True) or "Wrong email" in response.get_data(
        as_text=True
    )
    assert web.client.get("/manage").status_code == 302


def test_login_without_csrf_token_is_refused(client, tenants):
    response = client.post(
        "/login", data={"email": tenants["daklak"].staff.email, "password": "correct-horse-42"}
    )
    assert response.status_code == 400
    assert client.get("/manage").status_code == 302


def test_disabled_user_cannot_sign_in(web, tenants, db):
    user = tenants["daklak"].staff
    user.active = False
    db.session.commit()
    assert web.login(user.email).status_code == 401


@pytest.mark.parametrize(
    "target", ["https://evil.example/phish", "//evil.example/phish", "/\\evil.example/phish"]
)
def test_next_parameter_never_leaves_the_site(web, tenants, target):
    token = web.csrf_token()
    response = web.client.post(
        "/login",
        query_string={"next": target},
        data={"email": tenants["daklak"].staff.email, "password": "correct-horse-42", "csrf_token": token},
    )
    assert response.headers["Location"] == "/manage"


def test_next_parameter_returns_to_the_requested_page(web, tenants):
    batch = tenants["daklak"].batch
    assert web.client.get(f"/manage/batches/{batch.id}").status_code == 302
    token = web.csrf_token()
    response = web.client.post(
        f"/login?next=/manage/batches/{batch.id}",
        data={"email": tenants["daklak"].staff.email, "password": "correct-horse-42", "csrf_token": token},
    )
    assert response.headers["Location"] == f"/manage/batches/{batch.id}"


def test_logout_needs_post_with_csrf(web, tenants):
    web.login(tenants["daklak"].staff.email)
    assert web.client.get("/logout").status_code == 405
    assert web.client.post("/logout").status_code == 400
    response = web.post_form("/logout", {}, form_url="/manage")
    assert response.status_code == 302
    assert web.client.get("/manage").status_code == 302


def test_passwords_are_stored_hashed(tenants, db):
    user = db.session.get(User, tenants["daklak"].staff.id)
    assert "correct-horse-42" not in user.password_hash
    assert user.password_hash.startswith(("pbkdf2:", "scrypt:"))
