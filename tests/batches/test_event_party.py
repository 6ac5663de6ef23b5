"""Who did it: an event names the party that did the work, and management also sees who recorded it.

Centre staff may type a harvest the cooperative did: the page says the
cooperative harvested, never the centre. An event at another producer's place
(a buyer's warehouse receiving the lot) names that producer. The account that
typed the record shows on the management pages only, as "recorded by".
"""

from __future__ import annotations

import html
import json
from datetime import datetime, timedelta

import pytest
from flask_babel import force_locale, gettext

from tests.public.honey import CENTRE_NAME, PRODUCER_NAME, honey_lot
from traceability.batches.chain_export import chain_rows
from traceability.batches.epcis import export_batch_chain
from traceability.batches.service import event_party, record_event
from traceability.core.dates import VIETNAM_OFFSET

PHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148 Safari/604.1"
)
STAFF_NAME = "Trần Thị Bình"
BUYER_NAME = "Công ty TNHH Thực phẩm Sạch Tây Nguyên"


def tr(language: str, message: str, **values: str) -> str:
    with force_locale(language):
        return html.escape(gettext(message, **values))


def timeline(page: str) -> str:
    start = page.index('<ol class="timeline">')
    return page[start : page.index("</ol>", start)]


@pytest.fixture
def lot(make, db):
    """The honey lot: a packing the centre's staff typed, and a receiving at a buyer's warehouse."""
    honey = honey_lot(make, db)
    honey.staff = make.user("centre_staff", centre=honey.centre, name=STAFF_NAME, email="binh@daklak.gov.vn")
    when = datetime.combine(honey.today - timedelta(days=3), datetime.min.time(), VIETNAM_OFFSET) + timedelta(
        hours=10
    )
    honey.packing = record_event(
        honey.batch, {"type": "packing", "time": when, "note": "Đóng hũ 500 g"}, actor=honey.staff
    )
    buyer = make.producer(honey.centre, name=BUYER_NAME)
    honey.warehouse = make.location(buyer, name="Kho lạnh Buôn Ma Thuột", kind="warehouse")
    honey.buyer = buyer
    honey.receiving = record_event(
        honey.batch, {"type": "receiving", "time": when + timedelta(hours=5)}, actor=honey.user
    )
    # As an EPCIS capture at the buyer's GLN records it: the buyer's place, not the cooperative's.
    honey.receiving.location_id = honey.warehouse.id
    db.session.commit()
    return honey


def test_the_party_is_the_producer_or_the_operator_of_the_place(lot):
    assert event_party(lot.packing) == lot.producer
    assert event_party(lot.harvest) == lot.producer  # at the cooperative's own farm
    assert event_party(lot.receiving) == lot.buyer


@pytest.mark.parametrize("language", ["vi", "en"])
def test_the_public_page_names_who_did_the_work_never_who_typed_it(app, lot, language):
    response = app.test_client().get(
        lot.batch_path, headers={"User-Agent": PHONE, "Accept": "text/html", "Accept-Language": language}
    )
    page = response.get_data(as_text=True)
    events = timeline(page)
    assert tr(language, "by %(organisation)s", organisation=PRODUCER_NAME) in events
    assert tr(language, "by %(organisation)s", organisation=BUYER_NAME) in events
    assert tr(language, "by %(organisation)s", organisation=CENTRE_NAME) not in events
    assert STAFF_NAME not in page and "binh@daklak.gov.vn" not in page
    assert tr(language, "recorded by %(who)s", who="") not in events


def test_management_adds_who_recorded_it(web, lot):
    web.login(lot.user.email)
    page = web.client.get(f"/manage/batches/{lot.batch.id}").get_data(as_text=True)
    events = timeline(page)
    assert tr("vi", "by %(organisation)s", organisation=PRODUCER_NAME) in events
    assert tr("vi", "recorded by %(who)s", who=f"{STAFF_NAME} ({CENTRE_NAME})") in events
    assert tr("vi", "by %(organisation)s", organisation=BUYER_NAME) in events


def test_the_epcis_document_names_the_operator_of_the_place(app, lot):
    document = export_batch_chain(lot.batch, public=True)
    [receiving] = [
        event for event in document["epcisBody"]["eventList"] if event.get("bizStep") == "receiving"
    ]
    base = app.config["PUBLIC_BASE_URL"].rstrip("/")
    assert {"type": "owning_party", "destination": f"{base}/id/producer/{lot.buyer.id}"} in receiving[
        "destinationList"
    ]
    assert json.dumps(document, ensure_ascii=False).count(STAFF_NAME) == 0


def test_the_chain_spreadsheet_has_who_did_it_and_who_recorded_it(lot):
    rows = {row["event_id"]: row for row in chain_rows(lot.batch, "vi")}
    assert rows[lot.packing.id]["done_by"] == PRODUCER_NAME
    assert rows[lot.packing.id]["recorded_by"] == f"{STAFF_NAME} ({CENTRE_NAME})"
    assert rows[lot.receiving.id]["done_by"] == BUYER_NAME
