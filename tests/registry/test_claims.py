"""OCOP ratings and flagship designations are claims: public only once the producer's centre verified them."""

from __future__ import annotations

import io
import json
import re
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from traceability.batches.label_sheets import label_text
from traceability.batches.quality import unverified_claims
from traceability.core.dates import vietnam_today
from traceability.core.errors import InvalidInput
from traceability.core.extensions import db as _db
from traceability.models.audit import AuditEntry
from traceability.models.registry import Certification, Product
from traceability.public.linkset import valid_certifications
from traceability.registry.certifications import create_certification
from traceability.registry.claims import current_claim
from traceability.registry.product_claims import declare_ocop, verify_claim
from traceability.registry.worklists import certifications_to_verify
from traceability.reports.dashboard import products_by_stars

TODAY = vietnam_today()
JSONLD = re.compile(r'<script type="application/ld\+json">(.*?)</script>', re.S)
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
INVENTED_NUMBER = "9999/QĐ-UBND-GIẢ"


def _ocop(stars: int = 4, **extra) -> dict:
    return {
        "group": "food",
        "stars": stars,
        "certificate_no": INVENTED_NUMBER,
        "issued_on": (TODAY - timedelta(days=100)).isoformat(),
        **extra,
    }


@pytest.fixture
def english(client):
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"


@pytest.fixture
def declared(api, tenants, make, db):
    """A producer's product declaring OCOP ★★★★ and flagship, with a lot, and no centre action."""
    own = tenants["daklak"]
    response = api.post(
        "/products",
        own.producer_user,
        json={
            "name": "Cà phê Ea Tu tự khai",
            "gtin": "8935000000014",
            "is_flagship": True,
            "ocop": _ocop(),
            "shop_links": [{"name": "Shopee", "url": "https://shopee.vn/eatu", "price_vnd": 185000}],
        },
    )
    assert response.status_code == 201, response.get_json()
    product = db.session.get(Product, response.get_json()["id"])
    batch = make.batch(product, lot_code="TUKHAI1")
    db.session.commit()
    return product, batch, response.get_json()


def _attach_document(api, user, claim_id: int):
    return api.post(
        f"/certifications/{claim_id}/document",
        user,
        data={"file": (io.BytesIO(PDF), "quyet-dinh.pdf")},
        content_type="multipart/form-data",
    )


def _page(client, batch) -> str:
    return client.get(f"/01/{batch.product.gtin}/10/{batch.lot_code}").get_data(as_text=True)


def test_a_declared_rating_reaches_no_public_answer(client, api, declared, tenants, db, english):
    product, batch, answer = declared
    assert answer["ocop"]["status"] == "declared" and answer["ocop"]["stars"] == 4
    assert answer["flagship_status"] == "declared" and answer["is_flagship"] is False
    page = _page(client, batch)
    assert "★" not in page and INVENTED_NUMBER not in page and "Flagship product" not in page
    jsonld = " ".join(JSONLD.findall(page))
    assert "CertificationActive" not in jsonld and "OCOP" not in jsonld
    linkset = client.get(
        f"/01/{product.gtin}/10/{batch.lot_code}", headers={"Accept": "application/linkset+json"}
    ).get_data(as_text=True)
    assert INVENTED_NUMBER not in linkset and "OCOP" not in linkset
    assert valid_certifications(batch) == []
    directory = client.get("/products").get_data(as_text=True)
    assert product.name not in directory
    assert product.name not in client.get("/products?ocop_stars=4").get_data(as_text=True)
    assert label_text(batch).ocop_stars is None
    counts = products_by_stars(tenants["ministry"], TODAY)
    assert sum(counts.series[0].values) == 0


