"""The producer's lot pages: the event entry at the top, the one quantity and lot-code rules,
the "Lots" list, and editing a lot until its first labels."""

from __future__ import annotations

import html
import re
from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from traceability.core.dates import VIETNAM_OFFSET
from traceability.models.audit import AuditEntry
from traceability.models.batches import Batch, TraceEvent

NHAN = "NHÂN 2612"


@pytest.fixture(autouse=True)
def english(client):
    """The pages in English, the second language, so the tests read the words users read."""
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"


def _text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def _new_lot(web, product, lot_code, **extra):
    data = {
        "product_id": str(product.id),
        "lot_code": lot_code,
        "production_date": "2026-12-01",
        "quantity": "5000",
        "unit": "KGM",
        "location_id": "",
        "input_kind": "transformation",
        **extra,
    }
    return web.post_form("/manage/batches/new", data)


# ---------------------------------------------------------------- the lot-code rule, everywhere


@pytest.mark.parametrize("with_gtin", [False, True])
def test_a_lot_code_with_spaces_or_accents_is_refused_on_the_web_and_the_api(
    web, api, make, tenants, db, with_gtin
):
    own = tenants["daklak"]
    product = make.product(own.producer, gtin="08935000000014") if with_gtin else own.product
    web.login(own.producer_user.email)
    response = _new_lot(web, product, NHAN)
    assert response.status_code == 422
    page = _text(response)
    assert "without accents" in page and "(no spaces)" in page
    # The hint under the field says the same rule.
    assert "letters without accents, digits and - . / _ (no spaces)" in page
    answer = api.post(
        "/batches",
        own.producer_user,
        json={
            "product_id": product.id,
            "lot_code": NHAN,
            "production_date": "2026-12-01",
            "quantity": 5,
            "unit": "KGM",
        },
    )
    assert answer.status_code == 422
    assert "without accents" in answer.get_json()["error"]["fields"]["lot_code"][0]
    assert db.session.scalar(select(Batch).where(Batch.lot_code == NHAN)) is None
    assert _new_lot(web, product, "NHAN-2612").status_code == 302


# ---------------------------------------------------------------- the quantity rule, everywhere


def test_an_event_saying_more_than_the_lot_has_is_refused_on_the_web_and_the_api(web, api, tenants, db):
    own = tenants["daklak"]  # a lot of 500 kg
    web.login(own.producer_user.email)
    page = f"/manage/batches/{own.batch.id}"
    response = web.post_form(page, {"type": "harvesting", "time": "2026-10-02T08:00", "quantity": "9000"})
    assert response.status_code == 409 or response.status_code == 422
    assert f"Only 500 kg of lot {own.batch.lot_code} is left; this event says 9,000 kg." in _text(response)
    answer = api.post(
        f"/batches/{own.batch.id}/events",
        own.producer_user,
        json={"type": "harvesting", "time": "2026-10-02T08:00:00+07:00", "quantity": 9000},
    )
    assert answer.status_code == 409
    assert "this event says 9,000 kg" in answer.get_json()["error"]["fields"]["quantity"]
    assert db.session.scalars(select(TraceEvent)).all() == []
    response = web.post_form(page, {"type": "harvesting", "time": "2026-10-02T08:00", "quantity": "500"})
    assert response.status_code == 302


# ---------------------------------------------------------------- the event entry at the top


def test_the_event_entry_is_at_the_top_with_now_the_lots_place_and_its_unit(web, tenants, db):
    own = tenants["daklak"]
    own.batch.origin_location_id = own.location.id
    db.session.commit()
    web.login(own.producer_user.email)
    before = datetime.now(VIETNAM_OFFSET).replace(second=0, microsecond=0, tzinfo=None)
    page = _text(web.client.get(f"/manage/batches/{own.batch.id}?type=packing"))
    after = datetime.now(VIETNAM_OFFSET).replace(tzinfo=None)
    # Above the QR code, the lineage and the label sheets.
    assert page.index('id="record"') < page.index('class="qr-box"') < page.index('id="labels"')
    shown = datetime.fromisoformat(re.search(r'name="time"[^>]*value="([^"]+)"', page)[1])
    assert before <= shown <= after  # now, in Vietnam time
    assert re.search(rf'<option selected value="{own.location.id}">', page) or re.search(
        rf'<option value="{own.location.id}" selected', page
    )
    assert re.search(r'<option selected value="packing">|<option value="packing" selected', page)
    assert "Quantity (kg)" in page
    assert "?type=harvesting#record" in page  # the quick-add buttons, links without JavaScript


