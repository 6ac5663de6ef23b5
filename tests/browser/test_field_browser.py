"""The field app in a real Chromium on a 360 × 800 phone: offline, back online, and nothing twice.

The phone signs in, opens the app (its service worker keeps it), loses the
signal (``context.set_offline``), opens the app again from the phone alone,
records events with a photo each (compressed on the phone) and its position,
and gets the signal back. The first answer is lost on the way (the server
stored the event, the phone never heard): the phone sends it again with its
Idempotency-Key and the server answers the first answer. Each event is then
stored once, with its photo, in its own lot; sending every request again
stores nothing. Conflicts (a lot recalled meanwhile, a quantity no longer
there) show on their own item, which the user edits or removes. A third test
reads a lot's QR label through the camera (Chromium's fake camera playing a
video of the label) with the vendored jsQR, as Chromium on Linux has no
BarcodeDetector.

Screenshots go to test-artifacts/ (git-ignored) for a person to look at.
"""

from __future__ import annotations

import io
import random
import re
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from playwright.sync_api import expect
from sqlalchemy import func, select

from tests.browser.conftest import CHROMIUM_ARGS, DEFAULT_TIMEOUT_MS
from tests.browser.test_accessibility_browser import axe_source, check  # noqa: F401 - the fixture
from tests.browser.test_consumer_browser import CSP_MESSAGE, screenshot
from tests.browser.test_end_to_end_browser import sign_in
from traceability.batches.lineage import add_inputs
from traceability.batches.recalls import recall_batch
from traceability.batches.serials import create_serials
from traceability.batches.service import item_public_url
from traceability.core.uploads import images_folder
from traceability.labels.qr import qr_png
from traceability.models.batches import TraceEvent
from traceability.models.idempotency import IdempotentRequest

pytestmark = pytest.mark.browser

PHONE = {"width": 360, "height": 800}
POSITION = {"latitude": 12.7166, "longitude": 108.0621, "accuracy": 15}
MAX_UPLOAD = 600 * 1024  # what app.js sends at most for one photo


def camera_photo(seed: int) -> bytes:
    """A 2400 × 1800 picture full of detail, as a phone's camera takes one: several MB as PNG."""
    rng = random.Random(seed)
    noise = Image.effect_noise((600, 450), 80).convert("RGB").resize((2400, 1800), Image.Resampling.NEAREST)
    tint = Image.new("RGB", (2400, 1800), (rng.randrange(256), rng.randrange(256), rng.randrange(256)))
    buffer = io.BytesIO()
    Image.blend(noise, tint, 0.4).save(buffer, format="PNG")
    return buffer.getvalue()


def open_phone(new_context: Any, **options: Any) -> Any:
    context = new_context(
        locale="en-US",
        viewport=PHONE,
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
        geolocation=POSITION,
        permissions=["geolocation"],
        **options,
    )
    page = context.new_page()
    page.csp_violations = []
    page.on("console", lambda m: page.csp_violations.append(m.text) if CSP_MESSAGE.search(m.text) else None)
    page.on("dialog", lambda dialog: dialog.accept())
    return page


def open_field_app(page: Any) -> None:
    """Open the app and wait until its service worker controls the page and keeps the page for offline use."""
    page.goto("/field/")
    page.wait_for_function("() => document.body.dataset.ready === 'true'")
    page.wait_for_function("() => navigator.serviceWorker.controller !== null")
    page.wait_for_function(
        "() => caches.keys().then(names => Promise.all(names.map(name => caches.open(name)"
        ".then(cache => cache.match('/field/'))))).then(found => found.some(Boolean))"
    )


