"""The uncached lot page costs the same few statements however many events and inputs its lot has.

A page rendered on a cache miss (the first scan of the day, every scan after a
change) must not read each event, place, producer or input lot by a query of
its own: at national scale that is the difference between a page and a stall.
Counted through the real route and the page cache, on SQLite and PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import event

from traceability.batches.lineage import add_inputs
from traceability.batches.service import record_event
from traceability.core.dates import VIETNAM_OFFSET

PHONE = (
    "Mozilla/5.0 (Linux; Android 15; SM-A556E) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/140.0 Mobile Safari/537.36"
)


@pytest.fixture
def count_statements(app) -> Iterator[Callable[[], int]]:
    from traceability.core.extensions import db

    statements: list[str] = []

    def remember(_conn, _cursor, statement, *_args) -> None:
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", remember)
    yield lambda: len(statements)
    event.remove(db.engine, "before_cursor_execute", remember)


def at(day: int) -> datetime:
    return datetime(2026, 9, 1, 8, tzinfo=VIETNAM_OFFSET) + timedelta(days=day)


def lot_with(make, db, centre, gtin: str, *, events: int, inputs: int):
    """A lot with ``events`` events, each at a place of its own, made from ``inputs`` lots of other producers.

    Each input lot has its own producer, farm (with a verified certificate), product and two events.
    """
    maker = make.producer(centre, name=f"Công ty Chế biến {gtin}")
    user = make.user("producer", producer=maker)
    staff = make.user("centre_staff", centre=centre)  # sees every producer's lots of its province
    product = make.product(maker, name="Cà phê rang xay", gtin=gtin)
    make.certification(product, number="HACCP-01", type="haccp")
    lot = make.batch(product, lot_code=f"RANG-{events}-{inputs}", quantity=Decimal("5000"))
    for number in range(events):
        place = make.location(maker, name=f"Kho số {number}", kind="warehouse")
        record_event(
            lot,
            {
                "type": "storing",
                "time": at(30 + number),
                "location_id": place.id,
                "note": f"Lưu kho {number}.",
            },
            actor=user,
        )
    for number in range(inputs):
        farmer = make.producer(centre, name=f"HTX Nông trại {number} ({gtin})")
        farmer_user = make.user("producer", producer=farmer)
        farm = make.location(farmer, name=f"Vườn số {number}", latitude=12.7 + number / 100, longitude=108.0)
        make.certification(farm, number=f"VG-{number}")
        cherries = make.product(farmer, name=f"Quả cà phê {number}")
        harvest_lot = make.batch(cherries, lot_code=f"QUA-{number}", origin_location_id=farm.id)
        for day, kind in ((0, "harvesting"), (1, "storing")):
            record_event(
                harvest_lot,
                {"type": kind, "time": at(day), "location_id": farm.id, "note": f"{kind} {number}."},
                actor=farmer_user,
            )
        add_inputs(
            lot, [{"batch_id": harvest_lot.id, "quantity": Decimal("1")}], kind="transformation", actor=staff
        )
    db.session.commit()
    return f"/01/{gtin}/10/{lot.lot_code}"


def uncached_page(app, path: str, count: Callable[[], int]) -> tuple[str, int]:
    app.extensions["page_cache"].clear()
    before = count()
    response = app.test_client().get(path, headers={"User-Agent": PHONE, "Accept-Language": "en"})
    assert response.status_code == 200 and response.headers["X-Page-Cache"] == "miss"
    return response.get_data(as_text=True), count() - before


def test_the_uncached_lot_page_reads_as_many_statements_for_2_events_as_for_20_and_20_inputs(
    app, db, make, count_statements
):
    centre = make.centre("66")
    small_lot = lot_with(make, db, centre, "08936045100295", events=2, inputs=1)
    large_lot = lot_with(make, db, centre, "08936045100301", events=20, inputs=20)
    small, small_count = uncached_page(app, small_lot, count_statements)
    large, large_count = uncached_page(app, large_lot, count_statements)
    # The reader sees every event of the lot and the inputs' farms...
    assert all(f"Lưu kho {number}." in large for number in range(20))
    assert "Kho số 19" in large and "HTX Nông trại 0" in large
    assert large.count('class="origin-farm"') == 5 and "and 15 more places" in large
    assert "Lưu kho 1." in small and "Vườn số 0" in small
    # ...for the same statements: none per event, place, producer, input lot or certificate.
    assert large_count == small_count, (small_count, large_count)
    assert large_count <= 13
