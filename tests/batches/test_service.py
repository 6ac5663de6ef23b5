"""Batches and key tracking events: the rules a producer meets."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from flask_babel import force_locale
from sqlalchemy import select

from traceability.batches.service import create_batch, local_time, record_event
from traceability.core.dates import VIETNAM_OFFSET
from traceability.core.errors import Conflict, Forbidden, InvalidInput
from traceability.models.batches import Batch, TraceEvent


def _batch_data(product, **overrides):
    data = {
        "product_id": product.id,
        "lot_code": "CF-2026-11",
        "production_date": date(2026, 11, 1),
        "expiry_date": date(2027, 11, 1),
        "quantity": Decimal("120.5"),
        "unit": "KGM",
    }
    data.update(overrides)
    return data


def test_a_batch_gets_an_unguessable_public_code(tenants):
    own = tenants["daklak"]
    batch = create_batch(_batch_data(own.product), actor=own.producer_user)
    assert batch.status == "active"
    assert len(batch.public_code) >= 16  # 80 bits in base32
    assert batch.quantity == Decimal("120.500")


def test_lot_code_outside_gs1_set_82_is_refused_for_a_gtin_product(make, tenants):
    own = tenants["daklak"]
    product = make.product(own.producer, gtin="08935000000014")
    with pytest.raises(InvalidInput) as caught:
        create_batch(_batch_data(product, lot_code="LÔ 01"), actor=own.producer_user)
    assert "lot_code" in caught.value.fields
    assert "20" in str(caught.value.fields["lot_code"])


def test_a_product_without_gtin_follows_the_same_lot_code_rule(tenants):
    own = tenants["daklak"]
    assert own.product.gtin is None
    with pytest.raises(InvalidInput) as caught:
        create_batch(_batch_data(own.product, lot_code="LÔ-01"), actor=own.producer_user)
    assert "không dấu" in str(caught.value.fields["lot_code"])  # "without accents", in Vietnamese by default


def test_a_lot_code_is_never_truncated(tenants):
    own = tenants["daklak"]
    with pytest.raises(InvalidInput):
        create_batch(_batch_data(own.product, lot_code="X" * 21), actor=own.producer_user)


def test_duplicate_lot_code_answers_conflict(tenants):
    own = tenants["daklak"]
    create_batch(_batch_data(own.product), actor=own.producer_user)
    with pytest.raises(Conflict) as caught:
        create_batch(_batch_data(own.product), actor=own.producer_user)
    assert "CF-2026-11" in str(caught.value.message)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("expiry_date", date(2026, 10, 1)),
        ("quantity", "-3"),
        ("quantity", "1.0001"),
        ("unit", "kilo"),
        ("production_date", None),
    ],
)
def test_invalid_batch_fields(tenants, field, value):
    own = tenants["daklak"]
    with pytest.raises(InvalidInput) as caught:
        create_batch(_batch_data(own.product, **{field: value}), actor=own.producer_user)
    assert field in caught.value.fields


@pytest.mark.parametrize(
    ("status", "reason"),
    [("suspended", "suspended"), ("pending", "waiting for the centre"), ("rejected", "rejected")],
)
def test_a_suspended_producer_cannot_record_batches(tenants, db, status, reason):
    own = tenants["daklak"]
    own.producer.status = status
    with pytest.raises(Forbidden) as caught:
        create_batch(_batch_data(own.product), actor=own.producer_user)
    with force_locale("en"):
        assert reason in str(caught.value.message)  # the message says why
    assert db.session.scalar(select(Batch).where(Batch.lot_code == "CF-2026-11")) is None


def test_origin_location_must_belong_to_the_producer(tenants):
    own, other = tenants["daklak"], tenants["nghean"]
    with pytest.raises(InvalidInput) as caught:
        create_batch(_batch_data(own.product, location_id=other.location.id), actor=own.producer_user)
    assert "location_id" in caught.value.fields


def test_events_keep_their_offset_and_map_to_a_biz_step(tenants):
    own = tenants["daklak"]
    moment = datetime(2026, 10, 5, 7, 30, tzinfo=VIETNAM_OFFSET)
    event = record_event(
        own.batch,
        {
            "type": "harvesting",
            "time": moment,
            "location_id": own.location.id,
            "quantity": "200",
            "note": "Thu hoạch chín đỏ",
        },
        actor=own.producer_user,
    )
    assert event.biz_step == "commissioning"
    assert event.time_zone_offset == "+07:00"
    assert local_time(event).isoformat() == "2026-10-05T07:30:00+07:00"
    assert event.event_time == moment.astimezone(UTC)
    assert event.actor_id == own.producer_user.id


@pytest.mark.parametrize(
    "time",
    [
        datetime(2026, 10, 5, 7, 30),
        datetime.now(UTC) + timedelta(days=1),
        datetime(2024, 1, 1, tzinfo=UTC),
        None,
    ],
)
def test_events_without_offset_in_the_future_or_long_before_production_are_refused(tenants, time, db):
    own = tenants["daklak"]
    with pytest.raises(InvalidInput) as caught:
        record_event(own.batch, {"type": "packing", "time": time}, actor=own.producer_user)
    assert "time" in caught.value.fields
    assert db.session.scalar(select(TraceEvent.id)) is None


def test_api_batch_and_event_round_trip(api, tenants):
    own = tenants["daklak"]
    response = api.post(
        "/batches",
        own.producer_user,
        json={
            "product_id": own.product.id,
            "lot_code": "R-01",
            "production_date": "2026-11-02",
            "quantity": "75.25",
            "unit": "kgm",
            "location_id": own.location.id,
        },
    )
    assert response.status_code == 201, response.get_json()
    batch = response.get_json()
    assert batch["quantity"] == 75.25 and batch["unit"] == "KGM"
    assert batch["quantity_remaining"] == 75.25 and batch["scan_count"] == 0
    assert batch["public_url"].startswith("https://trace.example.vn/t/")
    response = api.post(
        f"/batches/{batch['id']}/events",
        own.producer_user,
        json={
            "type": "shipping",
            "time": "2026-11-03T09:15:00+07:00",
            "reference": "PX-12",
            "counterparty": "Siêu thị Co.opmart Buôn Ma Thuột",
        },
    )
    assert response.status_code == 201, response.get_json()
    events = api.get(f"/batches/{batch['id']}/events", own.staff).get_json()
    assert events["total"] == 1
    assert events["items"][0]["time"] == "2026-11-03T09:15:00+07:00"
    assert events["items"][0]["biz_step"] == "shipping"
    assert events["items"][0]["counterparty"] == "Siêu thị Co.opmart Buôn Ma Thuột"
    assert events["items"][0]["reference"] == "PX-12"
    duplicate = api.post(
        "/batches",
        own.producer_user,
        json={
            "product_id": own.product.id,
            "lot_code": "R-01",
            "production_date": "2026-11-02",
            "quantity": 1,
            "unit": "KGM",
        },
    )
    assert duplicate.status_code == 409
    assert duplicate.get_json()["error"]["fields"]["lot_code"]


def test_api_refuses_a_naive_event_time(api, tenants):
    own = tenants["daklak"]
    response = api.post(
        f"/batches/{own.batch.id}/events",
        own.producer_user,
        json={"type": "packing", "time": "2026-11-03T09:15:00"},
    )
    assert response.status_code == 422
    assert "time" in response.get_json()["error"]["fields"]


def test_web_batch_form_shows_the_lot_code_rule(web, make, tenants, db):
    own = tenants["daklak"]
    product = make.product(own.producer, gtin="08935000000014")
    web.login(own.producer_user.email)
    response = web.post_form(
        "/manage/batches/new",
        {
            "product_id": str(product.id),
            "lot_code": "LÔ 1",
            "production_date": "2026-11-01",
            "quantity": "10",
            "unit": "KGM",
            "location_id": "",
        },
    )
    assert response.status_code == 422
    assert db.session.scalar(select(Batch).where(Batch.lot_code == "LÔ 1")) is None
