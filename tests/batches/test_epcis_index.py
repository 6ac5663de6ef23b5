"""The EPCIS query index follows every change by itself, and ``flask epcis reindex`` rebuilds it."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import delete, func, select

from traceability.batches.epcis import batch_events, project_uris
from traceability.batches.epcis_index import index_batches
from traceability.batches.lineage import add_inputs
from traceability.batches.recalls import close_recall, recall_batch
from traceability.batches.service import correct_event, record_event, retract_event
from traceability.core.dates import VIETNAM_OFFSET
from traceability.gs1.identifiers import gtin_check_digit
from traceability.models.accounts import User
from traceability.models.batches import Batch
from traceability.models.epcis import EpcisQueryEvent, EpcisQueryValue

DAY = date(2026, 4, 1)


def _gtin(digits13: str) -> str:
    return digits13 + str(gtin_check_digit(digits13))


def _at(days: int, hour: int = 8) -> datetime:
    return datetime(DAY.year, DAY.month, DAY.day, hour, tzinfo=VIETNAM_OFFSET) + timedelta(days=days)


def _indexed(db) -> dict[str, dict]:
    return {row.event_id: row.document for row in db.session.scalars(select(EpcisQueryEvent))}


def assert_current(db) -> None:
    """The index the app kept equals the lots' export, and a rebuild would change nothing."""
    db.session.commit()
    batches = db.session.scalars(select(Batch)).all()
    exported = {event["eventID"]: event for event in batch_events(list(batches), project_uris())}
    assert _indexed(db) == exported
    assert index_batches([batch.id for batch in batches]) == 0
    db.session.rollback()


@pytest.fixture
def lots(make, tenants, db):
    own = tenants["daklak"]
    farm = make.location(own.producer, gln=_gtin("893123456789"))
    beans = make.batch(
        make.product(own.producer, gtin=_gtin("0893123450011")), lot_code="NHAN-1", production_date=DAY
    )
    roasted = make.batch(
        make.product(own.producer, gtin=_gtin("0893123450012")),
        lot_code="RANG-1",
        quantity=Decimal(80),
        production_date=DAY,
    )
    db.session.commit()
    return {"own": own, "staff": own.staff, "farm": farm, "beans": beans, "roasted": roasted}


def test_the_index_follows_every_kind_of_change(lots, db):
    staff, beans, roasted = lots["staff"], lots["beans"], lots["roasted"]
    harvest = record_event(
        beans, {"type": "harvesting", "time": _at(0), "location_id": lots["farm"].id}, actor=staff
    )
    storing = record_event(beans, {"type": "storing", "time": _at(1)}, actor=staff)
    assert_current(db)
    assert db.session.scalar(select(func.count(EpcisQueryEvent.id))) == 2

    row_id = db.session.scalar(select(EpcisQueryEvent.id).where(EpcisQueryEvent.source_id == harvest.id))
    before = db.session.get(EpcisQueryEvent, row_id).record_time
    correct_event(harvest, {"type": "harvesting", "time": _at(0, 9)}, "Sai giờ", actor=staff)
    assert_current(db)
    voided = db.session.get(EpcisQueryEvent, row_id)  # the same row, now with its error declaration
    assert voided.error_reason == "incorrect_data" and voided.record_time > before

    retract_event(storing, "Ghi nhầm", actor=staff)
    assert_current(db)
    assert db.session.scalar(select(EpcisQueryEvent.retracted).where(EpcisQueryEvent.source_id == storing.id))

    add_inputs(
        roasted, [{"batch_id": beans.id, "quantity": Decimal(100)}], kind="transformation", actor=staff
    )
    assert_current(db)
    record_event(
        roasted, {"type": "processing", "time": _at(2)}, actor=staff
    )  # the lineage's time and place now
    assert_current(db)
    record_event(roasted, {"type": "inspecting", "time": _at(3)}, actor=staff)
    assert_current(db)

    recall = recall_batch(beans, "Nấm mốc", actor=staff)
    assert_current(db)
    close_recall(recall, "Kiểm nghiệm đạt", "returned_to_sale", actor=staff)
    assert_current(db)
    assert db.session.scalar(select(func.count()).where(EpcisQueryEvent.source == "recall_ended")) == 2

    beans.product.gtin = _gtin("0893123450019")  # a key renamed (a GTIN dispute decided)
    assert_current(db)
    lots["farm"].gln = _gtin("893123456790")
    assert_current(db)
    classes = db.session.scalars(
        select(EpcisQueryValue.value).where(EpcisQueryValue.field == "inputEPCClass")
    )
    assert list(classes) == [f"https://id.gs1.org/01/{_gtin('0893123450019')}/10/NHAN-1"]


def test_events_recorded_and_rolled_back_leave_nothing(lots, db):
    record_event(lots["beans"], {"type": "storing", "time": _at(1)}, actor=lots["staff"])
    db.session.rollback()
    record_event(lots["roasted"], {"type": "storing", "time": _at(2)}, actor=lots["staff"])
    assert_current(db)
    assert db.session.scalar(select(func.count(EpcisQueryEvent.id))) == 1


def test_reindex_rebuilds_the_index(lots, db, runner, app):
    # The command empties the session: keep the ids.
    roasted_id, staff_id, place_id = lots["roasted"].id, lots["staff"].id, lots["own"].location.id
    for days in range(3):
        record_event(lots["beans"], {"type": "storing", "time": _at(days)}, actor=lots["staff"])
    db.session.commit()
    held = _indexed(db)
    db.session.execute(delete(EpcisQueryValue))
    db.session.execute(delete(EpcisQueryEvent))
    db.session.commit()
    result = runner.invoke(args=["epcis", "reindex"])
    assert result.exit_code == 0, result.output
    assert "the index holds 3 events" in result.output
    assert _indexed(db) == held
    # A new PUBLIC_BASE_URL changes our own URIs (a place without a GLN): reindex rewrites them.
    app.config["PUBLIC_BASE_URL"] = "https://truyxuat.example.vn"
    try:
        roasted, staff = db.session.get(Batch, roasted_id), db.session.get(User, staff_id)
        event = record_event(
            roasted, {"type": "storing", "time": _at(5), "location_id": place_id}, actor=staff
        )
        db.session.commit()
        assert "https://truyxuat.example.vn/id/location/" in str(_indexed(db)[_event_id(db, event.id)])
        assert runner.invoke(args=["epcis", "reindex"]).exit_code == 0
        assert_current(db)
        # Our vocabulary's namespace is hashed into every eventID: none of the old ones is left.
        assert len(_indexed(db)) == len(held) + 1 and not set(held) & set(_indexed(db))
    finally:
        app.config["PUBLIC_BASE_URL"] = "https://trace.example.vn"


def _event_id(db, trace_event_id: int) -> str:
    return db.session.scalar(
        select(EpcisQueryEvent.event_id).where(EpcisQueryEvent.source_id == trace_event_id)
    )
