"""A recall's life on a 360 px phone: open, then closed as returned to sale or withdrawn for good.

Screenshots go to test-artifacts/ (git-ignored) for a person to look at.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.test_consumer_browser import honey, open_page, screenshot  # noqa: F401 - the fixture
from traceability.batches.recalls import close_recall, recall_batch
from traceability.core.dates import VIETNAM_OFFSET

pytestmark = pytest.mark.browser

REASON = "Phát hiện tồn dư kháng sinh vượt ngưỡng"
SHOP = "Sàn nông sản Đắk Lắk"


@pytest.fixture
def recalled(db, make, honey):  # noqa: F811 - the fixture imported above
    recall = recall_batch(honey.batch, REASON, actor=honey.user)
    staff = make.user("centre_staff", centre=honey.centre)
    db.session.commit()
    return recall, staff


def test_an_open_recall_shows_its_date_and_hotline_and_hides_the_shops(db, new_context, honey, recalled):  # noqa: F811
    recall, _staff = recalled
    page = open_page(new_context, "phone")
    page.goto(honey.batch_path)
    warning = page.locator("main #recall")
    expect(warning).to_be_visible()
    expect(warning).to_contain_text(REASON)
    expect(warning).to_contain_text(recall.opened_at.astimezone(VIETNAM_OFFSET).strftime("%d/%m/%Y"))
    expect(warning.locator("a[href^='tel:']")).to_have_text("0262 3852 123")
    expect(page.locator("#shops")).to_have_count(0)
    assert SHOP not in page.content()
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    screenshot(page, "recall-open-phone")


def test_a_recall_returned_to_sale_says_it_ended_and_the_shops_come_back(
    db,
    new_context,
    honey,  # noqa: F811
    recalled,
):
    recall, staff = recalled
    close_recall(recall, "Kết quả kiểm nghiệm lại đạt chuẩn.", "returned_to_sale", actor=staff)
    db.session.commit()
    page = open_page(new_context, "phone")
    page.goto(honey.batch_path)
    notice = page.locator("main .recall-ended")
    expect(notice).to_be_visible()
    expect(notice).to_contain_text("Kết quả kiểm nghiệm lại đạt chuẩn.")
    expect(page.locator(".recall-warning")).to_have_count(0)
    expect(page.locator("#shops")).to_contain_text(SHOP)
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    screenshot(page, "recall-returned-to-sale-phone")


def test_a_withdrawn_lot_keeps_saying_do_not_use(db, new_context, honey, recalled):  # noqa: F811
    recall, staff = recalled
    close_recall(recall, "Đã thu hồi và tiêu hủy toàn bộ lô.", "withdrawn", actor=staff)
    db.session.commit()
    page = open_page(new_context, "phone")
    page.goto(honey.batch_path)
    warning = page.locator("main .recall-warning")
    expect(warning).to_be_visible()
    expect(warning).to_have_css("background-color", "rgb(176, 0, 32)")
    expect(page.locator("#shops")).to_have_count(0)
    screenshot(page, "recall-withdrawn-phone")
