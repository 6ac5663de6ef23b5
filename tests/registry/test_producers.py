"""Producers: sign-up, the centre's decisions, profiles, lists and search, on the web and the API."""

from __future__ import annotations

import io
from datetime import date
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import func, select

from traceability.core.errors import Conflict, Forbidden, InvalidInput
from traceability.models.accounts import User
from traceability.models.audit import AuditEntry
from traceability.models.batches import Batch
from traceability.models.registry import Producer
from traceability.registry.producers import (
    approve_producer,
    reinstate_producer,
    reject_producer,
    suspend_producer,
    update_producer,
)


@pytest.fixture(autouse=True)
def english(client):
    """Pages in English, so the assertions hold whatever the Vietnamese catalog says."""
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"


def _sign_up_form(**overrides):
    data = {
        "name": "HTX Cà phê Ea Tu",
        "kind": "cooperative",
        "tax_code": "6000777001",
        "province_code": "66",
        "ward": "Xã Ea Tu",
        "street": "Thôn 4",
        "phone": "0262 3812 345",
        "email": "",
        "user_name": "Nguyễn Thị Hoa",
        "user_email": "hoa@htxeatu.vn",
        "user_password": "ca-phe-ea-tu-2026",
        "user_password_again": "ca-phe-ea-tu-2026",
    }
    data.update(overrides)
    return data


def _count(db, model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def _audit(db, action, producer):
    return db.session.scalars(
        select(AuditEntry).where(
            AuditEntry.action == action,
            AuditEntry.object_type == "Producer",
            AuditEntry.object_id == str(producer.id),
        )
    ).all()


def _png(width=120, height=80) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), "#0b6b3a").save(buffer, format="PNG")
    return buffer.getvalue()


# Sign-up


def test_the_login_page_links_to_the_sign_up(client):
    page = client.get("/login").get_data(as_text=True)
    assert 'href="/producers/sign-up"' in page


def test_a_producer_signs_up_pending_and_its_admin_signs_in(web, tenants, db):
    response = web.post_form("/producers/sign-up", _sign_up_form())
    assert response.status_code == 302
    producer = db.session.scalar(select(Producer).where(Producer.tax_code == "6000777001"))
    # Not signed in at once: the answer is the same whether or not the email had an account.
    assert response.headers["Location"] == "/producers/sign-up/received"
    assert "If this email can be registered" in web.client.get(
        "/producers/sign-up/received", headers={"Accept-Language": "en"}
    ).get_data(as_text=True)
    assert web.login("hoa@htxeatu.vn", "ca-phe-ea-tu-2026").status_code == 302
    assert producer.status == "pending"
    assert producer.centre_id == tenants["daklak"].centre.id
    assert producer.email == "hoa@htxeatu.vn"  # the contact email defaults to the sign-in email
    user = db.session.scalar(select(User).where(User.email == "hoa@htxeatu.vn"))
    assert (user.role, user.producer_id, user.is_producer_admin) == ("producer", producer.id, True)
    assert {
        e.object_type for e in db.session.scalars(select(AuditEntry).where(AuditEntry.action == "create"))
    } >= {
        "Producer",
        "User",
    }

    page = web.client.get(f"/manage/producers/{producer.id}").get_data(as_text=True)
    assert "waiting for the approval of" in page
    assert "You can complete your profile meanwhile" in page


def test_a_household_may_sign_up_without_a_tax_code(web, tenants, db):
    response = web.post_form("/producers/sign-up", _sign_up_form(kind="household", tax_code=""))
    assert response.status_code == 302
    assert db.session.scalar(select(Producer).where(Producer.name == "HTX Cà phê Ea Tu")).tax_code is None


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"tax_code": "60007770"}, "A tax code has 10 digits"),
        ({"tax_code": "6000777001-1"}, "A tax code has 10 digits"),
        ({"tax_code": ""}, "Enterprises and cooperatives must give their tax code."),
        ({"tax_code": "duplicate"}, "A producer with this tax code is already registered."),
        ({"province_code": "96"}, "No centre serves this province yet"),
        ({"user_password": "short", "user_password_again": "short"}, "Use at least 10 characters."),
        (
            {"user_password": "password123", "user_password_again": "password123"},
            "This password is one of the most common ones",
        ),
        ({"user_password_again": "something-else"}, "The passwords differ."),
        ({"ward": ""}, "This field is required."),
        ({"phone": "call me"}, "Enter a phone number of digits"),
    ],
)
def test_sign_up_refusals_say_why_and_store_nothing(web, tenants, db, overrides, message):
    existing = tenants["daklak"].producer
    if overrides.get("tax_code") == "duplicate":
        overrides["tax_code"] = existing.tax_code
    if overrides.get("user_email") == "duplicate":
        overrides["user_email"] = tenants["daklak"].staff.email
    producers, users, entries = _count(db, Producer), _count(db, User), _count(db, AuditEntry)

    response = web.post_form("/producers/sign-up", _sign_up_form(**overrides))

    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert (_count(db, Producer), _count(db, User), _count(db, AuditEntry)) == (producers, users, entries)
    assert web.client.get("/manage").status_code == 302  # nobody is signed in


