"""Key tracking events: append-only corrections and retractions, photos, time rules."""

import io
from datetime import datetime

import pytest
from PIL import Image
from sqlalchemy import select

from traceability.batches.service import correct_event, current_events, record_event, retract_event
from traceability.core.dates import VIETNAM_OFFSET
from traceability.core.errors import Conflict, InvalidInput
from traceability.models.batches import TraceEvent


def _png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (640, 480), (30, 120, 30)).save(buffer, format="PNG")
    return buffer.getvalue()


def _event(tenants, **overrides):
    own = tenants["daklak"]
    data = {
        "type": "shipping",
        "time": datetime(2026, 10, 20, 9, 0, tzinfo=VIETNAM_OFFSET),
        "quantity": "100",
        "counterparty": "Công ty Phân phối Tây Nguyên",
        "reference_type": "invoice",
        "reference": "HD-0012",
    }
    data.update(overrides)
    return record_event(own.batch, data, actor=own.producer_user)


def test_a_correction_replaces_the_event_and_keeps_the_original(tenants, db):
    original = _event(tenants)
    corrected = correct_event(
        original,
        {
            "type": "shipping",
            "time": original.event_time,
            "quantity": "90",
            "counterparty": "Công ty Phân phối Tây Nguyên",
        },
        "Cân lại: 90 kg",
        actor=tenants["daklak"].producer_user,
    )
    assert corrected.voids_event_id == original.id
    assert corrected.void_reason == "Cân lại: 90 kg"
    events = db.session.scalars(select(TraceEvent).where(TraceEvent.batch_id == original.batch_id)).all()
    assert len(events) == 2  # nothing edited, nothing deleted
    assert [e.id for e in current_events(events)] == [corrected.id]


def test_an_event_is_corrected_once_and_a_reason_is_required(tenants):
    original = _event(tenants)
    user = tenants["daklak"].producer_user
    with pytest.raises(InvalidInput):
        retract_event(original, " ", actor=user)
    retraction = retract_event(original, "Nhập nhầm lô", actor=user)
    assert retraction.is_retraction
    with pytest.raises(Conflict):
        retract_event(original, "Lần nữa", actor=user)
    with pytest.raises(Conflict):
        retract_event(retraction, "Rút lại việc rút lại", actor=user)
    assert current_events([original, retraction]) == []


def test_another_tenant_cannot_correct(tenants):
    from traceability.core.errors import Forbidden

    original = _event(tenants)
    with pytest.raises(Forbidden):
        retract_event(original, "x", actor=tenants["nghean"].producer_user)


def test_shipping_before_production_is_refused_but_harvesting_is_not(tenants):
    before = datetime(2026, 9, 1, 8, 0, tzinfo=VIETNAM_OFFSET)  # the batch was produced on 1 October
    with pytest.raises(InvalidInput) as caught:
        _event(tenants, time=before)
    assert "01/10/2026" in str(caught.value.fields["time"])
    assert _event(tenants, type="harvesting", time=before).type == "harvesting"


def test_an_event_photo_is_stored_resized_with_a_thumbnail(tenants, app):
    from pathlib import Path

    own = tenants["daklak"]
    event = record_event(
        own.batch,
        {"type": "packing", "time": datetime(2026, 10, 2, 8, tzinfo=VIETNAM_OFFSET)},
        actor=own.producer_user,
        photo=_png(),
    )
    folder = Path(app.config["UPLOAD_FOLDER"]) / "images"
    assert (folder / event.photo_filename).exists()
    assert (folder / event.photo_thumbnail_filename).exists()


def test_a_fake_photo_is_refused_and_nothing_is_stored(tenants, db):
    own = tenants["daklak"]
    with pytest.raises(InvalidInput) as caught:
        record_event(
            own.batch,
            {"type": "packing", "time": datetime(2026, 10, 2, 8, tzinfo=VIETNAM_OFFSET)},
            actor=own.producer_user,
            photo=b"<svg onload=alert(1)>",
        )
    assert "photo" in caught.value.fields
    assert db.session.scalar(select(TraceEvent.id)) is None


def test_corrections_and_batches_with_inputs_through_the_api(api, tenants, make):
    own = tenants["daklak"]
    user = own.producer_user
    created = api.post(
        f"/batches/{own.batch.id}/events",
        user,
        json={"type": "packing", "time": "2026-10-02T08:00:00+07:00", "quantity": 10},
    )
    event_id = created.get_json()["id"]
    corrected = api.post(
        f"/batches/{own.batch.id}/events/{event_id}/correct",
        user,
        json={"type": "packing", "time": "2026-10-02T08:00:00+07:00", "quantity": 12, "reason": "Đếm lại"},
    )
    assert corrected.status_code == 201, corrected.get_json()
    assert corrected.get_json()["voids_event_id"] == event_id
    again = api.post(f"/batches/{own.batch.id}/events/{event_id}/retract", user, json={"reason": "x"})
    assert again.status_code == 409
    other = tenants["nghean"]
    assert (
        api.post(
            f"/batches/{other.batch.id}/events/{event_id}/retract", other.producer_user, json={"reason": "x"}
        ).status_code
        == 404
    )
    roasted = make.product(own.producer, name="Cà phê rang")
    response = api.post(
        "/batches",
        user,
        json={
            "product_id": roasted.id,
            "lot_code": "RANG-9",
            "production_date": "2026-10-05",
            "quantity": 400,
            "unit": "KGM",
            "inputs": [{"batch_id": own.batch.id, "quantity": 600}],
        },
    )
    assert response.status_code == 422
    assert "Only 500" in str(response.get_json()["error"]["fields"]) or "500" in str(
        response.get_json()["error"]["fields"]
    )
    response = api.post(
        "/batches",
        user,
        json={
            "product_id": roasted.id,
            "lot_code": "RANG-9",
            "production_date": "2026-10-05",
            "quantity": 400,
            "unit": "KGM",
            "inputs": [{"batch_id": own.batch.id, "quantity": 480}],
        },
    )
    assert response.status_code == 201, response.get_json()
    source = api.get(f"/batches/{own.batch.id}", user).get_json()
    assert source["quantity_remaining"] == 20
