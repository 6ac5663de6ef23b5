"""A lot's journey from the farm on its consumer page: upstream events, origin farms, certificates, bounds.

A roasted coffee lot made from a green-coffee lot made from a harvest lot
must tell the farm, the harvest and the farm's VietGAP certificate, through
the real routes and the page cache, on SQLite and PostgreSQL.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from decimal import Decimal
from types import SimpleNamespace

import pytest
from sqlalchemy import event, func, select

from traceability.batches.lineage import add_inputs
from traceability.batches.service import record_event, retract_event
from traceability.core.dates import VIETNAM_OFFSET
from traceability.models.public import Scan
from traceability.public import journey as journey_module

PHONE = (
    "Mozilla/5.0 (Linux; Android 15; SM-A556E) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/140.0 Mobile Safari/537.36"
)


def get(app, path: str, **headers: str):
    headers.setdefault("User-Agent", PHONE)
    headers.setdefault("Accept-Language", "en")
    return app.test_client().get(path, headers=headers)


def page_of(app, path: str) -> str:
    response = get(app, path)
    assert response.status_code == 200, response.status_code
    return response.get_data(as_text=True)


def at(day_offset: int, hour: int = 8) -> datetime:
    return datetime(2026, 9, 1, hour, tzinfo=VIETNAM_OFFSET) + timedelta(days=day_offset)


@pytest.fixture
def count_queries(app) -> Iterator[Callable[[], int]]:
    from traceability.core.extensions import db

    selects: list[str] = []

    def remember(_conn, _cursor, statement, *_args) -> None:
        if statement.lstrip().upper().startswith(("SELECT", "WITH")):
            selects.append(statement)

    event.listen(db.engine, "before_cursor_execute", remember)
    yield lambda: len(selects)
    event.remove(db.engine, "before_cursor_execute", remember)


@pytest.fixture
def coffee(make, db):
    """A harvest lot on a farm with a VietGAP certificate, made into green coffee, then roasted (the page)."""
    centre = make.centre("66", email="ttudkhcn@daklak.gov.vn")
    farm_owner = make.producer(centre, name="HTX Cà phê Ea Tu")
    roaster = make.producer(centre, name="Công ty Rang xay Buôn Ma Thuột")
    farm_user = make.user("producer", producer=farm_owner)
    roaster_user = make.user("producer", producer=roaster)
    farm = make.location(
        farm_owner, name="Vườn cà phê Ea Tu", ward="Xã Ea Tu", latitude=12.7166, longitude=108.0621
    )
    mill = make.location(farm_owner, name="Xưởng sơ chế Ea Tu", kind="facility")
    roastery = make.location(roaster, name="Xưởng rang Tân Lợi", kind="facility", ward="Phường Tân Lợi")
    vietgap = make.certification(farm, number="VG-DL-0451")
    pending = make.certification(farm, type="globalgap", number="GG-PENDING-77", status="pending")
    cherries = make.product(farm_owner, name="Quả cà phê chín", name_en="Coffee cherries")
    green = make.product(farm_owner, name="Cà phê nhân Robusta", name_en="Green Robusta coffee")
    roasted = make.product(roaster, name="Cà phê rang Tân Lợi", name_en="Tan Loi roasted coffee")
    harvest_lot = make.batch(
        cherries, lot_code="QUA-2609", origin_location_id=farm.id, quantity=Decimal("6000")
    )
    green_lot = make.batch(green, lot_code="NHAN-2609", origin_location_id=mill.id, quantity=Decimal("1200"))
    roasted_lot = make.batch(
        roasted, lot_code="RANG-2610", origin_location_id=roastery.id, quantity=Decimal("1000")
    )
    harvest = record_event(
        harvest_lot,
        {
            "type": "harvesting",
            "time": at(0, 6),
            "location_id": farm.id,
            "note": "Hái chọn quả chín trên 90%.",
        },
        actor=farm_user,
    )
    record_event(
        green_lot,
        {"type": "processing", "time": at(20), "location_id": mill.id, "note": "Phơi giàn, xát khô."},
        actor=farm_user,
    )
    add_inputs(
        green_lot,
        [{"batch_id": harvest_lot.id, "quantity": Decimal("6000")}],
        kind="transformation",
        actor=farm_user,
    )
    add_inputs(
        roasted_lot,
        [{"batch_id": green_lot.id, "quantity": Decimal("1200")}],
        kind="transformation",
        actor=farm_user,
    )
    db.session.commit()
    return SimpleNamespace(
        farm=farm,
        farm_user=farm_user,
        roaster_user=roaster_user,
        vietgap=vietgap,
        pending=pending,
        harvest_lot=harvest_lot,
        green_lot=green_lot,
        roasted_lot=roasted_lot,
        harvest=harvest,
        path=f"/t/{roasted_lot.public_code}",
    )


def test_a_roasted_lot_shows_its_farm_harvest_and_verified_certificate(app, coffee):
    page = page_of(app, coffee.path)
    origin = re.search(r'<dd class="origin">(.*?)</dd>', page, re.DOTALL).group(1)
    assert "Vườn cà phê Ea Tu" in origin and "Đắk Lắk" in origin
    assert "Xưởng rang Tân Lợi" in re.search(r'<dd class="processed-at">(.*?)</dd>', page, re.DOTALL).group(1)
    origins = page.split('id="origin"')[1].split("</section>")[0]
    assert "Harvested on 01/09/2026" in origins and "Hái chọn quả chín trên 90%." in origins
    assert "VG-DL-0451" in origins and f'id="certification-{coffee.vietgap.id}"' in origins
    assert "GG-PENDING-77" not in page  # a certificate the centre has not verified never shows
    assert (
        "https://www.openstreetmap.org/?mlat=12.71660&amp;mlon=108.06210#map=15/12.71660/108.06210" in origins
    )
    assert 'href="geo:12.71660,108.06210"' in origins
    trace = page.split('id="trace"')[1]
    assert "Phơi giàn, xát khô." in trace  # the green-coffee lot's processing
    assert trace.index("Coffee cherries") < trace.index("Green Robusta coffee") < trace.index("This lot")


def test_the_pending_certificate_shows_once_the_centre_verifies_it(app, db, coffee):
    assert "GG-PENDING-77" not in page_of(app, coffee.path)
    coffee.pending.status = "verified"  # as verify_certification leaves it, without its document's check
    db.session.commit()
    assert "GG-PENDING-77" in page_of(app, coffee.path)


def test_an_expired_certificate_of_the_farm_does_not_show(app, db, make, coffee):
    coffee.vietgap.valid_to = coffee.vietgap.valid_from + timedelta(days=1)
    db.session.commit()
    assert "VG-DL-0451" not in page_of(app, coffee.path)


def test_a_retracted_upstream_event_never_shows(app, db, coffee):
    wrong = record_event(
        coffee.green_lot,
        {"type": "inspecting", "time": at(22), "note": "Kết quả kiểm nghiệm ghi nhầm lô."},
        actor=coffee.farm_user,
    )
    db.session.commit()
    assert "Kết quả kiểm nghiệm ghi nhầm lô." in page_of(app, coffee.path)
    retract_event(wrong, "Ghi nhầm lô", actor=coffee.farm_user)
    db.session.commit()
    page = page_of(app, coffee.path)
    assert "Kết quả kiểm nghiệm ghi nhầm lô." not in page and "Ghi nhầm lô" not in page
    journey = page_of(app, coffee.path + "?view=journey")
    assert "Kết quả kiểm nghiệm ghi nhầm lô." not in journey and "Ghi nhầm lô" not in journey


def test_a_new_upstream_event_shows_at_once_through_the_page_cache(app, db, coffee):
    first = get(app, coffee.path)
    assert get(app, coffee.path).headers["X-Page-Cache"] == "hit"
    assert "Nhập kho nhân xô" not in first.get_data(as_text=True)
    record_event(
        coffee.green_lot,
        {"type": "storing", "time": at(25), "note": "Nhập kho nhân xô."},
        actor=coffee.farm_user,
    )
    db.session.commit()
    again = get(app, coffee.path)
    assert again.headers["X-Page-Cache"] == "miss"
    assert "Nhập kho nhân xô." in again.get_data(as_text=True)


def test_a_change_to_the_farm_or_the_input_product_shows_at_once(app, db, coffee):
    assert get(app, coffee.path).headers["X-Page-Cache"] == "miss"
    coffee.farm.name = "Vườn cà phê Ea Tu (đội 3)"
    db.session.commit()
    assert "Vườn cà phê Ea Tu (đội 3)" in page_of(app, coffee.path)
    coffee.harvest_lot.product.name_en = "Ripe coffee cherries"
    db.session.commit()
    assert "Ripe coffee cherries" in page_of(app, coffee.path)
    coffee.vietgap.status = "rejected"
    db.session.commit()
    assert "VG-DL-0451" not in page_of(app, coffee.path)


def test_the_whole_journey_page_is_its_own_url_and_not_a_scan(app, db, coffee):
    response = get(app, coffee.path + "?view=journey")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "The whole journey" in page and "Vườn cà phê Ea Tu" in page and "VG-DL-0451" in page
    assert f'href="https://trace.example.vn{coffee.path}?view=journey"' in page or "?view=journey" in page
    app.extensions["scan_buffer"].flush()
    from traceability.core.extensions import db as _db

    assert _db.session.scalar(select(func.count(Scan.id))) == 0


def test_a_lot_made_from_nothing_keeps_its_own_origin_and_timeline(app, coffee):
    page = page_of(app, f"/t/{coffee.harvest_lot.public_code}")
    assert 'class="processed-at"' not in page and 'id="origin"' not in page
    assert "Vườn cà phê Ea Tu" in re.search(r'<dd class="origin">(.*?)</dd>', page, re.DOTALL).group(1)


def test_a_diamond_is_walked_once_per_lot(app, db, make, coffee):
    """Two lots made from the same harvest, blended into one: the harvest lot is one stage, its events once."""
    other_green = make.batch(coffee.green_lot.product, lot_code="NHAN-2609B", quantity=Decimal("500"))
    record_event(
        coffee.harvest_lot,
        {"type": "inspecting", "time": at(1), "note": "Kiểm tra độ chín."},
        actor=coffee.farm_user,
    )
    db.session.flush()
    # The harvest was used up by the first green lot: give the second its own share of the quantity.
    coffee.harvest_lot.quantity = Decimal("7000")
    coffee.harvest_lot.status = "active"
    add_inputs(
        other_green,
        [{"batch_id": coffee.harvest_lot.id, "quantity": Decimal("1000")}],
        kind="split",
        actor=coffee.farm_user,
    )
    coffee.green_lot.quantity = Decimal("2000")
    coffee.green_lot.status = "active"
    blend = make.batch(coffee.roasted_lot.product, lot_code="BLEND-1", quantity=Decimal("300"))
    add_inputs(
        blend,
        [
            {"batch_id": coffee.green_lot.id, "quantity": Decimal("100")},
            {"batch_id": other_green.id, "quantity": Decimal("100")},
        ],
        kind="aggregation",
        actor=coffee.farm_user,
    )
    db.session.commit()
    page = page_of(app, f"/t/{blend.public_code}")
    assert page.count(f'id="stage-{coffee.harvest_lot.id}"') == 1
    assert (
        page.count("Kiểm tra độ chín.") == 1 and page.count("Hái chọn quả chín trên 90%.") == 2
    )  # stage + origin
    assert page.count('class="origin-farm"') == 1
    assert "combined with other lots for the next step" in page


def _ladder(make, db, user, farm, steps: int):
    """A harvest lot, then ``steps`` lots each made from the one before and from a side lot of the same farm."""
    product = make.product(farm.producer, name="Cà phê qua nhiều khâu")
    previous = make.batch(product, lot_code="L000", origin_location_id=farm.id, quantity=Decimal("100000"))
    record_event(
        previous,
        {"type": "harvesting", "time": at(0), "location_id": farm.id, "note": "Thu hái đầu chuỗi."},
        actor=user,
    )
    root = previous
    for step in range(1, steps + 1):
        lot = make.batch(product, lot_code=f"L{step:03d}", quantity=Decimal("100000"))
        record_event(lot, {"type": "processing", "time": at(step), "note": f"Khâu số {step}."}, actor=user)
        inputs = [{"batch_id": previous.id, "quantity": Decimal("10")}]
        if step > 1:
            inputs.append({"batch_id": root.id, "quantity": Decimal("1")})  # a rung back to the harvest
        add_inputs(lot, inputs, kind="transformation", actor=user)
        previous = lot
    db.session.commit()
    return previous


def test_a_chain_of_30_steps_gives_a_bounded_summary_and_the_whole_journey(
    app, db, make, coffee, count_queries
):
    last = _ladder(make, db, coffee.farm_user, coffee.farm, 30)
    path = f"/t/{last.public_code}"
    before = count_queries()
    page = page_of(app, path)
    queries_long = count_queries() - before
    assert page.count('class="stage') - page.count('class="stage-gap') == journey_module.SUMMARY_STAGES + 1
    assert "24 more steps: see the whole journey" in page
    assert "Thu hái đầu chuỗi." in page and "Khâu số 29." in page and "Khâu số 10." not in page
    assert page.count('class="origin-farm"') == 1
    whole = page_of(app, path + "?view=journey")
    assert all(f"Khâu số {step}." in whole for step in range(1, 31))
    assert whole.count("Thu hái đầu chuỗi.") == 2  # its stage, and the origin's harvest
    # The page costs about what a short chain's does: no query per lot.
    before = count_queries()
    page_of(app, f"/t/{coffee.green_lot.public_code}")
    queries_short = count_queries() - before
    assert queries_long <= queries_short + 2, (queries_long, queries_short)


def test_the_whole_journey_is_capped_with_a_notice(app, db, make, coffee, monkeypatch):
    monkeypatch.setattr(journey_module, "JOURNEY_MAX_EVENTS", 2)
    from traceability.public import routes

    monkeypatch.setattr(routes, "JOURNEY_MAX_EVENTS", 2)
    record_event(
        coffee.green_lot, {"type": "storing", "time": at(30), "note": "Lưu kho."}, actor=coffee.farm_user
    )
    db.session.commit()
    page = page_of(app, coffee.path + "?view=journey")
    assert "Only the first 2 events are shown." in page
    assert "Lưu kho." not in page


def test_the_demo_retail_coffee_shows_its_farm_harvest_and_vietgap(app, db, runner):
    from traceability.models.batches import Batch
    from traceability.models.registry import Product

    assert runner.invoke(args=["seed-demo"]).exit_code == 0
    retail = db.session.scalar(select(Batch).where(Batch.lot_code == "BOT2603A"))
    path = f"/01/{retail.product.gtin}/10/BOT2603A"
    page = page_of(app, path)
    origins = page.split('id="origin"')[1].split("</section>")[0]
    assert "Vùng trồng cà phê Hòa Phú (120 ha)" in origins
    assert "Harvested on 18/11/2025" in origins and "Thu hái quả chín" in origins
    assert "VietGAP" in origins and "valid until 09/03/2028" in origins
    assert "openstreetmap.org/?mlat=12.60050&amp;mlon=107.97520" in origins
    assert "Xưởng sơ chế và rang xay Hòa Phú" in re.search(
        r'<dd class="processed-at">(.*?)</dd>', page, re.DOTALL
    ).group(1)
    assert "Rang mộc 80 mẻ" in page  # the roasted lot's processing, one step up
    # Every demo product of an approved producer has its drawn picture.
    assert all(
        product.images
        for product in db.session.scalars(select(Product))
        if product.producer.status == "approved"
    )
