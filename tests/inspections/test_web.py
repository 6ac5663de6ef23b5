"""Inspection pages: opening one, the producer's answer, the centre's decision, scope, photos, the work list."""

from __future__ import annotations

import io
import re
from datetime import timedelta

import pytest
from PIL import Image
from sqlalchemy import select

from tests.conftest import WebHelper
from tests.inspections.helpers import NOT_AN_IMAGE, TODAY, files_in, nonconformity, picture
from traceability.inspections.checklists import checklist_for
from traceability.inspections.service import answer_inspection, create_inspection
from traceability.models.audit import AuditEntry
from traceability.models.inspections import Inspection


def _form(kind: str, **overrides):
    """The inspection form as a browser posts it: every item answered yes, a major nonconformity."""
    data = {f"checklist-{code}": "yes" for code in checklist_for(kind)}
    data.update(
        {
            "inspected_on": (TODAY - timedelta(days=1)).isoformat(),
            "inspector": "Nguyễn Văn Kiểm",
            "findings": "Kho chứa không tách hàng đã đóng gói khỏi nguyên liệu.",
            "outcome": "nonconformity",
            "severity": "major",
            "follow_up_on": (TODAY + timedelta(days=30)).isoformat(),
            f"notes-{checklist_for(kind)[0]}": "Sổ ghi chép đầy đủ",
        }
    )
    data.update(overrides)
    return data


def _open(web, kind, subject_id, data, **kwargs):
    url = f"/manage/inspections/new?subject={kind}:{subject_id}"
    return web.post_form(url, data, form_url=url, content_type="multipart/form-data", **kwargs)


@pytest.fixture
def staff(app, tenants) -> WebHelper:
    helper = WebHelper(app.test_client())
    helper.login(tenants["daklak"].staff.email)
    helper.client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    return helper


@pytest.fixture
def producer(app, tenants) -> WebHelper:
    helper = WebHelper(app.test_client())
    helper.login(tenants["daklak"].producer_user.email)
    helper.client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    return helper


@pytest.fixture
def open_one(db, tenants):
    inspection = create_inspection(
        nonconformity("batch", tenants["daklak"].batch.id), actor=tenants["daklak"].staff
    )
    db.session.commit()
    return inspection


# ---------------------------------------------------------------- opening an inspection


def test_staff_choose_the_subject_then_fill_its_checklist(staff, tenants):
    own = tenants["daklak"]
    chooser = staff.client.get("/manage/inspections/new").get_data(as_text=True)
    assert f'value="batch:{own.batch.id}"' in chooser and f'value="location:{own.location.id}"' in chooser
    assert f'value="producer:{tenants["nghean"].producer.id}"' not in chooser
    page = staff.client.get(f"/manage/inspections/new?subject=batch:{own.batch.id}").get_data(as_text=True)
    assert "The QR code on the package opens this lot&#39;s public page" in page
    assert "Hygiene of premises" not in page  # a producer's item, not a batch's
    assert 'name="checklist-qr_works"' in page and 'name="photos"' in page and "multiple" in page


def test_an_inspection_with_photos_is_opened_from_the_web(staff, tenants, db, photos_folder):
    own = tenants["daklak"]
    data = _form(
        "location",
        **{
            "checklist-storage": "no",
            "notes-storage": "Bao bì để sát nền",
            "checklist-inputs_recorded": "na",
        },
    )
    data["photos"] = [
        (io.BytesIO(picture("PNG", (2400, 1800))), "kho.png"),
        (io.BytesIO(picture("JPEG")), "nen.jpg"),
    ]
    response = _open(staff, "location", own.location.id, data)
    assert response.status_code == 302, response.get_data(as_text=True)
    inspection = db.session.scalars(select(Inspection)).one()
    assert (inspection.subject_kind, inspection.location_id, inspection.status) == (
        "location",
        own.location.id,
        "open",
    )
    assert {c.item: (c.answer, c.note) for c in inspection.checks}["storage"] == ("no", "Bao bì để sát nền")
    assert len(inspection.photos) == 2 and {p.filename for p in inspection.photos} <= files_in(photos_folder)

    page = staff.client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Nonconformity · Major" in page and "Bao bì để sát nền" in page
    assert "Not applicable" in page
    thumbnail = re.search(r'src="(/manage/inspections/\d+/photos/\d+\?thumbnail=1)"', page).group(1)
    with staff.client.get(thumbnail) as photo:
        assert photo.status_code == 200 and photo.mimetype == "image/jpeg"
        assert max(Image.open(io.BytesIO(photo.data)).size) == 400
        assert "private" in photo.headers["Cache-Control"]


