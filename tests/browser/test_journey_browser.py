"""The journey from the farm, the walk-up page and the code field in a real Chromium on a 360 px phone.

Screenshots go to test-artifacts/ (git-ignored) for a person to look at.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.test_consumer_browser import open_page, screenshot
from tests.public.test_journey import _ladder, coffee  # noqa: F401 - the fixture
from tests.public.test_walk_up import GTIN13, GTIN14, product  # noqa: F401 - the fixture
from traceability.gs1 import gtin_check_digit

pytestmark = pytest.mark.browser


def no_sideways_scroll(page: Any) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= page.viewport_size["width"]


def test_a_roasted_lot_tells_its_journey_from_the_farm_on_a_phone(new_context, coffee):  # noqa: F811
    page = open_page(new_context, "phone", locale="en-US")
    page.goto(coffee.path)
    origin = page.locator("#origin")
    expect(origin).to_contain_text("Vườn cà phê Ea Tu")
    expect(origin).to_contain_text("VG-DL-0451")
    expect(origin).to_contain_text("Harvested on 01/09/2026")
    expect(origin.get_by_role("link", name="See it on a map")).to_have_attribute(
        "href", "https://www.openstreetmap.org/?mlat=12.71660&mlon=108.06210#map=15/12.71660/108.06210"
    )
    expect(page.locator("dd.origin")).to_contain_text("Vườn cà phê Ea Tu")
    expect(page.locator("#trace")).to_contain_text("Phơi giàn, xát khô.")
    expect(page.get_by_text("GG-PENDING-77")).to_have_count(0)
    no_sideways_scroll(page)
    assert not page.csp_violations
    screenshot(page, "journey-roasted-lot-phone")


def test_a_long_chain_shows_a_summary_then_the_whole_journey(db, make, new_context, coffee, public_base_url):  # noqa: F811
    last = _ladder(make, db, coffee.farm_user, coffee.farm, 30)
    page = open_page(new_context, "phone", locale="en-US")
    page.goto(f"/t/{last.public_code}")
    gap = page.get_by_role("link", name="24 more steps: see the whole journey")
    expect(gap).to_be_visible()
    no_sideways_scroll(page)
    screenshot(page, "journey-summary-phone")
    gap.click()
    expect(page.get_by_role("heading", name="The whole journey")).to_be_visible()
    expect(page.locator("#trace .stage")).to_have_count(31)
    expect(page.get_by_text("Khâu số 10.")).to_be_visible()
    no_sideways_scroll(page)
    assert not page.csp_violations
    screenshot(page, "journey-whole-phone")


def test_an_unregistered_lot_walks_up_to_the_product_on_a_phone(new_context, product):  # noqa: F811
    page = open_page(new_context, "phone", locale="en-US")
    response = page.goto(f"/01/{GTIN13}/10/FAKE-01")
    assert response.status == 200 and page.url.endswith(f"/01/{GTIN14}/10/FAKE-01")
    notice = page.locator("#unregistered")
    expect(notice).to_contain_text("This code is not registered")
    expect(notice.get_by_role("link", name="Report this code")).to_be_visible()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Hoa Phu roasted coffee")
    expect(page.locator("img.placeholder")).to_be_visible()
    no_sideways_scroll(page)
    assert not page.csp_violations
    screenshot(page, "walk-up-unregistered-lot-phone")


def test_the_404_page_takes_a_typed_barcode_on_a_phone(new_context, product):  # noqa: F811
    page = open_page(new_context, "phone")
    unknown = "893604600099" + str(gtin_check_digit("893604600099"))
    response = page.goto(f"/01/{unknown}")
    assert response.status == 404
    field = page.get_by_label("Nhập mã in dưới mã QR, hoặc số mã vạch")
    field.fill(GTIN13[:-1] + str((int(GTIN13[-1]) + 1) % 10))
    page.get_by_role("button", name="Tra cứu").click()
    expect(page.locator("#code-lookup-error")).to_contain_text("chữ số cuối là số kiểm tra")
    no_sideways_scroll(page)
    screenshot(page, "lookup-bad-barcode-phone")
    page.get_by_label("Nhập mã in dưới mã QR, hoặc số mã vạch").fill(GTIN13)
    page.get_by_role("button", name="Tra cứu").click()
    expect(page).to_have_url(re.compile(f"/01/{GTIN14}$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text("Cà phê rang mộc Hòa Phú")
    screenshot(page, "walk-up-product-phone")
