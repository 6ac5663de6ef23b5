"""EPCIS 2.0 export of a batch's chain and capture of EPCIS documents, through the services and the API."""

from __future__ import annotations

import copy
import json
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from jsonschema import Draft7Validator
from sqlalchemy import func, select

from traceability.batches.epcis import export_batch_chain
from traceability.batches.epcis_capture import capture_document
from traceability.batches.lineage import add_inputs
from traceability.batches.recalls import recall_batch
from traceability.batches.service import new_public_code, record_event
from traceability.core.dates import VIETNAM_OFFSET
from traceability.core.errors import Forbidden, InvalidInput
from traceability.gs1.epcis import load_schema
from traceability.gs1.identifiers import gtin_check_digit
from traceability.models.audit import AuditEntry
from traceability.models.batches import BatchInput, Item, TraceEvent

EXAMPLES = Path(__file__).parent.parent / "data" / "epcis"
SCHEMA_COPY = (
    Path(__file__).parent.parent.parent / "traceability" / "gs1" / "schemas" / "EPCIS-JSON-Schema.json"
)
BASE = "https://trace.example.vn"


def _gtin(digits13: str) -> str:
    return digits13 + str(gtin_check_digit(digits13))


def _schema_errors(document: dict) -> list[str]:
    return [
        error.message for error in Draft7Validator(json.loads(SCHEMA_COPY.read_text())).iter_errors(document)
    ]


def _events_of(document: dict, kind: str | None = None) -> list[dict]:
    events = document["epcisBody"]["eventList"]
    return [event for event in events if kind is None or event["type"] == kind]


def _counts(db) -> tuple[int, int, int]:
    return (
        db.session.scalar(select(func.count(TraceEvent.id))),
        db.session.scalar(select(func.count(BatchInput.id))),
        db.session.scalar(select(func.count(AuditEntry.id))),
    )


def _at(day: date, hour: int = 8) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=VIETNAM_OFFSET)


@pytest.fixture
def chain(make, tenants, db):
    """Coffee: cherries (GTIN, GLN farm) and a bought lot (no GTIN) → roasted → a shipment, with events."""
    own = tenants["daklak"]
    actor = own.staff
    farm = make.location(own.producer, name="Vườn Ea Tu", gln=_gtin("893123456789"))
    cherries_product = make.product(own.producer, name="Cà phê quả tươi", gtin=_gtin("0893123450001"))
    bought_product = make.product(own.producer, name="Cà phê nhân mua ngoài")
    roasted_product = make.product(own.producer, name="Cà phê rang", gtin=_gtin("0893123450002"))
    shipment_product = make.product(own.producer, name="Lô hàng cà phê rang")
    day = date.today() - timedelta(days=40)
    cherries = make.batch(cherries_product, lot_code="QUA-01", quantity=Decimal("1000"), production_date=day)
    bought = make.batch(bought_product, lot_code="MUA 01", quantity=Decimal("300"), production_date=day)
    roasted = make.batch(roasted_product, lot_code="RANG-01", quantity=Decimal("900"), production_date=day)
    shipment = make.batch(
        shipment_product, lot_code="GUI-01", quantity=Decimal("400"), production_date=day + timedelta(days=5)
    )
    add_inputs(
        roasted,
        [
            {"batch_id": cherries.id, "quantity": Decimal("1000")},
            {"batch_id": bought.id, "quantity": Decimal("250.5")},
        ],
        kind="transformation",
        actor=actor,
    )
    add_inputs(
        shipment, [{"batch_id": roasted.id, "quantity": Decimal("400")}], kind="aggregation", actor=actor
    )
    events = {
        "growing": record_event(
            cherries,
            {
                "type": "growing",
                "time": _at(day - timedelta(days=200)),
                "location_id": farm.id,
                "note": "Bón phân",
            },
            actor=actor,
        ),
        "harvesting": record_event(
            cherries,
            {"type": "harvesting", "time": _at(day), "location_id": farm.id, "quantity": Decimal("1000")},
            actor=actor,
        ),
        "receiving": record_event(
            bought,
            {
                "type": "receiving",
                "time": _at(day, 10),
                "location_id": own.location.id,
                "quantity": Decimal("300"),
                "counterparty": "HTX Ea Kar",
                "reference_type": "delivery_note",
                "reference": "PX-0012",
            },
            actor=actor,
        ),
        "processing": record_event(
            roasted,
            {"type": "processing", "time": _at(day + timedelta(days=1)), "location_id": own.location.id},
            actor=actor,
        ),
        "inspecting": record_event(
            roasted,
            {"type": "inspecting", "time": _at(day + timedelta(days=2)), "note": "Độ ẩm 5%"},
            actor=actor,
        ),
        "shipping": record_event(
            shipment,
            {
                "type": "shipping",
                "time": _at(day + timedelta(days=6)),
                "location_id": farm.id,
                "quantity": Decimal("400"),
                "counterparty": "Công ty TNHH Cà phê Sài Gòn",
                "reference_type": "invoice",
                "reference": "HD 0001/2026",
            },
            actor=actor,
        ),
        "shipping_no_gln": record_event(
            shipment,
            {"type": "shipping", "time": _at(day + timedelta(days=7)), "location_id": own.location.id},
            actor=actor,
        ),
    }
    db.session.commit()
    return {
        "own": own,
        "actor": actor,
        "farm": farm,
        "cherries": cherries,
        "bought": bought,
        "roasted": roasted,
        "shipment": shipment,
        "events": events,
    }


