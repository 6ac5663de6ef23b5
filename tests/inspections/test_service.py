"""Inspection rules: what an inspection must hold, who opens, answers, closes and reopens it, the audit trail."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from tests.inspections.helpers import (
    NOT_AN_IMAGE,
    TODAY,
    bomb,
    checklist,
    conforming,
    files_in,
    nonconformity,
    picture,
)
from traceability.core.errors import Conflict, Forbidden, InvalidInput
from traceability.inspections import files, queries
from traceability.inspections.checklists import checklist_for
from traceability.inspections.service import (
    add_photo,
    answer_inspection,
    close_inspection,
    create_inspection,
    nonconformity_counts,
    open_nonconformities,
    reopen_inspection,
)
from traceability.models.audit import AuditEntry
from traceability.models.inspections import Inspection, InspectionPhoto


def _refusal(data, actor, error=InvalidInput, **kwargs):
    with pytest.raises(error) as caught:
        create_inspection(data, actor=actor, **kwargs)
    return caught.value


# ---------------------------------------------------------------- what an inspection must hold


def test_a_nonconformity_is_saved_open_with_its_checklist_in_order(db, tenants):
    own = tenants["daklak"]
    inspection = create_inspection(nonconformity("batch", own.batch.id), actor=own.staff)
    assert inspection.status == "open"
    assert (inspection.producer_id, inspection.batch_id, inspection.centre_id) == (
        own.producer.id,
        own.batch.id,
        own.centre.id,
    )
    answers = {check.item: check.answer for check in inspection.checks}
    assert list(answers) == list(checklist_for("batch"))
    assert answers["labels_art_23_5"] == "no"
    assert queries.subject_name(inspection) == f"{own.product.name} · {own.batch.lot_code}"


def test_a_conforming_inspection_is_closed_at_once(db, tenants):
    own = tenants["daklak"]
    inspection = create_inspection(conforming("location", own.location.id), actor=own.staff)
    assert (inspection.status, inspection.severity, inspection.follow_up_on) == ("closed", None, None)
    assert inspection.location_id == own.location.id


def test_a_nonconformity_needs_a_follow_up_date(db, tenants):
    own = tenants["daklak"]
    error = _refusal(nonconformity("producer", own.producer.id, follow_up_on=None), own.staff)
    assert set(error.fields) == {"follow_up_on"}
    assert db.session.scalar(select(func.count()).select_from(Inspection)) == 0


def test_a_nonconformity_needs_its_severity(db, tenants):
    own = tenants["daklak"]
    error = _refusal(nonconformity("producer", own.producer.id, severity=None), own.staff)
    assert set(error.fields) == {"severity"}
    error = _refusal(nonconformity("producer", own.producer.id, severity="fatal"), own.staff)
    assert set(error.fields) == {"severity"}


def test_severity_is_refused_on_a_conforming_inspection(db, tenants):
    own = tenants["daklak"]
    error = _refusal(conforming("producer", own.producer.id, severity="minor"), own.staff)
    assert set(error.fields) == {"severity"}


def test_a_nonconformity_needs_findings_the_producer_can_answer(db, tenants):
    own = tenants["daklak"]
    error = _refusal(nonconformity("producer", own.producer.id, findings="  "), own.staff)
    assert set(error.fields) == {"findings"}


def test_dates_must_make_sense(db, tenants):
    own = tenants["daklak"]
    error = _refusal(
        nonconformity("producer", own.producer.id, inspected_on=TODAY + timedelta(days=1)), own.staff
    )
    assert "inspected_on" in error.fields
    error = _refusal(
        nonconformity("producer", own.producer.id, follow_up_on=TODAY - timedelta(days=10)), own.staff
    )
    assert set(error.fields) == {"follow_up_on"}


def test_every_checklist_item_is_answered_once_with_a_known_answer(db, tenants):
    own = tenants["daklak"]
    partial = checklist("producer")[:-1]
    error = _refusal(conforming("producer", own.producer.id, checklist=partial), own.staff)
    assert set(error.fields) == {"checklist.recall_procedure"}
    wrong = checklist("producer", hygiene="maybe")
    error = _refusal(conforming("producer", own.producer.id, checklist=wrong), own.staff)
    assert set(error.fields) == {"checklist.hygiene"}
    # A batch's item is not on a producer's checklist.
    foreign = [*checklist("producer"), {"item": "qr_works", "answer": "yes"}]
    error = _refusal(conforming("producer", own.producer.id, checklist=foreign), own.staff)
    assert "qr_works" in str(error.fields["checklist"])


def test_an_unknown_subject_kind_is_refused(db, tenants):
    own = tenants["daklak"]
    error = _refusal(conforming("producer", own.product.id, subject_kind="product"), own.staff)
    assert set(error.fields) == {"subject_kind"}


# ---------------------------------------------------------------- who opens inspections


def test_staff_of_another_province_cannot_inspect_its_producers(db, tenants):
    own, other = tenants["daklak"], tenants["nghean"]
    for kind, subject in (("producer", own.producer), ("location", own.location), ("batch", own.batch)):
        error = _refusal(conforming(kind, subject.id), other.staff, Forbidden)
        assert set(error.fields) == {"subject_id"}
    error = _refusal(conforming("batch", 999_999), own.staff, Forbidden)
    assert set(error.fields) == {"subject_id"}


@pytest.mark.parametrize("who", ["producer_user", "auditor"])
def test_producers_and_auditors_do_not_open_inspections(db, tenants, who):
    own = tenants["daklak"]
    _refusal(conforming("producer", own.producer.id), getattr(own, who), Forbidden)


def test_the_ministry_does_not_open_inspections(db, tenants):
    _refusal(conforming("producer", tenants["daklak"].producer.id), tenants["ministry"], Forbidden)


def test_the_centre_admin_opens_inspections_too(db, tenants):
    own = tenants["daklak"]
    assert create_inspection(conforming("producer", own.producer.id), actor=own.admin).id


# ---------------------------------------------------------------- the follow-up


@pytest.fixture
def open_one(db, tenants):
    inspection = create_inspection(
        nonconformity("batch", tenants["daklak"].batch.id), actor=tenants["daklak"].staff
    )
    db.session.commit()
    return inspection


def test_answer_then_close(db, tenants, open_one):
    own = tenants["daklak"]
    answer_inspection(open_one, "Đã in lại nhãn có hạn sử dụng cho lô này.", actor=own.producer_user)
    assert open_one.status == "answered"
    close_inspection(open_one, "Đã kiểm tra nhãn mới.", actor=own.staff)
    assert open_one.status == "closed"
    assert [(step.kind, step.author_id) for step in open_one.follow_ups] == [
        ("answer", own.producer_user.id),
        ("close", own.staff.id),
    ]


def test_reopen_sends_it_back_to_the_producer_with_a_new_date(db, tenants, open_one):
    own = tenants["daklak"]
    answer_inspection(open_one, "Đã sửa.", actor=own.producer_user)
    new_date = TODAY + timedelta(days=45)
    reopen_inspection(open_one, "Ảnh chưa cho thấy nhãn mới.", actor=own.staff, follow_up_on=new_date)
    assert (open_one.status, open_one.follow_up_on) == ("open", new_date)
    answer_inspection(open_one, "Gửi ảnh nhãn mới.", actor=own.producer_user, photo=picture())
    close_inspection(open_one, None, actor=own.staff)
    reopen_inspection(open_one, "Tái kiểm tra phát hiện nhãn cũ còn lưu hành.", actor=own.admin)
    assert open_one.status == "open"
    assert [step.kind for step in open_one.follow_ups] == ["answer", "reopen", "answer", "close", "reopen"]


def test_transitions_out_of_order_are_refused(db, tenants, open_one):
    own = tenants["daklak"]
    with pytest.raises(Conflict):
        close_inspection(open_one, None, actor=own.staff)  # not answered yet
    with pytest.raises(Conflict):
        reopen_inspection(open_one, "Chưa trả lời.", actor=own.staff)  # open already
    answer_inspection(open_one, "Đã sửa.", actor=own.producer_user)
    with pytest.raises(Conflict):
        answer_inspection(open_one, "Trả lời lần hai.", actor=own.producer_user)
    close_inspection(open_one, None, actor=own.staff)
    with pytest.raises(Conflict):
        close_inspection(open_one, None, actor=own.staff)


def test_a_conforming_inspection_has_nothing_to_answer_or_reopen(db, tenants):
    own = tenants["daklak"]
    inspection = create_inspection(conforming("producer", own.producer.id), actor=own.staff)
    with pytest.raises(Conflict):
        answer_inspection(inspection, "?", actor=own.producer_user)
    with pytest.raises(Conflict):
        reopen_inspection(inspection, "?", actor=own.staff)


def test_answers_and_reasons_are_required(db, tenants, open_one):
    own = tenants["daklak"]
    with pytest.raises(InvalidInput) as caught:
        answer_inspection(open_one, "   ", actor=own.producer_user)
    assert set(caught.value.fields) == {"response"}
    answer_inspection(open_one, "Đã sửa.", actor=own.producer_user)
    with pytest.raises(InvalidInput) as caught:
        reopen_inspection(open_one, "", actor=own.staff)
    assert set(caught.value.fields) == {"reason"}


def test_only_the_producer_answers_and_only_its_centre_decides(db, tenants, open_one):
    own, other = tenants["daklak"], tenants["nghean"]
    for outsider in (own.staff, own.auditor, other.producer_user, tenants["ministry"]):
        with pytest.raises(Forbidden):
            answer_inspection(open_one, "Đã sửa.", actor=outsider)
    answer_inspection(open_one, "Đã sửa.", actor=own.producer_user)
    for outsider in (own.producer_user, own.auditor, other.staff, other.admin, tenants["ministry"]):
        with pytest.raises(Forbidden):
            close_inspection(open_one, None, actor=outsider)
        with pytest.raises(Forbidden):
            reopen_inspection(open_one, "Lý do.", actor=outsider)
    assert open_one.status == "answered"


# ---------------------------------------------------------------- photos


def test_photos_are_stored_privately_with_thumbnails(db, tenants, photos_folder):
    own = tenants["daklak"]
    inspection = create_inspection(
        nonconformity("producer", own.producer.id),
        actor=own.staff,
        photos=[picture("PNG", (3200, 2000)), picture("JPEG", (300, 200))],
    )
    db.session.commit()
    first, second = inspection.photos
    assert (first.width, first.height) == (1600, 1000)
    assert {first.filename, first.thumbnail_filename, second.filename, second.thumbnail_filename} <= files_in(
        photos_folder
    )
    assert files.photo_file(first, thumbnail=True).path.parent == photos_folder


@pytest.mark.parametrize(
    ("upload", "reason"),
    [(NOT_AN_IMAGE, "PNG, JPEG"), (bomb(), "megapixels"), (b"\x89PNG\r\n\x1a\n" + b"\0" * 200, "")],
    ids=["html", "bomb", "damaged"],
)
def test_a_photo_that_is_not_an_image_is_refused_and_nothing_is_kept(
    db, tenants, photos_folder, app, upload, reason
):
    own = tenants["daklak"]
    before = files_in(photos_folder)
    with app.test_request_context(headers={"Accept-Language": "en"}):
        with pytest.raises(InvalidInput) as caught:
            create_inspection(
                nonconformity("producer", own.producer.id), actor=own.staff, photos=[picture(), upload]
            )
        assert reason in str(caught.value.fields["photos"])
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(Inspection)) == 0
    assert files_in(photos_folder) == before  # the first, good photo went with the rollback


def test_an_answer_photo_that_is_not_an_image_leaves_the_nonconformity_open(
    db, tenants, open_one, photos_folder
):
    own = tenants["daklak"]
    before = files_in(photos_folder)
    with pytest.raises(InvalidInput) as caught:
        answer_inspection(open_one, "Đã sửa.", actor=own.producer_user, photo=NOT_AN_IMAGE)
    assert set(caught.value.fields) == {"photo"}
    db.session.rollback()
    assert db.session.get(Inspection, open_one.id).status == "open"
    assert files_in(photos_folder) == before


def test_only_the_centre_adds_photos(db, tenants, open_one):
    own = tenants["daklak"]
    with pytest.raises(Forbidden):
        add_photo(open_one, picture(), actor=own.producer_user)
    with pytest.raises(Forbidden):
        add_photo(open_one, picture(), actor=tenants["nghean"].staff)
    photo = add_photo(open_one, picture(), actor=own.staff)
    assert photo.follow_up_id is None
    assert db.session.scalar(select(func.count()).select_from(InspectionPhoto)) == 1


# ---------------------------------------------------------------- audit


def test_every_write_is_audited_with_the_producer_and_centre(db, tenants, open_one):
    own = tenants["daklak"]
    add_photo(open_one, picture(), actor=own.staff)
    answer_inspection(open_one, "Đã in lại nhãn.", actor=own.producer_user, photo=picture())
    reopen_inspection(open_one, "Chưa đủ.", actor=own.staff)
    answer_inspection(open_one, "Đã bổ sung.", actor=own.producer_user)
    close_inspection(open_one, "Đạt.", actor=own.admin)
    db.session.commit()
    entries = db.session.scalars(
        select(AuditEntry)
        .where(AuditEntry.object_type.in_(("Inspection", "InspectionPhoto")))
        .order_by(AuditEntry.id)
    ).all()
    assert [(entry.action, entry.object_type, entry.user_id) for entry in entries] == [
        ("create", "Inspection", own.staff.id),
        ("create", "InspectionPhoto", own.staff.id),
        ("answer", "Inspection", own.producer_user.id),
        ("reopen", "Inspection", own.staff.id),
        ("answer", "Inspection", own.producer_user.id),
        ("close", "Inspection", own.admin.id),
    ]
    assert {(entry.producer_id, entry.centre_id) for entry in entries} == {(own.producer.id, own.centre.id)}
    created, answered = entries[0], entries[2]
    assert created.after["status"] == "open" and created.after["severity"] == "major"
    assert {"item": "labels_art_23_5", "answer": "no", "note": ""} in created.after["checklist"]
    assert (answered.before["status"], answered.after["status"]) == ("open", "answered")
    assert answered.after["follow_ups"] == [{"kind": "answer", "text": "Đã in lại nhãn."}]
    assert len(answered.after["photos"]) == 2


# ---------------------------------------------------------------- open nonconformities


def test_open_nonconformities_are_counted_per_centre(db, tenants):
    own, other = tenants["daklak"], tenants["nghean"]
    overdue = create_inspection(
        nonconformity(
            "producer",
            own.producer.id,
            inspected_on=TODAY - timedelta(days=40),
            follow_up_on=TODAY - timedelta(days=10),
            severity="critical",
        ),
        actor=own.staff,
    )
    answered = create_inspection(nonconformity("batch", own.batch.id, severity="minor"), actor=own.staff)
    answer_inspection(answered, "Đã sửa.", actor=own.producer_user)
    closed = create_inspection(nonconformity("location", own.location.id), actor=own.staff)
    answer_inspection(closed, "Đã sửa.", actor=own.producer_user)
    close_inspection(closed, None, actor=own.staff)
    create_inspection(conforming("producer", own.producer.id), actor=own.staff)
    elsewhere = create_inspection(nonconformity("producer", other.producer.id), actor=other.staff)
    db.session.commit()

    listed = open_nonconformities(own.staff)
    assert (listed.total, [i.id for i in listed.items]) == (2, [overdue.id, answered.id])
    assert queries.is_overdue(overdue) and not queries.is_overdue(answered)
    assert nonconformity_counts(own.auditor) == {
        "total": 2,
        "open": 1,
        "answered": 1,
        "overdue": 1,
        "minor": 1,
        "major": 0,
        "critical": 1,
    }
    assert [i.id for i in open_nonconformities(other.staff).items] == [elsewhere.id]
    assert [i.id for i in open_nonconformities(own.producer_user).items] == [overdue.id, answered.id]
    assert open_nonconformities(tenants["ministry"]).total == 3
    assert nonconformity_counts(tenants["ministry"])["major"] == 1
