"""Certifications: documents checked by content, the centre's verification, expiry by date."""

from __future__ import annotations

import hashlib
import io
from datetime import date, timedelta
from pathlib import Path
from urllib.parse import quote

import pytest
from PIL import Image
from sqlalchemy import func, select

from tests.conftest import WebHelper
from traceability.core.errors import Conflict, Forbidden, InvalidInput
from traceability.models.audit import AuditEntry
from traceability.models.registry import Certification
from traceability.registry import certifications as service
from traceability.registry.certifications import (
    certification_state,
    create_certification,
    reject_certification,
    update_certification,
    verify_certification,
)

TODAY = date.today()


def _pdf() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (200, 280), "white").save(buffer, format="PDF")
    return buffer.getvalue()


def _png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (120, 80), (20, 120, 60)).save(buffer, format="PNG")
    return buffer.getvalue()


PDF = _pdf()
PNG = _png()
FAKE_PDF = b"<html><body><script>alert(1)</script>Giay chung nhan</body></html>"


def _data(tenant, **overrides):
    return {
        "scope": "product",
        "subject_id": tenant.product.id,
        "type": "vietgap",
        "number": "VietGAP-TT-12-34-66-0001",
        "issuer": "Trung tâm Kiểm nghiệm và Chứng nhận chất lượng TQC",
        "valid_from": TODAY - timedelta(days=100),
        "valid_to": TODAY + timedelta(days=900),
        **overrides,
    }


def _form(tenant, **overrides):
    data = _data(tenant, **overrides)
    return {
        "subject": f"{data.pop('scope')}:{data.pop('subject_id')}",
        **{key: value.isoformat() if isinstance(value, date) else value for key, value in data.items()},
    }


def _documents(app) -> set[str]:
    folder = Path(app.config["UPLOAD_FOLDER"]) / "documents"
    return {path.name for path in folder.iterdir()} if folder.exists() else set()


def _certification(db, tenant, *, document=PDF, **overrides) -> Certification:
    certification = create_certification(
        _data(tenant, **overrides),
        actor=tenant.producer_user,
        document=document,
        document_name="Giấy chứng nhận VietGAP.pdf" if document else None,
    )
    db.session.commit()
    return certification


def _signed_in(app, user) -> WebHelper:
    """A fresh browser signed in as ``user``."""
    helper = WebHelper(app.test_client())
    helper.login(user.email)
    return helper


def _count(db) -> int:
    return db.session.scalar(select(func.count(Certification.id)))


def _audit(db, action: str, certification: Certification) -> AuditEntry:
    return db.session.scalars(
        select(AuditEntry).where(
            AuditEntry.action == action,
            AuditEntry.object_type == "Certification",
            AuditEntry.object_id == str(certification.id),
        )
    ).one()


# ---------------------------------------------------------------- recording


def test_certificate_with_a_pdf_is_pending_and_its_fingerprint_recorded(app, db, tenants):
    own = tenants["daklak"]
    before = _documents(app)
    certification = _certification(db, own)
    assert certification.status == "pending"
    assert certification.producer_id == own.producer.id
    assert certification.product_id == own.product.id
    assert certification.document_sha256 == hashlib.sha256(PDF).hexdigest()
    assert certification.document_content_type == "application/pdf"
    assert certification.document_size == len(PDF)
    assert certification.document_original_name == "Giấy chứng nhận VietGAP.pdf"
    stored = _documents(app) - before
    assert stored == {certification.document_filename}
    assert "VietGAP" not in certification.document_filename  # a random name, not the uploaded one
    assert (
        Path(app.config["UPLOAD_FOLDER"]) / "documents" / certification.document_filename
    ).read_bytes() == PDF
    entry = _audit(db, "create", certification)
    assert entry.before is None and entry.after["status"] == "pending"
    assert entry.producer_id == own.producer.id and entry.centre_id == own.centre.id


def test_certificate_of_a_location_and_of_the_producer(db, tenants):
    own = tenants["daklak"]
    farm = _certification(db, own, scope="location", subject_id=own.location.id, type="organic")
    assert (farm.scope, farm.location_id, farm.producer_id) == ("location", own.location.id, own.producer.id)
    whole = create_certification(
        {**_data(own, type="iso22000"), "scope": "producer", "subject_id": None}, actor=own.producer_user
    )
    assert whole.producer_id == own.producer.id and whole.document_filename is None