def record(
    page: Any,
    lot_code: str,
    kind: str,
    quantity: str,
    note: str,
    photo: bytes,
    lot_location: int,
    shot: str = "",
) -> None:
    page.fill("#lot-search", lot_code)
    page.locator("#lots button", has_text=lot_code).click()
    expect(page.locator("#lot-code")).to_have_text(lot_code)
    page.select_option("#event-type", kind)
    page.fill("#event-quantity", quantity)
    page.fill("#event-note", note)
    page.set_input_files(
        "#event-photo", files=[{"name": "IMG_0001.png", "mimeType": "image/png", "buffer": photo}]
    )
    expect(page.locator("#photo-status")).to_contain_text("Photo ready")
    expect(page.locator("#position-status")).to_have_text("Position: within 15 m")
    expect(page.locator("#event-location")).to_have_value(str(lot_location))  # the lot's place, by default
    no_sideways_scroll(page)
    if shot:
        screenshot(page, shot)
    page.click("#save")
    expect(page.locator("#notice")).to_have_text("Saved on this phone. It is sent when there is a signal.")
    page.click("#change-lot")


def no_sideways_scroll(page: Any) -> None:
    wide = page.evaluate(
        "() => Array.from(document.querySelectorAll('body *')).filter(e => e.getBoundingClientRect().right > 360)"
        ".map(e => e.tagName + '#' + e.id + '.' + e.className + ' ' + Math.round(e.getBoundingClientRect().right)).slice(0, 20)"
    )
    assert not wide, wide
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


def stored_events(db: Any) -> list[TraceEvent]:
    db.session.commit()  # a new transaction sees what the live server committed since
    return list(db.session.scalars(select(TraceEvent).order_by(TraceEvent.id)))


@pytest.fixture
def orchard(db, make) -> Any:
    """A cooperative's user, its orchard, and two open lots of two products."""

    class Orchard:
        pass

    o = Orchard()
    o.centre = make.centre("66")
    o.producer = make.producer(o.centre, name="HTX Cà phê Ea Tu")
    o.user = make.user("producer", producer=o.producer)
    o.farm = make.location(o.producer, name="Vườn Ea Tu")
    o.coffee = make.batch(
        make.product(o.producer, name="Cà phê Robusta"), lot_code="CF-2611", origin_location_id=o.farm.id
    )
    o.pepper = make.batch(
        make.product(o.producer, name="Hồ tiêu đen"), lot_code="HT-2611", origin_location_id=o.farm.id
    )
    db.session.commit()  # the live server thread reads the database, not this session
    return o


