"""Walk-up: a GTIN alone, or with a lot or serial nobody registered, answers the product's page; the code field."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from traceability.gs1 import gtin_check_digit
from traceability.models.public import Scan

PHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148 Safari/604.1"
)
GTIN13 = "893604600012" + str(gtin_check_digit("893604600012"))
GTIN14 = GTIN13.zfill(14)


def get(app, path: str, **headers: str):
    headers.setdefault("User-Agent", PHONE)
    headers.setdefault("Accept-Language", "en")
    return app.test_client().get(path, headers=headers)


@pytest.fixture
def product(make, db):
    centre = make.centre("66", email="ttudkhcn@daklak.gov.vn", phone="0262 3852 123")
    producer = make.producer(centre, name="HTX Cà phê Hòa Phú")
    product = make.product(
        producer,
        name="Cà phê rang mộc Hòa Phú",
        name_en="Hoa Phu roasted coffee",
        gtin=GTIN14,
        shop_links=[{"name": "Shopee", "url": "https://shopee.vn/caphehoaphu"}],
    )
    make.certification(producer, number="ISO-HP-9")
    make.batch(product, lot_code="RM2603")
    db.session.commit()
    return product


def test_the_gtin_alone_answers_the_products_page(app, product):
    response = get(app, f"/01/{GTIN14}")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Hoa Phu roasted coffee" in page and "HTX Cà phê Hòa Phú" in page and "ISO-HP-9" in page
    assert "This code is not registered" not in page
    assert 'src="/static/img/categories/coffee.svg"' in page  # no photo: its category's placeholder
    assert (
        f'<link rel="canonical" href="https://trace.example.vn/01/{GTIN14}">' in page
        or f"/01/{GTIN14}" in page
    )
    assert f"/01/{GTIN14}?linkType=linkset" in response.headers["Link"]
    assert response.headers["Access-Control-Allow-Origin"] == "*"


@pytest.mark.parametrize(
    "short", [GTIN13, "0" + GTIN13[:0] + GTIN13[1:] if GTIN13.startswith("0") else GTIN13]
)
def test_a_short_gtin_answers_301_to_the_14_digit_form(app, product, short):
    response = get(app, f"/01/{short}/10/NOPE")
    assert response.status_code == 301
    assert response.headers["Location"].endswith(f"/01/{GTIN14}/10/NOPE")
    assert get(app, f"/01/{short}").headers["Location"].endswith(f"/01/{GTIN14}")


def test_an_unregistered_lot_answers_the_product_with_a_notice_and_a_report_link(app, db, product):
    response = get(app, f"/01/{GTIN14}/10/FAKE-01")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert (
        "This code is not registered" in page
        and "Lot FAKE-01 of this product is not in the registry." in page
    )
    assert "Hoa Phu roasted coffee" in page
    assert 'href="mailto:ttudkhcn@daklak.gov.vn?subject=' in page and "FAKE-01" in page
    assert 'href="tel:02623852123"' in page
    app.extensions["scan_buffer"].flush()
    assert db.session.scalar(select(func.count(Scan.id))) == 0  # no lot was identified: not a scan


def test_an_unregistered_serial_of_a_registered_lot_answers_the_product(app, product):
    page = get(app, f"/01/{GTIN14}/10/RM2603/21/ZZZ999").get_data(as_text=True)
    assert "Serial number ZZZ999 of lot RM2603 of this product is not in the registry." in page


def test_the_linkset_of_a_walk_up_is_the_products(app, product):
    response = get(app, f"/01/{GTIN14}/10/FAKE-01", Accept="application/linkset+json")
    assert response.status_code == 200 and response.mimetype == "application/linkset+json"
    linkset = json.loads(response.get_data(as_text=True))["linkset"][0]
    assert linkset["anchor"] == f"https://trace.example.vn/01/{GTIN14}"
    assert linkset["https://gs1.org/voc/pip"][0]["href"] == f"https://trace.example.vn/01/{GTIN14}"
    assert linkset["https://gs1.org/voc/hasRetailers"][0]["href"] == "https://shopee.vn/caphehoaphu"
    assert "https://gs1.org/voc/epcis" not in linkset  # no lot: no events


def test_a_product_of_a_producer_not_approved_stays_404(app, db, product):
    product.producer.status = "suspended"
    db.session.commit()
    assert get(app, f"/01/{GTIN14}").status_code == 404
    assert get(app, f"/01/{GTIN14}/10/FAKE-01").status_code == 404


def test_an_unknown_gtin_is_404_with_the_code_field(app, product):
    other = "893604600099"
    response = get(app, f"/01/{other + str(gtin_check_digit(other))}")
    assert response.status_code == 404
    page = response.get_data(as_text=True)
    assert 'action="/lookup"' in page and 'name="code"' in page


def test_the_home_page_has_the_code_field(app):
    page = get(app, "/").get_data(as_text=True)
    assert 'action="/lookup"' in page


@pytest.mark.parametrize(
    ("typed", "status", "target"),
    [
        (GTIN13, 303, f"/01/{GTIN14}"),
        (f" {GTIN13[:1]} {GTIN13[1:7]} {GTIN13[7:]} ", 303, f"/01/{GTIN14}"),
        (f"(01){GTIN14}(10)RM2603", 303, f"/01/{GTIN14}/10/RM2603"),
        (f"https://elsewhere.example/01/{GTIN14}/10/RM2603", 303, f"/01/{GTIN14}/10/RM2603"),
    ],
)
def test_the_code_field_leads_to_the_page(app, product, typed, status, target):
    response = app.test_client().get("/lookup", query_string={"code": typed})
    assert response.status_code == status
    assert response.headers["Location"] == target


def test_the_code_field_takes_the_code_under_the_qr_code(app, product):
    code = product.batches[0].public_code
    response = app.test_client().get("/lookup", query_string={"code": code.lower()})
    assert response.headers["Location"] == f"/t/{code}"


@pytest.mark.parametrize(
    ("typed", "status", "message"),
    [
        (GTIN13[:-1] + str((int(GTIN13[-1]) + 1) % 10), 400, "the last one is a check digit"),
        ("12345", 400, "8, 12, 13 or 14 digits"),
        ("", 400, "Type the code printed under the QR code"),
        ("ABCDEFGHJK234567", 404, "No product registered here has this code"),
        ("javascript:alert(1)", 404, "No product registered here has this code"),
    ],
)
def test_a_bad_code_says_why_in_both_languages(app, product, typed, status, message):
    response = app.test_client().get(
        "/lookup", query_string={"code": typed}, headers={"Accept-Language": "en"}
    )
    assert response.status_code == status
    assert message in response.get_data(as_text=True)
    vietnamese = app.test_client().get(
        "/lookup", query_string={"code": typed}, headers={"Accept-Language": "vi"}
    )
    assert message not in vietnamese.get_data(as_text=True)
