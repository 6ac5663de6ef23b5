"""Management tables read well on a 360 px phone: each row a card, each value after its column's name.

Signed in as a centre's administrator and as a producer, with long Vietnamese
names, every management page that shows a table is opened at 360x800: the page
does not scroll sideways, no cell holding text is squeezed into a narrow column
(the one-word-per-line symptom), every card's value is preceded by the name of
its own column, and axe-core finds nothing serious. At 1280 px a table is still
a table.
"""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from tests import factories
from tests.browser.test_accessibility_browser import AXE_PATH, check
from tests.inspections.helpers import nonconformity
from traceability.batches.recalls import recall_batch
from traceability.batches.serials import create_serials
from traceability.core.dates import vietnam_today
from traceability.inspections.service import create_inspection
from traceability.reports.centre_work import save_contract

pytestmark = pytest.mark.browser

PHONE = {"width": 360, "height": 800}
DESKTOP = {"width": 1280, "height": 900}
NARROWEST_CELL_REM = 4
SCREENSHOTS = Path("/tmp")

PRODUCER_NAME = "Hợp tác xã Nông nghiệp Dịch vụ Tổng hợp Cà phê Chè Ea Tu Buôn Ma Thuột"
PRODUCT_NAME = "Cà phê Robusta rang mộc nguyên chất Buôn Ma Thuột thượng hạng"
LOCATION_NAME = "Vườn cà phê chè tái canh thôn Kiều, xã Ea Tu"


@pytest.fixture
def axe_source() -> str:
    if not AXE_PATH.is_file():
        pytest.fail(f"axe-core is not installed ({AXE_PATH}): run `make test` or `npm ci`", pytrace=False)
    return AXE_PATH.read_text(encoding="utf-8")


@pytest.fixture
def registry(make, db) -> dict[str, Any]:
    """A province's centre with its administrator, a producer with long names and a bit of everything."""
    today = vietnam_today()
    produced = today - timedelta(days=20)
    centre = make.centre("66", name="Trung tâm Ứng dụng Khoa học và Công nghệ tỉnh Đắk Lắk")
    admin = make.user("centre_admin", centre=centre, name="Nguyễn Thị Phương Thảo")
    producer = make.producer(centre, name=PRODUCER_NAME, street="Số 123 đường Nguyễn Tất Thành")
    user = make.user(
        "producer",
        producer=producer,
        is_producer_admin=True,
        name="Y Bhin Niê Kdăm",
        email="ybhin@htx-eatu.vn",
    )
    pending = make.producer(centre, name="Hộ kinh doanh Trần Văn Quang Mật ong Hoa Cà phê", status="pending")
    farm = make.location(producer, name=LOCATION_NAME, street="Thôn Kiều")
    product = make.product(
        producer, name=PRODUCT_NAME, gtin="08935000000014", ocop_stars=4, ocop_group="food", is_flagship=True
    )
    other = make.product(producer, name="Cà phê chồn Arabica Cầu Đất sơ chế ướt lên men tự nhiên")
    make.certification(producer, number="VietGAP-TT-2026-000123/ĐL")
    make.certification(product, type="organic", number="TCVN-11041-HC-2026-0456", status="pending")
    lot = make.batch(
        product,
        lot_code="RM2604EATU01",
        production_date=produced,
        quantity=Decimal("12500"),
        origin_location_id=farm.id,
    )
    recalled = make.batch(other, lot_code="CHON2604B", production_date=produced, quantity=Decimal("250"))
    make.batch(product, lot_code="RM2605EATU02", production_date=today, quantity=Decimal("8000"), unit="H87")
    create_serials(lot, 3, actor=user)
    recall_batch(recalled, "Phát hiện nấm mốc trong kho, độ ẩm hạt vượt ngưỡng cho phép", actor=user)
    inspection = create_inspection(nonconformity("producer", producer.id), actor=admin)
    save_contract(
        {
            "kind": "technology_transfer",
            "number": "15/2026/HĐ-CGCN-ĐL",
            "counterparty": PRODUCER_NAME,
            "signed_on": produced,
            "value_vnd": 450_000_000,
            "description": "Chuyển giao quy trình rang cà phê bằng khí nóng.",
            "product_ids": [product.id],
        },
        actor=admin,
    )
    db.session.commit()
    return {
        "admin": admin,
        "user": user,
        "centre": centre,
        "producer": producer,
        "pending": pending,
        "product": product,
        "lot": lot,
        "recall_of": recalled,
        "inspection": inspection,
        "year": produced.year,
    }