def test_three_events_recorded_offline_are_stored_once_with_their_photos(
    db, new_context, orchard, live_server
):
    page = open_phone(new_context)
    context = page.context
    sign_in(page, orchard.user.email)
    open_field_app(page)
    expect(page.locator("#signal")).to_have_text("Online")

    context.set_offline(True)
    page.reload()  # from the phone alone: the service worker's copy
    page.wait_for_function("() => document.body.dataset.ready === 'true'")
    expect(page.locator("#signal")).to_have_text("Offline: events are kept on this phone")
    photos = [camera_photo(seed) for seed in (1, 2, 3)]
    plan = [
        (orchard.coffee, "harvesting", "120", "Hái đợt 1, quả chín đều."),
        (orchard.coffee, "processing", "115.5", "Phơi giàn, xát khô."),
        (orchard.pepper, "harvesting", "40", "Tiêu chín đỏ."),
    ]
    for index, ((lot, kind, quantity, note), photo) in enumerate(zip(plan, photos, strict=True)):
        record(
            page,
            lot.lot_code,
            kind,
            quantity,
            note,
            photo,
            orchard.farm.id,
            "" if index else "field-record-phone",
        )
    expect(page.locator("#queue-count")).to_have_text("3")
    expect(page.locator("#queue li .state")).to_have_text(["Waiting"] * 3)
    expect(page.locator("#queue li img")).to_have_count(3)
    no_sideways_scroll(page)
    screenshot(page, "field-queue-offline-phone")
    assert stored_events(db) == []

    # The signal returns, but the first answer is lost on the way back: stored, never heard of.
    sent: list[tuple[dict[str, str], bytes]] = []

    def lose_the_first_answer(route: Any) -> None:
        request = route.request
        sent.append((request.all_headers(), request.post_data_buffer))
        response = route.fetch()
        if len(sent) == 1:
            route.abort("internetdisconnected")
        else:
            route.fulfill(response=response)

    page.route("**/field/events", lose_the_first_answer)
    context.set_offline(False)
    expect(page.locator("#sync-status")).to_have_text(
        "No signal: the events stay on this phone and are sent when the signal returns."
    )
    expect(page.locator("#queue-count")).to_have_text("3")
    assert len(stored_events(db)) == 1  # stored, though the phone does not know it

    page.click("#sync")  # "Send now"
    expect(page.locator("#queue-count")).to_have_text("0")
    expect(page.locator("#sync-status")).to_have_text("Every event is sent.")
    expect(page.locator("#sent li")).to_have_count(3)
    expect(page.locator("#sent li .state")).to_have_text(["Sent", "Sent", "Sent (it was already stored)"])
    screenshot(page, "field-sent-phone")
    assert len(sent) == 4  # the first event twice, with one key

    events = stored_events(db)
    assert [(e.batch_id, e.type, e.quantity, e.note) for e in events] == [
        (lot.id, kind, Decimal(quantity), note) for lot, kind, quantity, note in plan
    ]
    for event in events:
        assert event.actor_id == orchard.user.id
        assert event.location_id == orchard.farm.id  # the lot's place, by default
        assert (event.latitude, event.longitude, event.position_accuracy) == (12.7166, 108.0621, 15.0)
        assert event.photo_filename and event.photo_thumbnail_filename
        with Image.open(images_folder() / event.photo_filename) as stored:
            assert max(stored.size) <= 1600  # compressed on the phone
    assert len({event.photo_filename for event in events}) == 3
    for _headers, body in sent:
        assert len(body) < MAX_UPLOAD + 4096
    # Recorded at Vietnam's time on the phone, kept with its offset.
    assert {event.time_zone_offset for event in events} == {"+07:00"}

    # Every request sent again (a doubled sync) stores nothing more.
    page.unroute("**/field/events")
    for headers, body in sent:
        kept = {name: headers[name] for name in ("idempotency-key", "x-csrftoken", "content-type", "accept")}
        again = context.request.post(live_server.url + "/field/events", headers=kept, data=body)
        assert again.status == 201 and again.headers["idempotent-replayed"] == "true"
    page.click("#sync")
    expect(page.locator("#sync-status")).to_have_text("Every event is sent.")
    assert len(stored_events(db)) == 3
    assert db.session.scalar(select(func.count()).select_from(IdempotentRequest)) == 3
    assert not page.csp_violations


def test_conflicts_show_on_their_own_item_to_edit_or_remove(db, make, new_context, orchard, axe_source):  # noqa: F811
    page = open_phone(new_context)
    context = page.context
    sign_in(page, orchard.user.email)
    open_field_app(page)
    context.set_offline(True)
    record(page, "CF-2611", "shipping", "300", "Giao cho đại lý.", camera_photo(4), orchard.farm.id)
    record(page, "HT-2611", "storing", "10", "Nhập kho.", camera_photo(5), orchard.farm.id)
    # Meanwhile, at the office: 400 kg of the coffee go into another lot; the pepper is recalled.
    db.session.commit()  # a fresh transaction: the one that read before the server wrote cannot write
    roasted = make.batch(make.product(orchard.producer, name="Cà phê rang xay"), lot_code="RANG-01")
    add_inputs(
        roasted,
        [{"batch_id": orchard.coffee.id, "quantity": Decimal("400")}],
        kind="transformation",
        actor=orchard.user,
    )
    recall_batch(orchard.pepper, "Phát hiện nấm mốc trong kho.", actor=orchard.user)
    db.session.commit()

    context.set_offline(False)
    failed = page.locator("#queue li.failed")
    expect(failed).to_have_count(2)
    expect(failed.nth(0).locator(".problem")).to_have_text(
        "Only 100 kg of lot CF-2611 is left; this event says 300 kg."
    )
    expect(failed.nth(1).locator(".problem")).to_contain_text(
        "Lot HT-2611 was recalled: no event can be added to it from the field."
    )
    no_sideways_scroll(page)
    check(page, axe_source, "the field app's queue with refused events")
    screenshot(page, "field-conflicts-phone")
    assert stored_events(db) == []

    failed.nth(0).get_by_role("button", name="Edit").click()
    expect(page.locator("#form-error")).to_contain_text("Only 100 kg of lot CF-2611 is left")
    expect(page.locator("#event-quantity")).to_have_value("300")
    page.fill("#event-quantity", "100")
    page.click("#save")
    expect(page.locator("#queue li.failed")).to_have_count(1)
    page.locator("#queue li.failed").get_by_role("button", name="Remove").click()  # the dialog is accepted
    expect(page.locator("#queue-count")).to_have_text("0")
    expect(page.locator("#sent li")).to_have_count(1)
    events = stored_events(db)
    assert [(e.batch_id, e.type, e.quantity, e.note) for e in events] == [
        (orchard.coffee.id, "shipping", Decimal("100"), "Giao cho đại lý.")
    ]
    assert events[0].photo_filename
    assert not page.csp_violations


