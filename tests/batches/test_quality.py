"""Data quality warnings: each rule flags what it should, only inside the user's scope."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import text

from traceability.batches import quality
from traceability.batches.service import record_event, retract_event
from traceability.core.dates import VIETNAM_OFFSET
from traceability.core.extensions import db
from traceability.models.batches import EVENT_BIZ_STEPS, TraceEvent


def _at(year: int, month: int, day: int, hour: int = 9) -> datetime:
    return datetime(year, month, day, hour, tzinfo=VIETNAM_OFFSET)


def _event(batch, actor, event_type, moment, **data):
    return record_event(batch, {"type": event_type, "time": moment, **data}, actor=actor)


def _raw_event(batch, event_type, moment, **values):
    """An event the service would refuse (in the future, long before production), as an import could leave."""
    event = TraceEvent(
        batch_id=batch.id, type=event_type, biz_step=EVENT_BIZ_STEPS[event_type], event_time=moment, **values
    )
    db.session.add(event)
    db.session.flush()
    return event


def _lots(findings):
    return sorted({finding.lot_code for finding in findings})


def test_the_same_note_and_quantity_on_five_batches_looks_copied(make, tenants):
    own = tenants["daklak"]
    batches = [make.batch(own.product, lot_code=f"CP-{n}") for n in range(5)]
    for batch in batches:
        _event(batch, own.producer_user, "harvesting", _at(2026, 10, 2), quantity="120", note="Thu hái đợt 1")
    # Four copies only, or a different quantity: not flagged.
    for n in range(4):
        other = make.batch(own.product, lot_code=f"OK-{n}")
        _event(other, own.producer_user, "harvesting", _at(2026, 10, 2), quantity="90", note="Thu hái đợt 2")
    _event(batches[0], own.producer_user, "packing", _at(2026, 10, 3), quantity="120", note="Thu hái đợt 1")

    findings = quality.copied_events(own.staff)
    assert _lots(findings) == [f"CP-{n}" for n in range(5)]
    assert "5" in findings[0].detail and "Thu hái đợt 1" in findings[0].detail
    assert quality.copied_events(tenants["nghean"].staff) == []
    assert _lots(quality.copied_events(tenants["ministry"])) == _lots(findings)


def test_shipping_more_than_was_produced(make, tenants):
    own = tenants["daklak"]
    over = make.batch(own.product, lot_code="OVER", quantity=Decimal("100.5"))
    fine = make.batch(own.product, lot_code="FINE", quantity=Decimal("100"))
    for batch, amounts in ((over, ("60", "40.75")), (fine, ("60", "40"))):
        for day, amount in enumerate(amounts, start=2):
            _event(batch, own.producer_user, "shipping", _at(2026, 10, day), quantity=amount)
    findings = quality.overshipped(own.staff)
    assert _lots(findings) == ["OVER"]
    assert "100,75 kg" in findings[0].detail and "KGM" not in findings[0].detail  # Vietnamese, unit by name
    assert quality.overshipped(tenants["nghean"].auditor) == []


def test_a_voided_shipment_no_longer_counts(make, tenants):
    own = tenants["daklak"]
    batch = make.batch(own.product, lot_code="VOID", quantity=Decimal("100"))
    # More than the lot in one event: refused by the service since, but left by earlier records.
    wrong = _raw_event(batch, "shipping", _at(2026, 10, 2), quantity=Decimal("1000"))
    assert _lots(quality.overshipped(own.staff)) == ["VOID"]
    _raw_event(
        batch,
        "shipping",
        _at(2026, 10, 2, 10),
        quantity=Decimal("100"),
        voids_event_id=wrong.id,
        void_reason="typo",
    )
    assert quality.overshipped(own.staff) == []


def test_events_after_the_expiry_date(make, tenants):
    own = tenants["daklak"]
    expired = make.batch(
        own.product, lot_code="EXP", production_date=date(2025, 1, 1), expiry_date=date(2025, 6, 30)
    )
    _event(expired, own.producer_user, "selling", _at(2025, 7, 1, 0))  # the day after, Vietnam time
    on_the_day = make.batch(
        own.product, lot_code="LAST", production_date=date(2025, 1, 1), expiry_date=date(2025, 6, 30)
    )
    _event(on_the_day, own.producer_user, "selling", _at(2025, 6, 30, 23))  # 16:00 UTC, still 30 June
    findings = quality.events_after_expiry(own.staff)
    assert _lots(findings) == ["EXP"]
    assert "01/07/2025" in findings[0].detail and "30/06/2025" in findings[0].detail
    assert quality.events_after_expiry(tenants["nghean"].staff) == []


def test_expiry_before_production_is_flagged_if_one_slipped_in(make, tenants):
    """The database refuses such a batch; the check still finds one loaded with the constraint off."""
    own = tenants["daklak"]
    connection = db.session.connection()
    if connection.dialect.name == "sqlite":
        connection.exec_driver_sql("PRAGMA ignore_check_constraints = ON")
    else:  # undone by the rollback below: PostgreSQL's DDL is transactional
        connection.execute(text("ALTER TABLE batch DROP CONSTRAINT ck_batch_dates"))
    try:
        make.batch(
            own.product, lot_code="BACKWARDS", production_date=date(2026, 5, 1), expiry_date=date(2026, 4, 1)
        )
        findings = quality.expiry_before_production(own.staff)
        assert _lots(findings) == ["BACKWARDS"]
        assert "01/04/2026" in findings[0].detail
        assert quality.expiry_before_production(tenants["nghean"].staff) == []
    finally:
        if connection.dialect.name == "sqlite":
            connection.exec_driver_sql("PRAGMA ignore_check_constraints = OFF")
        db.session.rollback()


def test_long_gaps_between_events(make, tenants):
    own = tenants["daklak"]
    gap = make.batch(own.product, lot_code="GAP", production_date=date(2025, 1, 1), expiry_date=None)
    steady = make.batch(own.product, lot_code="STEADY", production_date=date(2025, 1, 1), expiry_date=None)
    for moment in (_at(2025, 1, 2), _at(2025, 2, 1), _at(2025, 10, 1)):  # 242 days from February to October
        _event(gap, own.producer_user, "storing", moment)
    for moment in (_at(2025, 1, 2), _at(2025, 6, 1), _at(2025, 11, 1)):  # never more than 180 days
        last = _event(steady, own.producer_user, "storing", moment)
    retract_event(last, "Ghi nhầm", actor=own.producer_user)  # the retraction entry is dated today
    findings = quality.long_gaps(own.staff)
    assert _lots(findings) == ["GAP"]
    assert "242" in findings[0].detail
    assert quality.long_gaps(tenants["nghean"].staff) == []


def test_events_in_the_future_and_long_before_production(make, tenants):
    own = tenants["daklak"]
    batch = make.batch(own.product, lot_code="ODD", production_date=date(2026, 10, 1))
    _raw_event(batch, "packing", datetime.now(UTC) + timedelta(days=3))
    _raw_event(batch, "growing", _at(2025, 9, 1))  # 395 days before production
    _event(batch, own.producer_user, "growing", _at(2025, 10, 15))  # within the year: fine
    assert _lots(quality.future_events(own.staff)) == ["ODD"]
    early = quality.early_events(own.staff)
    assert len(early) == 1 and "01/09/2025" in early[0].detail
    assert quality.future_events(tenants["nghean"].staff) == []
    assert quality.early_events(tenants["nghean"].staff) == []


def test_clean_records_raise_no_warning(make, tenants):
    own = tenants["daklak"]
    _event(own.batch, own.producer_user, "harvesting", _at(2026, 10, 1), quantity="200", note="Chín đỏ")
    _event(own.batch, own.producer_user, "shipping", _at(2026, 10, 3), quantity="200")
    assert all(check.findings == [] for check in quality.quality_report(own.staff))


@pytest.fixture
def flagged(make, tenants):
    own = tenants["daklak"]
    batch = make.batch(own.product, lot_code="SHIP-OVER", quantity=Decimal("1000"), unit="H87")
    # As an earlier record left it.
    _raw_event(batch, "shipping", _at(2026, 10, 2), quantity=Decimal("1100.5"), unit="H87")
    return batch


def test_the_page_lists_each_warning_with_the_batches(web, client, tenants, flagged):
    web.login(tenants["daklak"].auditor.email)
    page = client.get("/manage/quality", headers={"Accept-Language": "en"})
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Shipped more than was produced" in html
    assert f'href="/manage/batches/{flagged.id}"' in html
    assert "SHIP-OVER" in html


@pytest.mark.parametrize(
    ("language", "shipped", "produced"),
    [("vi", "1.100,5 cái", "1.000 cái"), ("en", "1,100.5 pcs", "1,000 pcs")],
)
def test_the_page_names_units_and_formats_quantities_in_the_readers_language(
    web, client, tenants, flagged, language, shipped, produced
):
    web.login(tenants["daklak"].auditor.email)
    html = client.get("/manage/quality", headers={"Accept-Language": language}).get_data(as_text=True)
    assert shipped in html and produced in html
    assert "H87" not in html


def test_the_page_of_another_centre_shows_no_warnings(web, client, tenants, flagged):
    web.login(tenants["nghean"].staff.email)
    html = client.get("/manage/quality", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "No warnings" in html
    assert "SHIP-OVER" not in html


def test_producers_cannot_open_the_page(web, client, tenants):
    web.login(tenants["daklak"].producer_user.email)
    assert client.get("/manage/quality").status_code == 403