def test_signed_in_users_are_sent_away_from_the_sign_up(web, tenants):
    web.login(tenants["daklak"].producer_user.email)
    response = web.client.get("/producers/sign-up")
    assert response.status_code == 302
    assert response.headers["Location"] == "/manage/producers/me"


def test_a_pending_producer_sees_its_profile_but_cannot_record_batches(web, api, make, tenants, db):
    centre = tenants["daklak"].centre
    producer = make.producer(centre, status="pending")
    product = make.product(producer)
    user = make.user("producer", producer=producer, is_producer_admin=True)
    db.session.commit()

    web.login(user.email)
    assert "waiting for the approval" in web.client.get(f"/manage/producers/{producer.id}").get_data(
        as_text=True
    )
    batch = {
        "product_id": product.id,
        "lot_code": "L1",
        "production_date": "2026-10-01",
        "quantity": 5,
        "unit": "KGM",
    }
    response = api.post("/batches", user, json=batch)
    assert response.status_code == 403
    assert "waiting for the centre's approval" in response.get_json()["error"]["message"]
    # The batch form is not offered: the producer is sent back with the reason, and nothing is stored.
    response = web.post_form(
        "/manage/batches/new", {**batch, "location_id": ""}, form_url="/account/password"
    )
    assert response.status_code == 302
    assert "waiting for the centre" in web.client.get(response.headers["Location"]).get_data(as_text=True)
    assert _count(db, Batch) == 2  # only the two tenants' batches


# The centre's decisions


def test_own_centre_staff_approve_on_the_web_with_an_audit_entry(web, make, tenants, db):
    own = tenants["daklak"]
    producer = make.producer(own.centre, status="pending")
    db.session.commit()
    web.login(own.staff.email)
    page = web.client.get(f"/manage/producers/{producer.id}").get_data(as_text=True)
    assert f'action="/manage/producers/{producer.id}/approve"' in page

    response = web.post_form(
        f"/manage/producers/{producer.id}/approve", {}, form_url=f"/manage/producers/{producer.id}"
    )

    assert response.status_code == 302
    db.session.refresh(producer)
    assert producer.status == "approved" and producer.status_changed_at is not None
    (entry,) = _audit(db, "approve", producer)
    assert entry.before["status"] == "pending" and entry.after["status"] == "approved"
    assert (entry.user_id, entry.role) == (own.staff.id, "centre_staff")
    assert "The producer is approved." in web.client.get(response.headers["Location"]).get_data(as_text=True)


def test_a_rejection_needs_a_reason_the_producer_then_sees(web, make, tenants, db):
    own = tenants["daklak"]
    producer = make.producer(own.centre, status="pending")
    user = make.user("producer", producer=producer, is_producer_admin=True)
    db.session.commit()
    url = f"/manage/producers/{producer.id}"
    web.login(own.admin.email)

    response = web.post_form(f"{url}/reject", {"reason": "  "}, form_url=url)
    assert response.status_code == 422
    assert "Give a reason: the producer will see it." in response.get_data(as_text=True)
    db.session.refresh(producer)
    assert producer.status == "pending" and _audit(db, "reject", producer) == []

    reason = "Giấy đăng ký HTX không khớp với mã số thuế."
    assert web.post_form(f"{url}/reject", {"reason": reason}, form_url=url).status_code == 302
    db.session.refresh(producer)
    assert (producer.status, producer.status_reason) == ("rejected", reason)
    (entry,) = _audit(db, "reject", producer)
    assert entry.before["status"] == "pending" and entry.after["status_reason"] == reason

    web.post_form("/logout", {}, form_url="/manage")
    web.login(user.email)
    page = web.client.get(url).get_data(as_text=True)
    assert "The centre rejected this registration." in page and reason in page