# --- the camera ------------------------------------------------------------------------------------


def y4m(picture: Image.Image, frames: int = 10) -> bytes:
    """A short YUV4MPEG2 video (4:2:0) of one picture, as Chromium's fake camera plays it in a loop."""
    width, height = picture.size
    ycbcr = picture.convert("YCbCr")
    y, cb, cr = ycbcr.split()
    half = (width // 2, height // 2)
    frame = b"FRAME\n" + y.tobytes() + cb.resize(half).tobytes() + cr.resize(half).tobytes()
    return f"YUV4MPEG2 W{width} H{height} F10:1 Ip A1:1 C420jpeg\n".encode() + frame * frames


@pytest.fixture
def camera_browser(browser: Any, chromium_executable: str, tmp_path: Path) -> Iterator[Any]:
    """A Chromium of its own whose fake camera films whatever ``label_video`` shows (written by the test)."""
    video = tmp_path / "label.y4m"
    video.write_bytes(y4m(Image.new("RGB", (640, 480), "white")))
    # The session's Playwright launches it: one Playwright per thread.
    camera = browser.browser_type.launch(
        executable_path=chromium_executable,
        args=[
            *CHROMIUM_ARGS,
            "--use-fake-device-for-media-stream",
            "--use-fake-ui-for-media-stream",
            f"--use-file-for-fake-video-capture={video}",
        ],
    )
    camera.label_video = video
    try:
        yield camera
    finally:
        camera.close()


def test_a_lot_is_picked_by_filming_its_qr_label(
    app, db, make, orchard, camera_browser, live_server, monkeypatch
):
    monkeypatch.setitem(app.config, "PUBLIC_BASE_URL", live_server.url)
    item = create_serials(orchard.pepper, 1, actor=orchard.user)[0]
    db.session.commit()
    url = item_public_url(live_server.url, item)  # an item's label: /t/{its own code}, resolved by the server
    label = Image.open(io.BytesIO(qr_png(url, size_px=360))).convert("RGB")
    frame = Image.new("RGB", (640, 480), "white")
    frame.paste(label, (140, 60))
    camera_browser.label_video.write_bytes(y4m(frame))

    context = camera_browser.new_context(
        base_url=live_server.url, locale="en-US", viewport=PHONE, is_mobile=True, has_touch=True
    )
    context.set_default_timeout(DEFAULT_TIMEOUT_MS)
    try:
        context.grant_permissions(["camera"])
        page = context.new_page()
        violations: list[str] = []
        page.on("console", lambda m: violations.append(m.text) if CSP_MESSAGE.search(m.text) else None)
        sign_in(page, orchard.user.email)
        open_field_app(page)
        assert page.evaluate("'BarcodeDetector' in window") is False  # so jsQR reads it
        page.click("#scan")
        expect(page.locator("#record")).to_be_visible()
        expect(page.locator("#lot-code")).to_have_text("HT-2611")
        expect(page.locator("#lot-product")).to_have_text("Hồ tiêu đen")
        assert page.evaluate("typeof window.jsQR") == "function"
        expect(page.locator("#camera")).to_be_hidden()
        assert re.search(r"/t/[A-Z2-7]+$", url)
        assert not violations
    finally:
        context.close()
