"""GTIN disputes: a squatted GTIN goes back to its owner through the centre, never by itself."""

from __future__ import annotations

import io

import pytest
from sqlalchemy import func, select

from traceability.gs1 import gtin_check_digit
from traceability.models.audit import AuditEntry
from traceability.models.registry import GtinDispute, Product

OWNER_PREFIX = "8936045"
GTIN = f"{OWNER_PREFIX}00001" + str(gtin_check_digit(f"{OWNER_PREFIX}00001"))  # the owner's GTIN-13
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.fixture(autouse=True)
def english(client):
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"


@pytest.fixture
def squat(make, tenants, db):
    """The owner (Đắk Lắk) and an approved squatter (Nghệ An) whose product holds the owner's GTIN."""

    class Scene:
        pass

    scene = Scene()
    scene.owner = tenants["daklak"]
    scene.squatter = tenants["nghean"]
    scene.held = make.product(scene.squatter.producer, name="Cà phê nhái", gtin="0" + GTIN)
    scene.claiming = make.product(scene.owner.producer, name="Cà phê Robusta Ea Tu")
    db.session.commit()
    return scene


def _open(api, scene, **overrides):
    body = {
        "gtin": GTIN,
        "product_id": scene.claiming.id,
        "gs1_membership_no": "GS1VN-2019-0457",
        "gs1_company_prefix": OWNER_PREFIX,
        "note": "Mã do GS1 Việt Nam cấp năm 2019.",
    }
    body.update(overrides)
    return api.post("/gtin-disputes", scene.owner.producer_user, json=body)


def _audits(db, action, object_type):
    return db.session.scalar(
        select(func.count())
        .select_from(AuditEntry)
        .where(AuditEntry.action == action, AuditEntry.object_type == object_type)
    )


def test_the_squatting_scenario_end_to_end(api, db, make, tenants):
    owner, squatter_centre = tenants["daklak"], tenants["nghean"]
    # A pending producer signs up and tries to register a real brand's GTIN: refused, nothing stored.
    pending = make.producer(squatter_centre.centre, status="pending")
    pending_user = make.user("producer", producer=pending)
    refused = api.post("/products", pending_user, json={"name": "Cà phê", "gtin": GTIN})
    assert refused.status_code == 403
    assert db.session.scalar(select(Product.id).where(Product.gtin == "0" + GTIN)) is None

    # An approved squatter takes it first.
    squatter = squatter_centre.producer_user
    taken = api.post("/products", squatter, json={"name": "Cà phê nhái", "gtin": GTIN})
    assert taken.status_code == 201
    held_id = taken.get_json()["id"]

    # The owner is refused, and told how to dispute it.
    conflict = api.post("/products", owner.producer_user, json={"name": "Cà phê Ea Tu", "gtin": GTIN})
    assert conflict.status_code == 409
    error = conflict.get_json()["error"]
    assert "another producer" in error["message"] and "dispute" in error["message"]
    assert "gtin" in error["fields"]

    # The owner registers its product without the GTIN and opens a dispute with its evidence.
    created = api.post("/products", owner.producer_user, json={"name": "Cà phê Ea Tu"})
    product_id = created.get_json()["id"]
    opened = api.post(
        "/gtin-disputes",
        owner.producer_user,
        json={
            "gtin": GTIN,
            "product_id": product_id,
            "gs1_membership_no": "GS1VN-2019-0457",
            "gs1_company_prefix": OWNER_PREFIX,
        },
    )
    assert opened.status_code == 201, opened.get_json()
    dispute = opened.get_json()
    assert dispute["status"] == "open"
    assert dispute["holder_product_id"] == held_id
    assert dispute["gtin"] == "0" + GTIN

    # The owner reads it; the squatter's user does not see the claimant's file.
    assert api.get(f"/gtin-disputes/{dispute['id']}", owner.producer_user).status_code == 200
    assert api.get(f"/gtin-disputes/{dispute['id']}", squatter).status_code == 404

    # The owner's centre decides for the owner: the GTIN moves.
    decided = api.post(
        f"/gtin-disputes/{dispute['id']}/decide",
        owner.staff,
        json={"outcome": "claimant", "reason": "GS1 Việt Nam xác nhận mã doanh nghiệp 8936045 của HTX."},
    )
    assert decided.status_code == 200, decided.get_json()
    assert decided.get_json()["outcome"] == "claimant"
    assert api.get(f"/products/{product_id}", owner.producer_user).get_json()["gtin"] == "0" + GTIN
    assert api.get(f"/products/{held_id}", squatter).get_json()["gtin"] is None
    assert _audits(db, "decide", "GtinDispute") == 1

    # Deciding again is refused.
    again = api.post(
        f"/gtin-disputes/{dispute['id']}/decide", owner.staff, json={"outcome": "holder", "reason": "Nhầm."}
    )
    assert again.status_code == 409


