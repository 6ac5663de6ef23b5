"""In a real Chromium the Content-Security-Policy is enforced, the site's own pages break none of it."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect

from tests import factories
from traceability.gs1 import gtin_check_digit

pytestmark = pytest.mark.browser

GTIN14 = "0893000000019"[:13] + str(gtin_check_digit("0893000000019"[:13]))
CSP_MESSAGE = re.compile(r"Content Security Policy|Content-Security-Policy", re.IGNORECASE)


def watch_csp(page: Any) -> list[str]:
    """The CSP violations Chromium reports on ``page``'s console, as they come."""
    violations: list[str] = []
    page.on(
        "console",
        lambda message: violations.append(message.text) if CSP_MESSAGE.search(message.text) else None,
    )
    return violations


@pytest.fixture
def records(make, db):
    centre = make.centre("66")
    producer = make.producer(centre, name="HTX Cà phê Ea Tu")
    user = make.user("producer", producer=producer, is_producer_admin=True)
    product = make.product(producer, name="Cà phê rang mộc", gtin=GTIN14)
    batch = make.batch(product, lot_code="LO-CSP-01")
    db.session.commit()
    return {"user": user, "producer": producer, "product": product, "batch": batch}


def test_public_and_management_pages_break_no_policy(page, records, public_base_url):
    violations = watch_csp(page)
    batch, product, producer = records["batch"], records["product"], records["producer"]
    public_pages = ["/", "/login", "/products", f"/01/{GTIN14}/10/{batch.lot_code}"]
    for path in public_pages:
        response = page.goto(path)
        assert response is not None and response.status == 200, path
        assert "script-src 'self'" in response.headers["content-security-policy"]
        # The stylesheet applies under the policy: the header has the site's green.
        expect(page.locator("header.site-header")).to_have_css("background-color", "rgb(11, 107, 58)")

    page.goto("/login")
    page.fill("#email", records["user"].email)
    page.fill("#password", factories.PASSWORD)
    page.click("main form button[type=submit]")
    page.wait_for_url(re.compile(r"/manage"))
    for path in (
        "/manage",
        f"/manage/products/{product.id}",
        f"/manage/batches/{batch.id}",
        f"/manage/producers/{producer.id}",
        "/manage/users",
        "/account/password",
    ):
        response = page.goto(path)
        assert response is not None and response.status == 200, path
        expect(page.locator("main h1")).to_be_visible()
    # The producer page's header keeps its layout without the old inline style.
    page.goto(f"/manage/producers/{producer.id}")
    expect(page.locator(".profile-head")).to_have_css("display", "flex")
    assert violations == []


def test_the_policy_is_enforced_on_markup_injected_into_a_page(page, records):
    """What an injected style attribute or script would meet: Chromium refuses both and says so."""
    violations = watch_csp(page)
    page.goto("/login")
    page.evaluate(
        """() => {
            document.body.insertAdjacentHTML('beforeend', '<p id="injected" style="color: rgb(1, 2, 3)">x</p>');
            const script = document.createElement('script');
            script.textContent = 'window.injectedRan = true';
            document.body.appendChild(script);
        }"""
    )
    expect(page.locator("#injected")).not_to_have_css("color", "rgb(1, 2, 3)")
    assert page.evaluate("() => window.injectedRan === undefined")
    page.wait_for_timeout(200)  # the console messages arrive asynchronously
    assert any("style" in message for message in violations), violations
    assert any("script" in message for message in violations), violations