def test_the_form_says_what_to_fix(staff, tenants, db):
    own = tenants["daklak"]
    data = _form("producer", follow_up_on="", **{"checklist-hygiene": ""})
    del data["checklist-hygiene"]
    response = _open(staff, "producer", own.producer.id, data)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Answer yes, no or not applicable." in page
    data = _form("producer", follow_up_on="")
    page = _open(staff, "producer", own.producer.id, data).get_data(as_text=True)
    assert "A nonconformity needs a follow-up date." in page
    data = _form("producer", outcome="conforming", severity="minor")
    page = _open(staff, "producer", own.producer.id, data).get_data(as_text=True)
    assert "Severity applies only to a nonconformity; leave it empty." in page
    assert db.session.scalars(select(Inspection)).all() == []


def test_a_photo_that_is_not_an_image_is_refused_with_a_message(staff, tenants, db, photos_folder):
    own = tenants["daklak"]
    before = files_in(photos_folder)
    data = _form("producer")
    data["photos"] = [(io.BytesIO(picture()), "tot.png"), (io.BytesIO(NOT_AN_IMAGE), "anh.jpg")]
    response = _open(staff, "producer", own.producer.id, data)
    assert response.status_code == 422
    assert "This file is not a PNG, JPEG or WebP image." in response.get_data(as_text=True)
    assert db.session.scalars(select(Inspection)).all() == []
    assert files_in(photos_folder) == before


def test_producers_auditors_and_the_ministry_cannot_open_inspections(app, tenants):
    own = tenants["daklak"]
    for user in (own.producer_user, own.auditor, tenants["ministry"]):
        helper = WebHelper(app.test_client())
        helper.login(user.email)
        assert (
            helper.client.get(f"/manage/inspections/new?subject=producer:{own.producer.id}").status_code
            == 403
        )


def test_staff_of_another_province_get_404_for_its_subjects_and_inspections(app, tenants, open_one):
    own, other = tenants["daklak"], tenants["nghean"]
    outsider = WebHelper(app.test_client())
    outsider.login(other.staff.email)
    assert outsider.client.get(f"/manage/inspections/new?subject=batch:{own.batch.id}").status_code == 404
    assert outsider.client.get(f"/manage/inspections/{open_one.id}").status_code == 404
    photo_url = f"/manage/inspections/{open_one.id}/photos/1"
    assert outsider.client.get(photo_url).status_code == 404
    token = outsider.csrf_token("/manage/inspections")
    for action in ("close", "reopen", "photos"):
        response = outsider.client.post(
            f"/manage/inspections/{open_one.id}/{action}", data={"csrf_token": token, "reason": "x"}
        )
        assert response.status_code == 404
    listing = outsider.client.get("/manage/inspections", headers={"Accept-Language": "en"})
    assert "0 inspections" in listing.get_data(as_text=True)


# ---------------------------------------------------------------- the producer's side


def test_the_producer_sees_its_inspections_and_answers_with_a_photo(producer, staff, tenants, db, open_one):
    listing = producer.client.get("/manage/inspections").get_data(as_text=True)
    assert f"/manage/inspections/{open_one.id}" in listing
    url = f"/manage/inspections/{open_one.id}"
    page = producer.client.get(url).get_data(as_text=True)
    assert "Say what you did about it by" in page and 'name="response"' in page
    assert "Close the nonconformity" not in page and "Add photo" not in page

    response = producer.post_form(
        f"{url}/answer",
        {"response": "Đã in lại nhãn có hạn sử dụng.", "photo": (io.BytesIO(picture("JPEG")), "nhan.jpg")},
        form_url=url,
        content_type="multipart/form-data",
    )
    assert response.status_code == 303
    inspection = db.session.get(Inspection, open_one.id)
    assert inspection.status == "answered"
    assert inspection.follow_ups[0].photos[0].inspection_id == inspection.id

    page = staff.client.get(url).get_data(as_text=True)
    assert "The producer answered: close the nonconformity or reopen it." in page
    assert "Đã in lại nhãn có hạn sử dụng." in page
    response = staff.post_form(f"{url}/close", {"note": "Nhãn mới đạt."}, form_url=url, follow_redirects=True)
    assert "The nonconformity is closed." in response.get_data(as_text=True)
    assert db.session.get(Inspection, open_one.id).status == "closed"
    actions = db.session.scalars(
        select(AuditEntry.action).where(AuditEntry.object_type == "Inspection").order_by(AuditEntry.id)
    ).all()
    assert actions == ["create", "answer", "close"]


def test_an_answer_photo_that_is_not_an_image_is_refused(producer, tenants, db, open_one):
    url = f"/manage/inspections/{open_one.id}"
    response = producer.post_form(
        f"{url}/answer",
        {"response": "Đã sửa.", "photo": (io.BytesIO(NOT_AN_IMAGE), "nhan.png")},
        form_url=url,
        content_type="multipart/form-data",
    )
    assert response.status_code == 422
    assert "This file is not a PNG, JPEG or WebP image." in response.get_data(as_text=True)
    assert db.session.get(Inspection, open_one.id).status == "open"