def test_a_rejected_producer_fixing_its_profile_goes_back_to_pending(web, make, tenants, db):
    own = tenants["daklak"]
    producer = make.producer(own.centre, status="rejected", status_reason="Thiếu số điện thoại.")
    user = make.user("producer", producer=producer, is_producer_admin=True)
    db.session.commit()
    web.login(user.email)
    url = f"/manage/producers/{producer.id}/edit"
    form = {
        "name": producer.name,
        "kind": producer.kind,
        "tax_code": producer.tax_code,
        "phone": "0905 123 456",
    }

    response = web.post_form(url, form)

    assert response.status_code == 302
    db.session.refresh(producer)
    assert (producer.status, producer.phone, producer.status_reason) == ("pending", "0905 123 456", None)
    page = web.client.get(response.headers["Location"]).get_data(as_text=True)
    assert "sent to the centre again" in page
    # The centre can then approve it.
    assert approve_producer(producer, actor=own.staff).status == "approved"


def test_suspension_through_the_api_shows_on_the_public_page_and_stops_batches(api, client, tenants, db):
    own = tenants["daklak"]
    reason = "Phát hiện dư lượng thuốc bảo vệ thực vật vượt ngưỡng."
    response = api.post(f"/producers/{own.producer.id}/suspend", own.staff, json={"reason": reason})
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["status"] == "suspended"
    assert response.get_json()["status_reason"] == reason

    public = client.get(f"/t/{own.batch.public_code}")
    assert public.status_code == 200
    assert "This producer is currently suspended by the provincial centre." in public.get_data(as_text=True)
    batch = {
        "product_id": own.product.id,
        "lot_code": "L9",
        "production_date": "2026-10-01",
        "quantity": 5,
        "unit": "KGM",
    }
    response = api.post("/batches", own.producer_user, json=batch)
    assert response.status_code == 403
    assert "suspended" in response.get_json()["error"]["message"]

    response = api.post(f"/producers/{own.producer.id}/reinstate", own.admin)
    assert response.status_code == 200 and response.get_json()["status"] == "approved"
    assert response.get_json()["status_reason"] is None
    assert "suspended" not in client.get(f"/t/{own.batch.public_code}").get_data(as_text=True)
    assert api.post("/batches", own.producer_user, json=batch).status_code == 201


def test_a_suspended_producer_cannot_record_a_batch_on_the_web(web, tenants, db):
    own = tenants["daklak"]
    suspend_producer(own.producer, "Kiểm tra đột xuất.", actor=own.staff)
    db.session.commit()
    web.login(own.producer_user.email)
    response = web.post_form(
        "/manage/batches/new",
        {
            "product_id": own.product.id,
            "lot_code": "W1",
            "production_date": "2026-10-01",
            "quantity": "5",
            "unit": "KGM",
        },
        form_url="/account/password",  # the batch form itself is not offered to a suspended producer
    )
    assert response.status_code == 302
    assert db.session.scalar(select(Batch).where(Batch.lot_code == "W1")) is None
    page = web.client.get(f"/manage/producers/{own.producer.id}").get_data(as_text=True)
    assert "Kiểm tra đột xuất." in page and "cannot record new batches" in page


@pytest.mark.parametrize("action", ["approve", "reject", "suspend", "reinstate"])
def test_another_provinces_staff_cannot_decide(web, api, tenants, db, action):
    own, other = tenants["daklak"], tenants["nghean"]
    statuses = {"approve": "pending", "reject": "pending", "suspend": "approved", "reinstate": "suspended"}
    own.producer.status = statuses[action]
    db.session.commit()
    url = f"/manage/producers/{own.producer.id}"

    for user in (other.staff, other.admin):
        assert (
            api.post(f"/producers/{own.producer.id}/{action}", user, json={"reason": "x"}).status_code == 404
        )
    web.login(other.admin.email)
    assert web.client.get(url).status_code == 404
    assert web.post_form(f"{url}/{action}", {"reason": "x"}, form_url="/manage").status_code == 404

    db.session.refresh(own.producer)
    assert own.producer.status == statuses[action]
    assert _audit(db, action, own.producer) == []