def test_after_saving_the_user_is_back_at_the_entry_with_the_event_listed(web, tenants, db):
    own = tenants["daklak"]
    web.login(own.producer_user.email)
    url = f"/manage/batches/{own.batch.id}"
    response = web.post_form(url, {"type": "harvesting", "time": "2026-10-02T08:00", "quantity": "200"})
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"{url}#record")
    page = _text(web.client.get(url))
    assert "Event recorded: Harvesting." in page
    events = page.split('id="events"')[1]
    assert "Harvesting" in events and "200 kg" in events


# ---------------------------------------------------------------- the "Lots" list


def test_the_lots_list_finds_lots_by_part_of_the_code_product_and_dates_in_scope(web, make, tenants, db):
    own, other = tenants["daklak"], tenants["nghean"]
    honey = make.product(own.producer, name="Mật ong hoa cà phê")
    make.batch(own.product, lot_code="CF-2612-A", production_date=date(2026, 12, 2))
    make.batch(honey, lot_code="MO-2612", production_date=date(2026, 11, 5))
    make.batch(other.product, lot_code="CF-2612-Z")
    db.session.commit()
    web.login(own.producer_user.email)
    page = _text(web.client.get("/manage/batches?q=cf-26"))
    assert "CF-2612-A" in page and "MO-2612" not in page and "CF-2612-Z" not in page
    page = _text(web.client.get("/manage/batches?q=2612"))
    assert "CF-2612-A" in page and "MO-2612" in page and "CF-2612-Z" not in page
    page = _text(web.client.get("/manage/batches?q=mat ong"))  # the product, without accents
    assert "MO-2612" in page and "CF-2612-A" not in page
    page = _text(web.client.get(f"/manage/batches?product_id={honey.id}"))
    assert "MO-2612" in page and "CF-2612-A" not in page
    page = _text(web.client.get("/manage/batches?from=2026-12-01&to=2026-12-31"))
    assert "CF-2612-A" in page and "MO-2612" not in page
    response = web.client.get("/manage/batches?from=01/12/2026")
    assert response.status_code == 422 and "Enter a date such as 2026-12-31." in _text(response)
    page = _text(web.client.get("/manage/batches?q=nothing-like-it"))
    assert "No lot matches this search." in page
    # The centre sees its province's lots, not another province's.
    web.client.post("/logout", data={"csrf_token": web.csrf_token("/manage/batches")})
    web.login(own.staff.email)
    page = _text(web.client.get("/manage/batches?q=2612"))
    assert "CF-2612-A" in page and "CF-2612-Z" not in page


def test_the_lots_list_pages_and_says_when_there_are_none(web, make, tenants, db):
    own = tenants["daklak"]
    for number in range(30):
        make.batch(
            own.product, lot_code=f"P-{number:02d}", production_date=date(2026, 1, 1) + timedelta(days=number)
        )
    fresh = make.producer(own.centre)
    newcomer = make.user("producer", producer=fresh)
    db.session.commit()
    web.login(own.producer_user.email)
    first = _text(web.client.get("/manage/batches"))
    assert "31 lots" in first and "P-29" in first and "P-00" not in first
    second = _text(web.client.get("/manage/batches?page=2"))
    assert "P-00" in second and "P-29" not in second
    web.client.post("/logout", data={"csrf_token": web.csrf_token("/manage/batches")})
    web.login(newcomer.email)
    assert "No lots yet." in _text(web.client.get("/manage/batches"))


# ---------------------------------------------------------------- editing a lot until its first labels


def test_a_lot_is_edited_until_its_labels_are_printed_then_only_its_code_is_fixed(web, tenants, db):
    own = tenants["daklak"]
    web.login(own.producer_user.email)
    edit = f"/manage/batches/{own.batch.id}/edit"
    fields = {
        "lot_code": "CF-NEW-1",
        "production_date": "2026-10-01",
        "expiry_date": "",
        "quantity": "480",
        "unit": "KGM",
        "location_id": "",
    }
    response = web.post_form(edit, {**fields, "lot_code": NHAN})
    assert response.status_code == 422 and "without accents" in _text(response)
    response = web.post_form(edit, fields)
    assert response.status_code == 302
    db.session.refresh(own.batch)
    assert (own.batch.lot_code, own.batch.quantity, own.batch.expiry_date) == (
        "CF-NEW-1",
        Decimal("480"),
        None,
    )
    entry = db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == "update", AuditEntry.object_type == "Batch")
    ).one()
    assert entry.before["lot_code"] != "CF-NEW-1" and entry.after["lot_code"] == "CF-NEW-1"
    assert entry.before["expiry_date"] == "2027-10-01" and entry.after["expiry_date"] is None
    # A label sheet printed: the code is fixed, the rest still changes.
    printed = web.post_form(
        f"/manage/batches/{own.batch.id}/labels",
        {"labels-template": "a4-3x8", "labels-ec": "M", "labels-copies": "3"},
        form_url=f"/manage/batches/{own.batch.id}",
    )
    assert printed.headers["Content-Type"] == "application/pdf"
    page = _text(web.client.get(edit))
    assert "The lot code cannot change any more: labels of this lot were printed with it." in page
    assert re.search(r'<input[^>]*disabled[^>]*name="lot_code"|<input[^>]*name="lot_code"[^>]*disabled', page)
    response = web.post_form(edit, {k: v for k, v in fields.items() if k != "lot_code"} | {"quantity": "470"})
    assert response.status_code == 302
    db.session.refresh(own.batch)
    assert own.batch.quantity == Decimal("470") and own.batch.lot_code == "CF-NEW-1"


