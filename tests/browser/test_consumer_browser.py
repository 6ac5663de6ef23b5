"""The consumer page in a real Chromium, on a 360 px phone and a 1280 px desktop: facts first, warnings, switch, report.

Screenshots go to test-artifacts/ (git-ignored) for a person to look at.
"""

from __future__ import annotations

import io
import re
from datetime import datetime, timedelta
from typing import Any

import pytest
from flask_babel import force_locale, gettext
from PIL import Image
from playwright.sync_api import expect
from sqlalchemy import select

from tests.public.honey import PRODUCER_NAME, honey_lot
from traceability.batches.recalls import recall_batch
from traceability.core.config import PROJECT_ROOT
from traceability.core.dates import VIETNAM_OFFSET
from traceability.models.public import ProblemReport, Scan

pytestmark = pytest.mark.browser

ARTIFACTS = PROJECT_ROOT / "test-artifacts"
LOT = "MO-2612"
PRODUCT_NAME = "Mật ong hoa cà phê Krông Năng nguyên chất"
PRODUCT_NAME_EN = "Krong Nang pure coffee blossom honey"
VIEWPORTS = {"phone": {"width": 360, "height": 800}, "desktop": {"width": 1280, "height": 800}}
CSP_MESSAGE = re.compile(r"Content Security Policy|Content-Security-Policy", re.IGNORECASE)


def picture(size=(1200, 900), colour=(214, 160, 40)) -> bytes:
    image = Image.new("RGB", size, colour)
    for x in range(0, size[0], 40):  # stripes, so a photo that did not load would show
        for y in range(size[1]):
            image.putpixel((x, y), (120, 70, 10))
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


@pytest.fixture
def honey(make, db):
    """The honey lot (``tests.public.honey``) with a longer name, striped photos, one shop and a certificate."""
    lot = honey_lot(
        make,
        db,
        photo=picture(),
        harvest_photo=picture((800, 600), (90, 140, 60)),
        lot=LOT,
        name=PRODUCT_NAME,
        name_en=PRODUCT_NAME_EN,
        description="Mật ong nguyên chất thu từ hoa cà phê vụ xuân, không pha trộn.",
        shop_links=[{"name": "Sàn nông sản Đắk Lắk", "url": "https://sannongsan.example.vn/mat-ong"}],
    )
    make.certification(
        lot.product,
        number="VG-DL-0042",
        issuer="Trung tâm Chứng nhận Phù hợp QUACERT",
        valid_from=lot.today - timedelta(days=100),
    )
    db.session.commit()  # the live server's thread reads the database
    return lot


def open_page(new_context: Any, viewport: str, locale: str = "vi-VN") -> Any:
    size = VIEWPORTS[viewport]
    options: dict[str, Any] = {"locale": locale, "viewport": size}
    if viewport == "phone":
        options.update(device_scale_factor=2, is_mobile=True, has_touch=True)
    page = new_context(**options).new_page()
    page.csp_violations = []
    page.on(
        "console",
        lambda message: (
            page.csp_violations.append(message.text) if CSP_MESSAGE.search(message.text) else None
        ),
    )
    return page


def screenshot(page: Any, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}-viewport.png"))


def label(language: str, message: str) -> str:
    with force_locale(language):
        return gettext(message)


@pytest.mark.parametrize("viewport", ["phone", "desktop"])
def test_the_page_shows_the_facts_above_the_fold_and_loads_its_images(
    app, new_context, honey, public_base_url, viewport
):
    page = open_page(new_context, viewport)
    response = page.goto(honey.batch_path)
    assert response is not None and response.status == 200
    main = page.locator("main")
    expect(main.get_by_role("heading", level=1)).to_have_text(PRODUCT_NAME)
    # Decree 37/2026 Art. 23.7: everything a consumer must see, without scrolling.
    height = VIEWPORTS[viewport]["height"]
    with app.test_request_context():
        labels = [label("vi", text) for text in ("Producer", "Address", "Origin", "Lot code", "Expiry date")]
    for text in (*labels, PRODUCER_NAME, LOT):
        target = main.locator(".facts").get_by_text(text, exact=True).first
        expect(target).to_be_visible()
        box = target.bounding_box()
        assert box is not None and box["y"] + box["height"] <= height, f"{text!r} below the fold at {box}"
    image = main.locator(".consumer-hero img")
    expect(image).to_be_visible()
    box = image.bounding_box()
    assert box["y"] + box["height"] <= height
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=image.element_handle())
    assert page.evaluate("document.documentElement.scrollWidth") <= VIEWPORTS[viewport]["width"]
    # The harvest photo further down loads once scrolled to (loading="lazy").
    photo = main.locator("img.event-photo")
    photo.scroll_into_view_if_needed()
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=photo.element_handle())
    expect(main.locator("#shops a[rel='nofollow noopener']")).to_have_attribute(
        "href", "https://sannongsan.example.vn/mat-ong"
    )
    expect(main.locator("#verified-by a[href='tel:02623852123']")).to_be_visible()
    assert page.csp_violations == []
    page.evaluate("window.scrollTo(0, 0)")
    screenshot(page, f"consumer-lot-{viewport}")