# --- export ------------------------------------------------------------------------------------


def test_the_schema_shipped_with_the_package_is_gs1s():
    # shared/ sits beside the repository on the team's machines and in CI, not in a user's clone.
    shared = Path(__file__).resolve().parents[3] / "shared" / "standards" / "epcis" / "EPCIS-JSON-Schema.json"
    if shared.exists():
        assert json.loads(shared.read_text()) == load_schema()
    assert load_schema()["$schema"] == "http://json-schema.org/draft-07/schema#"


def test_export_of_a_whole_chain_validates_and_names_lots_and_places(chain, app):
    document = export_batch_chain(chain["roasted"], base_url=BASE)
    assert _schema_errors(document) == []
    assert document["@context"] == [
        "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld",
        {"trace": f"{BASE}/voc/"},
    ]
    assert document["schemaVersion"] == "2.0" and document["type"] == "EPCISDocument"
    assert datetime.fromisoformat(document["creationDate"]).utcoffset() == timedelta(hours=7)
    ids = [event["eventID"] for event in _events_of(document)]
    assert len(ids) == len(set(ids)) and all(
        i.startswith("ni:///sha-256;") and i.endswith("?ver=CBV2.0") for i in ids
    )

    objects = _events_of(document, "ObjectEvent")
    by_type = {event["trace:eventType"]: event for event in objects}
    # Growing and harvesting both commission the lot; our extension field says which.
    for kind in ("growing", "harvesting"):
        assert by_type[kind]["bizStep"] == "commissioning" and by_type[kind]["action"] == "ADD"
        assert by_type[kind]["readPoint"] == {"id": f"https://id.gs1.org/414/{chain['farm'].gln}"}
    cherries_class = f"https://id.gs1.org/01/{chain['cherries'].product.gtin}/10/QUA-01"
    assert by_type["harvesting"]["quantityList"] == [
        {"epcClass": cherries_class, "quantity": 1000, "uom": "KGM"}
    ]
    assert by_type["growing"]["trace:note"] == "Bón phân"
    assert by_type["growing"]["eventTimeZoneOffset"] == "+07:00"
    # The lot without a GTIN is named by its public URL; the location without a GLN by a project URI.
    receiving = by_type["receiving"]
    assert receiving["quantityList"][0]["epcClass"] == f"{BASE}/t/{chain['bought'].public_code}"
    assert receiving["readPoint"]["id"] == f"{BASE}/id/location/{chain['own'].location.internal_code}"
    assert receiving["bizTransactionList"][0]["type"] == "desadv"
    assert receiving["trace:counterparty"] == "HTX Ea Kar"
    assert by_type["inspecting"]["bizStep"] == "inspecting"

    transformation = _events_of(document, "TransformationEvent")
    assert len(transformation) == 1
    inputs = {entry["epcClass"]: entry for entry in transformation[0]["inputQuantityList"]}
    assert inputs[cherries_class]["quantity"] == 1000
    assert inputs[f"{BASE}/t/{chain['bought'].public_code}"]["quantity"] == 250.5
    roasted_class = f"https://id.gs1.org/01/{chain['roasted'].product.gtin}/10/RANG-01"
    assert transformation[0]["outputQuantityList"] == [
        {"epcClass": roasted_class, "quantity": 900, "uom": "KGM"}
    ]
    # The processing event of the roasted lot is its transformation: same time and place, not twice.
    assert transformation[0]["eventTime"].startswith((date.today() - timedelta(days=39)).isoformat())
    assert "processing" not in by_type

    aggregation = _events_of(document, "AggregationEvent")
    assert len(aggregation) == 1
    assert aggregation[0]["parentID"] == f"{BASE}/t/{chain['shipment'].public_code}"
    assert aggregation[0]["childQuantityList"] == [{"epcClass": roasted_class, "quantity": 400, "uom": "KGM"}]
    assert aggregation[0]["action"] == "ADD" and aggregation[0]["bizStep"] == "packing"

    shipping = [event for event in objects if event["bizStep"] == "shipping"]
    assert len(shipping) == 2
    with_gln = next(event for event in shipping if "bizTransactionList" in event)
    assert with_gln["readPoint"]["id"].startswith("https://id.gs1.org/414/")
    assert "bizLocation" not in with_gln  # in transit
    assert with_gln["disposition"] == "in_transit"
    assert with_gln["bizTransactionList"][0]["type"] == "inv"
    assert with_gln["bizTransactionList"][0]["bizTransaction"].endswith("/document/HD%200001%2F2026")
    assert {"type": "owning_party", "source": f"{BASE}/id/producer/{chain['own'].producer.id}"} in with_gln[
        "sourceList"
    ]
    without_gln = next(event for event in shipping if event is not with_gln)
    assert without_gln["readPoint"]["id"].startswith(f"{BASE}/id/location/")