def test_the_api_patches_a_lot_and_refuses_a_new_code_once_labels_exist(api, tenants, db):
    own = tenants["daklak"]
    url = f"/batches/{own.batch.id}"
    answer = api.request("PATCH", url, own.producer_user, json={"lot_code": "CF-API-1", "expiry_date": None})
    assert answer.status_code == 200, answer.get_json()
    assert answer.get_json()["lot_code"] == "CF-API-1" and answer.get_json()["expiry_date"] is None
    assert answer.get_json()["lot_code_fixed"] is False
    assert api.request("PATCH", url, own.producer_user, json={"lot_code": NHAN}).status_code == 422
    assert (
        api.post(f"/batches/{own.batch.id}/serials", own.producer_user, json={"count": 2}).status_code == 201
    )
    refused = api.request("PATCH", url, own.producer_user, json={"lot_code": "CF-API-2", "quantity": 450})
    assert refused.status_code == 422
    assert "labels of this lot were printed" in refused.get_json()["error"]["fields"]["lot_code"]
    db.session.refresh(own.batch)
    assert own.batch.lot_code == "CF-API-1" and own.batch.quantity == Decimal("500")  # nothing changed
    answer = api.request("PATCH", url, own.producer_user, json={"quantity": 450})
    assert (
        answer.status_code == 200
        and answer.get_json()["quantity"] == 450
        and answer.get_json()["lot_code_fixed"]
    )
    # Less than other lots took of it is refused.
    assert api.request("PATCH", url, own.producer_user, json={"quantity": -1}).status_code == 422
    spec = api.client.get("/api/v1/openapi.json").get_json()
    assert "patch" in spec["paths"]["/batches/{batch_id}"]


def test_a_sheet_drawn_through_the_api_fixes_the_lot_code_as_on_the_web(api, tenants, db):
    own = tenants["daklak"]
    url = f"/batches/{own.batch.id}"
    assert api.get(url, own.producer_user).get_json()["lot_code_fixed"] is False
    # A refused sheet prints nothing, so the code may still change.
    refused_sheet = api.get(f"{url}/labels.pdf?template=a4-9x9", own.producer_user)
    assert refused_sheet.status_code == 422
    assert api.get(url, own.producer_user).get_json()["lot_code_fixed"] is False
    sheet = api.get(f"{url}/labels.pdf?template=a4-3x8&copies=3", own.producer_user)
    assert sheet.status_code == 200 and sheet.mimetype == "application/pdf"
    assert api.get(url, own.producer_user).get_json()["lot_code_fixed"] is True
    refused = api.request("PATCH", url, own.producer_user, json={"lot_code": "CF-API-9"})
    assert refused.status_code == 422
    assert "labels of this lot were printed" in refused.get_json()["error"]["fields"]["lot_code"]
    db.session.expire_all()
    assert db.session.get(Batch, own.batch.id).lot_code != "CF-API-9"


def test_another_province_cannot_edit_a_lot(api, tenants):
    own, other = tenants["daklak"], tenants["nghean"]
    answer = api.request("PATCH", f"/batches/{own.batch.id}", other.producer_user, json={"quantity": 1})
    assert answer.status_code == 404


# ---------------------------------------------------------------- the input-lot picker


def test_the_input_picker_shows_the_lot_code_and_whats_left_first_with_the_unit_by_name(web, tenants, db):
    own = tenants["daklak"]
    web.login(own.producer_user.email)
    page = _text(web.client.get(f"/manage/batches/new?input={own.batch.id}"))
    assert f">{own.batch.lot_code} · 500 kg · {own.product.name}<" in page
    # "Make a lot from this one": the lot is chosen, with all that is left of it.
    assert re.search(
        rf'<option selected value="{own.batch.id}">|<option value="{own.batch.id}" selected', page
    )
    assert 'name="inputs-0-quantity"' in page and re.search(r'name="inputs-0-quantity"[^>]*value="500', page)