@pytest.mark.parametrize("viewport", ["phone", "desktop"])
def test_the_language_switch_goes_to_english_and_back(app, new_context, honey, viewport):
    page = open_page(new_context, viewport)
    page.goto(honey.batch_path)
    main = page.locator("main")
    expect(page.locator("html")).to_have_attribute("lang", "vi")
    page.click("header a.lang-switch")
    page.wait_for_url(re.compile(re.escape(honey.batch_path) + "$"))
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(main.get_by_role("heading", level=1)).to_have_text(PRODUCT_NAME_EN)
    expect(main.locator(".facts").get_by_text("Production date", exact=True)).to_be_visible()
    expect(page.locator("header a.lang-switch")).to_have_text("Tiếng Việt")
    screenshot(page, f"consumer-lot-english-{viewport}")
    page.click("header a.lang-switch")
    page.wait_for_url(re.compile(re.escape(honey.batch_path) + "$"))
    expect(page.locator("html")).to_have_attribute("lang", "vi")
    expect(main.get_by_role("heading", level=1)).to_have_text(PRODUCT_NAME)


def test_an_english_browser_gets_english_first(new_context, honey):
    page = open_page(new_context, "phone", locale="en-US")
    page.goto(honey.batch_path)
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("main h1")).to_have_text(PRODUCT_NAME_EN)


@pytest.mark.parametrize("viewport", ["phone", "desktop"])
def test_a_recall_shows_a_red_warning_above_everything(db, new_context, honey, viewport):
    recall_batch(honey.batch, "Phát hiện tồn dư kháng sinh vượt ngưỡng", actor=honey.user)
    db.session.commit()
    page = open_page(new_context, viewport)
    page.goto(honey.item_path)
    warning = page.locator("main #recall")
    expect(warning).to_be_visible()
    expect(warning).to_have_attribute("role", "alert")
    expect(warning).to_contain_text("Phát hiện tồn dư kháng sinh vượt ngưỡng")
    expect(warning).to_have_css("background-color", "rgb(176, 0, 32)")
    heading = page.locator("main h1").bounding_box()
    assert warning.bounding_box()["y"] < heading["y"] <= VIEWPORTS[viewport]["height"]
    screenshot(page, f"consumer-recall-{viewport}")


@pytest.mark.parametrize("viewport", ["phone", "desktop"])
def test_a_consumer_reports_a_problem(app, db, new_context, honey, public_base_url, viewport):
    page = open_page(new_context, viewport)
    page.goto(honey.item_path)
    page.click("main #report a.button")
    page.wait_for_url(re.compile(r"/report/"))
    expect(page.locator("main h1")).to_be_visible()
    page.click("main form.report-form button[type=submit]")  # empty: refused, in Vietnamese
    with app.test_request_context():
        refusal = label("vi", "Describe the problem.")
    expect(page.locator("main .field .error")).to_have_text(refusal)
    page.fill("#message", "Nắp hũ bị bóc sẵn, mật có mùi lạ.")
    page.fill("#contact", "0905 123 456")
    screenshot(page, f"consumer-report-form-{viewport}")
    page.click("main form.report-form button[type=submit]")
    expect(page.locator("main .flash-success")).to_be_visible()
    screenshot(page, f"consumer-report-sent-{viewport}")
    page.click("main a.button")
    page.wait_for_url(re.compile(re.escape(honey.item_path) + "$"))
    db.session.expire_all()
    [report] = db.session.scalars(select(ProblemReport)).all()
    assert (report.item_id, report.message) == (honey.item.id, "Nắp hũ bị bóc sẵn, mật có mùi lạ.")


def test_a_copied_code_warns_above_the_product_on_a_phone(db, new_context, honey):
    start = datetime(2026, 11, 1, 3, 0, tzinfo=VIETNAM_OFFSET)
    for day in range(8):  # scanned on eight different days
        db.session.add(
            Scan(
                batch_id=honey.batch.id,
                item_id=honey.item.id,
                scanned_at=start + timedelta(days=day),
                language="vi",
                device_class="mobile",
            )
        )
    db.session.commit()
    page = open_page(new_context, "phone")
    page.goto(honey.item_path)
    warning = page.locator("main #copied-code")
    expect(warning).to_be_visible()
    expect(warning).to_have_attribute("role", "alert")
    assert warning.bounding_box()["y"] < page.locator("main h1").bounding_box()["y"]
    expect(warning.locator("a")).to_have_attribute("href", f"/report/{honey.item.public_code}")
    screenshot(page, "consumer-copied-code-phone")
