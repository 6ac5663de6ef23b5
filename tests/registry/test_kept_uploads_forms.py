"""Uploads kept across a form error on the GTIN dispute and product forms: the file attached to a
refused form is shown as kept, and the corrected submit stores it once, without choosing it again."""

from __future__ import annotations

import hashlib
import io
import re
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import func, select

from tests.conftest import WebHelper
from tests.registry.test_gtin_disputes import GTIN, OWNER_PREFIX, PDF, squat  # noqa: F401 (a fixture)
from traceability.core.contracts import column_length
from traceability.models.registry import GtinDispute, Product, ProductImage
from traceability.registry.claims import current_claim
from traceability.registry.gtin_disputes import MAX_NOTE_LENGTH

TOO_LONG_NAME = "Cà phê " + "x" * column_length(Product.name)


@pytest.fixture(autouse=True)
def english(client):
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"


def files(app, folder: str) -> set[str]:
    path = Path(app.config["UPLOAD_FOLDER"]) / folder
    return {item.name for item in path.iterdir()} if path.exists() else set()


def kept_token(page: str, name: str) -> str:
    match = re.search(rf'name="{name}"[^>]*value="([^"]+)"', page) or re.search(
        rf'value="([^"]+)"[^>]*name="{name}"', page
    )
    assert match, f"no kept {name} on the page"
    return match.group(1)


def photo_bytes(colour=(200, 40, 40)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (400, 300), colour).save(buffer, format="JPEG")
    return buffer.getvalue()


# ---------------------------------------------------------------- the GTIN dispute's evidence


def dispute_form(scene, **overrides):
    form = {
        "gtin": GTIN,
        "product_id": str(scene.claiming.id),
        "gs1_membership_no": "GS1VN-2019-0457",
        "gs1_company_prefix": OWNER_PREFIX,
        "note": "Mã do GS1 Việt Nam cấp năm 2019.",
    }
    form.update(overrides)
    return form


def test_the_disputes_evidence_is_kept_across_a_form_error_and_stored_once(web, app, db, squat):  # noqa: F811
    web.login(squat.owner.producer_user.email)
    form_url = "/manage/gtin-disputes/new"
    kept_before, documents_before = files(app, "kept"), files(app, "documents")
    refused = web.post_form(
        form_url,
        {
            **dispute_form(squat, note="x" * (MAX_NOTE_LENGTH + 1)),
            "document": (io.BytesIO(PDF), "GS1 thành viên.pdf"),
        },
        content_type="multipart/form-data",
    )
    assert refused.status_code == 422
    page = refused.get_data(as_text=True)
    assert "Attached: GS1 thành viên.pdf (kept)" in page
    assert db.session.scalar(select(func.count()).select_from(GtinDispute)) == 0
    assert files(app, "documents") == documents_before  # nothing stored for a refused form
    token = kept_token(page, "kept_document")

    saved = web.post_form(
        form_url, {**dispute_form(squat), "kept_document": token}, content_type="multipart/form-data"
    )
    assert saved.status_code == 302, saved.get_data(as_text=True)
    dispute = db.session.scalars(select(GtinDispute)).one()
    assert dispute.document_original_name == "GS1 thành viên.pdf"
    assert files(app, "documents") - documents_before == {dispute.document_filename}
    assert files(app, "kept") == kept_before  # the kept copy went once saved
    with web.client.get(f"/manage/gtin-disputes/{dispute.id}/document") as document:
        assert document.status_code == 200 and document.data == PDF

    # The token is spent: sent again, it attaches nothing.
    other = web.post_form(
        form_url, {**dispute_form(squat), "kept_document": token}, content_type="multipart/form-data"
    )
    assert other.status_code == 422  # one open claim at a time, and no document kept for it
    assert "(kept)" not in other.get_data(as_text=True)