def test_the_holders_centre_may_decide_too_and_the_holder_keeps_it(api, db, squat):
    dispute = _open(api, squat).get_json()
    decided = api.post(
        f"/gtin-disputes/{dispute['id']}/decide",
        squat.squatter.admin,
        json={"outcome": "holder", "reason": "Không có giấy chứng nhận thành viên GS1."},
    )
    assert decided.status_code == 200, decided.get_json()
    db.session.expire_all()
    assert db.session.get(Product, squat.held.id).gtin == "0" + GTIN
    assert db.session.get(Product, squat.claiming.id).gtin is None
    body = api.get(f"/gtin-disputes/{dispute['id']}", squat.owner.producer_user).get_json()
    assert body["status"] == "decided" and body["reason"] == "Không có giấy chứng nhận thành viên GS1."


def test_only_the_centres_concerned_decide_and_they_give_a_reason(api, db, make, squat):
    dispute = _open(api, squat).get_json()
    path = f"/gtin-disputes/{dispute['id']}/decide"
    body = {"outcome": "claimant", "reason": "Đủ bằng chứng."}
    outsider_centre = make.centre("01")
    outsider = make.user("centre_staff", centre=outsider_centre)
    assert api.post(path, outsider, json=body).status_code == 404  # not its province: not even seen
    assert api.post(path, squat.owner.producer_user, json=body).status_code == 403
    assert api.post(path, squat.owner.auditor, json=body).status_code == 403
    missing = api.post(path, squat.owner.staff, json={"outcome": "claimant"})
    assert missing.status_code == 422
    assert "reason" in missing.get_json()["error"]["fields"]
    blank = api.post(path, squat.owner.staff, json={"outcome": "claimant", "reason": "   "})
    assert blank.status_code == 422
    wrong = api.post(path, squat.owner.staff, json={"outcome": "both", "reason": "?"})
    assert wrong.status_code == 422
    db.session.expire_all()
    assert db.session.get(GtinDispute, dispute["id"]).status == "open"
    assert db.session.get(Product, squat.held.id).gtin == "0" + GTIN


def test_a_claim_needs_evidence_that_fits_the_gtin(api, db, squat):
    no_evidence = _open(api, squat, gs1_membership_no="", gs1_company_prefix="")
    assert no_evidence.status_code == 422
    assert "gs1_membership_no" in no_evidence.get_json()["error"]["fields"]
    other_prefix = _open(api, squat, gs1_company_prefix="8931234")
    assert other_prefix.status_code == 422
    assert "gs1_company_prefix" in other_prefix.get_json()["error"]["fields"]
    bad_gtin = _open(api, squat, gtin="8936045000012")
    assert bad_gtin.status_code == 422
    unheld = _open(api, squat, gtin=f"893604500002{gtin_check_digit('893604500002')}")
    assert unheld.status_code == 422
    assert db.session.scalar(select(func.count()).select_from(GtinDispute)) == 0


def test_one_open_claim_at_a_time_for_a_product_without_batches(api, db, make, squat):
    assert _open(api, squat).status_code == 201
    assert _open(api, squat).status_code == 409
    with_batches = make.product(squat.owner.producer, name="Cà phê có lô")
    make.batch(with_batches)
    db.session.commit()
    refused = _open(api, squat, product_id=with_batches.id)
    assert refused.status_code == 409
    assert "batches" in refused.get_json()["error"]["message"]
    other_tenant = _open(api, squat, product_id=squat.held.id)
    assert other_tenant.status_code == 403


def test_a_producer_that_is_not_approved_cannot_claim(api, db, make, squat):
    pending = make.producer(squat.owner.centre, status="pending")
    pending_user = make.user("producer", producer=pending)
    product = make.product(pending)
    db.session.commit()
    response = api.post(
        "/gtin-disputes",
        pending_user,
        json={"gtin": GTIN, "product_id": product.id, "gs1_company_prefix": OWNER_PREFIX},
    )
    assert response.status_code == 403
    assert db.session.scalar(select(func.count()).select_from(GtinDispute)) == 0


