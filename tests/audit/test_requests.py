"""Sign-ins (refused ones too) and the request behind each entry: web, API or command line; no raw IP."""

from __future__ import annotations

import json
import re

from sqlalchemy import select

from traceability.accounts.scope import scoped_select
from traceability.models.audit import AuditEntry

PASSWORD = "correct-horse-42"


def _entries(db, action):
    db.session.expire_all()
    return db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)
    ).all()


def _raw(entry) -> str:
    return json.dumps([entry.before, entry.after, entry.request_info], ensure_ascii=False)


def test_a_web_sign_in_is_recorded_with_its_request_but_not_the_address(web, tenants, db):
    user = tenants["daklak"].staff
    response = web.login(user.email)
    assert response.status_code == 302
    (entry,) = _entries(db, "login")
    assert (entry.user_id, entry.role, entry.centre_id) == (user.id, "centre_staff", user.centre_id)
    info = entry.request_info
    assert (info["via"], info["method"], info["path"]) == ("web", "POST", "/login")
    assert re.fullmatch(r"[0-9a-f]{32}", info["request_id"])
    assert re.fullmatch(r"[0-9a-f]{16}", info["client"])  # a keyed hash, the same for the same address
    assert "127.0.0.1" not in _raw(entry)
    assert PASSWORD not in _raw(entry)
    assert response.headers["X-Request-ID"] == info["request_id"]


def test_a_refused_web_sign_in_is_recorded_without_the_password(web, tenants, db):
    user = tenants["daklak"].producer_user
    response = web.login(user.email, "wrong-password-123")
    assert response.status_code == 401
    (entry,) = _entries(db, "login_failed")
    assert entry.after == {"email": user.email, "reason": "wrong_password"}
    assert (entry.object_type, entry.object_id) == ("User", str(user.id))
    assert entry.user_id is None  # nobody is signed in: the entry names the account tried
    assert (entry.producer_id, entry.centre_id) == (user.producer_id, tenants["daklak"].centre.id)
    assert "wrong-password-123" not in _raw(entry)


def test_a_sign_in_with_an_unknown_email_is_seen_by_the_ministry_only(web, tenants, db):
    web.login("nobody@example.vn", "whatever-it-is-1")
    (entry,) = _entries(db, "login_failed")
    assert entry.after == {"email": "nobody@example.vn", "reason": "unknown_email"}
    assert (entry.object_id, entry.centre_id, entry.producer_id) == (None, None, None)
    visible = db.session.scalars(
        scoped_select(AuditEntry, tenants["ministry"]).where(AuditEntry.id == entry.id)
    )
    assert visible.first() is not None
    for user in (tenants["daklak"].staff, tenants["daklak"].auditor):
        assert (
            db.session.scalars(scoped_select(AuditEntry, user).where(AuditEntry.id == entry.id)).first()
            is None
        )


def test_a_disabled_account_signing_in_is_recorded(web, tenants, db):
    user = tenants["nghean"].staff
    user.active = False
    web.login(user.email)
    (entry,) = _entries(db, "login_failed")
    assert entry.after["reason"] == "disabled"
    assert entry.centre_id == tenants["nghean"].centre.id


def test_signing_out_is_recorded(web, tenants, db):
    user = tenants["daklak"].auditor
    web.login(user.email)
    response = web.post_form("/logout", {}, form_url="/manage/audit")
    assert response.status_code == 302
    (entry,) = _entries(db, "logout")
    assert (entry.user_id, entry.role) == (user.id, "auditor")


def test_a_refused_api_token_request_is_recorded(client, tenants, db):
    user = tenants["daklak"].producer_user
    response = client.post("/api/v1/tokens", json={"email": user.email, "password": "nope-nope-nope"})
    assert response.status_code == 401
    (entry,) = _entries(db, "login_failed")
    assert entry.request_info["via"] == "api"
    assert entry.request_info["path"] == "/api/v1/tokens"
    assert "nope-nope-nope" not in _raw(entry)


def test_an_api_write_carries_the_callers_request_id(api, tenants, db):
    own = tenants["daklak"]
    response = api.post(
        "/products",
        own.producer_user,
        json={"name": "Mật ong Ea Súp"},
        headers={"X-Request-ID": "portal-7f3a-0001"},
    )
    assert response.status_code == 201
    assert response.headers["X-Request-ID"] == "portal-7f3a-0001"
    entry = db.session.scalars(select(AuditEntry).where(AuditEntry.object_type == "Product")).one()
    assert entry.request_info["via"] == "api"
    assert (entry.request_info["method"], entry.request_info["path"]) == ("POST", "/api/v1/products")
    assert entry.request_info["request_id"] == "portal-7f3a-0001"
    assert (entry.user_id, entry.role, entry.producer_id) == (
        own.producer_user.id,
        "producer",
        own.producer.id,
    )


def test_a_request_id_that_is_not_a_plain_token_is_replaced(api, tenants, db):
    own = tenants["daklak"]
    api.post(
        "/products", own.producer_user, json={"name": "Tiêu"}, headers={"X-Request-ID": "<script>x</script>"}
    )
    entry = db.session.scalars(select(AuditEntry).where(AuditEntry.object_type == "Product")).one()
    assert re.fullmatch(r"[0-9a-f]{32}", entry.request_info["request_id"])


def test_command_line_writes_say_so(runner, db):
    result = runner.invoke(args=["create-centre", "--province", "66", "--name", "Trung tâm Đắk Lắk"])
    assert result.exit_code == 0, result.output
    (entry,) = _entries(db, "create")
    assert entry.request_info["via"] == "cli"
    assert "create-centre" in entry.request_info["command"]
    assert entry.user_id is None