def test_a_refused_evidence_file_is_not_kept(web, app, db, squat):  # noqa: F811
    web.login(squat.owner.producer_user.email)
    kept_before = files(app, "kept")
    response = web.post_form(
        "/manage/gtin-disputes/new",
        {**dispute_form(squat), "document": (io.BytesIO(b"not a pdf at all"), "gs1.pdf")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "(kept)" not in page and "The document was refused" in page
    assert files(app, "kept") == kept_before


# ---------------------------------------------------------------- a product's photo


def product_form(**overrides):
    form = {"name": "Cà phê Robusta Ea Tu", "category": "Cà phê", "ocop-group": "", "ocop-stars": ""}
    form.update(overrides)
    return form


def test_a_new_products_photo_is_kept_across_a_form_error_and_shown_on_its_page(web, app, db, tenants):
    own = tenants["daklak"]
    web.login(own.producer_user.email)
    images_before, kept_before = files(app, "images"), files(app, "kept")
    picture = photo_bytes()
    refused = web.post_form(
        "/manage/products/new",
        {**product_form(name=TOO_LONG_NAME), "photo": (io.BytesIO(picture), "cà phê.jpg")},
        content_type="multipart/form-data",
    )
    assert refused.status_code == 422
    page = refused.get_data(as_text=True)
    assert "Attached: cà phê.jpg (kept)" in page
    assert (
        db.session.scalar(select(func.count()).select_from(Product).where(Product.name.like("Cà phê x%")))
        == 0
    )
    assert files(app, "images") == images_before
    token = kept_token(page, "kept_photo")

    saved = web.post_form(
        "/manage/products/new",
        {**product_form(), "kept_photo": token},
        content_type="multipart/form-data",
        form_url="/manage/products/new",
    )
    assert saved.status_code == 302, saved.get_data(as_text=True)
    product = db.session.scalars(select(Product).where(Product.name == "Cà phê Robusta Ea Tu")).one()
    [image] = product.images
    assert files(app, "images") - images_before == {image.filename, image.thumbnail_filename}
    assert files(app, "kept") == kept_before
    detail = web.client.get(saved.headers["Location"]).get_data(as_text=True)
    assert f"/media/{image.filename}" in detail and f"/media/{image.thumbnail_filename}" in detail
    with web.client.get(f"/media/{image.filename}") as served:
        assert served.status_code == 200 and served.mimetype.startswith("image/")


def test_a_product_refused_by_the_service_stores_no_photo(web, app, db, tenants, make):
    own = tenants["daklak"]
    held = make.product(tenants["nghean"].producer, gtin="0" + GTIN)
    db.session.commit()
    web.login(own.producer_user.email)
    images_before = files(app, "images")
    refused = web.post_form(
        "/manage/products/new",
        {**product_form(gtin=held.gtin), "photo": (io.BytesIO(photo_bytes()), "anh.jpg")},
        content_type="multipart/form-data",
    )
    assert refused.status_code == 422
    assert "Attached: anh.jpg (kept)" in refused.get_data(as_text=True)
    assert files(app, "images") == images_before
    assert db.session.scalar(select(func.count()).select_from(ProductImage)) == 0


def test_a_photo_that_is_not_an_image_is_refused_on_its_field_and_nothing_is_saved(web, app, db, tenants):
    own = tenants["daklak"]
    web.login(own.producer_user.email)
    images_before, kept_before = files(app, "images"), files(app, "kept")
    count = db.session.scalar(select(func.count()).select_from(Product))
    refused = web.post_form(
        "/manage/products/new",
        {**product_form(), "photo": (io.BytesIO(PDF), "anh.jpg")},
        content_type="multipart/form-data",
    )
    assert refused.status_code == 422
    page = refused.get_data(as_text=True)
    assert "This file is not a PNG, JPEG or WebP image." in page and "(kept)" not in page
    db.session.expire_all()
    assert (
        db.session.scalar(select(func.count()).select_from(Product)) == count
    )  # the product too rolled back
    assert files(app, "images") == images_before and files(app, "kept") == kept_before


def test_the_edit_form_adds_a_photo_kept_across_a_form_error(web, app, db, tenants):
    own = tenants["daklak"]
    web.login(own.producer_user.email)
    url = f"/manage/products/{own.product.id}/edit"
    refused = web.post_form(
        url,
        {**product_form(name=TOO_LONG_NAME), "photo": (io.BytesIO(photo_bytes((10, 90, 30))), "vườn.jpg")},
        content_type="multipart/form-data",
    )
    assert refused.status_code == 422
    page = refused.get_data(as_text=True)
    assert "Attached: vườn.jpg (kept)" in page
    saved = web.post_form(
        url,
        {**product_form(), "kept_photo": kept_token(page, "kept_photo")},
        content_type="multipart/form-data",
    )
    assert saved.status_code == 302, saved.get_data(as_text=True)
    db.session.expire_all()
    product = db.session.get(Product, own.product.id)
    assert product.name == "Cà phê Robusta Ea Tu" and len(product.images) == 1
    # Saving again without a file adds nothing.
    again = web.post_form(url, product_form(), content_type="multipart/form-data")
    assert again.status_code == 302
    db.session.expire_all()
    assert len(db.session.get(Product, own.product.id).images) == 1


def test_a_kept_photo_opens_for_its_sender_only(web, app, db, tenants, make):
    own = tenants["daklak"]
    web.login(own.producer_user.email)
    refused = web.post_form(
        "/manage/products/new",
        {**product_form(name=TOO_LONG_NAME), "photo": (io.BytesIO(photo_bytes()), "anh.jpg")},
        content_type="multipart/form-data",
    )
    token = kept_token(refused.get_data(as_text=True), "kept_photo")
    colleague = make.user("producer", producer=own.producer)
    db.session.commit()
    other = WebHelper(app.test_client())
    other.client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    other.login(colleague.email)
    saved = other.post_form(
        "/manage/products/new", {**product_form(), "kept_photo": token}, content_type="multipart/form-data"
    )
    assert saved.status_code == 302
    product = db.session.scalars(select(Product).where(Product.name == "Cà phê Robusta Ea Tu")).one()
    assert product.images == []


def test_the_ocop_decision_is_kept_across_a_form_error_and_saved_with_the_rating(web, app, db, tenants):
    own = tenants["daklak"]
    web.login(own.producer_user.email)
    documents_before, kept_before = files(app, "documents"), files(app, "kept")
    ocop = {"ocop-group": "food", "ocop-stars": "3", "ocop-certificate_no": "55/QĐ-UBND"}
    ocop["ocop-issued_on"] = "2026-06-01"
    refused = web.post_form(
        "/manage/products/new",
        {**product_form(name=TOO_LONG_NAME), **ocop, "ocop_document": (io.BytesIO(PDF), "quyết định.pdf")},
        content_type="multipart/form-data",
    )
    assert refused.status_code == 422
    page = refused.get_data(as_text=True)
    assert "Attached: quyết định.pdf (kept)" in page
    assert files(app, "documents") == documents_before
    saved = web.post_form(
        "/manage/products/new",
        {**product_form(), **ocop, "kept_ocop_document": kept_token(page, "kept_ocop_document")},
        content_type="multipart/form-data",
        form_url="/manage/products/new",
    )
    assert saved.status_code == 302, saved.get_data(as_text=True)
    product = db.session.scalars(select(Product).where(Product.name == "Cà phê Robusta Ea Tu")).one()
    claim = current_claim(product, "ocop")
    assert claim.status == "pending" and claim.document_sha256 == hashlib.sha256(PDF).hexdigest()
    assert claim.document_original_name == "quyết định.pdf"
    assert files(app, "kept") == kept_before
