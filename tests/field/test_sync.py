"""The field app's endpoints: the session, the lots, a scanned code, and the sync of one queued event.

The sync is signed in with the website's session and its CSRF token, takes
one event per request with the Idempotency-Key the phone gave it, and answers
each refusal as that event's own error: a repeat never stores twice, a lot
recalled or used up meanwhile is a conflict, another producer's lot is
unknown, centre users and signed-out browsers are refused.
"""

from __future__ import annotations

import io
import threading
import uuid
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from flask import has_app_context
from PIL import Image
from sqlalchemy import func, select

from tests.conftest import WebHelper
from traceability.batches.lineage import add_inputs
from traceability.batches.recalls import recall_batch
from traceability.core.extensions import db as _db
from traceability.core.uploads import images_folder
from traceability.gs1 import batch_uri, gtin_check_digit
from traceability.models.batches import Batch, TraceEvent
from traceability.models.idempotency import IdempotentRequest

TIME = "2026-11-02T08:00:00+07:00"


def jpeg(colour: tuple[int, int, int] = (40, 120, 60)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (640, 480), colour).save(buffer, format="JPEG", quality=80)
    return buffer.getvalue()


class Phone:
    """A signed-in browser as the field app uses the server: session cookie, CSRF header, one event a request."""

    def __init__(self, client: Any, user: Any) -> None:
        self.client = client
        WebHelper(client).login(user.email)
        self.csrf = self.session()["csrf_token"]

    def session(self) -> dict[str, Any]:
        response = self.client.get("/field/session")
        assert response.status_code == 200, response.status_code
        return response.get_json()

    def send(
        self, fields: dict[str, Any], *, key: str | None = None, photo: bytes | None = None, csrf: bool = True
    ):
        if has_app_context():
            _db.session.commit()
        data: dict[str, Any] = {name: str(value) for name, value in fields.items()}
        if photo is not None:
            data["photo"] = (io.BytesIO(photo), "photo.jpg")
        headers = {"Accept-Language": "en"}
        if key is not None:
            headers["Idempotency-Key"] = key
        if csrf:
            headers["X-CSRFToken"] = self.csrf
        return self.client.post(
            "/field/events", data=data, headers=headers, content_type="multipart/form-data"
        )


def event_fields(batch: Any, **overrides: Any) -> dict[str, Any]:
    return {"batch_id": batch.id, "type": "harvesting", "time": TIME, "quantity": "", "note": "", **overrides}


def events_of(db, batch) -> list[TraceEvent]:
    db.session.expire_all()
    return list(
        db.session.scalars(select(TraceEvent).where(TraceEvent.batch_id == batch.id).order_by(TraceEvent.id))
    )


@pytest.fixture
def farm(tenants):
    return tenants["daklak"]


@pytest.fixture
def phone(client, farm):
    return Phone(client, farm.producer_user)


def test_an_event_with_its_photo_and_position_is_stored_once_however_often_it_is_sent(db, phone, farm, app):
    key = str(uuid.uuid4())
    fields = event_fields(
        farm.batch,
        quantity="120.5",
        note="Hái đợt đầu, trời nắng.",
        location_id=farm.location.id,
        latitude="12.7166",
        longitude="108.0621",
        position_accuracy="14.5",
    )
    photo = jpeg()
    first = phone.send(fields, key=key, photo=photo)
    assert first.status_code == 201, first.get_json()
    answer = first.get_json()
    assert answer["lot_code"] == farm.batch.lot_code and answer["has_photo"] and answer["has_position"]
    assert answer["time"] == TIME and answer["quantity"] == 120.5 and answer["unit"] == "KGM"
    for _ in range(3):
        again = phone.send(fields, key=key, photo=photo)
        assert again.status_code == 201 and again.headers["Idempotent-Replayed"] == "true"
        assert again.get_json() == answer
    [event] = events_of(db, farm.batch)
    assert event.id == answer["id"] and event.actor_id == farm.producer_user.id
    assert event.quantity == Decimal("120.5") and event.location_id == farm.location.id
    assert (event.latitude, event.longitude, event.position_accuracy) == (12.7166, 108.0621, 14.5)
    assert event.photo_filename and (images_folder() / event.photo_filename).is_file()
    assert db.session.scalar(select(func.count()).select_from(IdempotentRequest)) == 1


def test_the_same_key_with_another_photo_is_refused_as_a_reused_key(db, phone, farm):
    key = str(uuid.uuid4())
    assert phone.send(event_fields(farm.batch), key=key, photo=jpeg()).status_code == 201
    other = phone.send(event_fields(farm.batch), key=key, photo=jpeg((200, 30, 30)))
    assert other.status_code == 422
    assert other.get_json()["error"]["code"] == "idempotency_key_reused"
    assert len(events_of(db, farm.batch)) == 1