def test_every_batch_of_the_chain_exports_the_same_events_with_stable_ids(chain, app):
    from_roasted = export_batch_chain(chain["roasted"], base_url=BASE)
    from_cherries = export_batch_chain(chain["cherries"], base_url=BASE)
    again = export_batch_chain(chain["roasted"], base_url=BASE)
    ids = {event["eventID"] for event in _events_of(from_roasted)}
    assert ids == {event["eventID"] for event in _events_of(again)}
    # The cherries' chain is the cherries and everything downstream: the bought lot's receiving is not in it.
    cherries_ids = {event["eventID"] for event in _events_of(from_cherries)}
    assert cherries_ids < ids
    assert len(ids - cherries_ids) == 1


def test_a_voided_event_is_declared_erroneous_and_names_its_correction(chain, app, db):
    inspecting = chain["events"]["inspecting"]
    correction = TraceEvent(
        batch_id=inspecting.batch_id,
        type="inspecting",
        biz_step="inspecting",
        event_time=inspecting.event_time + timedelta(hours=1),
        time_zone_offset="+07:00",
        note="Độ ẩm 4,8%",
        voids_event_id=inspecting.id,
        void_reason="Nhập sai số đo",
    )
    db.session.add(correction)
    db.session.commit()
    document = export_batch_chain(chain["roasted"], base_url=BASE)
    assert _schema_errors(document) == []
    inspections = [e for e in _events_of(document) if e.get("bizStep") == "inspecting"]
    voided = next(e for e in inspections if "errorDeclaration" in e)
    corrected = next(e for e in inspections if "errorDeclaration" not in e)
    assert voided["errorDeclaration"]["reason"] == "incorrect_data"
    assert voided["errorDeclaration"]["correctiveEventIDs"] == [corrected["eventID"]]
    assert voided["errorDeclaration"]["trace:reason"] == "Nhập sai số đo"
    assert corrected["trace:note"] == "Độ ẩm 4,8%"
    # Captured again, the declared event is one already held, like every other.
    result = capture_document(document, actor=chain["actor"], base_url=BASE)
    assert (result.captured, result.duplicates, result.ignored) == (0, len(_events_of(document)), 0)