def test_producer_cannot_certify_another_producers_product_or_location(db, tenants):
    own, other = tenants["daklak"], tenants["nghean"]
    for scope, subject in (("product", other.product.id), ("location", other.location.id)):
        with pytest.raises(Forbidden) as caught:
            create_certification(_data(own, scope=scope, subject_id=subject), actor=own.producer_user)
        assert "subject_id" in caught.value.fields
    with pytest.raises(Forbidden):
        create_certification(_data(own), actor=own.auditor)
    with pytest.raises(Forbidden):
        create_certification(_data(own), actor=tenants["ministry"])
    assert _count(db) == 0


def test_the_same_certificate_cannot_be_recorded_twice(db, tenants):
    own = tenants["daklak"]
    _certification(db, own)
    with pytest.raises(Conflict) as caught:
        create_certification(_data(own), actor=own.producer_user)
    assert "number" in caught.value.fields
    # The same number for another subject is another record.
    create_certification(_data(own, scope="location", subject_id=own.location.id), actor=own.producer_user)


def test_invalid_certificate_data_names_each_field(tenants):
    own = tenants["daklak"]
    with pytest.raises(InvalidInput) as caught:
        create_certification(
            _data(own, type="bio", number=" ", issuer="", valid_to=TODAY - timedelta(days=200)),
            actor=own.producer_user,
        )
    assert {"type", "number", "issuer", "valid_to"} <= set(caught.value.fields)
    with pytest.raises(InvalidInput) as caught:
        create_certification(_data(own, scope="farm"), actor=own.producer_user)
    assert "scope" in caught.value.fields


@pytest.mark.parametrize(
    ("document", "message"),
    [
        (FAKE_PDF, "Chỉ chấp nhận tài liệu PDF"),
        (b"Giay chung nhan VietGAP so 0001, hieu luc den 2028", "Chỉ chấp nhận tài liệu PDF"),
        (b"\x89PNG\r\n\x1a\nnot really a png", "bị hỏng"),
        (b"", "Tệp trống"),
    ],
    ids=["html-named-pdf", "text-named-pdf", "broken-png", "empty"],
)
def test_a_fake_document_is_refused_by_content_and_nothing_is_stored(app, db, tenants, document, message):
    before = _documents(app)
    with pytest.raises(InvalidInput) as caught:
        create_certification(
            _data(tenants["daklak"]),
            actor=tenants["daklak"].producer_user,
            document=document,
            document_name="chung-nhan.pdf",
        )
    db.session.rollback()
    assert message in str(caught.value.message)
    assert "document" in caught.value.fields
    assert _count(db) == 0
    assert _documents(app) == before


def test_stored_file_is_removed_when_the_database_part_fails(app, db, tenants, monkeypatch):
    def failing_audit(*args, **kwargs):
        raise RuntimeError("database down")

    monkeypatch.setattr(service, "record_audit", failing_audit)
    before = _documents(app)
    with pytest.raises(RuntimeError):
        create_certification(_data(tenants["daklak"]), actor=tenants["daklak"].producer_user, document=PDF)
    db.session.rollback()
    assert _documents(app) == before


# ---------------------------------------------------------------- the centre's decision


def test_own_centre_staff_verify_with_audit_before_and_after(db, tenants):
    own = tenants["daklak"]
    certification = _certification(db, own)
    verify_certification(certification, actor=own.staff)
    db.session.commit()
    assert certification.status == "verified"
    assert certification.verified_by_id == own.staff.id and certification.verified_at is not None
    assert certification.is_valid_on(TODAY)
    entry = _audit(db, "verify", certification)
    assert entry.before["status"] == "pending" and entry.after["status"] == "verified"
    assert entry.role == "centre_staff" and entry.centre_id == own.centre.id
    with pytest.raises(Conflict):
        verify_certification(certification, actor=own.admin)


def test_only_the_producers_centre_staff_decide(db, tenants):
    own, other = tenants["daklak"], tenants["nghean"]
    certification = _certification(db, own)
    for actor in (other.staff, other.admin, own.auditor, own.producer_user, tenants["ministry"]):
        with pytest.raises(Forbidden):
            verify_certification(certification, actor=actor)
        with pytest.raises(Forbidden):
            reject_certification(certification, "Không khớp", actor=actor)
    assert certification.status == "pending"