def test_doubles_sent_at_once_store_one_event(app, db, client, farm):
    phones = []
    for _ in range(4):
        phones.append(Phone(app.test_client(), farm.producer_user))
    key = str(uuid.uuid4())
    fields = event_fields(farm.batch, note="Một lần thôi")
    db.session.commit()
    barrier = threading.Barrier(len(phones))
    answers: list[Any] = [None] * len(phones)

    def run(index: int) -> None:
        barrier.wait()
        response = phones[index].send(fields, key=key)
        answers[index] = (
            response.status_code,
            response.get_json(),
            response.headers.get("Idempotent-Replayed"),
        )

    threads = [threading.Thread(target=run, args=(index,)) for index in range(len(phones))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert [status for status, *_ in answers] == [201] * 4, answers
    assert len({body["id"] for _status, body, _replayed in answers}) == 1
    assert sorted(str(replayed) for *_rest, replayed in answers) == ["None", "true", "true", "true"]
    assert len(events_of(db, farm.batch)) == 1


# --- conflicts, one event at a time ---------------------------------------------------------------


def test_a_lot_recalled_meanwhile_is_a_conflict_of_that_event_only(db, phone, farm, make):
    other_lot = make.batch(farm.product)
    recall_batch(farm.batch, "Phát hiện nấm mốc.", actor=farm.staff)
    db.session.commit()
    refused = phone.send(event_fields(farm.batch), key="recalled-1", photo=jpeg())
    assert refused.status_code == 409
    error = refused.get_json()["error"]
    assert error["code"] == "conflict"
    assert (
        error["message"]
        == f"Lot {farm.batch.lot_code} was recalled: no event can be added to it from the field."
    )
    assert error["fields"] == {"batch_id": "Recalled."}
    assert phone.send(event_fields(other_lot), key="open-1").status_code == 201
    assert not any(event.type == "harvesting" for event in events_of(db, farm.batch))
    assert (
        db.session.scalar(select(func.count()).select_from(IdempotentRequest)) == 1
    )  # the refusal keeps none


def test_a_quantity_no_longer_there_is_a_conflict_saying_what_is_left(db, phone, farm, make):
    output = make.batch(make.product(farm.producer))
    add_inputs(
        output,
        [{"batch_id": farm.batch.id, "quantity": Decimal("420")}],
        kind="transformation",
        actor=farm.staff,
    )
    db.session.commit()
    refused = phone.send(event_fields(farm.batch, type="shipping", quantity="100"), key="too-much")
    assert refused.status_code == 409
    error = refused.get_json()["error"]
    assert error["message"] == f"Only 80 kg of lot {farm.batch.lot_code} is left; this event says 100 kg."
    assert set(error["fields"]) == {"quantity"}
    # Edited on the phone (same key: nothing was stored under it), it goes through.
    assert (
        phone.send(event_fields(farm.batch, type="shipping", quantity="80"), key="too-much").status_code
        == 201
    )


def test_a_used_up_lot_is_a_conflict(db, phone, farm, make):
    output = make.batch(make.product(farm.producer))
    add_inputs(
        output,
        [{"batch_id": farm.batch.id, "quantity": Decimal("500")}],
        kind="transformation",
        actor=farm.staff,
    )
    db.session.commit()
    assert db.session.get(Batch, farm.batch.id).status == "consumed"
    refused = phone.send(event_fields(farm.batch), key="closed")
    assert refused.status_code == 409
    assert refused.get_json()["error"]["message"] == (
        f"Lot {farm.batch.lot_code} is used up (closed): nothing of it is left."
    )


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"type": "dancing"}, "type", "Type must be one of"),
        ({"time": "2026-11-02T08:00:00"}, "time", "Not a valid aware datetime."),
        ({"time": "2099-01-01T08:00:00+07:00"}, "time", "The event cannot be in the future."),
        ({"quantity": "-3"}, "quantity", "Enter a number of zero or more."),
        ({"quantity": "nhiều"}, "quantity", "Enter a number."),
        ({"note": "x" * 2001}, "note", "Write at most 2000 characters."),
        ({"latitude": "12.7"}, "latitude", "Give both the latitude and the longitude, or neither."),
        ({"latitude": "95", "longitude": "108"}, "latitude", "Enter a number from -90 to 90."),
        ({"batch_id": "0"}, "batch_id", "Unknown record."),
    ],
)
def test_a_field_to_fix_is_named_in_the_users_language(db, phone, farm, overrides, field, message):
    response = phone.send(event_fields(farm.batch, **overrides), key=str(uuid.uuid4()))
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert message in error["fields"][field], error
    assert events_of(db, farm.batch) == []


