"""Only approved producers write: a pending, rejected or suspended producer publishes nothing, anywhere."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from traceability.batches.epcis import export_batch_chain
from traceability.models.batches import Batch, Item, LabelJob, TraceEvent
from traceability.models.registry import Certification, Location, Product
from traceability.registry.producers import update_producer

NOT_APPROVED = ("pending", "rejected", "suspended")


@pytest.fixture(autouse=True)
def english(client):
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"


def _count(db, model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def _counts(db) -> dict[str, int]:
    models = (Product, Location, Batch, TraceEvent, Item, Certification, LabelJob)
    return {model.__name__: _count(db, model) for model in models}


@pytest.fixture
def unapproved(make, tenants, db):
    """For each status but approved, a producer of Đắk Lắk with its user, and (put there directly,
    as if from before the status) a product, a location and a batch."""

    class Side:
        pass

    sides = {}
    for status in NOT_APPROVED:
        side = Side()
        side.producer = make.producer(tenants["daklak"].centre, status=status)
        side.user = make.user("producer", producer=side.producer, is_producer_admin=True)
        side.product = make.product(side.producer)
        side.location = make.location(side.producer)
        side.batch = make.batch(side.product)
        sides[status] = side
    db.session.commit()
    return sides


def _writes(side, tenants) -> list[tuple[str, str, dict | None]]:
    """Every API write a producer might try: method, path, JSON body."""
    return [
        ("POST", "/products", {"name": "Cà phê giả", "gtin": "8936045000014"}),
        ("PATCH", f"/products/{side.product.id}", {"name": "Đổi tên"}),
        ("POST", "/locations", {"name": "Kho", "kind": "warehouse"}),
        (
            "POST",
            "/batches",
            {
                "product_id": side.product.id,
                "lot_code": "L-NEW",
                "production_date": "2026-11-01",
                "quantity": 10,
                "unit": "KGM",
            },
        ),
        (
            "POST",
            f"/batches/{side.batch.id}/events",
            {"type": "inspecting", "time": "2026-11-02T08:00:00+07:00"},
        ),
        ("POST", f"/batches/{side.batch.id}/serials", {"count": 3}),
        ("POST", f"/batches/{side.batch.id}/label-jobs", {"template": "a4-3x8"}),
        (
            "POST",
            "/certifications",
            {
                "scope": "product",
                "subject_id": side.product.id,
                "type": "vietgap",
                "number": "VG-1",
                "issuer": "Trung tâm Chứng nhận",
                "valid_from": "2026-01-01",
                "valid_to": "2027-01-01",
            },
        ),
        (
            "POST",
            "/certifications",
            {
                "scope": "location",
                "subject_id": side.location.id,
                "type": "vietgap",
                "number": "VG-2",
                "issuer": "Trung tâm Chứng nhận",
                "valid_from": "2026-01-01",
                "valid_to": "2027-01-01",
            },
        ),
    ]


@pytest.mark.parametrize("status", NOT_APPROVED)
def test_a_producer_that_is_not_approved_writes_nothing_through_the_api(api, db, tenants, unapproved, status):
    side = unapproved[status]
    api.token(side.user)
    before = _counts(db)
    for method, path, body in _writes(side, tenants):
        response = api.request(method, path, side.user, json=body)
        assert response.status_code == 403, (method, path, response.get_json())
        error = response.get_json()["error"]
        assert error["code"] == "forbidden"
        assert {"pending": "approval", "rejected": "rejected", "suspended": "suspended"}[status] in error[
            "message"
        ], error["message"]
    labels = api.get(f"/batches/{side.batch.id}/labels.pdf?template=a4-3x8", side.user)
    assert labels.status_code == 403
    capture = api.post("/epcis/capture", side.user, json=export_batch_chain(side.batch))
    assert capture.status_code == 403, capture.get_json()
    assert "approval" in capture.get_json()["error"]["message"] or status != "pending"
    assert _counts(db) == before


def test_an_approved_producer_writes_the_same_records(api, db, tenants):
    own = tenants["daklak"]
    product = api.post("/products", own.producer_user, json={"name": "Cà phê thật", "gtin": "8936045000014"})
    assert product.status_code == 201, product.get_json()
    batch = api.post(
        "/batches",
        own.producer_user,
        json={
            "product_id": product.get_json()["id"],
            "lot_code": "L1",
            "production_date": "2026-11-01",
            "quantity": 10,
            "unit": "KGM",
        },
    )
    assert batch.status_code == 201, batch.get_json()
    batch_id = batch.get_json()["id"]
    event = api.post(
        f"/batches/{batch_id}/events",
        own.producer_user,
        json={"type": "inspecting", "time": "2026-11-02T08:00:00+07:00"},
    )
    assert event.status_code == 201, event.get_json()
    assert api.post(f"/batches/{batch_id}/serials", own.producer_user, json={"count": 2}).status_code == 201
    assert api.get(f"/batches/{batch_id}/labels.pdf?template=a4-3x8", own.producer_user).status_code == 200


def test_centre_staff_are_told_to_approve_the_producer_first(api, db, tenants, unapproved):
    staff = tenants["daklak"].staff
    before = _counts(db)
    pending = unapproved["pending"]
    response = api.post(
        "/products", staff, json={"producer_id": pending.producer.id, "name": "Tương Nam Đàn"}
    )
    assert response.status_code == 403
    assert "approve the producer first" in response.get_json()["error"]["message"]
    suspended = unapproved["suspended"]
    response = api.post(
        f"/batches/{suspended.batch.id}/events",
        staff,
        json={"type": "inspecting", "time": "2026-11-02T08:00:00+07:00"},
    )
    assert response.status_code == 403
    assert "reinstate the producer first" in response.get_json()["error"]["message"]
    # Capture by the centre: the events of a suspended producer's lot are refused, one by one.
    document = export_batch_chain(tenants["daklak"].batch)
    assert api.post("/epcis/capture", staff, json=document).status_code in (201, 202)
    assert _counts(db)["Product"] == before["Product"]


@pytest.mark.parametrize("status", ("pending", "rejected"))
def test_an_applying_producer_completes_its_profile_and_hands_in_its_own_certificates(
    api, db, tenants, unapproved, status
):
    side = unapproved[status]
    update_producer(side.producer, {"phone": "0262 3812 999"}, actor=side.user)
    db.session.commit()
    assert side.producer.phone == "0262 3812 999"
    response = api.post(
        "/certifications",
        side.user,
        json={
            "scope": "producer",
            "subject_id": side.producer.id,
            "type": "other",
            "number": "GCN-ĐKKD-4001",
            "issuer": "Sở Tài chính Đắk Lắk",
            "valid_from": "2026-01-01",
            "valid_to": "2031-01-01",
        },
    )
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["status"] == "pending"


def test_a_suspended_producer_hands_in_no_certificate_at_all(api, unapproved):
    side = unapproved["suspended"]
    response = api.post(
        "/certifications",
        side.user,
        json={
            "scope": "producer",
            "subject_id": side.producer.id,
            "type": "vietgap",
            "number": "VG-9",
            "issuer": "Trung tâm Chứng nhận",
            "valid_from": "2026-01-01",
            "valid_to": "2027-01-01",
        },
    )
    assert response.status_code == 403


def test_the_centre_still_inspects_a_producer_before_approving_it(db, tenants, unapproved):
    from tests.inspections.helpers import checklist
    from traceability.inspections.service import create_inspection

    pending = unapproved["pending"]
    inspection = create_inspection(
        {
            "subject_kind": "producer",
            "subject_id": pending.producer.id,
            "inspected_on": date(2026, 11, 20),
            "inspector": "Lê Văn Kiểm",
            "outcome": "conforming",
            "checklist": checklist("producer"),
        },
        actor=tenants["daklak"].staff,
    )
    assert inspection.producer_id == pending.producer.id


# --- the web ---------------------------------------------------------------------------------------


def test_a_pending_producer_sees_why_instead_of_the_buttons(web, client, unapproved):
    side = unapproved["pending"]
    web.login(side.user.email)
    page = client.get("/manage").get_data(as_text=True)
    assert "waiting for the centre&#39;s approval" in page or "waiting for the centre's approval" in page
    assert "/manage/products/new" not in page
    products = client.get("/manage/products").get_data(as_text=True)
    assert "/manage/products/new" not in products
    assert "approval-notice" in products
    product = client.get(f"/manage/products/{side.product.id}").get_data(as_text=True)
    assert f"/manage/products/{side.product.id}/edit" not in product
    batch = client.get(f"/manage/batches/{side.batch.id}").get_data(as_text=True)
    assert "approval-notice" in batch
    assert f"/manage/batches/{side.batch.id}/labels" not in batch


def test_the_web_forms_refuse_a_pending_producer_and_store_nothing(web, client, db, unapproved):
    side = unapproved["pending"]
    web.login(side.user.email)
    before = _counts(db)
    opened = client.get("/manage/products/new")
    assert opened.status_code == 302
    followed = client.get(opened.headers["Location"]).get_data(as_text=True)
    assert "approval" in followed
    response = web.post_form(
        "/manage/products/new",
        {"name": "Cà phê giả", "gtin": "8936045000014", "category": "Cà phê"},
        form_url="/manage/certifications",
    )
    assert response.status_code == 302
    response = web.post_form(
        f"/manage/products/{side.product.id}/edit",
        {"name": "Đổi tên", "category": "Cà phê"},
        form_url="/manage/certifications",
    )
    assert response.status_code == 422
    assert "approval" in response.get_data(as_text=True)
    response = web.post_form(
        f"/manage/batches/{side.batch.id}/labels",
        {"labels-template": "a4-3x8", "labels-ec": "M", "labels-copies": "24"},
        form_url="/manage/certifications",
    )
    assert response.headers.get("Content-Type") != "application/pdf"
    assert client.get("/manage/batches/new").status_code == 302
    assert client.get("/manage/locations/new").status_code == 302
    assert _counts(db) == before
    db.session.expire_all()
    assert db.session.get(Product, side.product.id).name != "Đổi tên"
