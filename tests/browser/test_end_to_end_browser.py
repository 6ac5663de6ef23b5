"""The first end-to-end path in a real Chromium: forms, QR code, public page, language switch."""

from __future__ import annotations

import io
import re
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import zxingcpp
from flask_babel import force_locale, gettext
from PIL import Image
from playwright.sync_api import expect

from tests import factories
from traceability.gs1 import gtin_check_digit

pytestmark = pytest.mark.browser

GTIN_DATA = "893000000002"
GTIN13 = GTIN_DATA + str(gtin_check_digit(GTIN_DATA))
GTIN14 = GTIN13.zfill(14)
PRODUCT_NAME = "Cà phê Robusta rang mộc Buôn Ma Thuột"
PRODUCT_NAME_EN = "Buon Ma Thuot roasted Robusta coffee"
PRODUCER_NAME = "Hợp tác xã Nông nghiệp Dịch vụ Ea Tu"
LOT_CODE = "LO-2026-015"
PRODUCTION_DATE = date(2026, 3, 15)
SHOWN_DATE = "15/03/2026"
PHONE_WIDTH = 360
SCREENSHOT = "/tmp/e2e-public.png"


@pytest.fixture
def producer_user(make, db):
    centre = make.centre("66")
    producer = make.producer(centre, name=PRODUCER_NAME, ward="Xã Ea Tu", street="Thôn 3")
    user = make.user("producer", producer=producer)
    db.session.commit()  # the live server thread reads the database, not this session
    return user


def sign_in(page: Any, email: str) -> None:
    page.goto("/login")
    page.fill("#email", email)
    page.fill("#password", factories.PASSWORD)
    page.click("main form button[type=submit]")
    page.wait_for_url(re.compile(r"/manage"))


def decode_qr(png: bytes) -> str:
    barcodes = zxingcpp.read_barcodes(Image.open(io.BytesIO(png)))
    assert len(barcodes) == 1, f"zxing-cpp found {len(barcodes)} codes"
    return barcodes[0].text


def expect_public_facts(page: Any, product_name: str) -> None:
    main = page.locator("main")
    expect(main.get_by_role("heading", level=1)).to_have_text(product_name)
    expect(main.get_by_text(PRODUCER_NAME, exact=True)).to_be_visible()
    expect(main.get_by_text(LOT_CODE, exact=True)).to_be_visible()
    expect(main.get_by_text(SHOWN_DATE, exact=True)).to_be_visible()


def test_producer_creates_product_and_batch_and_the_qr_leads_to_the_public_page(
    page, new_context, producer_user, public_base_url
):
    sign_in(page, producer_user.email)

    # The product, through its form.
    page.goto("/manage/products/new")
    page.fill("#name", PRODUCT_NAME)
    page.fill("#name_en", PRODUCT_NAME_EN)
    page.fill("#category", "Cà phê")
    page.fill("#gtin", GTIN13)
    page.click("main form button[type=submit]")
    page.wait_for_url(re.compile(r"/manage/products/\d+$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(PRODUCT_NAME)
    expect(page.locator("main").get_by_text(GTIN14)).to_be_visible()

    # The batch, from the product page's "new batch" button.
    page.click("main a[href*='/manage/batches/new']")
    page.wait_for_url(re.compile(r"/manage/batches/new\?product_id=\d+"))
    expect(page.locator("#product_id option:checked")).to_have_text(PRODUCT_NAME)
    page.fill("#lot_code", LOT_CODE)
    page.fill("#production_date", PRODUCTION_DATE.isoformat())
    page.fill("#expiry_date", "2027-03-15")
    page.fill("#quantity", "1200.5")
    page.select_option("#unit", "KGM")
    page.click("main form.card button[type=submit]")
    page.wait_for_url(re.compile(r"/manage/batches/\d+$"))

    # The QR image is on the batch page, loaded, and reads as the public link shown next to it.
    image = page.locator("main img[src*='qr.png']")
    expect(image).to_be_visible()
    page.wait_for_function("img => img.complete", arg=image.element_handle())
    assert image.evaluate("img => img.naturalWidth") > 0
    link = page.locator("main a.public-url")
    public_url = link.get_attribute("href")
    expected = f"{public_base_url}/01/{GTIN14}/10/{LOT_CODE}"
    assert public_url == expected
    assert decode_qr(image.screenshot()) == expected  # what the screen shows scans

    # The download button gives the same code as a file.
    with page.expect_download() as download_info:
        page.click("main a[download]")
    download = download_info.value
    assert download.suggested_filename.endswith(".png")
    assert decode_qr(Path(download.path()).read_bytes()) == expected

    # Following the link opens the consumer page.
    link.click()
    page.wait_for_url(expected)
    expect_public_facts(page, PRODUCT_NAME)

    # A consumer's phone: signed out, 360 px wide, Vietnamese.
    phone = new_context(
        locale="vi-VN", viewport={"width": PHONE_WIDTH, "height": 740}, device_scale_factor=2, is_mobile=True
    ).new_page()
    response = phone.goto(expected)
    assert response is not None and response.status == 200
    expect_public_facts(phone, PRODUCT_NAME)
    # The same page for everyone (it is cached): no account links, the language switch is a link.
    expect(phone.locator("header a[href='/login']")).to_have_count(0)
    expect(phone.locator("header a.lang-switch")).to_have_text("English")
    scroll_width = phone.evaluate("document.documentElement.scrollWidth")
    assert scroll_width <= PHONE_WIDTH, f"horizontal scroll on a phone: {scroll_width} px"
    phone.screenshot(path=SCREENSHOT, full_page=True)


def test_language_switch_goes_to_english_and_back(app, page, make, producer_user, db):
    product = make.product(producer_user.producer, name=PRODUCT_NAME, name_en=PRODUCT_NAME_EN, gtin=GTIN14)
    make.batch(product, lot_code=LOT_CODE, production_date=PRODUCTION_DATE)
    db.session.commit()
    with app.test_request_context():
        with force_locale("vi"):
            label_vi = gettext("Production date")
        with force_locale("en"):
            label_en = gettext("Production date")
    assert label_vi != label_en, "no Vietnamese translation for the public page's labels"

    path = f"/01/{GTIN14}/10/{LOT_CODE}"
    page.goto(path)
    main = page.locator("main")
    expect(page.locator("html")).to_have_attribute("lang", "vi")
    expect(main.get_by_text(label_vi, exact=True)).to_be_visible()
    expect(main.get_by_role("heading", level=1)).to_have_text(PRODUCT_NAME)

    page.click("header a.lang-switch")
    page.wait_for_url(re.compile(re.escape(path) + "$"))  # back on the same page
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(main.get_by_text(label_en, exact=True)).to_be_visible()
    expect(main.get_by_text(label_vi, exact=True)).to_have_count(0)
    expect(main.get_by_role("heading", level=1)).to_have_text(PRODUCT_NAME_EN)
    expect(page.locator("header a.lang-switch")).to_have_text("Tiếng Việt")

    # The choice sticks to the session: another page is in English too.
    page.goto("/login")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    page.go_back()

    page.click("header a.lang-switch")
    page.wait_for_url(re.compile(re.escape(path) + "$"))
    expect(page.locator("html")).to_have_attribute("lang", "vi")
    expect(main.get_by_text(label_vi, exact=True)).to_be_visible()
    expect(main.get_by_role("heading", level=1)).to_have_text(PRODUCT_NAME)
    expect(page.locator("header a.lang-switch")).to_have_text("English")