def test_a_retracted_event_did_not_occur(chain, app, db):
    growing = chain["events"]["growing"]
    retraction = TraceEvent(
        batch_id=growing.batch_id,
        type="growing",
        biz_step="commissioning",
        event_time=datetime.now(UTC),
        time_zone_offset="+07:00",
        voids_event_id=growing.id,
        void_reason="Ghi nhầm lô",
        is_retraction=True,
    )
    db.session.add(retraction)
    db.session.commit()
    document = export_batch_chain(chain["cherries"], base_url=BASE)
    assert _schema_errors(document) == []
    declared = [e for e in _events_of(document) if "errorDeclaration" in e]
    assert len(declared) == 1  # the retraction itself is no event of its own
    assert declared[0]["trace:eventType"] == "growing"
    assert declared[0]["errorDeclaration"]["reason"] == "did_not_occur"
    assert "correctiveEventIDs" not in declared[0]["errorDeclaration"]


def test_a_recall_shows_as_a_recalled_disposition_on_every_affected_lot(chain, app, db):
    recall_batch(chain["cherries"], "Dư lượng thuốc bảo vệ thực vật", actor=chain["actor"])
    db.session.commit()
    document = export_batch_chain(chain["roasted"], base_url=BASE)
    assert _schema_errors(document) == []
    recalled = [e for e in _events_of(document) if e.get("disposition") == "recalled"]
    recalled_classes = {e["quantityList"][0]["epcClass"] for e in recalled}
    assert len(recalled) == 3  # cherries, roasted, shipment
    assert f"{BASE}/t/{chain['shipment'].public_code}" in recalled_classes


def test_api_answers_json_ld_that_validates_within_the_tenant(chain, api, tenants):
    roasted = chain["roasted"]
    response = api.get(f"/batches/{roasted.id}/epcis", tenants["daklak"].auditor)
    assert response.status_code == 200
    assert response.mimetype == "application/ld+json"
    document = json.loads(response.get_data(as_text=True))
    assert _schema_errors(document) == []
    assert {"trace": "https://trace.example.vn/voc/"} in document["@context"]
    assert len(_events_of(document)) >= 8
    assert api.get(f"/batches/{roasted.id}/epcis", tenants["nghean"].staff).status_code == 404
    assert api.get(f"/batches/{roasted.id}/epcis", tenants["nghean"].producer_user).status_code == 404
    assert api.get(f"/batches/{roasted.id}/epcis", tenants["ministry"]).status_code == 200
    bare = api.get(f"/batches/{tenants['daklak'].batch.id}/epcis", tenants["daklak"].producer_user)
    assert bare.status_code == 200
    assert _events_of(json.loads(bare.get_data(as_text=True))) == []