def test_the_centre_verifies_against_the_decision_and_then_everything_public_shows_it(
    client, api, declared, tenants, db, english
):
    product, batch, answer = declared
    own = tenants["daklak"]
    refused = api.post(f"/products/{product.id}/ocop/verify", own.staff)
    assert refused.status_code == 409 and "document" in refused.get_data(as_text=True)
    claim_id = answer["ocop"]["certification_id"]
    assert claim_id == current_claim(product, "ocop").id
    assert _attach_document(api, own.producer_user, claim_id).status_code in (200, 201)
    verified = api.post(f"/products/{product.id}/ocop/verify", own.staff)
    assert verified.status_code == 200, verified.get_json()
    assert verified.get_json()["ocop"]["status"] == "verified"
    flagship = api.post(f"/products/{product.id}/flagship/verify", own.staff)
    assert flagship.get_json()["flagship_status"] == "verified" and flagship.get_json()["is_flagship"]
    page = _page(client, batch)
    assert "★★★★" in page and "Flagship product" in page
    assert "CertificationActive" in " ".join(JSONLD.findall(page))
    assert product.name in client.get("/products?ocop_stars=4").get_data(as_text=True)
    db.session.expire_all()
    assert label_text(db.session.get(type(batch), batch.id)).ocop_stars == 4
    counts = products_by_stars(tenants["ministry"], TODAY)
    assert sum(counts.series[0].values) == 1
    entries = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "verify")).all()
    assert {entry.user_id for entry in entries} == {own.staff.id}


def test_rejecting_needs_a_reason_the_producer_then_reads(api, declared, tenants, db):
    product, _batch, _answer = declared
    own = tenants["daklak"]
    missing = api.post(f"/products/{product.id}/ocop/reject", own.staff, json={})
    assert missing.status_code == 422 and "reason" in missing.get_json()["error"]["fields"]
    rejected = api.post(
        f"/products/{product.id}/ocop/reject", own.staff, json={"reason": "Số quyết định không có trong sổ."}
    )
    assert rejected.status_code == 200
    ocop = rejected.get_json()["ocop"]
    assert (ocop["status"], ocop["status_reason"]) == ("rejected", "Số quyết định không có trong sổ.")
    read = api.get(f"/products/{product.id}", own.producer_user).get_json()
    assert read["ocop"]["status"] == "rejected" and read["ocop"]["status_reason"]
    again = api.post(f"/products/{product.id}/ocop/reject", own.staff, json={"reason": "x"})
    assert again.status_code == 409


@pytest.mark.parametrize("who", ["producer_user", "other_centre"])
def test_only_the_producers_own_centre_decides(api, declared, tenants, who):
    product, _batch, _answer = declared
    user = tenants["daklak"].producer_user if who == "producer_user" else tenants["nghean"].staff
    response = api.post(f"/products/{product.id}/flagship/verify", user)
    assert response.status_code in (403, 404)
    assert api.get(f"/products/{product.id}", tenants["daklak"].producer_user).get_json()[
        "flagship_status"
    ] == ("declared")


def test_deciding_with_nothing_declared_is_a_conflict(api, tenants):
    own = tenants["daklak"]
    response = api.post(f"/products/{own.product.id}/ocop/verify", own.staff)
    assert response.status_code == 409
    # Vietnamese by default: "no OCOP rating waiting for a decision".
    assert "không có hạng OCOP nào đang chờ quyết định" in response.get_json()["error"]["message"]