def test_tenants_see_their_own_disputes(api, make, squat):
    dispute = _open(api, squat).get_json()
    listing = api.get("/gtin-disputes", squat.owner.producer_user).get_json()
    assert [item["id"] for item in listing["items"]] == [dispute["id"]]
    assert api.get("/gtin-disputes", squat.squatter.producer_user).get_json()["total"] == 0
    for centre_user in (squat.owner.staff, squat.squatter.staff, squat.owner.auditor):
        assert api.get("/gtin-disputes", centre_user).get_json()["total"] == 1
    elsewhere = make.user("centre_staff", centre=make.centre("01"))
    assert api.get("/gtin-disputes", elsewhere).get_json()["total"] == 0


def test_the_openapi_document_lists_the_dispute_operations(client):
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    assert "post" in paths["/gtin-disputes"]
    assert "get" in paths["/gtin-disputes/{dispute_id}"]
    assert "post" in paths["/gtin-disputes/{dispute_id}/decide"]


# --- the web ---------------------------------------------------------------------------------------


def test_on_the_web_the_product_form_leads_to_a_dispute_and_the_centre_decides(web, client, db, squat):
    web.login(squat.owner.producer_user.email)
    refused = web.post_form(
        "/manage/products/new", {"name": "Cà phê Ea Tu", "gtin": GTIN, "category": "Cà phê"}
    )
    assert refused.status_code == 422
    page = refused.get_data(as_text=True)
    assert "/manage/gtin-disputes/new?gtin=" in page

    form_url = f"/manage/gtin-disputes/new?gtin={GTIN}&product_id={squat.claiming.id}"
    assert client.get(form_url).status_code == 200
    opened = web.post_form(
        "/manage/gtin-disputes/new",
        {
            "gtin": GTIN,
            "product_id": str(squat.claiming.id),
            "gs1_membership_no": "GS1VN-2019-0457",
            "gs1_company_prefix": OWNER_PREFIX,
            "note": "",
            "document": (io.BytesIO(PDF), "Giấy chứng nhận GS1.pdf"),
        },
        form_url=form_url,
        content_type="multipart/form-data",
    )
    assert opened.status_code == 302, opened.get_data(as_text=True)
    dispute = db.session.scalars(select(GtinDispute)).one()
    assert dispute.document_sha256 is not None
    client.post("/logout")

    web.login(squat.owner.staff.email)
    worklist = client.get("/manage/worklist").get_data(as_text=True)
    assert f"/manage/gtin-disputes/{dispute.id}" in worklist
    detail = client.get(f"/manage/gtin-disputes/{dispute.id}").get_data(as_text=True)
    assert (
        "GS1VN-2019-0457" in detail and squat.held.name in detail and squat.squatter.producer.name in detail
    )
    with client.get(f"/manage/gtin-disputes/{dispute.id}/document") as document:  # a file: close it
        assert document.status_code == 200 and document.data == PDF
    no_reason = web.post_form(
        f"/manage/gtin-disputes/{dispute.id}/decide",
        {"outcome": "claimant", "reason": ""},
        form_url=f"/manage/gtin-disputes/{dispute.id}",
    )
    assert no_reason.status_code == 422
    decided = web.post_form(
        f"/manage/gtin-disputes/{dispute.id}/decide",
        {"outcome": "claimant", "reason": "GS1 Việt Nam xác nhận."},
        form_url=f"/manage/gtin-disputes/{dispute.id}",
    )
    assert decided.status_code == 303
    db.session.expire_all()
    assert db.session.get(Product, squat.claiming.id).gtin == "0" + GTIN
    assert db.session.get(Product, squat.held.id).gtin is None


def test_the_evidence_stored_for_a_dispute_that_fails_is_removed(app, db, squat, monkeypatch):
    from pathlib import Path

    from traceability.registry import gtin_disputes

    def folder() -> set[str]:
        path = Path(app.config["UPLOAD_FOLDER"]) / "documents"
        return {entry.name for entry in path.iterdir()} if path.exists() else set()

    def failing_audit(*args, **kwargs):
        raise RuntimeError("database down")

    before = folder()
    monkeypatch.setattr(gtin_disputes, "_audit", failing_audit)
    data = {
        "gtin": GTIN,
        "product_id": squat.claiming.id,
        "gs1_membership_no": "GS1VN-2019-0457",
        "gs1_company_prefix": OWNER_PREFIX,
    }
    with pytest.raises(RuntimeError):
        gtin_disputes.open_dispute(
            data, actor=squat.owner.producer_user, document=PDF, document_name="gs1.pdf"
        )
    assert folder() != before  # stored, and the transaction is still open
    db.session.rollback()
    assert folder() == before
    assert db.session.scalar(select(func.count(GtinDispute.id))) == 0
