"""The inspections API: opening, reading, answering, closing and reopening, within the tenant scope."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from PIL import Image
from sqlalchemy import func, select

from tests.inspections.helpers import NOT_AN_IMAGE, TODAY, as_json, conforming, nonconformity, picture
from traceability.models.audit import AuditEntry
from traceability.models.inspections import Inspection


def _create(api, user, data):
    return api.post("/inspections", user, json=as_json(data))


@pytest.fixture
def open_id(api, tenants):
    own = tenants["daklak"]
    response = _create(api, own.staff, nonconformity("batch", own.batch.id))
    assert response.status_code == 201, response.get_json()
    return response.get_json()["id"]


def test_staff_open_an_inspection_and_everyone_in_scope_reads_it(api, tenants, open_id):
    own = tenants["daklak"]
    for reader in (own.staff, own.auditor, own.producer_user, tenants["ministry"]):
        response = api.get(f"/inspections/{open_id}", reader)
        assert response.status_code == 200
    body = response.get_json()
    assert body["subject_kind"] == "batch" and body["subject_id"] == own.batch.id
    assert (body["outcome"], body["severity"], body["status"], body["overdue"]) == (
        "nonconformity",
        "major",
        "open",
        False,
    )
    assert body["follow_up_on"] == (TODAY + timedelta(days=30)).isoformat()
    labels = {row["item"]: row["answer"] for row in body["checklist"]}
    assert labels["labels_art_23_5"] == "no" and len(labels) == 8


def test_the_checklists_are_published(api, tenants, english):
    body = api.get("/inspections/checklists", tenants["daklak"].staff).get_json()
    assert set(body) == {"producer", "location", "batch"}
    assert {
        "item": "trace_back",
        "label": "Traceability one step back: the suppliers and inputs of each lot are recorded",
    } in body["batch"]


def test_validation_errors_name_each_field(api, tenants, english):
    own = tenants["daklak"]
    response = _create(api, own.staff, nonconformity("producer", own.producer.id, follow_up_on=None))
    assert response.status_code == 422
    assert response.get_json()["error"]["fields"] == {
        "follow_up_on": "A nonconformity needs a follow-up date."
    }
    response = _create(api, own.staff, conforming("producer", own.producer.id, severity="minor"))
    assert response.get_json()["error"]["fields"] == {
        "severity": "Severity applies only to a nonconformity; leave it empty."
    }
    response = _create(api, own.staff, conforming("producer", own.producer.id, checklist=[]))
    assert response.status_code == 422
    assert "checklist.hygiene" in response.get_json()["error"]["fields"]
    response = _create(api, own.staff, conforming("producer", own.producer.id, outcome="ok"))
    assert response.status_code == 422 and "outcome" in response.get_json()["error"]["fields"]
    assert api.post("/inspections", own.staff, data="not json").status_code == 400
    assert api.get("/inspections", own.staff).get_json()["total"] == 0


def test_other_provinces_and_producers_get_403_or_404(api, tenants, open_id):
    own, other = tenants["daklak"], tenants["nghean"]
    response = _create(api, other.staff, conforming("producer", own.producer.id))
    assert response.status_code == 403
    assert "subject_id" in response.get_json()["error"]["fields"]
    assert _create(api, own.producer_user, conforming("producer", own.producer.id)).status_code == 403
    assert _create(api, own.auditor, conforming("producer", own.producer.id)).status_code == 403
    for outsider in (other.staff, other.auditor, other.producer_user):
        assert api.get(f"/inspections/{open_id}", outsider).status_code == 404
        assert api.get("/inspections", outsider).get_json()["total"] == 0
    assert (
        api.post(f"/inspections/{open_id}/answer", other.producer_user, json={"response": "x"}).status_code
        == 404
    )
    assert api.post(f"/inspections/{open_id}/close", other.staff, json={}).status_code == 404
    assert api.post(f"/inspections/{open_id}/reopen", other.staff, json={"reason": "x"}).status_code == 404


def test_answer_close_and_reopen(api, tenants, open_id, db, english):
    own = tenants["daklak"]
    response = api.post(f"/inspections/{open_id}/close", own.staff, json={})
    assert response.status_code == 409
    assert "has not answered yet" in response.get_json()["error"]["message"]
    assert api.post(f"/inspections/{open_id}/answer", own.staff, json={"response": "x"}).status_code == 403

    response = api.post(
        f"/inspections/{open_id}/answer",
        own.producer_user,
        data={"response": "Đã in lại nhãn.", "photo": (io.BytesIO(picture("JPEG")), "nhan.jpg")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["status"] == "answered"
    (answer,) = body["follow_ups"]
    assert answer["kind"] == "answer" and answer["author_id"] == own.producer_user.id
    photo_url = answer["photos"][0]["thumbnail_url"]
    with api.get(photo_url.split("/api/v1")[1], own.staff) as photo:
        assert photo.status_code == 200 and photo.mimetype == "image/jpeg"
        assert max(Image.open(io.BytesIO(photo.data)).size) <= 400
    assert api.get(photo_url.split("/api/v1")[1], tenants["nghean"].staff).status_code == 404

    assert (
        api.post(f"/inspections/{open_id}/answer", own.producer_user, json={"response": "x"}).status_code
        == 409
    )
    assert api.post(f"/inspections/{open_id}/close", own.producer_user, json={}).status_code == 403
    response = api.post(
        f"/inspections/{open_id}/reopen",
        own.staff,
        json={"reason": "Ảnh chưa rõ.", "follow_up_on": (TODAY + timedelta(days=50)).isoformat()},
    )
    assert response.get_json()["status"] == "open"
    assert (
        api.post(
            f"/inspections/{open_id}/answer", own.producer_user, json={"response": "Ảnh mới."}
        ).status_code
        == 200
    )
    response = api.post(f"/inspections/{open_id}/close", own.admin, json={"note": "Đạt."})
    assert response.status_code == 200 and response.get_json()["status"] == "closed"
    assert [step["kind"] for step in response.get_json()["follow_ups"]] == [
        "answer",
        "reopen",
        "answer",
        "close",
    ]
    actions = db.session.scalars(
        select(AuditEntry.action).where(AuditEntry.object_type == "Inspection").order_by(AuditEntry.id)
    ).all()
    assert actions == ["create", "answer", "reopen", "answer", "close"]


def test_an_answer_photo_that_is_not_an_image_is_refused(api, tenants, open_id, english, db):
    response = api.post(
        f"/inspections/{open_id}/answer",
        tenants["daklak"].producer_user,
        data={"response": "Đã sửa.", "photo": (io.BytesIO(NOT_AN_IMAGE), "nhan.png")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 422
    assert response.get_json()["error"]["fields"] == {"photo": "This file is not a PNG, JPEG or WebP image."}
    assert db.session.get(Inspection, open_id).status == "open"


def test_staff_add_photos_and_refusals_change_nothing(api, tenants, open_id, db, english):
    own = tenants["daklak"]
    response = api.post(
        f"/inspections/{open_id}/photos",
        own.staff,
        data={"file": (io.BytesIO(picture("PNG", (2000, 1000))), "kho.png")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 201
    (photo,) = response.get_json()["photos"]
    assert (photo["width"], photo["height"]) == (1600, 800)
    response = api.post(
        f"/inspections/{open_id}/photos",
        own.staff,
        data={"file": (io.BytesIO(b"%PDF-1.7 not a photo"), "bien-ban.pdf")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 422
    response = api.post(
        f"/inspections/{open_id}/photos",
        own.producer_user,
        data={"file": (io.BytesIO(picture()), "a.png")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 403
    assert len(api.get(f"/inspections/{open_id}", own.staff).get_json()["photos"]) == 1


def test_the_list_filters(api, tenants, open_id):
    own = tenants["daklak"]
    assert _create(api, own.staff, conforming("producer", own.producer.id)).status_code == 201
    assert api.get("/inspections", own.producer_user).get_json()["total"] == 2
    body = api.get("/inspections?status=open&outcome=nonconformity", own.staff).get_json()
    assert [item["id"] for item in body["items"]] == [open_id]
    assert api.get(f"/inspections?batch_id={own.batch.id}", own.staff).get_json()["total"] == 1
    assert api.get("/inspections?subject_kind=producer", own.staff).get_json()["total"] == 1
    assert api.get("/inspections?status=pending", own.staff).status_code == 422


def test_the_openapi_document_describes_the_inspections(api, client, db):
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    assert {"post", "get"} <= set(paths["/inspections"])
    for action in ("answer", "close", "reopen"):
        assert "post" in paths[f"/inspections/{{inspection_id}}/{action}"]
    assert db.session.scalar(select(func.count()).select_from(Inspection)) == 0
