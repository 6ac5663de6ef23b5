"""axe-core in a real Chromium: the consumer's batch page, the public directory and the charts pass.

axe-core comes from npm (``package.json``, installed by ``make test`` with
``npm ci``); nothing is downloaded here. Its source is evaluated in the page
through the DevTools protocol, which the Content-Security-Policy does not
govern, so the pages are checked exactly as served, policy included.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from traceability.batches.service import public_url
from traceability.demo.loader import DEMO_PASSWORD, MINISTRY_EMAIL
from traceability.models.batches import Batch

pytestmark = pytest.mark.browser

AXE_PATH = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
BLOCKING_IMPACTS = ("serious", "critical")
PHONE = {"width": 360, "height": 800}
DESKTOP = {"width": 1280, "height": 900}
# Demo batches: the most scanned one, with its events and certificates, and a recalled one.
DEMO_LOTS = ("BOT2603A", "TIEU2602")


@pytest.fixture(scope="session")
def axe_source() -> str:
    if not AXE_PATH.is_file():
        message = f"axe-core is not installed ({AXE_PATH}): run `make test` or `npm ci`"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    return AXE_PATH.read_text(encoding="utf-8")


@pytest.fixture
def demo(runner, db, public_base_url) -> dict[str, str]:
    """The demo data, and the public URLs of a few of its batches."""
    result = runner.invoke(args=["seed-demo"])
    assert result.exit_code == 0, result.output
    batches = db.session.scalars(select(Batch).where(Batch.lot_code.in_(DEMO_LOTS))).all()
    assert {batch.lot_code for batch in batches} == set(DEMO_LOTS)
    urls = {batch.lot_code: public_url(public_base_url, batch) for batch in batches}
    recalled = db.session.scalars(select(Batch).where(Batch.status == "recalled").limit(1)).first()
    if recalled is not None:
        urls[recalled.lot_code] = public_url(public_base_url, recalled)
    db.session.commit()
    return urls


def axe_violations(page: Any, axe_source: str) -> list[dict[str, Any]]:
    """The serious and critical violations axe-core finds on the page as it is now."""
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(axe_source)
    results = page.evaluate(
        """async () => {
            const results = await window.axe.run(document, {resultTypes: ["violations"]});
            return results.violations.map(v => ({
                id: v.id, impact: v.impact, help: v.help, helpUrl: v.helpUrl,
                nodes: v.nodes.map(n => ({target: n.target.join(" "), html: n.html, summary: n.failureSummary})),
            }));
        }"""
    )
    return [violation for violation in results if violation["impact"] in BLOCKING_IMPACTS]


def describe(violations: list[dict[str, Any]]) -> str:
    lines = []
    for violation in violations:
        lines.append(
            f"[{violation['impact']}] {violation['id']}: {violation['help']} ({violation['helpUrl']})"
        )
        for node in violation["nodes"]:
            lines.append(f"    {node['target']}\n      {node['html'][:200]}\n      {node['summary']}")
    return "\n".join(lines)


def check(page: Any, axe_source: str, where: str) -> None:
    violations = axe_violations(page, axe_source)
    if violations:
        print(f"axe-core on {where}:\n{describe(violations)}")
    assert not violations, f"axe-core found serious or critical issues on {where}:\n{describe(violations)}"


def test_the_consumer_page_of_demo_batches_on_a_phone(new_context, demo, axe_source):
    for locale in ("vi-VN", "en-US"):
        page = new_context(locale=locale, viewport=PHONE, is_mobile=True, has_touch=True).new_page()
        for lot_code, url in demo.items():
            response = page.goto(url)
            assert response is not None and response.status == 200, url
            check(page, axe_source, f"the consumer page of {lot_code} ({locale}, 360x800)")


def test_the_public_directory(new_context, demo, axe_source):
    for viewport in (PHONE, DESKTOP):
        size = f"{viewport['width']}x{viewport['height']}"
        page = new_context(locale="vi-VN", viewport=viewport).new_page()
        for path in ("/products", "/products?province=66"):
            response = page.goto(path)
            assert response is not None and response.status == 200, path
            check(page, axe_source, f"{path} ({size})")
        # A product's own page in the directory, reached as a visitor would.
        page.goto("/products")
        page.locator("main a[href^='/products/']").first.click()
        page.wait_for_load_state()
        check(page, axe_source, f"{page.url} ({size})")


def test_the_scan_analytics_and_dashboard_on_a_phone(new_context, demo, axe_source):
    """The charts' tables scroll sideways on a phone: a keyboard reaches them, and the rest passes too."""
    page = new_context(locale="vi-VN", viewport=PHONE).new_page()
    page.goto("/login")
    page.fill("#email", MINISTRY_EMAIL)
    page.fill("#password", DEMO_PASSWORD)
    page.click("main form button[type=submit]")
    page.wait_for_url(re.compile(r"/manage"))
    for path in ("/manage/scans", "/manage/dashboard"):
        response = page.goto(path)
        assert response is not None and response.status == 200, path
        check(page, axe_source, f"{path} (360x800)")
    response = page.goto("/manage/scans?date_from=2025-05-02&date_to=2025-05-01")
    assert response is not None and response.status == 400
    check(page, axe_source, "/manage/scans with dates refused (360x800)")