def test_an_expired_rating_says_so_and_shows_no_stars(api, tenants, make, db, client):
    own = tenants["daklak"]
    product = make.product(
        own.producer,
        ocop_stars=3,
        ocop_group="food",
        ocop_issued_on=TODAY - timedelta(days=1200),
        ocop_expires_on=TODAY - timedelta(days=5),
    )
    db.session.commit()
    answer = api.get(f"/products/{product.id}", own.producer_user).get_json()
    assert answer["ocop"]["status"] == "expired"
    batch = make.batch(product)
    db.session.commit()
    page = client.get(f"/t/{batch.public_code}", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "its stars are no longer in force" in page
    assert 'class="ocop"' not in page


def test_a_changed_rating_is_declared_again_and_the_verified_one_stays_until_decided(
    api, declared, tenants, db
):
    product, _batch, _answer = declared
    own = tenants["daklak"]
    claim_id = current_claim(product, "ocop").id
    _attach_document(api, own.producer_user, claim_id)
    api.post(f"/products/{product.id}/ocop/verify", own.staff)
    changed = api.request("PATCH", f"/products/{product.id}", own.producer_user, json={"ocop": _ocop(5)})
    assert changed.status_code == 200
    assert changed.get_json()["ocop"]["stars"] == 5 and changed.get_json()["ocop"]["status"] == "declared"
    db.session.expire_all()
    assert db.session.get(Product, product.id).ocop_stars == 4  # the verified rating is still the public one


def test_withdrawing_removes_the_declaration_and_ends_a_verified_rating(api, declared, tenants, db):
    product, _batch, _answer = declared
    own = tenants["daklak"]
    api.post(f"/products/{product.id}/flagship/verify", own.staff)
    response = api.request(
        "PATCH", f"/products/{product.id}", own.producer_user, json={"ocop": None, "is_flagship": False}
    )
    assert response.status_code == 200
    assert response.get_json()["ocop"] is None
    assert response.get_json()["flagship_status"] == "expired" and response.get_json()["is_flagship"] is False


def test_claims_are_not_recorded_as_ordinary_certificates(tenants):
    own = tenants["daklak"]
    data = {
        "scope": "product",
        "subject_id": own.product.id,
        "type": "ocop",
        "number": "1/QĐ",
        "issuer": "UBND",
        "valid_from": date(2025, 1, 1),
        "valid_to": date(2028, 1, 1),
    }
    with pytest.raises(InvalidInput) as caught:
        create_certification(data, actor=own.producer_user)
    assert "type" in caught.value.fields


def test_pending_claims_are_on_the_work_list_and_the_data_quality_page(declared, tenants, web):
    product, batch, _answer = declared
    own = tenants["daklak"]
    waiting = certifications_to_verify(own.staff)
    assert {(c.type, c.product_id) for c in waiting.items} >= {("ocop", product.id), ("flagship", product.id)}
    assert {finding.batch_id for finding in unverified_claims(own.staff)} == {batch.id}
    assert unverified_claims(tenants["nghean"].staff) == []
    web.login(own.staff.email)
    quality = web.client.get("/manage/quality", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Claims waiting for the centre" in quality and batch.lot_code in quality


def test_the_web_form_declares_with_the_decision_and_the_centre_verifies_on_the_claims_page(
    web, tenants, db, client, make
):
    own = tenants["daklak"]
    web.login(own.producer_user.email)
    response = web.post_form(
        "/manage/products/new",
        {
            "name": "Mật ong Ea Tu",
            "ocop-group": "food",
            "ocop-stars": "3",
            "ocop-certificate_no": "55/QĐ-UBND",
            "ocop-issued_on": (TODAY - timedelta(days=30)).isoformat(),
            "ocop_document": (io.BytesIO(PDF), "quyet-dinh.pdf"),
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    product = db.session.scalar(select(Product).where(Product.name == "Mật ong Ea Tu"))
    claim = current_claim(product, "ocop")
    assert claim.status == "pending" and claim.document_sha256
    detail = web.client.get(f"/manage/products/{product.id}", headers={"Accept-Language": "en"})
    assert "Pending" in detail.get_data(as_text=True)
    web.client.get("/logout")
    web.login(own.staff.email)
    verified = web.post_form(
        f"/manage/certifications/{claim.id}/verify", {}, form_url=f"/manage/certifications/{claim.id}"
    )
    assert verified.status_code == 303
    db.session.expire_all()
    product = db.session.get(Product, product.id)
    assert product.ocop_stars == 3 and product.ocop_level == "province"
    batch = make.batch(product)
    db.session.commit()
    assert "★★★" in client.get(f"/t/{batch.public_code}").get_data(as_text=True)


def test_verify_claim_refuses_an_ocop_rating_without_its_decision_date(tenants, db):
    own = tenants["daklak"]
    declare_ocop(own.product, {"group": "food", "stars": 4}, actor=own.producer_user, document=PDF)
    claim = current_claim(own.product, "ocop")
    assert claim.valid_from is None
    with pytest.raises(Exception) as caught:
        verify_claim(own.product, "ocop", actor=own.staff)
    assert "ngày của quyết định OCOP" in str(caught.value.message)  # "the date of the OCOP decision"
    assert _db.session.get(Certification, claim.id).status == "pending"


def test_product_answer_documents_the_claim_fields(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    paths = spec["paths"]
    for path in (
        "/products/{product_id}/ocop/verify",
        "/products/{product_id}/ocop/reject",
        "/products/{product_id}/flagship/verify",
        "/products/{product_id}/flagship/reject",
    ):
        assert "post" in paths[path], path
    product = json.dumps(spec["components"]["schemas"]["Product"])
    assert "flagship_status" in product