@pytest.mark.parametrize("role", ["auditor", "ministry", "producer_user"])
def test_read_only_roles_and_producers_cannot_decide(web, api, make, tenants, db, role):
    own = tenants["daklak"]
    producer = make.producer(own.centre, status="pending")
    user = tenants["ministry"] if role == "ministry" else getattr(own, role)
    if role == "producer_user":
        user = make.user("producer", producer=producer, is_producer_admin=True)
    db.session.commit()

    response = api.post(f"/producers/{producer.id}/approve", user)
    assert response.status_code == 403
    assert response.get_json()["error"]["code"] == "forbidden"
    assert api.post(f"/producers/{producer.id}/reject", user, json={"reason": "Không"}).status_code == 403

    web.login(user.email)
    url = f"/manage/producers/{producer.id}"
    page = web.client.get(url).get_data(as_text=True)
    assert "/approve" not in page and "/reject" not in page
    response = web.post_form(f"{url}/approve", {}, form_url=url)
    assert response.status_code == 403
    assert "Only the staff of the producer&#39;s own centre" in response.get_data(as_text=True)
    db.session.refresh(producer)
    assert producer.status == "pending"


def test_a_reason_is_required_to_reject_or_suspend_through_the_api(api, make, tenants, db):
    own = tenants["daklak"]
    pending = make.producer(own.centre, status="pending")
    db.session.commit()
    for path, body in (
        (f"/producers/{pending.id}/reject", {}),
        (f"/producers/{pending.id}/reject", {"reason": ""}),
        (f"/producers/{pending.id}/reject", {"reason": "   "}),
        (f"/producers/{own.producer.id}/suspend", {"reason": ""}),
    ):
        response = api.post(path, own.staff, json=body)
        assert response.status_code == 422, path
        assert "reason" in response.get_json()["error"]["fields"]
    db.session.refresh(pending)
    db.session.refresh(own.producer)
    assert (pending.status, own.producer.status) == ("pending", "approved")


@pytest.mark.parametrize(
    ("status", "decide"),
    [
        ("approved", lambda p, u: approve_producer(p, actor=u)),
        ("suspended", lambda p, u: approve_producer(p, actor=u)),
        ("approved", lambda p, u: reject_producer(p, "Không đạt", actor=u)),
        ("suspended", lambda p, u: reject_producer(p, "Không đạt", actor=u)),
        ("pending", lambda p, u: suspend_producer(p, "Vi phạm", actor=u)),
        ("rejected", lambda p, u: suspend_producer(p, "Vi phạm", actor=u)),
        ("approved", lambda p, u: reinstate_producer(p, actor=u)),
        ("pending", lambda p, u: reinstate_producer(p, actor=u)),
    ],
)
def test_disallowed_transitions_are_refused_naming_the_current_status(tenants, db, status, decide):
    own = tenants["daklak"]
    own.producer.status = status
    with pytest.raises(Conflict) as caught:
        decide(own.producer, own.staff)
    assert "current status" in str(caught.value.message).lower() or "hiện" in str(caught.value.message)
    assert own.producer.status == status


def test_a_disallowed_transition_answers_409_on_the_api_and_the_web(web, api, tenants, db):
    own = tenants["daklak"]
    response = api.post(f"/producers/{own.producer.id}/approve", own.staff)
    assert response.status_code == 409
    assert "current status: Approved" in response.get_json()["error"]["message"]
    web.login(own.staff.email)
    url = f"/manage/producers/{own.producer.id}"
    response = web.post_form(f"{url}/reinstate", {}, form_url=url)
    assert response.status_code == 409
    assert "Only a suspended producer can be reinstated" in response.get_data(as_text=True)


def test_only_the_centres_staff_decide_at_service_level(tenants, make):
    own, other = tenants["daklak"], tenants["nghean"]
    producer = make.producer(own.centre, status="pending")
    for user in (other.staff, own.auditor, tenants["ministry"], own.producer_user):
        with pytest.raises(Forbidden):
            approve_producer(producer, actor=user)
    assert producer.status == "pending"