def test_a_photo_that_is_not_a_picture_is_refused(db, phone, farm):
    response = phone.send(event_fields(farm.batch), key="not-a-photo", photo=b"%PDF-1.4 not a picture")
    assert response.status_code == 422
    assert "photo" in response.get_json()["error"]["fields"]
    assert events_of(db, farm.batch) == []


def test_errors_come_in_vietnamese_by_default(db, client, farm):
    phone = Phone(client, farm.producer_user)
    response = client.post(
        "/field/events",
        data=event_fields(farm.batch, quantity="-1"),
        headers={"X-CSRFToken": phone.csrf, "Idempotency-Key": "vi-1"},
    )
    assert response.status_code == 422
    assert response.get_json()["error"]["message"] != "The event could not be saved."


# --- who may send ----------------------------------------------------------------------------------


def test_another_producers_lot_is_unknown_and_nothing_is_stored(db, phone, farm, tenants, make):
    sibling_lot = make.batch(make.product(make.producer(farm.centre)))
    other_province_lot = tenants["nghean"].batch
    for lot in (sibling_lot, other_province_lot):
        response = phone.send(event_fields(lot), key=f"not-mine-{lot.id}")
        assert response.status_code == 404
        assert response.get_json()["error"]["message"] == "This lot is not one of your producer's lots."
        assert events_of(db, lot) == []
    assert db.session.scalar(select(func.count()).select_from(IdempotentRequest)) == 0


def test_a_centre_user_is_refused(db, client, farm):
    WebHelper(client).login(farm.staff.email)
    assert client.get("/field/").status_code == 403
    assert client.get("/field/session").status_code == 403
    assert client.get("/field/lots").status_code == 403
    token = WebHelper(client).csrf_token("/account/password")
    response = client.post("/field/events", data=event_fields(farm.batch), headers={"X-CSRFToken": token})
    assert response.status_code == 403
    assert events_of(db, farm.batch) == []


def test_a_signed_out_browser_is_sent_to_sign_in_and_nothing_is_stored(db, client, farm):
    for path in ("/field/", "/field/session", "/field/lots"):
        response = client.get(path)
        assert response.status_code == 302 and response.headers["Location"].startswith("/login?next=")
    token = WebHelper(client).csrf_token("/login")
    response = client.post(
        "/field/events", data=event_fields(farm.batch), headers={"X-CSRFToken": token, "Idempotency-Key": "x"}
    )
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")
    assert events_of(db, farm.batch) == []


def test_a_write_without_the_csrf_token_is_refused(db, phone, farm):
    response = phone.send(event_fields(farm.batch), key="no-csrf", csrf=False)
    assert response.status_code == 400
    assert events_of(db, farm.batch) == []


def test_a_suspended_producer_is_told_why(db, phone, farm):
    farm.producer.status = "suspended"
    db.session.commit()
    response = phone.send(event_fields(farm.batch), key="suspended")
    assert response.status_code == 403
    assert "suspended" in response.get_json()["error"]["message"]


# --- the lots and the scanned codes -----------------------------------------------------------------


def test_the_session_names_the_user_and_the_producers_places(phone, farm):
    answer = phone.session()
    assert answer["user"]["email"] == farm.producer_user.email
    assert answer["producer"]["name"] == farm.producer.name
    assert answer["locations"] == [{"id": farm.location.id, "name": farm.location.name}]
    # The same session's token; a signed token carries the second it was signed at, so compare what it signs.
    assert answer["csrf_token"].split(".")[0] == phone.csrf.split(".")[0]


def test_lots_are_the_producers_open_ones_newest_first_searchable_by_code_or_product(db, client, farm, make):
    recalled = make.batch(farm.product, lot_code="RECALLED-1")
    recall_batch(recalled, "Nấm mốc.", actor=farm.staff)
    older = make.batch(
        farm.product,
        lot_code="VU-2025",
        production_date=date(2025, 11, 1),
        origin_location_id=farm.location.id,
    )
    honey = make.batch(make.product(farm.producer, name="Mật ong hoa cà phê"), lot_code="MO-2611")
    make.batch(make.product(make.producer(farm.centre)), lot_code="MO-SIBLING")
    Phone(client, farm.producer_user)
    lots = client.get("/field/lots", headers={"Accept-Language": "en"}).get_json()["lots"]
    # Newest production first (the same day: the lot registered last first); no recalled lot, no other producer's.
    assert [lot["lot_code"] for lot in lots] == ["MO-2611", farm.batch.lot_code, "VU-2025"]
    assert lots[2]["id"] == older.id
    assert lots[2]["location_id"] == farm.location.id and lots[2]["location_name"] == farm.location.name
    assert lots[2]["unit"] == "KGM" and lots[2]["unit_name"] == "kg" and lots[2]["quantity_left"] == 500.0
    by_code = client.get("/field/lots?q=mo-26").get_json()["lots"]
    assert [lot["lot_code"] for lot in by_code] == ["MO-2611"]
    by_product = client.get("/field/lots?q=mat ong").get_json()["lots"]
    assert [lot["id"] for lot in by_product] == [honey.id]
    assert client.get("/field/lots?q=RECALLED").get_json()["lots"] == []
    assert client.get("/field/lots?q=%25").get_json()["lots"] == []  # % is a character, not a wildcard


