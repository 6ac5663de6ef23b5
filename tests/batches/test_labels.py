"""Label sheets of a batch through the API and the batch page: the right codes, the refusals."""

from __future__ import annotations

import multiprocessing
import threading
from datetime import timedelta

from sqlalchemy import func, select

from tests.labels.pdf_reading import page_count, pdf_text, rasterise, read_codes
from traceability.batches.serials import create_serials
from traceability.batches.service import item_public_url, public_url
from traceability.core.dates import vietnam_today
from traceability.labels.encoders import shutdown_encoder_pools
from traceability.models.batches import Item, LabelJob

BASE = "https://trace.example.vn"


def _codes(pdf: bytes, page: int = 0) -> list[str]:
    return [code.text for code in read_codes(rasterise(pdf, page))]


def test_api_sheet_of_copies_of_the_batch_code(api, tenants, db):
    own = tenants["daklak"]
    url = public_url(BASE, own.batch)
    response = api.get(f"/batches/{own.batch.id}/labels.pdf?template=a4-5x13", own.producer_user)
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert f"nhan-{own.batch.lot_code}-a4-5x13.pdf" in response.headers["Content-Disposition"]
    assert _codes(response.data) == [url] * 65  # a full sheet by default
    response = api.get(
        f"/batches/{own.batch.id}/labels.pdf?template=roll-50x30&copies=3&ec=H", own.producer_user
    )
    assert page_count(response.data) == 3
    (code,) = read_codes(rasterise(response.data, 2))
    assert (code.text, code.ec_level) == (url, "H")


def test_api_sheet_has_one_label_per_item(api, tenants, make, db):
    own = tenants["daklak"]
    # A verified five-star rating in force today: the labels print its stars.
    product = make.product(
        own.producer,
        gtin="08930000000019",
        name="Cà phê hạt Arabica Cầu Đất",
        ocop_stars=5,
        ocop_issued_on=vietnam_today() - timedelta(days=30),
        ocop_expires_on=vietnam_today() + timedelta(days=1000),
    )
    batch = make.batch(product, lot_code="CD-2026")
    items = create_serials(batch, 30, actor=own.producer_user)
    response = api.get(f"/batches/{batch.id}/labels.pdf?template=a4-3x8&copies=99", own.producer_user)
    assert response.status_code == 200
    urls = [item_public_url(BASE, item) for item in items]
    assert page_count(response.data) == 2
    assert _codes(response.data, 0) + _codes(response.data, 1) == urls  # copies is ignored
    text = " ".join(pdf_text(response.data).split())
    assert "Cà phê hạt Arabica Cầu Đất" in text and "★★★★★ OCOP" in text and "Lô: CD-2026" in text
    # Each item's label says its serial number, in the reader's language.
    assert all(f"Số sê-ri: {item.serial}" in text for item in items)
    english = api.get(
        f"/batches/{batch.id}/labels.pdf?template=a4-3x8",
        own.producer_user,
        headers={"Accept-Language": "en"},
    )
    assert f"Serial number: {items[0].serial}" in " ".join(pdf_text(english.data).split())


def test_api_refusals_say_what_to_fix(api, app, tenants, db):
    own, other = tenants["daklak"], tenants["nghean"]
    path = f"/batches/{own.batch.id}/labels.pdf"
    for query in ("", "?template=a4-9x9", "?template=a4-3x8&ec=Q", "?template=a4-3x8&copies=0"):
        response = api.get(path + query, own.producer_user)
        assert response.status_code == 422, query
        assert response.get_json()["error"]["fields"]
    assert api.get(path + "?template=a4-3x8", other.producer_user).status_code == 404
    assert api.get(path + "?template=a4-3x8", own.auditor).status_code == 200  # reading is enough to print