def test_verifying_without_a_document_is_refused(db, tenants):
    own = tenants["daklak"]
    certification = _certification(db, own, document=None)
    with pytest.raises(Conflict) as caught:
        verify_certification(certification, actor=own.staff)
    assert "đính kèm tài liệu" in str(caught.value.message)  # Vietnamese, the default language


def test_rejection_needs_a_reason(db, tenants):
    own = tenants["daklak"]
    certification = _certification(db, own)
    with pytest.raises(InvalidInput) as caught:
        reject_certification(certification, "  ", actor=own.staff)
    assert "reason" in caught.value.fields
    reject_certification(certification, "Số giấy chứng nhận không khớp với tài liệu.", actor=own.staff)
    db.session.commit()
    assert certification.status == "rejected"
    assert certification.status_reason == "Số giấy chứng nhận không khớp với tài liệu."
    entry = _audit(db, "reject", certification)
    assert entry.before["status"] == "pending" and entry.after["status_reason"].startswith("Số giấy")


def test_editing_a_verified_certificate_sends_it_back_to_pending(app, db, tenants):
    own = tenants["daklak"]
    certification = _certification(db, own)
    verify_certification(certification, actor=own.staff)
    db.session.commit()
    update_certification(certification, {"valid_to": TODAY + timedelta(days=1200)}, actor=own.producer_user)
    db.session.commit()
    assert certification.status == "pending" and certification.verified_by_id is None
    entry = _audit(db, "update", certification)
    assert entry.before["status"] == "verified" and entry.after["status"] == "pending"
    assert entry.before["valid_to"] != entry.after["valid_to"]
    # Saving unchanged data changes nothing and writes no entry.
    update_certification(certification, {"number": certification.number}, actor=own.producer_user)
    assert db.session.scalar(select(func.count(AuditEntry.id)).where(AuditEntry.action == "update")) == 1


def test_state_is_expired_after_the_last_valid_day(db, tenants):
    own = tenants["daklak"]
    certification = _certification(db, own, valid_from=TODAY - timedelta(days=800), valid_to=TODAY)
    verify_certification(certification, actor=own.staff)
    assert certification_state(certification, TODAY) == "verified"
    assert certification_state(certification, TODAY + timedelta(days=1)) == "expired"
    assert not certification.is_valid_on(TODAY + timedelta(days=1))
    expired = _certification(
        db,
        own,
        number="VietGAP-2023-01",
        valid_from=TODAY - timedelta(days=800),
        valid_to=TODAY - timedelta(days=1),
    )
    assert certification_state(expired, TODAY) == "expired"
    states = db.session.scalars(select(Certification.id).where(service.state_clause("expired", TODAY))).all()
    assert states == [expired.id]


# ---------------------------------------------------------------- web