def sign_in(page: Any, email: str) -> None:
    page.goto("/login")
    page.fill("#email", email)
    page.fill("#password", factories.PASSWORD)
    page.click("main form button[type=submit]")
    page.wait_for_url(re.compile(r"/manage"))


MEASURE = r"""(narrowestRem) => {
    const rem = parseFloat(getComputedStyle(document.documentElement).fontSize);
    const squeezed = [], unlabelled = [], tables = [];
    for (const table of document.querySelectorAll("main table")) {
        const cards = table.classList.contains("cards");
        const headers = [...(table.tHead ? table.tHead.rows[0].cells : [])].map(c => c.innerText.trim());
        const box = table.parentElement.getBoundingClientRect();
        tables.push({cards, rows: table.tBodies[0] ? table.tBodies[0].rows.length : 0,
                     overflows: table.getBoundingClientRect().width > box.width + 1,
                     rowDisplay: table.tBodies[0] && table.tBodies[0].rows[0]
                         ? getComputedStyle(table.tBodies[0].rows[0]).display : null});
        for (const cell of table.querySelectorAll("td, th")) {
            const text = cell.innerText.trim();
            const head = cell.closest("thead");
            if (!text || (head && head.getBoundingClientRect().width <= 1)) continue;  // hidden from sight only
            // The lines the cell's text takes, and its words: "Tổng / cộng" is one word a line.
            const tops = new Set();
            const walker = document.createTreeWalker(cell, NodeFilter.SHOW_TEXT);
            for (let node = walker.nextNode(); node; node = walker.nextNode()) {
                const range = document.createRange();
                range.selectNodeContents(node);
                for (const r of range.getClientRects()) if (r.width) tops.add(Math.round(r.top / 4));
            }
            const lines = tops.size;
            const words = text.split(/\s+/).length;
            const width = cell.getBoundingClientRect().width;
            if (lines > 1 && ((words > 1 && lines >= words) || width < narrowestRem * rem)) {
                squeezed.push(`${Math.round(width)} px, ${lines} lines: ${text.slice(0, 40)}`);
            }
            if (cards && cell.tagName === "TD" && getComputedStyle(cell).display === "block") {
                const label = getComputedStyle(cell, "::before").content.replace(/^"|"$/g, "");
                const expected = headers[cell.cellIndex] || "";
                if (expected && label !== expected) unlabelled.push(`${expected} ≠ ${label}: ${text.slice(0, 30)}`);
            }
        }
    }
    const wide = [...document.querySelectorAll("body *")]
        .filter(e => e.getBoundingClientRect().right > document.documentElement.clientWidth + 1)
        .slice(0, 3).map(e => e.outerHTML.slice(0, 80));
    return {scrollWidth: document.documentElement.scrollWidth, wide, squeezed, unlabelled, tables};
}"""


def assert_reads_on_a_phone(
    page: Any, path: str, axe_source: str, who: str, screenshot: str | None = None
) -> dict[str, Any]:
    response = page.goto(path)
    assert response is not None and response.status == 200, f"{path} as {who}: {response and response.status}"
    if screenshot:
        page.screenshot(path=str(SCREENSHOTS / f"cards-{screenshot}.png"), full_page=True)
    found = page.evaluate(MEASURE, NARROWEST_CELL_REM)
    where = f"{path} as {who} at 360 px"
    assert found["tables"] and all(table["rows"] for table in found["tables"]), (
        f"{where}: no table rows shown"
    )
    assert found["scrollWidth"] <= PHONE["width"], (
        f"{where}: the page scrolls sideways ({found['scrollWidth']} px): {found['wide']}"
    )
    assert not found["squeezed"], (
        f"{where}: words squeezed one a line, or cells narrower than {NARROWEST_CELL_REM} rem wrapping: {found['squeezed']}"
    )
    assert not found["unlabelled"], f"{where}: values not after their column's name: {found['unlabelled']}"
    for table in found["tables"]:
        # A table left as a table on a phone must fit without scrolling sideways; the others are cards.
        assert table["cards"] or not table["overflows"], f"{where}: a table wider than the screen"
        if table["cards"]:
            assert table["rowDisplay"] == "block", f"{where}: a table's rows are not cards"
    check(page, axe_source, where)
    return found


