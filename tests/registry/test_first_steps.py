"""The start page: a producer's first product, its photo, its place and its certificate in one form."""

from __future__ import annotations

import hashlib
import io
import re
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from PIL import Image
from sqlalchemy import func, select

from traceability.models.audit import AuditEntry
from traceability.models.registry import Certification, Location, Product, ProductImage

EN = {"Accept-Language": "en"}
URL = "/manage/start"


def _jpeg() -> bytes:
    output = io.BytesIO()
    Image.new("RGB", (320, 240), (120, 80, 40)).save(output, "JPEG")
    return output.getvalue()


def _pdf() -> bytes:
    output = io.BytesIO()
    Image.new("RGB", (200, 280), "white").save(output, format="PDF")
    return output.getvalue()


JPEG, PDF = _jpeg(), _pdf()


@pytest.fixture
def newcomer(make, db):
    """An approved producer with one user and nothing else."""
    centre = make.centre("66")
    producer = make.producer(centre, name="Hợp tác xã Ea Tu")
    user = make.user("producer", producer=producer)
    db.session.commit()
    return user


def _form(**overrides):
    return {
        "product-name": "Cà phê Robusta Ea Tu",
        "product-category": "Cà phê",
        "place_id": "0",
        "place-name": "Vườn Ea Tu",
        "place-kind": "farm",
        "place-province_code": "66",
        "place-ward": "Xã Ea Tu",
        "place-street": "",
        "covers": "location",
        "certificate-type": "vietgap",
        "certificate-number": "VG-66-0012",
        "certificate-issuer": "Trung tâm Chứng nhận Phù hợp",
        "certificate-valid_from": "2026-01-01",
        "certificate-valid_to": "2028-12-31",
        **overrides,
    }


def _files(app, folder: str) -> set[str]:
    path = Path(app.config["UPLOAD_FOLDER"]) / folder
    return {entry.name for entry in path.iterdir()} if path.exists() else set()


def _counts(db) -> tuple[int, ...]:
    return tuple(
        db.session.scalar(select(func.count()).select_from(model))
        for model in (Product, ProductImage, Location, Certification)
    )


def _post(web, data, **kwargs):
    return web.post_form(URL, data, content_type="multipart/form-data", form_url=URL, **kwargs)


def _hidden(page: str, name: str) -> str:
    match = re.search(rf'name="{name}"[^>]*value="([^"]*)"', page) or re.search(
        rf'value="([^"]*)"[^>]*name="{name}"', page
    )
    assert match, f"no {name} on the page"
    return match.group(1)


def test_a_new_producer_is_offered_the_start_page_until_its_first_product(web, client, newcomer, make, db):
    web.login(newcomer.email)
    dashboard = client.get("/manage", headers=EN).get_data(as_text=True)
    assert "Register my first product" in dashboard and 'href="/manage/start"' in dashboard
    page = client.get(URL, headers=EN)
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    # No place yet: no choice of place, the new one's fields; the province is the producer's.
    assert 'name="place_id" value="0"' in text and "<select" in text
    assert re.search(r'<option selected value="66">|<option value="66" selected>', text)
    make.product(newcomer.producer)
    db.session.commit()
    assert "Register my first product" not in client.get("/manage", headers=EN).get_data(as_text=True)