# Lists and search


def test_search_ignores_diacritics_and_case_on_the_web_and_the_api(web, api, make, tenants, db):
    own = tenants["daklak"]
    make.producer(own.centre, name="HTX Cà phê Đắk Mil", tax_code="6000888001")
    make.producer(own.centre, name="Công ty TNHH Mật ong Hạnh", tax_code="6000888002")
    make.producer(tenants["nghean"].centre, name="HTX Cà phê Quỳ Hợp", tax_code="2900888003")
    db.session.commit()

    found = api.get("/producers?q=htx ca phe dak", own.staff).get_json()
    assert [p["name"] for p in found["items"]] == ["HTX Cà phê Đắk Mil"]
    found = api.get("/producers?q=MAT ONG", own.staff).get_json()
    assert [p["name"] for p in found["items"]] == ["Công ty TNHH Mật ong Hạnh"]
    found = api.get("/producers?q=6000888002", own.staff).get_json()
    assert found["total"] == 1
    found = api.get("/producers?q=cà phê", tenants["ministry"]).get_json()
    assert {p["name"] for p in found["items"]} >= {"HTX Cà phê Đắk Mil", "HTX Cà phê Quỳ Hợp"}
    assert "HTX Cà phê Quỳ Hợp" not in {
        p["name"] for p in api.get("/producers?q=ca phe", own.staff).get_json()["items"]
    }
    # % and _ are taken literally
    assert api.get("/producers?q=%25", own.staff).get_json()["total"] == 0

    web.login(own.staff.email)
    page = web.client.get("/manage/producers?q=htx+ca+phe+dak").get_data(as_text=True)
    assert "HTX Cà phê Đắk Mil" in page and "Mật ong" not in page
    page = web.client.get("/manage/producers?q=khong+co+ai").get_data(as_text=True)
    assert "No producer matches these filters." in page


def test_filters_by_kind_status_and_province(web, api, make, tenants, db):
    own, other = tenants["daklak"], tenants["nghean"]
    make.producer(own.centre, name="Hộ Mật ong Ea Kar", kind="household", tax_code=None, status="pending")
    make.producer(other.centre, name="Hộ Chè Thanh Chương", kind="household", tax_code=None, status="pending")
    db.session.commit()

    names = lambda response: {p["name"] for p in response.get_json()["items"]}  # noqa: E731
    assert names(api.get("/producers?kind=household", own.staff)) == {"Hộ Mật ong Ea Kar"}
    assert names(api.get("/producers?status=pending", tenants["ministry"])) == {
        "Hộ Mật ong Ea Kar",
        "Hộ Chè Thanh Chương",
    }
    assert names(api.get("/producers?province=40&status=pending", tenants["ministry"])) == {
        "Hộ Chè Thanh Chương"
    }
    # A centre's users stay within their centre, whatever the province asked.
    assert names(api.get("/producers?province=40", own.staff)) == set()
    assert api.get("/producers?status=sleeping", own.staff).status_code == 422

    web.login(tenants["ministry"].email)
    page = web.client.get("/manage/producers?province=40&kind=household").get_data(as_text=True)
    assert "Hộ Chè Thanh Chương" in page and "Hộ Mật ong Ea Kar" not in page
    web.post_form("/logout", {}, form_url="/manage")
    web.login(own.auditor.email)
    page = web.client.get("/manage/producers?province=40&status=pending").get_data(as_text=True)
    assert 'name="province"' not in page  # only the ministry chooses a province
    assert "Hộ Mật ong Ea Kar" in page and "Hộ Chè Thanh Chương" not in page


def test_lists_are_paginated(web, api, make, tenants, db):
    own = tenants["daklak"]
    for n in range(24):
        make.producer(own.centre, name=f"Hộ Sầu riêng {n:02d}", kind="household", tax_code=None)
    db.session.commit()

    web.login(own.staff.email)
    first = web.client.get("/manage/producers?kind=household").get_data(as_text=True)
    assert first.count("Hộ Sầu riêng") == 20 and "Page 1 of 2" in first
    assert "/manage/producers?page=2&amp;kind=household" in first
    second = web.client.get("/manage/producers?kind=household&page=2").get_data(as_text=True)
    assert second.count("Hộ Sầu riêng") == 4 and "Hộ Sầu riêng 23" in second
    assert web.client.get("/manage/producers?page=99").status_code == 200

    body = api.get("/producers?kind=household&per_page=10&page=3", own.staff).get_json()
    assert (body["total"], body["page"], body["per_page"], len(body["items"])) == (24, 3, 10, 4)


