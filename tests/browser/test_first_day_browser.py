"""A new producer's first day on a 360 px phone, counted: clicks and page loads.

The journey is data (steps), run by one small driver that counts: a click is a
tap on a link or a button, the choice in a ``<select>`` and picking a file
(each one tap here, though a phone needs two for a select); typing is not a
click. A page load is a navigation of the main frame (``framenavigated``),
which includes every form sent the ordinary way. Signing in is not counted.

``BASELINE`` is the same first day on the code before the lot pages changed
(commit 66fb85f), run with ``BASELINE_STEPS`` (the only way that code
offered: menus, the product page's "New batch", the event form at the bottom
with its type, time and place chosen by hand); ``FIRST_DAY_STEPS`` is the
way offered now: the start page (the product, its photo, its farm and its
certificate in one form, then straight on to the first lot's form), the event
entry at the top of the lot page with its quick-add buttons and defaults,
"Make a lot from this one".
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import pytest
from PIL import Image
from playwright.sync_api import expect

from tests import factories

pytestmark = pytest.mark.browser

# Measured on 66fb85f with BASELINE_STEPS (see the module's docstring and README's "What changed").
BASELINE = {"clicks": 33, "loads": 20}
BASELINE_LOT_PART = {"clicks": 20, "loads": 11}  # from the first lot to the chain


@dataclass
class Tally:
    clicks: int = 0
    loads: int = 0
    marks: dict[str, tuple[int, int]] = field(default_factory=dict)


def _photo() -> bytes:
    output = io.BytesIO()
    Image.new("RGB", (320, 240), (120, 80, 40)).save(output, "JPEG")
    return output.getvalue()


PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
SUBMIT = "main form button[type=submit]"
EVENT_SUBMIT = "main form:has(#type) button[type=submit]"


def _registry_steps() -> list[tuple]:
    """The product with its photo, the farm and its certificate: the same on both codes."""
    today = date.today().isoformat()
    return [
        ("click", 'main a[href="/manage/products/new"]'),
        ("fill", "#name", "Cà phê Robusta Ea Tu"),
        ("fill", "#category", "Cà phê"),
        ("click", SUBMIT),
        ("upload", "main form[action$='/images'] input[type=file]", ("ca-phe.jpg", "image/jpeg", _photo())),
        ("click", "main form[action$='/images'] button[type=submit]"),
        ("click", 'nav.manage-nav a[href="/manage/locations"]'),
        ("click", 'main a[href^="/manage/locations/new"]'),
        ("fill", "#name", "Vườn Ea Tu"),
        ("fill", "#ward", "Xã Ea Tu"),
        ("click", SUBMIT),
        ("click", 'nav.manage-nav a[href="/manage/certifications"]'),
        ("click", 'main a[href="/manage/certifications/new"]'),
        ("choose_label", "#subject", "Vườn Ea Tu"),
        ("choose", "#type", "vietgap"),
        ("fill", "#number", "VG-66-0012"),
        ("fill", "#issuer", "Trung tâm Chứng nhận Phù hợp"),
        ("fill", "#valid_from", "2026-01-01"),
        ("fill", "#valid_to", "2028-12-31"),
        ("upload", "#document", ("vietgap.pdf", "application/pdf", PDF)),
        ("click", SUBMIT),
        ("mark", "registry", today),
    ]


def _lot_fields(code: str, quantity: str) -> list[tuple]:
    return [
        ("fill", "#lot_code", code),
        ("fill", "#production_date", "2026-12-01"),
        ("fill", "#quantity", quantity),
    ]


BASELINE_STEPS = [
    *_registry_steps(),
    ("click", 'nav.manage-nav a[href="/manage/products"]'),
    ("click", "main table a[href^='/manage/products/']"),
    ("click", 'main a[href^="/manage/batches/new"]'),
    *_lot_fields("EATU-2612", "5000"),
    ("choose_label", "#location_id", "Vườn Ea Tu"),
    ("click", SUBMIT),
    *[
        step
        for kind, quantity in (("harvesting", "5000"), ("storing", "5000"), ("packing", "4800"))
        for step in (
            ("choose", "#type", kind),
            ("fill", "#time", "2026-12-01T08:00"),
            ("choose_label", "#location_id", "Vườn Ea Tu"),
            ("fill", "#quantity", quantity),
            ("click", EVENT_SUBMIT),
            ("wait_events",),
        )
    ],
    ("click", "p.breadcrumb a[href^='/manage/products/']"),
    ("click", 'main a[href^="/manage/batches/new"]'),
    *_lot_fields("EATU-2612-GOI", "1000"),
    ("choose_index", "#inputs-0-batch_id", 1),
    ("fill", "#inputs-0-quantity", "1000"),
    ("click", SUBMIT),
    ("download", "main form[action$='/labels'] button[type=submit]"),
    ("click", 'main a[href$="/chain"]'),
]


def _start_steps() -> list[tuple]:
    """The product with its photo, the farm and its certificate on the start page, in one form."""
    return [
        ("click", 'main a[href="/manage/start"]'),
        ("fill", "#product-name", "Cà phê Robusta Ea Tu"),
        ("fill", "#product-category", "Cà phê"),
        ("upload", "#photo", ("ca-phe.jpg", "image/jpeg", _photo())),
        ("fill", "#place-name", "Vườn Ea Tu"),
        ("fill", "#place-ward", "Xã Ea Tu"),
        # The certificate covers the farm and is a VietGAP one unless changed.
        ("fill", "#certificate-number", "VG-66-0012"),
        ("fill", "#certificate-issuer", "Trung tâm Chứng nhận Phù hợp"),
        ("fill", "#certificate-valid_from", "2026-01-01"),
        ("fill", "#certificate-valid_to", "2028-12-31"),
        ("upload", "#certificate-document", ("vietgap.pdf", "application/pdf", PDF)),
        ("fits", "/tmp/first-day-start-360.png"),
        ("click", SUBMIT),  # on to the first lot's form, the product and its farm chosen
        ("mark", "registry", date.today().isoformat()),
    ]


FIRST_DAY_STEPS = [
    *_start_steps(),
    *_lot_fields("EATU-2612", "5000"),
    ("click", SUBMIT),
    # The first event's type is "Harvesting", then each next step of the lot: time and place are set.
    *[
        step
        for quantity in ("5000", "5000", "4800")
        for step in (("fill", "#quantity", quantity), ("click", EVENT_SUBMIT), ("wait_events",))
    ],
    ("fits", "/tmp/first-day-lot-360.png"),
    ("click", 'main a[href*="/manage/batches/new?input="]'),
    ("fits", "/tmp/first-day-input-picker-360.png"),
    ("fill", "#lot_code", "EATU-2612-GOI"),
    ("fill", "#production_date", "2026-12-01"),
    ("fill", "#quantity", "1000"),
    ("fill", "#inputs-0-quantity", "1000"),
    ("click", SUBMIT),
    ("download", "main form[action$='/labels'] button[type=submit]"),
    ("click", 'main a[href$="/chain"]'),
]


def run_first_day(page: Any, steps: list[tuple]) -> Tally:
    """Run the steps on a signed-in page at the overview, counting clicks and page loads."""
    tally = Tally()
    main_frame = page.main_frame

    def navigated(frame: Any) -> None:
        if frame == main_frame:
            tally.loads += 1

    page.on("framenavigated", navigated)
    events_seen = 0
    for step in steps:
        kind, *args = step
        if kind == "click":
            tally.clicks += 1
            page.click(args[0])  # waits for a navigation it starts to begin
            page.wait_for_load_state()
            expect(page.locator("main .error")).to_have_count(0)
        elif kind == "fill":
            page.fill(args[0], args[1])
        elif kind == "choose":
            tally.clicks += 1
            page.select_option(args[0], args[1])
        elif kind == "choose_label":
            tally.clicks += 1
            value = page.eval_on_selector(
                args[0],
                "(select, text) => [...select.options].find(o => o.textContent.trim().startsWith(text)).value",
                args[1],
            )
            page.select_option(args[0], value)
        elif kind == "choose_index":
            tally.clicks += 1
            page.select_option(args[0], index=args[1])
        elif kind == "upload":
            tally.clicks += 1
            name, mime, content = args[1]
            page.set_input_files(args[0], files=[{"name": name, "mimeType": mime, "buffer": content}])
        elif kind == "download":
            tally.clicks += 1
            with page.expect_download() as download:
                page.click(args[0])
            assert download.value.suggested_filename.endswith(".pdf")
        elif kind == "wait_events":
            events_seen += 1
            expect(page.locator("ol.timeline > li")).to_have_count(events_seen)
        elif kind == "fits":  # no sideways scrolling on the phone; a screenshot to look at
            width = page.evaluate("document.documentElement.scrollWidth")
            assert width <= page.viewport_size["width"], f"{page.url} is {width} px wide"
            page.screenshot(path=args[0], full_page=True)
        elif kind == "mark":
            tally.marks[args[0]] = (tally.clicks, tally.loads)
    page.remove_listener("framenavigated", navigated)
    return tally


@pytest.fixture
def newcomer(make, db):
    """A producer the centre approved already, with one user and nothing else."""
    centre = make.centre("66")
    producer = make.producer(centre, name="Hợp tác xã Ea Tu")
    user = make.user("producer", producer=producer)
    db.session.commit()
    return user


def _sign_in(page: Any, email: str) -> None:
    page.goto("/login")
    page.fill("#email", email)
    page.fill("#password", factories.PASSWORD)
    page.click("main form button[type=submit]")
    page.wait_for_url(re.compile(r"/manage"))


def test_the_first_day_takes_half_the_clicks_and_page_loads_on_the_lot_pages(new_context, newcomer, capsys):
    page = new_context(locale="vi-VN", viewport={"width": 360, "height": 800}).new_page()
    _sign_in(page, newcomer.email)
    tally = run_first_day(page, FIRST_DAY_STEPS)
    expect(page.locator("main h1")).to_be_visible()  # the chain page
    registry_clicks, registry_loads = tally.marks["registry"]
    lot_clicks, lot_loads = tally.clicks - registry_clicks, tally.loads - registry_loads
    with capsys.disabled():
        print(
            f"\nfirst day: {tally.clicks} clicks, {tally.loads} page loads (before: {BASELINE['clicks']}, "
            f"{BASELINE['loads']}); from the lot to the chain: {lot_clicks} clicks, {lot_loads} page loads "
            f"(before: {BASELINE_LOT_PART['clicks']}, {BASELINE_LOT_PART['loads']})"
        )
    assert tally.clicks * 2 <= BASELINE["clicks"] and tally.loads * 2 <= BASELINE["loads"]
    assert lot_clicks * 2 <= BASELINE_LOT_PART["clicks"] and lot_loads * 2 <= BASELINE_LOT_PART["loads"]