def test_one_form_stores_the_product_its_photo_place_and_certificate_then_opens_its_first_lot(
    web, client, app, db, newcomer
):
    web.login(newcomer.email)
    response = _post(
        web,
        {
            **_form(),
            "photo": (io.BytesIO(JPEG), "ca-phe.jpg"),
            "certificate-document": (io.BytesIO(PDF), "vietgap.pdf"),
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    product = db.session.scalars(select(Product)).one()
    location = db.session.scalars(select(Location)).one()
    certification = db.session.scalars(select(Certification)).one()
    assert (product.name, product.category, product.producer_id) == (
        "Cà phê Robusta Ea Tu",
        "Cà phê",
        newcomer.producer_id,
    )
    assert len(product.images) == 1 and product.images[0].filename in _files(app, "images")
    assert (location.name, location.ward, location.kind) == ("Vườn Ea Tu", "Xã Ea Tu", "farm")
    # The certificate covers the farm, waits for the centre, and carries its document.
    assert (certification.scope, certification.location_id, certification.status) == (
        "location",
        location.id,
        "pending",
    )
    assert certification.document_sha256 == hashlib.sha256(PDF).hexdigest()
    audited = set(db.session.execute(select(AuditEntry.object_type, AuditEntry.action)).all())
    assert {("Product", "create"), ("Location", "create"), ("Certification", "create")} <= audited
    # Straight on to the product's first lot, the product and its farm chosen.
    target = urlsplit(response.headers["Location"])
    assert target.path == "/manage/batches/new"
    assert parse_qs(target.query) == {"product_id": [str(product.id)], "location_id": [str(location.id)]}
    lot_form = client.get(response.headers["Location"], headers=EN).get_data(as_text=True)
    assert re.search(rf'<option selected value="{product.id}">Cà phê Robusta Ea Tu', lot_form)
    assert re.search(rf'<option selected value="{location.id}">Vườn Ea Tu', lot_form)


def test_the_certificate_may_cover_the_product_or_be_left_out(web, db, newcomer):
    web.login(newcomer.email)
    assert _post(web, _form(covers="product")).status_code == 302
    certification = db.session.scalars(select(Certification)).one()
    product = db.session.scalars(select(Product)).one()
    assert (certification.scope, certification.product_id) == ("product", product.id)
    blank = dict.fromkeys(("certificate-number", "certificate-issuer"), "")
    blank |= {"certificate-valid_from": "", "certificate-valid_to": ""}
    # With a place of its own now, the producer chooses it instead of typing it again.
    location = db.session.scalars(select(Location)).one()
    second = _form(
        **blank, **{"product-name": "Cà phê rang xay", "place_id": str(location.id), "place-name": ""}
    )
    assert _post(web, second).status_code == 302
    assert _counts(db) == (2, 0, 1, 1)
    assert db.session.scalars(select(Product).where(Product.name == "Cà phê rang xay")).one()


def test_a_refused_form_stores_nothing_and_keeps_the_photo_and_document_for_the_next_submit(
    web, app, db, newcomer
):
    web.login(newcomer.email)
    images, documents, kept_before = _files(app, "images"), _files(app, "documents"), _files(app, "kept")
    refused = _post(
        web,
        {
            **_form(**{"certificate-number": "", "place-name": ""}),
            "photo": (io.BytesIO(JPEG), "ca-phe.jpg"),
            "certificate-document": (io.BytesIO(PDF), "vietgap.pdf"),
        },
        headers=EN,
    )
    assert refused.status_code == 422
    page = refused.get_data(as_text=True)
    # Each part's refusal on its own field, all at once.
    assert re.search(r'id="place-name"[^>]*>\s*(<small[^>]*>.*?</small>\s*)?<p class="error">', page, re.S)
    assert re.search(
        r'id="certificate-number"[^>]*>\s*(<small[^>]*>.*?</small>\s*)?<p class="error">', page, re.S
    )
    assert "Attached: ca-phe.jpg (kept)" in page and "Attached: vietgap.pdf (kept)" in page
    assert _counts(db) == (0, 0, 0, 0)
    assert (_files(app, "images"), _files(app, "documents")) == (images, documents)
    kept = {
        "kept_photo": _hidden(page, "kept_photo"),
        "certificate-kept_document": _hidden(page, "certificate-kept_document"),
    }
    saved = _post(web, {**_form(), **kept})
    assert saved.status_code == 302
    assert _counts(db) == (1, 1, 1, 1)
    assert db.session.scalars(select(Certification)).one().document_sha256 == hashlib.sha256(PDF).hexdigest()
    assert _files(app, "kept") == kept_before  # the kept copies went once saved


def test_a_refusal_after_the_product_was_written_rolls_all_of_it_back(web, app, db, newcomer):
    web.login(newcomer.email)
    images = _files(app, "images")
    # The product and its farm pass; the photo is no image, and the certificate ends before it starts.
    response = _post(web, {**_form(), "photo": (io.BytesIO(b"not a photo at all"), "ca-phe.jpg")}, headers=EN)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "This file is not a PNG, JPEG or WebP image." in page
    assert _counts(db) == (0, 0, 0, 0) and _files(app, "images") == images
    response = _post(web, _form(**{"certificate-valid_to": "2025-01-01"}), headers=EN)
    assert response.status_code == 422
    assert "The certificate cannot end before it starts." in response.get_data(as_text=True)
    assert _counts(db) == (0, 0, 0, 0)


def test_another_producers_place_cannot_be_chosen(web, db, newcomer, make):
    stranger = make.producer(newcomer.producer.centre, name="Hợp tác xã Khác")
    their_farm = make.location(stranger)
    db.session.commit()
    web.login(newcomer.email)
    response = _post(web, _form(place_id=str(their_farm.id)), headers=EN)
    assert response.status_code == 422
    assert _counts(db)[0] == 0


def test_the_start_page_is_a_producers_and_speaks_vietnamese_by_default(web, client, newcomer, make, db):
    staff = make.user("centre_staff", centre=newcomer.producer.centre)
    pending = make.user("producer", producer=make.producer(newcomer.producer.centre, status="pending"))
    db.session.commit()
    web.login(newcomer.email)
    assert "Sản phẩm của bạn" in client.get(URL).get_data(as_text=True)
    client.get("/logout")
    web.login(staff.email)
    assert client.get(URL).status_code == 403
    client.get("/logout")
    web.login(pending.email)
    assert client.get(URL).status_code == 302  # back to the dashboard, which says why