def test_a_producer_user_sees_only_its_own_profile(web, api, tenants):
    own, other = tenants["daklak"], tenants["nghean"]
    web.login(own.producer_user.email)
    assert web.client.get("/manage/producers").headers["Location"] == f"/manage/producers/{own.producer.id}"
    assert (
        web.client.get("/manage/producers/me").headers["Location"] == f"/manage/producers/{own.producer.id}"
    )
    assert web.client.get(f"/manage/producers/{other.producer.id}").status_code == 404
    assert [p["id"] for p in api.get("/producers", own.producer_user).get_json()["items"]] == [
        own.producer.id
    ]


def test_the_empty_list_says_how_producers_arrive(web, make, db):
    centre = make.centre("96")
    staff = make.user("centre_staff", centre=centre)
    db.session.commit()
    web.login(staff.email)
    page = web.client.get("/manage/producers").get_data(as_text=True)
    assert "No producers yet." in page


# Profile


def _profile_form(producer, **overrides):
    data = {
        "name": producer.name,
        "kind": producer.kind,
        "tax_code": producer.tax_code or "",
        "ward": producer.ward,
        "street": producer.street,
        "phone": producer.phone,
        "email": producer.email,
        "website": producer.website,
        "previous_province_code": "",
        "previous_ward": "",
        "previous_street": "",
    }
    data.update(overrides)
    return data


def test_the_producer_admin_edits_its_profile_and_previous_address(web, tenants, db):
    own = tenants["daklak"]
    own.producer_user.is_producer_admin = True
    db.session.commit()
    web.login(own.producer_user.email)
    url = f"/manage/producers/{own.producer.id}/edit"
    form_page = web.client.get(url).get_data(as_text=True)
    assert "stay lawful for two years" in form_page
    assert "The province cannot be changed here" in form_page

    response = web.post_form(
        url,
        _profile_form(
            own.producer,
            phone="0262 3999 888",
            website="https://htx.example.vn",
            previous_province_code="66",
            previous_ward="Xã Ea Tu, thành phố Buôn Ma Thuột",
        ),
    )

    assert response.status_code == 302
    db.session.refresh(own.producer)
    assert own.producer.phone == "0262 3999 888"
    assert own.producer.previous_ward == "Xã Ea Tu, thành phố Buôn Ma Thuột"
    (entry,) = _audit(db, "update", own.producer)
    assert entry.before["phone"] != "0262 3999 888" and entry.after["phone"] == "0262 3999 888"
    assert entry.before["previous_ward"] is None
    page = web.client.get(f"/manage/producers/{own.producer.id}").get_data(as_text=True)
    assert "Previous address" in page and "Xã Ea Tu, thành phố Buôn Ma Thuột, Đắk Lắk" in page


def test_profile_refusals(web, api, make, tenants, db):
    own, other = tenants["daklak"], tenants["nghean"]
    url = f"/manage/producers/{own.producer.id}/edit"
    # A producer user who is not its administrator, an auditor, the ministry: no edit.
    for user in (own.producer_user, own.auditor, tenants["ministry"]):
        web.login(user.email)
        assert web.client.get(url).status_code == 403
        web.post_form("/logout", {}, form_url="/manage")
    web.login(other.staff.email)
    assert web.client.get(url).status_code == 404
    web.post_form("/logout", {}, form_url="/manage")

    web.login(own.staff.email)
    response = web.post_form(url, _profile_form(own.producer, tax_code=other.producer.tax_code))
    assert response.status_code == 422
    assert "A producer with this tax code is already registered." in response.get_data(as_text=True)
    response = web.post_form(url, _profile_form(own.producer, website="htx.example.vn"))
    assert response.status_code == 422 and "starts with https://" in response.get_data(as_text=True)

    response = api.request("PATCH", f"/producers/{own.producer.id}", own.staff, json={"province_code": "40"})
    assert response.status_code == 422
    assert "province_code" in response.get_json()["error"]["fields"]
    response = api.request(
        "PATCH", f"/producers/{own.producer.id}", own.auditor, json={"phone": "0905 111 222"}
    )
    assert response.status_code == 403
    response = api.request(
        "PATCH", f"/producers/{own.producer.id}", other.staff, json={"phone": "0905 111 222"}
    )
    assert response.status_code == 404
    db.session.refresh(own.producer)
    assert own.producer.province_code == "66" and own.producer.phone != "0905 111 222"
    assert _audit(db, "update", own.producer) == []