def test_centre_pages_show_their_tables_as_cards_on_a_phone(new_context, registry, axe_source):
    page = new_context(locale="vi-VN", viewport=PHONE, is_mobile=True, has_touch=True).new_page()
    sign_in(page, registry["admin"].email)
    year, centre = registry["year"], registry["centre"]
    paths = [
        "/manage",
        "/manage/worklist",
        "/manage/producers",
        f"/manage/producers/{registry['producer'].id}",
        "/manage/products",
        f"/manage/products/{registry['product'].id}",
        "/manage/locations",
        "/manage/certifications",
        "/manage/inspections",
        f"/manage/inspections/{registry['inspection'].id}",
        "/manage/recalls",
        "/manage/quality",
        "/manage/audit",
        "/manage/users",
        "/manage/reports",
        f"/manage/reports/{year}/centres/{centre.id}",
        "/manage/centre-work",
        "/manage/dashboard",
    ]
    screenshots = {
        "/manage": "centre-dashboard",
        "/manage/dashboard": "charts",
        f"/manage/reports/{year}/centres/{centre.id}": "report",
    }
    for path in paths:
        assert_reads_on_a_phone(page, path, axe_source, "the centre's administrator", screenshots.get(path))
    # A recall's page and an audit entry's, reached as a user would.
    page.goto("/manage/recalls")
    page.locator("main table a").first.click()
    page.wait_for_load_state()
    assert_reads_on_a_phone(page, page.url, axe_source, "the centre's administrator")
    page.goto("/manage/audit")
    page.locator("main table a").first.click()
    page.wait_for_load_state()
    assert_reads_on_a_phone(page, page.url, axe_source, "the centre's administrator")


def test_producer_pages_show_their_tables_as_cards_on_a_phone(new_context, registry, axe_source):
    page = new_context(locale="vi-VN", viewport=PHONE, is_mobile=True, has_touch=True).new_page()
    sign_in(page, registry["user"].email)
    paths = [
        "/manage",
        "/manage/products",
        f"/manage/products/{registry['product'].id}",
        "/manage/locations",
        "/manage/certifications",
        "/manage/producers/me",
        "/manage/inspections",
        "/manage/recalls",
        f"/manage/batches/{registry['lot'].id}/items",
    ]
    for path in paths:
        assert_reads_on_a_phone(
            page, path, axe_source, "the producer", "producer-dashboard" if path == "/manage" else None
        )
    # On a card the lot's quantity follows its column's name on the same line: "Số lượng 12.500 kg".
    page.goto(f"/manage/products/{registry['product'].id}")
    card = page.locator("main table.cards tbody tr", has_text="RM2604EATU01")
    quantity = card.locator("td[data-label='Số lượng']")
    assert re.search(r"12[.,]500", quantity.inner_text())
    label, lines = quantity.evaluate(
        """cell => [getComputedStyle(cell, "::before").content,
                    cell.getBoundingClientRect().height / parseFloat(getComputedStyle(cell).lineHeight)]"""
    )
    assert label == '"Số lượng"' and lines < 2


def test_a_table_stays_a_table_on_a_computer(new_context, registry):
    page = new_context(locale="vi-VN", viewport=DESKTOP).new_page()
    sign_in(page, registry["admin"].email)
    page.goto("/manage/products")
    header = page.locator("main table.cards thead th").first
    row = page.locator("main table.cards tbody tr").first
    assert header.is_visible() and header.inner_text() == "Sản phẩm"
    assert row.evaluate("row => getComputedStyle(row).display") == "table-row"
    cells = row.locator("td")
    tops = {round(cells.nth(i).bounding_box()["y"]) for i in range(cells.count())}
    assert len(tops) == 1, "the cells of a row sit side by side"
    assert row.locator("td").first.evaluate("cell => getComputedStyle(cell, '::before').content") == "none"