def test_openapi_documents_the_epcis_operations(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    export = spec["paths"]["/batches/{batch_id}/epcis"]["get"]
    assert "application/ld+json" in export["responses"]["200"]["content"]
    capture = spec["paths"]["/epcis/capture"]["post"]
    assert set(capture["responses"]) >= {"201", "400", "401", "403", "422"}


# --- capture -----------------------------------------------------------------------------------


def test_capturing_our_own_export_again_writes_nothing(chain, api, db):
    document = export_batch_chain(chain["roasted"])
    api.token(chain["own"].staff)  # signing in is audited too
    before = _counts(db)
    response = api.post("/epcis/capture", chain["own"].staff, json=document)
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["captured"] == 0
    assert body["duplicates"] == len(_events_of(document))
    assert body["event_ids"] == []
    assert _counts(db) == before


@pytest.fixture
def gs1_registry(make, tenants, db):
    """The products, lots, items and locations GS1's three example documents name, for one producer."""
    own = tenants["daklak"]
    for gln in ("0614141073467", "0012345111112", "0614141007776", "0614141008889", "4012345000016"):
        make.location(own.producer, gln=gln)

    def lot(
        gtin: str, lot_code: str, production: date, unit: str = "H87", quantity: str = "1000", serials=()
    ):
        product = make.product(own.producer, gtin=gtin)
        batch = make.batch(
            product,
            lot_code=lot_code,
            production_date=production,
            expiry_date=None,
            unit=unit,
            quantity=Decimal(quantity),
        )
        for serial in serials:
            db.session.add(Item(batch_id=batch.id, serial=serial, public_code=new_public_code()))
        return batch

    lots = {
        # 9.6.1 (2005) and 9.6.3 (2013): two serialised items of one lot
        "items": lot("10614141073464", "L2005", date(2005, 4, 1), serials=("2017", "2018")),
        # 9.6.3: every instance of a GTIN (one lot known), and a lot measured in kilograms
        "pattern": lot("04012345987652", "P2013", date(2013, 6, 1)),
        "kilos": lot("04012345123456", "998877", date(2013, 6, 1), unit="KGM"),
        # 9.6.4: inputs (two items, two lots, a GTIN pattern) and the output items
        "input_item_a": lot("04012345111224", "IA", date(2013, 10, 1), serials=("25",)),
        "input_item_b": lot("04000001654321", "IB", date(2013, 10, 1), serials=("99886655",)),
        "input_kilos": lot("04012345111118", "4444", date(2013, 10, 1), unit="KGM"),
        "input_count": lot("00614141777778", "987", date(2013, 10, 1)),
        "input_pattern": lot("04012345666663", "P66", date(2013, 10, 1)),
        "output": lot("04012345778892", "OUT", date(2013, 10, 1), serials=("25", "26", "27", "28")),
    }
    db.session.commit()
    return {"own": own, **lots}


def _example(name: str) -> dict:
    return json.loads((EXAMPLES / f"Example_{name}.jsonld").read_text())


def test_gs1s_object_event_example_is_captured_once(gs1_registry, api, db):
    document = _example("9.6.1-ObjectEvent")
    response = api.post("/epcis/capture", gs1_registry["own"].staff, json=document)
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    given_ids = [event["eventID"] for event in _events_of(document)]
    assert body == {"captured": 2, "duplicates": 0, "ignored": 0, "event_ids": given_ids}
    events = db.session.scalars(select(TraceEvent).order_by(TraceEvent.event_time)).all()
    assert [e.type for e in events] == ["shipping", "receiving"]
    assert [e.epcis_event_id for e in events] == given_ids
    assert all(e.batch_id == gs1_registry["items"].id for e in events)
    shipping, receiving = events
    assert shipping.time_zone_offset == "-06:00"
    assert shipping.event_time == datetime(2005, 4, 4, 2, 33, 31, 116000, tzinfo=UTC)
    assert shipping.quantity == 2  # two items of a lot counted in pieces
    assert shipping.location.gln == "0614141073467"
    assert (shipping.reference_type, shipping.reference_number) == (
        "purchase_order",
        "http://transaction.acme.com/po/12345678",
    )
    assert receiving.location.gln == "0012345111112"
    assert receiving.biz_step == "receiving"

    before = _counts(db)
    again = api.post("/epcis/capture", gs1_registry["own"].staff, json=document)
    assert again.status_code == 201
    assert again.get_json() == {"captured": 0, "duplicates": 2, "ignored": 0, "event_ids": []}
    assert _counts(db) == before


def test_gs1s_aggregation_example_records_the_receiving_on_each_lot(gs1_registry, api, db):
    document = _example("9.6.3-AggregationEvent")
    response = api.post("/epcis/capture", gs1_registry["own"].staff, json=document)
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["captured"] == 1
    events = db.session.scalars(select(TraceEvent).order_by(TraceEvent.id)).all()
    event_id = _events_of(document)[0]["eventID"]
    assert sorted(e.epcis_event_id for e in events) == [f"{event_id}#{n}" for n in (1, 2, 3)]
    quantities = {e.batch_id: e.quantity for e in events}
    assert quantities == {
        gs1_registry["items"].id: Decimal("2"),
        gs1_registry["pattern"].id: Decimal("10"),
        gs1_registry["kilos"].id: Decimal("200.5"),
    }
    assert {e.type for e in events} == {"receiving"}
    assert all(e.location.gln == "0614141007776" and e.time_zone_offset == "+02:00" for e in events)
    assert all("urn:epc:id:sscc:0614141.1234567890" in e.note for e in events)
    assert db.session.scalar(select(func.count(BatchInput.id))) == 0  # observed, not aggregated here

    again = api.post("/epcis/capture", gs1_registry["own"].staff, json=document)
    assert again.get_json()["duplicates"] == 1 and again.get_json()["captured"] == 0


def test_gs1s_transformation_example_records_lineage_with_mass_balance(gs1_registry, api, db):
    document = _example("9.6.4-TransformationEvent")
    response = api.post("/epcis/capture", gs1_registry["own"].staff, json=document)
    assert response.status_code == 201, response.get_json()
    output = gs1_registry["output"]
    links = {link.input_batch_id: link.quantity for link in db.session.scalars(select(BatchInput))}
    assert links == {
        gs1_registry["input_item_a"].id: Decimal("1"),
        gs1_registry["input_item_b"].id: Decimal("1"),
        gs1_registry["input_kilos"].id: Decimal("10"),
        gs1_registry["input_count"].id: Decimal("30"),
        gs1_registry["input_pattern"].id: Decimal("220"),
    }
    assert {link.kind for link in db.session.scalars(select(BatchInput))} == {"transformation"}
    processing = db.session.scalars(select(TraceEvent)).one()
    assert (processing.batch_id, processing.type, processing.biz_step) == (
        output.id,
        "processing",
        "commissioning",
    )
    assert processing.epcis_event_id == _events_of(document)[0]["eventID"]
    assert processing.quantity == 4  # the four output items
    # Exported again, the transformation keeps the captured event's ID.
    exported = export_batch_chain(output)
    assert _schema_errors(exported) == []
    transformation = _events_of(exported, "TransformationEvent")
    assert [event["eventID"] for event in transformation] == [processing.epcis_event_id]
    assert transformation[0]["bizStep"] == "commissioning"

    before = _counts(db)
    for doc in (document, exported):
        again = api.post("/epcis/capture", gs1_registry["own"].staff, json=doc)
        assert again.status_code == 201 and again.get_json()["captured"] == 0
    assert _counts(db) == before


def test_a_document_with_a_broken_event_is_refused_whole_with_errors_per_event(gs1_registry, api, db):
    document = _example("9.6.1-ObjectEvent")
    broken = copy.deepcopy(document)
    del broken["epcisBody"]["eventList"][1]["eventTime"]
    api.token(gs1_registry["own"].staff)
    before = _counts(db)
    response = api.post("/epcis/capture", gs1_registry["own"].staff, json=broken)
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert error["code"] == "invalid"
    assert list(error["fields"]["events"]) == ["1"]
    assert any("eventTime" in message for message in error["fields"]["events"]["1"])
    assert _counts(db) == before

    unknown = copy.deepcopy(document)
    unknown["epcisBody"]["eventList"][0]["epcList"] = ["urn:epc:id:sgtin:0614141.107346.9999"]
    response = api.post("/epcis/capture", gs1_registry["own"].staff, json=unknown)
    assert response.status_code == 422
    fields = response.get_json()["error"]["fields"]["events"]
    assert list(fields) == ["0"]
    assert "urn:epc:id:sgtin:0614141.107346.9999" in fields["0"][0]
    assert _counts(db) == before  # event 1 was fine, yet nothing is written


def test_a_refusal_from_the_services_rolls_back_the_events_before_it(gs1_registry, api, db):
    document = _example("9.6.4-TransformationEvent")
    # More of lot 4444 than it holds: the mass balance refuses the transformation after the
    # ObjectEvents before it were written; none of them stays.
    document["epcisBody"]["eventList"][0]["inputQuantityList"][0]["quantity"] = 5000
    document["epcisBody"]["eventList"].insert(0, _example("9.6.1-ObjectEvent")["epcisBody"]["eventList"][0])
    api.token(gs1_registry["own"].staff)
    before = _counts(db)
    response = api.post("/epcis/capture", gs1_registry["own"].staff, json=document)
    assert response.status_code == 422
    fields = response.get_json()["error"]["fields"]["events"]
    assert list(fields) == ["1"]
    assert "4444" in " ".join(fields["1"])
    assert _counts(db) == before


def test_capture_refuses_units_that_do_not_match_and_events_in_the_future(gs1_registry, api, db):
    document = _example("9.6.3-AggregationEvent")
    event = document["epcisBody"]["eventList"][0]
    event["childQuantityList"][1]["uom"] = "LTR"
    response = api.post("/epcis/capture", gs1_registry["own"].staff, json=document)
    assert "KGM" in response.get_json()["error"]["fields"]["events"]["0"][0]

    document = _example("9.6.1-ObjectEvent")
    future = datetime.now(UTC) + timedelta(days=2)
    document["epcisBody"]["eventList"][1]["eventTime"] = future.isoformat()
    response = api.post(
        "/epcis/capture", gs1_registry["own"].staff, json=document, headers={"Accept-Language": "en"}
    )
    assert response.status_code == 422
    assert list(response.get_json()["error"]["fields"]["events"]) == ["1"]
    assert response.get_json()["error"]["fields"]["events"]["1"] == [
        "time: The event cannot be in the future."
    ]
    assert db.session.scalar(select(func.count(TraceEvent.id))) == 0


def test_capture_stays_within_the_callers_tenant(gs1_registry, api, tenants, db):
    document = _example("9.6.1-ObjectEvent")
    other = api.post("/epcis/capture", tenants["nghean"].producer_user, json=document)
    assert other.status_code == 422  # another tenant's lots are unknown to it, not revealed
    assert set(other.get_json()["error"]["fields"]["events"]) == {"0", "1"}
    assert api.post("/epcis/capture", tenants["daklak"].auditor, json=document).status_code == 403
    assert api.post("/epcis/capture", tenants["ministry"], json=document).status_code == 403
    assert db.session.scalar(select(func.count(TraceEvent.id))) == 0
    own_producer = api.post("/epcis/capture", tenants["daklak"].producer_user, json=document)
    assert own_producer.status_code == 201


def test_capture_refuses_what_is_not_an_epcis_document(gs1_registry, api):
    user = gs1_registry["own"].staff
    assert api.post("/epcis/capture", user, data="nope", content_type="application/json").status_code == 400
    response = api.post(
        "/epcis/capture", user, json={"type": "EPCISDocument", "epcisBody": {"eventList": []}}
    )
    assert response.status_code == 422
    assert response.get_json()["error"]["fields"]["document"]
    ld = api.post(
        "/epcis/capture",
        user,
        data=json.dumps(_example("9.6.1-ObjectEvent")),
        content_type="application/ld+json",
    )
    assert ld.status_code == 201


def test_capture_service_does_not_commit(gs1_registry, app, db):
    with pytest.raises(Forbidden):
        capture_document(_example("9.6.1-ObjectEvent"), actor=gs1_registry["own"].auditor, base_url=BASE)
    result = capture_document(_example("9.6.1-ObjectEvent"), actor=gs1_registry["own"].staff, base_url=BASE)
    assert result.captured == 2
    db.session.rollback()
    assert db.session.scalar(select(func.count(TraceEvent.id))) == 0
    with pytest.raises(InvalidInput):
        capture_document({"type": "EPCISDocument"}, actor=gs1_registry["own"].staff, base_url=BASE)


def test_our_export_moves_a_chain_into_lots_known_by_the_same_identifiers(chain, make, tenants, db, api):
    """An export read by another registry: events land on lots with the same GTIN and lot code."""
    document = export_batch_chain(chain["cherries"], base_url="https://other-registry.example")
    harvesting = next(e for e in _events_of(document) if e.get("trace:eventType") == "harvesting")
    harvesting.pop("eventID")
    harvesting["eventTime"] = harvesting["eventTime"].replace("T08:", "T09:")  # another event, same lot
    single = {**document, "epcisBody": {"eventList": [harvesting]}}
    response = api.post("/epcis/capture", chain["own"].staff, json=single)
    assert response.status_code == 201, response.get_json()
    stored = db.session.scalar(
        select(TraceEvent).where(TraceEvent.epcis_event_id == response.get_json()["event_ids"][0])
    )
    # The other registry's vocabulary is not ours: commissioning from elsewhere is "other".
    assert (stored.batch_id, stored.biz_step, stored.type) == (chain["cherries"].id, "commissioning", "other")


def test_an_aggregation_into_a_registered_shipment_records_its_lineage(chain, make, api, db):
    own = chain["own"]
    shipment = make.batch(chain["shipment"].product, lot_code="GUI-02", quantity=Decimal("100"))
    roasted_class = f"https://id.gs1.org/01/{chain['roasted'].product.gtin}/10/RANG-01"
    event = {
        "type": "AggregationEvent",
        "eventTime": (datetime.now(UTC) - timedelta(hours=1)).isoformat(),
        "eventTimeZoneOffset": "+07:00",
        "parentID": f"https://trace.example.vn/t/{shipment.public_code}",
        "childQuantityList": [{"epcClass": roasted_class, "quantity": 100, "uom": "KGM"}],
        "action": "ADD",
        "bizStep": "packing",
        "readPoint": {"id": "urn:epc:id:sgln:893123.456789.0"},
    }
    document = {
        "@context": ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"],
        "type": "EPCISDocument",
        "schemaVersion": "2.0",
        "creationDate": datetime.now(UTC).isoformat(),
        "epcisBody": {"eventList": [event]},
    }
    response = api.post("/epcis/capture", own.staff, json=document)
    assert response.status_code == 201, response.get_json()
    link = db.session.scalar(select(BatchInput).where(BatchInput.output_batch_id == shipment.id))
    assert (link.input_batch_id, link.quantity, link.kind) == (
        chain["roasted"].id,
        Decimal("100"),
        "aggregation",
    )
    packing = db.session.scalar(select(TraceEvent).where(TraceEvent.batch_id == shipment.id))
    assert (packing.type, packing.location_id) == ("packing", chain["farm"].id)
    exported = export_batch_chain(shipment)
    aggregation = _events_of(exported, "AggregationEvent")
    assert [e["eventID"] for e in aggregation] == [packing.epcis_event_id] == response.get_json()["event_ids"]
    assert not [e for e in _events_of(exported, "ObjectEvent") if e.get("bizStep") == "packing"]
    # More than the roasted lot has left (900 - 400 - 100) is refused, naming the lot.
    event["parentID"] = (
        f"https://trace.example.vn/t/{make.batch(shipment.product, lot_code='GUI-03').public_code}"
    )
    event["childQuantityList"][0]["quantity"] = 401
    refused = api.post("/epcis/capture", own.staff, json=document)
    assert refused.status_code == 422
    assert "RANG-01" in refused.get_json()["error"]["fields"]["events"]["0"][0]


def test_events_about_several_lots_export_and_dedupe_under_derived_ids(gs1_registry, api, db):
    document = _example("9.6.3-AggregationEvent")
    assert api.post("/epcis/capture", gs1_registry["own"].staff, json=document).status_code == 201
    exported = export_batch_chain(gs1_registry["kilos"])
    assert _schema_errors(exported) == []
    [receiving] = _events_of(exported)
    assert receiving["eventID"] == _events_of(document)[0]["eventID"] + "#3"
    again = api.post("/epcis/capture", gs1_registry["own"].staff, json=exported)
    assert again.get_json() == {"captured": 0, "duplicates": 1, "ignored": 0, "event_ids": []}


def test_identifiers_that_do_not_name_one_lot_or_place_of_the_producer_are_refused(
    gs1_registry, make, api, db
):
    own = gs1_registry["own"]
    make.batch(gs1_registry["pattern"].product, lot_code="P2013-B", production_date=date(2013, 6, 1))
    other_producer = make.producer(own.centre)
    make.location(other_producer, gln=_gtin("893999999999"))
    document = _example("9.6.3-AggregationEvent")
    document["epcisBody"]["eventList"][0]["bizLocation"] = {
        "id": f"https://id.gs1.org/414/{_gtin('893999999999')}"
    }
    db.session.commit()
    response = api.post("/epcis/capture", own.staff, json=document, headers={"Accept-Language": "en"})
    messages = " ".join(response.get_json()["error"]["fields"]["events"]["0"])
    assert "several lots" in messages
    assert _gtin("893999999999") in messages