def test_centre_staff_patch_a_profile_through_the_api(api, tenants, db):
    own = tenants["daklak"]
    response = api.request(
        "PATCH",
        f"/producers/{own.producer.id}",
        own.staff,
        json={"address": "45 Nguyễn Tất Thành", "previous_province_code": "66", "phone": "0262 3555 666"},
    )
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert (body["address"], body["phone"], body["previous_province_code"]) == (
        "45 Nguyễn Tất Thành",
        "0262 3555 666",
        "66",
    )
    assert body["name"] == own.producer.name  # untouched fields stay


def test_kind_needing_a_tax_code_is_enforced_on_update(tenants, make):
    own = tenants["daklak"]
    household = make.producer(own.centre, kind="household", tax_code=None)
    with pytest.raises(InvalidInput) as caught:
        update_producer(household, {"kind": "enterprise"}, actor=own.staff)
    assert "tax_code" in caught.value.fields


def test_a_logo_is_stored_small_and_shown_on_the_profile(web, app, tenants, db):
    own = tenants["daklak"]
    web.login(own.staff.email)
    url = f"/manage/producers/{own.producer.id}/edit"
    data = {**_profile_form(own.producer), "logo": (io.BytesIO(_png(1200, 800)), "logo.png")}

    response = web.post_form(url, data, content_type="multipart/form-data")

    assert response.status_code == 302
    db.session.refresh(own.producer)
    stored = Path(app.config["UPLOAD_FOLDER"]) / "images" / own.producer.logo_filename
    with Image.open(stored) as image:
        assert max(image.size) <= 400
    page = web.client.get(f"/manage/producers/{own.producer.id}").get_data(as_text=True)
    assert f'src="/media/{own.producer.logo_filename}"' in page
    with web.client.get(f"/media/{own.producer.logo_filename}") as media:
        assert media.status_code == 200 and media.mimetype == "image/jpeg"
    (entry,) = _audit(db, "update", own.producer)
    assert (
        entry.before["logo_filename"] is None and entry.after["logo_filename"] == own.producer.logo_filename
    )


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"<html><script>alert(1)</script></html>", "This is not a PNG, JPEG or WebP image."),
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 64, "The image is damaged or incomplete."),
        ("oversized", "The image is too large: use a file of at most 50 KB."),
    ],
)
def test_fake_damaged_or_oversized_logos_are_refused(web, app, tenants, db, monkeypatch, content, message):
    own = tenants["daklak"]
    if content == "oversized":
        # A small limit keeps the upload below the size the test client spools to a temporary file.
        monkeypatch.setitem(app.config, "MAX_IMAGE_BYTES", 50 * 1024)
        content = _png() + b"\x00" * (60 * 1024)
    web.login(own.staff.email)
    url = f"/manage/producers/{own.producer.id}/edit"
    phone_before = own.producer.phone
    data = {**_profile_form(own.producer, phone="0909 000 111"), "logo": (io.BytesIO(content), "logo.png")}

    response = web.post_form(url, data, content_type="multipart/form-data")

    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    db.session.refresh(own.producer)
    assert own.producer.logo_filename is None
    assert own.producer.phone == phone_before  # nothing of the form is kept
    assert _audit(db, "update", own.producer) == []


def test_the_api_lists_status_dates_and_reasons(api, tenants, db):
    own = tenants["daklak"]
    suspend_producer(own.producer, "Tạm dừng để kiểm tra.", actor=own.staff)
    db.session.commit()
    body = api.get(f"/producers/{own.producer.id}", own.producer_user).get_json()
    assert body["status"] == "suspended" and body["status_reason"] == "Tạm dừng để kiểm tra."
    assert date.fromisoformat(body["status_changed_at"][:10]) <= date.today()
    assert body["logo_url"] is None