def test_lot_quantity_left_counts_what_other_lots_took(db, client, farm, make):
    output = make.batch(make.product(farm.producer))
    add_inputs(
        output,
        [{"batch_id": farm.batch.id, "quantity": Decimal("120.5")}],
        kind="transformation",
        actor=farm.staff,
    )
    db.session.commit()
    Phone(client, farm.producer_user)
    lots = {lot["id"]: lot for lot in client.get("/field/lots").get_json()["lots"]}
    assert lots[farm.batch.id]["quantity_left"] == 379.5


def test_a_scanned_label_finds_its_lot(db, client, farm, make, app):
    body = "893604600123"
    gtin = "0" + body + str(gtin_check_digit(body))
    product = make.product(farm.producer, gtin=gtin)
    lot = make.batch(product, lot_code="CF/26-11")
    db.session.commit()
    Phone(client, farm.producer_user)
    codes = [
        batch_uri(app.config["PUBLIC_BASE_URL"], gtin, "CF/26-11"),
        f"https://id.gs1.org/01/{gtin[1:]}/10/CF%2F26-11",
        f"(01){gtin}(10)CF/26-11",
        f"{app.config['PUBLIC_BASE_URL']}/t/{farm.batch.public_code}",
        farm.batch.public_code.lower(),
    ]
    found = [client.get("/field/lots/lookup", query_string={"code": code}) for code in codes]
    assert [response.status_code for response in found] == [200] * 5
    assert [response.get_json()["lot"]["id"] for response in found] == [lot.id] * 3 + [farm.batch.id] * 2


def test_a_scanned_label_of_another_producer_or_a_closed_lot_is_not_offered(db, client, farm, tenants, make):
    recalled = make.batch(farm.product)
    recall_batch(recalled, "Nấm mốc.", actor=farm.staff)
    db.session.commit()
    Phone(client, farm.producer_user)
    for code in (
        f"/t/{tenants['nghean'].batch.public_code}",
        f"/t/{recalled.public_code}",
        "/t/AAAAAAAAAAAAAAAA",
    ):
        response = client.get(
            "/field/lots/lookup", query_string={"code": code}, headers={"Accept-Language": "en"}
        )
        assert response.status_code == 404
        assert response.get_json()["error"]["message"] in (
            "This code is not one of your producer's open lots.",
            "No product registered here has this code. Check it and try again.",
        )


# --- the installable app ----------------------------------------------------------------------------


def test_the_manifest_and_the_service_worker_make_the_app_installable(client):
    manifest = client.get("/field/manifest.webmanifest", headers={"Accept-Language": "en"})
    assert manifest.status_code == 200 and manifest.mimetype == "application/manifest+json"
    document = manifest.get_json(force=True)
    assert document["start_url"] == "/field/" and document["scope"] == "/field/"
    assert document["display"] == "standalone" and document["name"] == "Field diary: traceability"
    sizes = {icon["sizes"] for icon in document["icons"]}
    assert sizes == {"192x192", "512x512"}
    for icon in document["icons"]:
        picture = client.get(icon["src"])
        assert picture.status_code == 200
        width, height = Image.open(io.BytesIO(picture.data)).size
        assert f"{width}x{height}" == icon["sizes"]
        picture.close()
    worker = client.get("/field/sw.js")
    source = worker.get_data(as_text=True)
    assert worker.mimetype == "text/javascript" and worker.headers["Cache-Control"] == "no-cache"
    assert "__VERSION__" not in source and "__SHELL__" not in source
    assert '"/field/"' in source and "/static/field/app.js?v=" in source


def test_the_app_page_holds_no_token_and_links_its_manifest(client, farm):
    Phone(client, farm.producer_user)
    page = client.get("/field/", headers={"Accept-Language": "en"})
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert 'rel="manifest" href="/field/manifest.webmanifest"' in html
    assert "csrf_token" not in html  # the page is kept offline: a token in it would go stale
    assert "Field diary" in html


def test_the_producers_menu_leads_to_the_field_app(client, farm):
    Phone(client, farm.producer_user)
    html = client.get("/manage", headers={"Accept-Language": "en"}, follow_redirects=True).get_data(
        as_text=True
    )
    assert 'href="/field/"' in html
