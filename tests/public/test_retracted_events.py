"""Withdrawn means withdrawn: a voided event's content and photo leave every public answer.

A retracted (or corrected) event stays in the history its producer and centre
read, with the reason; the consumer page, the public EPCIS document and
``/media/`` no longer give its note, recipient, reference document or photo.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest
from jsonschema import Draft7Validator

from tests.public.honey import honey_lot, picture
from traceability.batches.service import correct_event, record_event, retract_event
from traceability.core.dates import VIETNAM_OFFSET
from traceability.gs1.epcis import load_schema

PHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148 Safari/604.1"
)
# What was typed about the withdrawn shipment: none of it may stay public.
SECRETS = ("Giao cho Siêu thị Bách Hoá Xanh", "Siêu thị Bách Hoá Xanh Q7", "HD-2026-0915", "Ghi nhầm lô khác")
REASON = "Ghi nhầm lô khác"


def get(app, path: str, **headers: str):
    response = app.test_client().get(path, headers={"User-Agent": PHONE, "Accept": "text/html", **headers})
    response.get_data()
    response.close()  # a file answer holds the file open until closed
    app.extensions["scan_buffer"].flush()
    return response


@pytest.fixture
def lot(make, db):
    """The honey lot with a photographed shipment recorded by mistake, then withdrawn, and a corrected note."""
    honey = honey_lot(make, db)
    honey.staff = make.user("centre_staff", centre=honey.centre, name="Trần Thị Bình")
    when = datetime.combine(honey.today - timedelta(days=2), datetime.min.time(), VIETNAM_OFFSET) + timedelta(
        hours=9
    )
    honey.shipment = record_event(
        honey.batch,
        {
            "type": "shipping",
            "time": when,
            "note": "Giao cho Siêu thị Bách Hoá Xanh",
            "counterparty": "Siêu thị Bách Hoá Xanh Q7",
            "reference_type": "invoice",
            "reference": "HD-2026-0915",
        },
        actor=honey.user,
        photo=picture((640, 480), (10, 20, 200)),
    )
    honey.retraction = retract_event(honey.shipment, REASON, actor=honey.user)
    honey.stored = record_event(
        honey.batch,
        {"type": "storing", "time": when, "note": "Kho lạnh số 1", "location_id": honey.farm.id},
        actor=honey.user,
    )
    honey.correction = correct_event(
        honey.stored,
        {"type": "storing", "time": when, "note": "Kho mát số 2", "location_id": honey.farm.id},
        "Sai số kho",
        actor=honey.user,
    )
    db.session.commit()
    return honey


def test_the_page_shows_nothing_of_a_withdrawn_event(app, lot):
    page = get(app, lot.batch_path).get_data(as_text=True)
    for secret in SECRETS:
        assert secret not in page
    assert lot.shipment.photo_filename not in page and lot.shipment.photo_thumbnail_filename not in page
    assert "Kho lạnh số 1" not in page and "Kho mát số 2" in page  # a correction replaces its event
    assert "Quay mật tại trại" in page  # the standing events stay


def test_the_public_epcis_document_keeps_the_declaration_not_the_content(app, lot):
    response = get(app, f"{lot.batch_path}?linkType=gs1:epcis")
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    for secret in SECRETS:
        assert secret not in body
    assert "Kho lạnh số 1" not in body and "Sai số kho" not in body
    document = json.loads(body)
    assert list(Draft7Validator(load_schema()).iter_errors(document)) == []
    declared = [event for event in document["epcisBody"]["eventList"] if "errorDeclaration" in event]
    assert sorted(event["errorDeclaration"]["reason"] for event in declared) == [
        "did_not_occur",
        "incorrect_data",
    ]
    for event in declared:
        assert "bizTransactionList" not in event
        assert not any(key.endswith(":note") or key.endswith(":counterparty") for key in event)
        assert not any(key.endswith(":reason") for key in event["errorDeclaration"])


def test_the_producers_epcis_document_keeps_the_whole_history(api, lot):
    response = api.get(f"/batches/{lot.batch.id}/epcis", lot.user)
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    for secret in SECRETS:
        assert secret in body
    assert list(Draft7Validator(load_schema()).iter_errors(json.loads(body))) == []


def test_the_api_gives_a_withdrawn_events_photo_to_who_may_see_the_batch(api, lot, make):
    events = {
        event["id"]: event
        for event in api.get(f"/batches/{lot.batch.id}/events", lot.user).get_json()["items"]
    }
    withdrawn = events[lot.shipment.id]
    assert withdrawn["note"] == "Giao cho Siêu thị Bách Hoá Xanh"
    assert withdrawn["photo_url"].endswith(f"/api/v1/batches/{lot.batch.id}/events/{lot.shipment.id}/photo")
    assert "/media/" in events[lot.harvest.id]["photo_url"]  # a standing event's photo stays public
    for query in ("", "?thumbnail=1"):
        response = api.get(f"/batches/{lot.batch.id}/events/{lot.shipment.id}/photo{query}", lot.staff)
        response.close()
        assert response.status_code == 200 and response.mimetype.startswith("image/")
    stranger = make.user("centre_staff", centre=make.centre("40"))
    assert api.get(f"/batches/{lot.batch.id}/events/{lot.shipment.id}/photo", stranger).status_code == 404


def test_media_refuses_a_withdrawn_events_photo(app, lot, make, db):
    assert get(app, f"/media/{lot.shipment.photo_filename}").status_code == 404
    assert get(app, f"/media/{lot.shipment.photo_thumbnail_filename}").status_code == 404
    # A standing event's photo is served, and caches ask again before reusing it (it may be withdrawn).
    standing = get(app, f"/media/{lot.harvest.photo_thumbnail_filename}")
    assert standing.status_code == 200 and standing.headers["Cache-Control"] == "public, no-cache"
    # A product image never changes: cached for a year.
    image = get(app, f"/media/{lot.image.filename}")
    assert image.status_code == 200 and "immutable" in image.headers["Cache-Control"]
    # Withdrawing the harvest takes its photo off /media/ at once.
    retract_event(lot.harvest, "Ảnh của lô khác", actor=lot.user)
    db.session.commit()
    assert get(app, f"/media/{lot.harvest.photo_thumbnail_filename}").status_code == 404


def test_the_producer_and_the_centre_still_see_it_with_its_reason(web, lot):
    for user in (lot.user, lot.staff):
        web.login(user.email)
        page = web.client.get(f"/manage/batches/{lot.batch.id}").get_data(as_text=True)
        assert REASON in page and "Giao cho Siêu thị Bách Hoá Xanh" in page and "HD-2026-0915" in page
        assert "Sai số kho" in page and "Kho lạnh số 1" in page
        photo_url = f"/manage/batches/{lot.batch.id}/events/{lot.shipment.id}/photo"
        assert photo_url in page
        for url in (photo_url, f"{photo_url}?thumbnail=1"):
            response = web.client.get(url)
            response.close()
            assert response.status_code == 200 and response.mimetype.startswith("image/")
            assert response.headers["Cache-Control"] == "private, no-cache"
        web.client.post("/logout", data={"csrf_token": web.csrf_token("/manage")})


def test_the_photo_route_is_for_who_may_see_the_batch(app, web, lot, make):
    url = f"/manage/batches/{lot.batch.id}/events/{lot.shipment.id}/photo"
    assert get(app, url).status_code in (302, 401)  # signed out: to the login page
    stranger = make.user("centre_staff", centre=make.centre("40"))
    web.login(stranger.email)
    assert web.client.get(url).status_code == 404
    # An event without a photo has none to show.
    web.client.post("/logout", data={"csrf_token": web.csrf_token("/manage")})
    web.login(lot.user.email)
    assert web.client.get(f"/manage/batches/{lot.batch.id}/events/{lot.stored.id}/photo").status_code == 404