def test_api_refuses_a_code_too_small_for_the_template(api, app, tenants, make, db, monkeypatch):
    own = tenants["daklak"]
    product = make.product(own.producer, gtin="08930000000026")
    batch = make.batch(product, lot_code="LOT-2026-ABCDEFGHIJ")
    create_serials(batch, 2, actor=own.producer_user)
    monkeypatch.setitem(
        app.config, "PUBLIC_BASE_URL", "https://truy-xuat-nguon-goc.so-khoa-hoc-cong-nghe.daklak.gov.vn"
    )
    response = api.get(
        f"/batches/{batch.id}/labels.pdf?template=a4-5x13&ec=H",
        own.producer_user,
        headers={"Accept-Language": "en"},
    )
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert "a4-5x13" in error["message"] and "0.3 mm" in error["message"]
    assert "Choose a bigger template" in error["fields"]["template"]
    assert (
        api.get(f"/batches/{batch.id}/labels.pdf?template=a4-3x8&ec=H", own.producer_user).status_code == 200
    )


def test_recalled_batches_print_no_labels(api, tenants, db):
    own = tenants["daklak"]
    own.batch.status = "recalled"
    response = api.get(f"/batches/{own.batch.id}/labels.pdf?template=a4-3x8", own.producer_user)
    assert response.status_code == 409


def test_download_a_sheet_from_the_batch_page(web, tenants, db):
    own = tenants["daklak"]
    web.login(own.producer_user.email)
    page_url = f"/manage/batches/{own.batch.id}"
    page = web.client.get(page_url, headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Label sheets" in page and 'name="labels-template"' in page
    for name in ("a4-3x8", "a4-4x10", "a4-5x13", "roll-50x30"):
        assert f'value="{name}"' in page
    response = web.post_form(
        f"{page_url}/labels",
        {"labels-template": "a4-3x8", "labels-ec": "M", "labels-copies": ""},
        form_url=page_url,
    )
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert "attachment" in response.headers["Content-Disposition"]
    assert _codes(response.data) == [public_url(BASE, own.batch)] * 24
    assert db.session.scalar(select(func.count(LabelJob.id))) == 0  # small sheets need no job


def test_the_batch_page_explains_a_refused_sheet(web, app, tenants, make, db, monkeypatch):
    own = tenants["daklak"]
    monkeypatch.setitem(
        app.config, "PUBLIC_BASE_URL", "https://truy-xuat-nguon-goc.so-khoa-hoc-cong-nghe.daklak.gov.vn"
    )
    product = make.product(own.producer, gtin="08930000000026")
    batch = make.batch(product, lot_code="LOT-2026-ABCDEFGHIJ")
    create_serials(batch, 1, actor=own.producer_user)
    web.login(own.producer_user.email)
    page_url = f"/manage/batches/{batch.id}"
    response = web.post_form(
        f"{page_url}/labels",
        {"labels-template": "a4-5x13", "labels-ec": "H"},
        form_url=page_url,
        headers={"Accept-Language": "en"},
        follow_redirects=True,
    )
    text = response.get_data(as_text=True)
    assert "a4-5x13" in text and "Choose a bigger template" in text
    assert db.session.scalar(select(func.count(Item.id))) == 1


def test_a_request_draws_its_sheet_itself_starting_no_process_or_thread(api, web, tenants, db):
    """STYLE rule 17: a sheet of 130 serial labels (a job worker encodes those in its pool) from the API
    and from the lot's page is drawn in the request: no process or thread appears, and every code scans."""
    own = tenants["daklak"]
    items = create_serials(own.batch, 130, actor=own.producer_user)
    urls = [item_public_url(BASE, item) for item in items]
    web.login(own.producer_user.email)
    shutdown_encoder_pools()  # a pool an earlier test started in this process
    children = {child.pid for child in multiprocessing.active_children()}
    threads = threading.active_count()

    from_api = api.get(f"/batches/{own.batch.id}/labels.pdf?template=a4-5x13", own.producer_user)
    page_url = f"/manage/batches/{own.batch.id}"
    from_page = web.post_form(
        f"{page_url}/labels", {"labels-template": "a4-5x13", "labels-ec": "M"}, form_url=page_url
    )

    assert {child.pid for child in multiprocessing.active_children()} == children
    assert threading.active_count() == threads
    for response in (from_api, from_page):
        assert response.status_code == 200 and response.mimetype == "application/pdf"
        assert _codes(response.data, 0) + _codes(response.data, 1) == urls
    assert db.session.scalar(select(func.count(LabelJob.id))) == 0  # drawn at once, not queued