def test_web_producer_records_a_certificate_with_a_png(web, app, db, tenants):
    own = tenants["daklak"]
    web.login(own.producer_user.email)
    assert web.client.get("/manage/certifications/new").status_code == 200
    response = web.post_form(
        "/manage/certifications/new",
        {**_form(own, type="organic"), "document": (io.BytesIO(PNG), "ảnh chụp giấy chứng nhận.png")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    certification = db.session.scalars(select(Certification)).one()
    assert certification.document_content_type == "image/png"
    assert certification.document_sha256 == hashlib.sha256(PNG).hexdigest()
    page = web.client.get(response.headers["Location"]).get_data(as_text=True)
    assert certification.document_sha256 in page
    assert "Pending" in page or "Chờ" in page


def test_web_fake_document_is_refused_with_the_reason_and_nothing_stored(web, app, db, tenants):
    own = tenants["daklak"]
    web.login(own.producer_user.email)
    web.client.get("/manage/certifications/new", headers={"Accept-Language": "en"})
    before = _documents(app)
    response = web.post_form(
        "/manage/certifications/new",
        {**_form(own), "document": (io.BytesIO(FAKE_PDF), "giay-chung-nhan.pdf")},
        content_type="multipart/form-data",
        headers={"Accept-Language": "en"},
    )
    assert response.status_code == 422
    assert "Only PDF documents and JPEG, PNG or WebP images are accepted" in response.get_data(as_text=True)
    assert _count(db) == 0
    assert _documents(app) == before


def test_web_oversized_document_is_refused(web, app, db, tenants, monkeypatch):
    monkeypatch.setitem(app.config, "MAX_DOCUMENT_BYTES", 1024)
    own = tenants["daklak"]
    web.login(own.producer_user.email)
    before = _documents(app)
    big = b"%PDF-1.7\n" + b"0" * 5000
    response = web.post_form(
        "/manage/certifications/new",
        {**_form(own), "document": (io.BytesIO(big), "scan.pdf")},
        content_type="multipart/form-data",
        headers={"Accept-Language": "en"},
    )
    assert response.status_code == 422
    assert "The file is larger than 1 KB." in response.get_data(as_text=True)
    assert _count(db) == 0
    assert _documents(app) == before


def test_document_download_is_an_attachment_with_the_exact_bytes(web, db, tenants):
    own = tenants["daklak"]
    certification = _certification(db, own)
    web.login(own.auditor.email)
    with web.client.get(f"/manage/certifications/{certification.id}/document") as response:
        assert response.status_code == 200
        assert response.data == PDF
    assert response.mimetype == "application/pdf"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Content-Security-Policy"] == "sandbox"
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith('attachment; filename="Giay_chung_nhan_VietGAP.pdf"')
    assert f"filename*=UTF-8''{quote('Giấy chứng nhận VietGAP.pdf', safe='')}" in disposition


def test_a_misnamed_document_downloads_with_the_extension_of_its_content(web, db, tenants):
    own = tenants["daklak"]
    certification = create_certification(
        _data(own), actor=own.producer_user, document=PNG, document_name="trang.html"
    )
    db.session.commit()
    web.login(own.producer_user.email)
    with web.client.get(f"/manage/certifications/{certification.id}/document") as response:
        assert response.data == PNG
    assert response.mimetype == "image/png"
    assert 'filename="trang.png"' in response.headers["Content-Disposition"]
    assert "html" not in response.headers["Content-Disposition"]


def test_other_tenants_get_404_for_the_page_and_the_document(app, db, tenants):
    certification = _certification(db, tenants["daklak"])
    for user in (tenants["nghean"].producer_user, tenants["nghean"].staff):
        browser = _signed_in(app, user)
        assert browser.client.get(f"/manage/certifications/{certification.id}").status_code == 404
        assert browser.client.get(f"/manage/certifications/{certification.id}/document").status_code == 404
    browser = _signed_in(app, tenants["ministry"])
    with browser.client.get(f"/manage/certifications/{certification.id}/document") as response:
        assert response.status_code == 200


def test_web_centre_staff_verify_and_the_buttons_show_only_to_them(app, web, db, tenants):
    own = tenants["daklak"]
    certification = _certification(db, own)
    url = f"/manage/certifications/{certification.id}"
    for user in (own.producer_user, own.auditor):
        assert f"{url}/verify" not in _signed_in(app, user).client.get(url).get_data(as_text=True)
    web.login(own.staff.email)
    assert f"{url}/verify" in web.client.get(url).get_data(as_text=True)
    response = web.post_form(f"{url}/verify", {}, form_url=url)
    assert response.status_code == 303
    db.session.refresh(certification)
    assert certification.status == "verified"
    assert certification.verified_by_id == own.staff.id


def test_web_verify_refused_for_other_province_auditor_and_producer(app, db, tenants):
    own, other = tenants["daklak"], tenants["nghean"]
    certification = _certification(db, own)
    url = f"/manage/certifications/{certification.id}"
    expected = [(other.staff, 404), (own.auditor, 403), (own.producer_user, 403), (tenants["ministry"], 403)]
    for user, status in expected:
        browser = _signed_in(app, user)
        token = browser.csrf_token("/manage/certifications")
        assert browser.client.post(f"{url}/verify", data={"csrf_token": token}).status_code == status
        refused = browser.client.post(f"{url}/reject", data={"csrf_token": token, "reason": "Sai"})
        assert refused.status_code == status
    db.session.refresh(certification)
    assert certification.status == "pending"


def test_web_verify_without_document_says_why(web, db, tenants):
    own = tenants["daklak"]
    certification = _certification(db, own, document=None)
    url = f"/manage/certifications/{certification.id}"
    web.login(own.staff.email)
    response = web.post_form(
        f"{url}/verify", {}, form_url=url, follow_redirects=True, headers={"Accept-Language": "en"}
    )
    assert "the centre verifies the certificate against it" in response.get_data(as_text=True)
    db.session.refresh(certification)
    assert certification.status == "pending"


def test_web_reject_needs_a_reason_and_the_producer_sees_it(app, web, db, tenants):
    own = tenants["daklak"]
    certification = _certification(db, own)
    url = f"/manage/certifications/{certification.id}"
    web.login(own.staff.email)
    assert web.post_form(f"{url}/reject", {"reason": ""}, form_url=url).status_code == 422
    db.session.refresh(certification)
    assert certification.status == "pending"
    reason = "Tài liệu đính kèm là giấy chứng nhận của cơ sở khác."
    assert web.post_form(f"{url}/reject", {"reason": reason}, form_url=url).status_code == 303
    assert reason in _signed_in(app, own.producer_user).client.get(url).get_data(as_text=True)


def test_web_edit_of_a_verified_certificate_puts_it_back_to_pending(web, db, tenants):
    own = tenants["daklak"]
    certification = _certification(db, own)
    verify_certification(certification, actor=own.staff)
    db.session.commit()
    url = f"/manage/certifications/{certification.id}/edit"
    web.login(own.producer_user.email)
    form = _form(own, number="VietGAP-TT-12-34-66-0002")
    form.pop("subject")
    response = web.post_form(
        url, {**form, "document": (io.BytesIO(PNG), "ban-moi.png")}, content_type="multipart/form-data"
    )
    assert response.status_code == 302
    db.session.refresh(certification)
    assert certification.status == "pending"
    assert certification.number == "VietGAP-TT-12-34-66-0002"
    assert certification.document_sha256 == hashlib.sha256(PNG).hexdigest()


def test_web_list_filters_by_state_and_shows_expired(web, db, tenants):
    own = tenants["daklak"]
    _certification(db, own, number="CN-HIEU-LUC")
    _certification(
        db,
        own,
        number="CN-HET-HAN",
        valid_from=TODAY - timedelta(days=900),
        valid_to=TODAY - timedelta(days=3),
    )
    _certification(db, tenants["nghean"], number="CN-NGHE-AN")
    web.login(own.staff.email)
    page = web.client.get("/manage/certifications").get_data(as_text=True)
    assert "CN-HIEU-LUC" in page and "CN-HET-HAN" in page and "CN-NGHE-AN" not in page
    page = web.client.get("/manage/certifications?state=expired").get_data(as_text=True)
    assert "CN-HET-HAN" in page and "CN-HIEU-LUC" not in page
    page = web.client.get("/manage/certifications?state=pending&type=vietgap").get_data(as_text=True)
    assert "CN-HIEU-LUC" in page and "CN-HET-HAN" not in page
    page = web.client.get("/manage/certifications?type=haccp", headers={"Accept-Language": "en"})
    assert "No certification matches these filters." in page.get_data(as_text=True)


def test_web_list_is_paginated_and_has_an_empty_state(web, db, tenants):
    own = tenants["daklak"]
    web.login(own.producer_user.email)
    page = web.client.get("/manage/certifications", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "No certifications yet." in page
    for n in range(25):
        create_certification(_data(own, number=f"CN-{n:03d}"), actor=own.producer_user)
    db.session.commit()
    first = web.client.get("/manage/certifications").get_data(as_text=True)
    second = web.client.get("/manage/certifications?page=2").get_data(as_text=True)
    assert "CN-024" in first and "CN-000" not in first
    assert "CN-000" in second and "CN-024" not in second


# ---------------------------------------------------------------- API


def test_api_create_attach_verify_and_read(api, app, db, tenants):
    own = tenants["daklak"]
    body = _data(own)
    body = {k: v.isoformat() if isinstance(v, date) else v for k, v in body.items()}
    response = api.post("/certifications", own.producer_user, json=body)
    assert response.status_code == 201, response.get_json()
    created = response.get_json()
    assert created["state"] == "pending" and created["has_document"] is False
    assert created["subject_id"] == own.product.id and created["producer_id"] == own.producer.id
    cid = created["id"]
    refused = api.post(f"/certifications/{cid}/verify", own.staff)
    assert refused.status_code == 409 and "document" in refused.get_json()["error"]["fields"]
    response = api.post(
        f"/certifications/{cid}/document",
        own.producer_user,
        data={"file": (io.BytesIO(PDF), "giấy chứng nhận.pdf")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["document_sha256"] == hashlib.sha256(PDF).hexdigest()
    verified = api.post(f"/certifications/{cid}/verify", own.staff)
    assert verified.status_code == 200
    got = api.get(f"/certifications/{cid}", own.auditor).get_json()
    assert got["state"] == "verified" and got["is_valid"] is True and got["verified_by_id"] == own.staff.id
    assert api.post(f"/certifications/{cid}/verify", own.staff).status_code == 409


def test_api_fake_or_missing_document_is_refused(api, app, db, tenants):
    own = tenants["daklak"]
    certification = _certification(db, own, document=None)
    before = _documents(app)
    response = api.post(
        f"/certifications/{certification.id}/document",
        own.producer_user,
        data={"file": (io.BytesIO(b"just text"), "giay.pdf")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 422
    assert "file" in response.get_json()["error"]["fields"]
    assert _documents(app) == before
    missing = api.post(f"/certifications/{certification.id}/document", own.producer_user, data={})
    assert missing.status_code == 422 and "file" in missing.get_json()["error"]["fields"]
    db.session.refresh(certification)
    assert certification.document_filename is None


def test_api_refusals(api, db, tenants):
    own, other = tenants["daklak"], tenants["nghean"]
    body = {k: v.isoformat() if isinstance(v, date) else v for k, v in _data(own).items()}
    assert api.post("/certifications", other.producer_user, json=body).status_code == 403
    assert api.post("/certifications", own.auditor, json=body).status_code == 403
    bad = api.post("/certifications", own.producer_user, json={**body, "valid_to": "2020-01-01"})
    assert bad.status_code == 422 and "valid_to" in bad.get_json()["error"]["fields"]
    bad = api.post("/certifications", own.producer_user, json={**body, "type": "bio"})
    assert bad.status_code == 422 and "type" in bad.get_json()["error"]["fields"]
    certification = _certification(db, own)
    cid = certification.id
    assert api.get(f"/certifications/{cid}", other.staff).status_code == 404
    assert api.post(f"/certifications/{cid}/verify", other.staff).status_code == 404
    assert api.post(f"/certifications/{cid}/reject", other.staff, json={"reason": "x"}).status_code == 404
    for user in (own.auditor, own.producer_user, tenants["ministry"]):
        assert api.post(f"/certifications/{cid}/verify", user).status_code == 403
    no_reason = api.post(f"/certifications/{cid}/reject", own.staff, json={"reason": ""})
    assert no_reason.status_code == 422 and "reason" in no_reason.get_json()["error"]["fields"]
    rejected = api.post(f"/certifications/{cid}/reject", own.admin, json={"reason": "Hết hạn trên giấy"})
    assert rejected.status_code == 200
    assert rejected.get_json()["status_reason"] == "Hết hạn trên giấy"
    assert api.get(f"/certifications/{cid}", own.producer_user).get_json()["state"] == "rejected"


def test_api_list_filters_and_scope(api, db, tenants):
    own, other = tenants["daklak"], tenants["nghean"]
    _certification(db, own, number="A")
    verified = _certification(db, own, number="B", type="haccp")
    verify_certification(verified, actor=own.staff)
    _certification(
        db, own, number="C", valid_from=TODAY - timedelta(days=900), valid_to=TODAY - timedelta(days=1)
    )
    _certification(db, other, number="D")
    db.session.commit()

    def numbers(query: str, user=own.staff) -> list[str]:
        response = api.get(f"/certifications{query}", user)
        assert response.status_code == 200
        return sorted(item["number"] for item in response.get_json()["items"])

    assert numbers("") == ["A", "B", "C"]
    assert numbers("?status=verified") == ["B"]
    assert numbers("?type=haccp") == ["B"]
    assert numbers("?state=expired") == ["C"]
    assert numbers(f"?producer_id={own.producer.id}") == ["A", "B", "C"]
    assert numbers(f"?producer_id={other.producer.id}") == []
    assert len(numbers("", tenants["ministry"])) == 4
    assert api.get("/certifications?status=bogus", own.staff).status_code == 422


def _kept(app) -> set[str]:
    folder = Path(app.config["UPLOAD_FOLDER"]) / "kept"
    return {path.name for path in folder.iterdir()} if folder.exists() else set()


def _kept_token(page: str) -> str:
    import re

    match = re.search(r'name="kept_document"[^>]*value="([^"]+)"', page) or re.search(
        r'value="([^"]+)"[^>]*name="kept_document"', page
    )
    assert match, "no kept document on the page"
    return match.group(1)


def test_a_document_attached_to_a_refused_form_is_kept_for_the_next_submit(web, app, db, tenants):
    own = tenants["daklak"]
    web.login(own.producer_user.email)
    headers = {"Accept-Language": "en"}
    before = _kept(app)
    refused = web.post_form(
        "/manage/certifications/new",
        {**_form(own, number=""), "document": (io.BytesIO(PDF), "giấy chứng nhận.pdf")},
        content_type="multipart/form-data",
        headers=headers,
    )
    assert refused.status_code == 422 and _count(db) == 0
    page = refused.get_data(as_text=True)
    assert "Attached: giấy chứng nhận.pdf (kept)" in page
    token = _kept_token(page)
    # Another user cannot use the token; the number fixed, no file chosen again: the kept one is saved.
    saved = web.post_form(
        "/manage/certifications/new",
        {**_form(own, number="VG-KEPT-01"), "kept_document": token},
        content_type="multipart/form-data",
        form_url="/manage/certifications/new",
    )
    assert saved.status_code == 302
    certification = db.session.scalars(select(Certification)).one()
    assert certification.number == "VG-KEPT-01"
    assert certification.document_sha256 == hashlib.sha256(PDF).hexdigest()
    assert certification.document_filename in _documents(app)
    assert token and _kept(app) == before  # the kept copy went


def test_a_kept_document_opens_for_its_sender_only(web, app, db, tenants, make):
    own = tenants["daklak"]
    web.login(own.producer_user.email)
    refused = web.post_form(
        "/manage/certifications/new",
        {**_form(own, number=""), "document": (io.BytesIO(PDF), "chung-nhan.pdf")},
        content_type="multipart/form-data",
    )
    token = _kept_token(refused.get_data(as_text=True))
    colleague = make.user("producer", producer=own.producer)
    db.session.commit()
    other = WebHelper(app.test_client())
    other.login(colleague.email)
    response = other.post_form(
        "/manage/certifications/new",
        {**_form(own, number="VG-STOLEN"), "kept_document": token},
        content_type="multipart/form-data",
        form_url="/manage/certifications/new",
    )
    # Saved without a document: the token is not the colleague's.
    assert response.status_code == 302
    assert db.session.scalars(select(Certification)).one().document_filename is None


def test_a_refused_document_is_not_kept(web, app, db, tenants):
    own = tenants["daklak"]
    web.login(own.producer_user.email)
    before = _kept(app)
    response = web.post_form(
        "/manage/certifications/new",
        {**_form(own), "document": (io.BytesIO(FAKE_PDF), "gia.pdf")},
        content_type="multipart/form-data",
        headers={"Accept-Language": "en"},
    )
    assert response.status_code == 422 and "(kept)" not in response.get_data(as_text=True)
    assert _kept(app) == before


def test_kept_documents_are_removed_by_the_hourly_purge_after_a_day(app, db):
    import os
    import time

    from traceability.core.kept_uploads import KEEP_HOURS, claim, keep, kept_folder, purge_kept

    with app.test_request_context():
        before = _kept(app)
        old = keep(PDF, "cu.pdf", owner_id=7)
        [old_path] = [kept_folder() / name for name in _kept(app) - before]
        fresh = keep(PDF, "moi.pdf", owner_id=7)
        day_ago = time.time() - KEEP_HOURS * 3600 - 60
        os.utime(old_path, (day_ago, day_ago))
        assert purge_kept() >= 1
        assert claim(old.token, owner_id=7) is None  # its file is gone
        assert claim(fresh.token, owner_id=7).filename == "moi.pdf"