def test_staff_reopen_an_answer_that_is_not_enough(staff, tenants, db, open_one):
    answer_inspection(open_one, "Đã sửa.", actor=tenants["daklak"].producer_user)
    db.session.commit()
    url = f"/manage/inspections/{open_one.id}"
    response = staff.post_form(f"{url}/reopen", {"reason": ""}, form_url=url)
    assert response.status_code == 422
    response = staff.post_form(
        f"{url}/reopen",
        {"reason": "Ảnh chưa cho thấy nhãn mới.", "follow_up_on": (TODAY + timedelta(days=60)).isoformat()},
        form_url=url,
        follow_redirects=True,
    )
    page = response.get_data(as_text=True)
    assert "Reopened by the centre" in page and "Ảnh chưa cho thấy nhãn mới." in page
    inspection = db.session.get(Inspection, open_one.id)
    assert (inspection.status, inspection.follow_up_on) == ("open", TODAY + timedelta(days=60))


def test_another_producer_gets_404(app, tenants, open_one):
    other = WebHelper(app.test_client())
    other.login(tenants["nghean"].producer_user.email)
    url = f"/manage/inspections/{open_one.id}"
    assert other.client.get(url).status_code == 404
    token = other.csrf_token("/manage/inspections")
    assert other.client.post(f"{url}/answer", data={"csrf_token": token, "response": "x"}).status_code == 404


def test_the_producer_cannot_close_its_own_nonconformity(producer, tenants, db, open_one):
    answer_inspection(open_one, "Đã sửa.", actor=tenants["daklak"].producer_user)
    db.session.commit()
    url = f"/manage/inspections/{open_one.id}"
    assert producer.post_form(f"{url}/close", {}, form_url=url).status_code == 403
    assert db.session.get(Inspection, open_one.id).status == "answered"


def test_auditors_and_the_ministry_read_but_do_not_act(app, tenants, open_one):
    for user in (tenants["daklak"].auditor, tenants["ministry"]):
        reader = WebHelper(app.test_client())
        reader.login(user.email)
        page = reader.client.get(f"/manage/inspections/{open_one.id}")
        assert page.status_code == 200
        assert 'name="response"' not in page.get_data(as_text=True)
        token = reader.csrf_token("/manage/inspections")
        response = reader.client.post(f"/manage/inspections/{open_one.id}/answer", data={"csrf_token": token})
        assert response.status_code == 403


# ---------------------------------------------------------------- list, links and the work list


def test_the_list_filters_by_status_outcome_and_producer(staff, tenants, db, open_one):
    own = tenants["daklak"]
    create_inspection(
        nonconformity("producer", own.producer.id, outcome="conforming", severity=None, findings=""),
        actor=own.staff,
    )
    db.session.commit()
    page = staff.client.get("/manage/inspections").get_data(as_text=True)
    assert "2 inspections" in page
    page = staff.client.get("/manage/inspections?status=open&outcome=nonconformity").get_data(as_text=True)
    assert "1 inspection" in page and f"/manage/inspections/{open_one.id}" in page
    page = staff.client.get(f"/manage/inspections?batch_id={own.batch.id}").get_data(as_text=True)
    assert "1 inspection" in page
    page = staff.client.get("/manage/inspections?outcome=conforming").get_data(as_text=True)
    assert "1 inspection" in page and f'/manage/inspections/{open_one.id}"' not in page


def test_producer_and_batch_pages_link_to_their_inspections(staff, tenants):
    own = tenants["daklak"]
    page = staff.client.get(f"/manage/producers/{own.producer.id}").get_data(as_text=True)
    assert f"/manage/inspections?producer_id={own.producer.id}" in page
    assert f"/manage/inspections/new?subject=producer:{own.producer.id}" in page
    page = staff.client.get(f"/manage/batches/{own.batch.id}").get_data(as_text=True)
    assert f"/manage/inspections?batch_id={own.batch.id}" in page
    assert f"/manage/inspections/new?subject=batch:{own.batch.id}" in page
    assert 'href="/manage/inspections"' in page  # the management navigation


def test_the_work_list_shows_open_nonconformities(staff, app, tenants, db, open_one):
    own, other = tenants["daklak"], tenants["nghean"]
    create_inspection(
        nonconformity(
            "producer",
            own.producer.id,
            severity="critical",
            inspected_on=TODAY - timedelta(days=40),
            follow_up_on=TODAY - timedelta(days=5),
        ),
        actor=own.staff,
    )
    create_inspection(nonconformity("producer", other.producer.id), actor=other.staff)
    db.session.commit()
    page = staff.client.get("/manage/worklist").get_data(as_text=True)
    section = page.split('id="open-nonconformities"')[1]
    assert "Open nonconformities: 2" in page
    assert "Waiting for the producer's answer: 2" in section and "1 overdue" in section
    assert "Critical: 1" in section and "Major: 1" in section
    assert f"/manage/inspections/{open_one.id}" in section
    assert other.producer.name not in section
    assert "/manage/inspections?outcome=nonconformity&amp;status=open" in section

    ministry = WebHelper(app.test_client())
    ministry.login(tenants["ministry"].email)
    page = ministry.client.get("/manage/worklist", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Open nonconformities: 3" in page
