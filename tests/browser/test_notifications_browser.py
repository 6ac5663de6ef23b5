"""A producer's user on a phone: the unread count in the navigation, opening a notification, axe-core."""

from __future__ import annotations

import re

import pytest

from tests import factories
from tests.browser.test_accessibility_browser import axe_source, check  # noqa: F401 - the fixture
from traceability.batches.recalls import recall_batch
from traceability.registry.producers import approve_producer

pytestmark = pytest.mark.browser

PHONE = {"width": 360, "height": 800}


def test_a_producer_reads_its_notifications_on_a_phone(db, make, new_context, axe_source):  # noqa: F811
    centre = make.centre("66")
    staff = make.user("centre_staff", centre=centre)
    producer = make.producer(centre, name="HTX Cà phê Ea Tu", status="pending")
    user = make.user("producer", producer=producer, email="hoa@htxeatu.vn", is_producer_admin=True)
    batch = make.batch(make.product(producer, name="Cà phê Robusta Ea Tu"), lot_code="RB-2611")
    approve_producer(producer, actor=staff)
    recall_batch(batch, "Phát hiện nấm mốc.", actor=staff)
    db.session.commit()

    page = new_context(locale="en-US", viewport=PHONE, is_mobile=True, has_touch=True).new_page()
    page.goto("/login")
    page.fill("#email", user.email)
    page.fill("#password", factories.PASSWORD)
    page.click("main form button[type=submit]")
    page.wait_for_url(re.compile(r"/manage"))
    # The count, and words for screen readers, beside the link (the browser asked for English).
    nav = page.locator("header nav a[href='/manage/notifications/']")
    assert nav.inner_text().split() == ["Notifications", "2", "unread"]

    nav.click()
    page.wait_for_url(re.compile(r"/manage/notifications/$"))
    assert page.locator("main li.card strong").all_inner_texts() == [
        "Recall: 1 of your lots",
        "Your registration is approved: HTX Cà phê Ea Tu",
    ]
    check(page, axe_source, "/manage/notifications/ (360x800)")

    # Opening the recall leads to the lot and marks it read.
    page.locator("main li.card").first.get_by_role("button", name="Open").click()
    page.wait_for_url(re.compile(rf"/manage/batches/{batch.id}$"))
    assert "RB-2611" in page.content()
    assert nav.inner_text().split() == ["Notifications", "1", "unread"]

    page.goto("/manage/notifications/")
    page.get_by_role("button", name="Mark all as read").click()
    page.wait_for_url(re.compile(r"/manage/notifications/$"))
    assert nav.inner_text().strip() == "Notifications"
    assert page.locator("main .badge").count() == 0

    page.goto("/manage/notifications/settings")
    check(page, axe_source, "/manage/notifications/settings (360x800)")
    page.get_by_label("A recall reaches my lots, or lots made from them").uncheck()
    page.get_by_role("button", name="Save").click()
    page.wait_for_url(re.compile(r"/manage/notifications/settings$"))
    assert not page.get_by_label("A recall reaches my lots, or lots made from them").is_checked()
    assert page.get_by_label("A consumer reports a problem with a product").is_checked()
