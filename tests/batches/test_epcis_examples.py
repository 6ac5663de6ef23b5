"""Every one of GS1's EPCIS 2.0 example documents either captures or answers a 4xx that says why.

The documents are GS1's own (tests/data/epcis/gs1, see the README there): the
standard's examples, the simple-context variants, the AssociationEvents, the
sensor data, the query document and the bare events of the JSON Schema's tests.
"""

from __future__ import annotations

import copy
import json
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from jsonschema import Draft7Validator
from sqlalchemy import select

from tests.batches.test_epcis import gs1_registry  # noqa: F401 (a fixture: the lots GS1's examples name)
from traceability.batches.epcis import export_batch_chain
from traceability.gs1.epcis import load_schema, parse_identifier
from traceability.models.batches import TraceEvent

GS1 = Path(__file__).parent.parent / "data" / "epcis" / "gs1"
DOCUMENTS = sorted(path for path in GS1.rglob("*.json*") if path.is_file())
BARE_EVENTS = sorted((GS1 / "JSON-Schema" / "test").glob("*.json"))
ENGLISH = {"Accept-Language": "en"}


def _post(api, path: str, user, body: dict, **headers):
    return api.post(path, user, json=body, headers={**ENGLISH, **headers})


def _messages(error: dict) -> list[str]:
    """Every message of an error body: its own and those under ``fields``, however nested."""
    found = [error["message"]]

    def walk(value):
        if isinstance(value, dict):
            for child in value.values():
                walk(child)
        elif isinstance(value, list):
            for child in value:
                walk(child)
        else:
            found.append(value)

    walk(error.get("fields") or {})
    return found


def test_every_gs1_example_document_captures_or_says_why(gs1_registry, api):  # noqa: F811
    assert len(DOCUMENTS) >= 95  # GS1's JSON, simple-context and schema-test examples
    user = gs1_registry["own"].staff
    answers = {}
    for path in DOCUMENTS:
        response = _post(api, "/epcis/capture", user, json.loads(path.read_text(encoding="utf-8")))
        name = str(path.relative_to(GS1))
        answers[name] = response.status_code
        assert response.status_code < 500, (name, response.get_data(as_text=True)[:500])
        body = response.get_json()
        if response.status_code >= 400:
            messages = _messages(body["error"])
            assert all(isinstance(m, str) and m.strip() for m in messages), (name, body)
            assert body["error"]["fields"] or response.status_code == 400, (name, body)
        else:
            assert response.status_code == 201 and "captured" in body, (name, body)
    # The standard's examples name lots registered here: they capture (or were captured already).
    for name in ("Example_9.6.1-ObjectEvent.jsonld", "Example_9.6.4-TransformationEvent.jsonld"):
        assert answers[f"JSON/{name}"] == 201
    assert answers["JSON/EPCISQueryDocument.jsonld"] == 400
    assert {answers[str(path.relative_to(GS1))] for path in BARE_EVENTS} == {400}


@pytest.mark.parametrize("path", BARE_EVENTS, ids=lambda path: path.stem)
def test_a_bare_event_is_told_to_wrap_it_in_a_document(path, tenants, api):
    event = json.loads(path.read_text(encoding="utf-8"))
    response = _post(api, "/epcis/capture", tenants["daklak"].staff, event)
    assert response.status_code == 400
    message = response.get_json()["error"]["message"]
    assert "Expected an EPCISDocument with epcisBody.eventList" in message
    assert f"got a bare {event['type']}" in message
    assert "/epcis/events" in message


def test_a_query_document_is_an_answer_not_a_capture(tenants, api):
    document = json.loads((GS1 / "JSON" / "EPCISQueryDocument.jsonld").read_text(encoding="utf-8"))
    response = _post(api, "/epcis/capture", tenants["daklak"].staff, document)
    assert response.status_code == 400
    message = response.get_json()["error"]["message"]
    assert "EPCISQueryDocument" in message and "not a capture" in message


def test_a_schema_refusal_names_the_json_path_and_the_rule(gs1_registry, api, db):  # noqa: F811
    document = json.loads((GS1 / "JSON" / "Example_9.6.1-ObjectEvent.jsonld").read_text(encoding="utf-8"))
    document["epcisBody"]["eventList"][0]["eventTime"] = "x"
    document["epcisBody"]["eventList"][1]["action"] = "SHIP"
    user = gs1_registry["own"].staff
    response = _post(api, "/epcis/capture", user, document)
    assert response.status_code == 422
    events = response.get_json()["error"]["fields"]["events"]
    assert events["0"] == [
        "$.epcisBody.eventList[0].eventTime breaks the rule format: 'date-time' of GS1's EPCIS schema: "
        "'x' is not a 'date-time'"
    ]
    assert len(events["1"]) == 1 and events["1"][0].startswith("$.epcisBody.eventList[1].action breaks")
    assert all(len(message) < 500 for message in events["1"])  # never the whole event quoted

    vietnamese = api.post("/epcis/capture", user, json=document, headers={"Accept-Language": "vi"})
    message = vietnamese.get_json()["error"]["fields"]["events"]["0"][0]
    assert "$.epcisBody.eventList[0].eventTime" in message and "format: 'date-time'" in message
    assert "breaks the rule" not in message  # the sentence around is Vietnamese
    assert db.session.scalar(select(TraceEvent.id)) is None


def test_a_whole_event_is_never_quoted_in_a_refusal(tenants, api):
    document = json.loads((GS1 / "JSON" / "Example_9.6.1-ObjectEvent.jsonld").read_text(encoding="utf-8"))
    document["epcisBody"]["eventList"][0]["epcList"] = "x" * 5000
    del document["schemaVersion"]
    response = _post(api, "/epcis/capture", tenants["daklak"].staff, document)
    assert response.status_code == 422
    messages = _messages(response.get_json()["error"])
    assert any("$.epcisBody.eventList[0].epcList" in m and "type: 'array'" in m for m in messages)
    assert any(m.startswith("$ breaks the rule required") and "schemaVersion" in m for m in messages)
    assert all(len(m) < 500 for m in messages)


@pytest.fixture
def pallet(make, tenants, db):
    """The two lots GS1's AssociationEvent example (e) puts into a returnable pallet, and its read point."""
    own = tenants["daklak"]
    make.location(own.producer, gln=parse_identifier("urn:epc:id:sgln:4012345.00001.0").gln)
    lots = []
    for urn in ("urn:epc:class:lgtin:4023333.002000.123", "urn:epc:class:lgtin:4012345.005555.456"):
        key = parse_identifier(urn)
        product = make.product(own.producer, gtin=key.gtin)
        lots.append(
            make.batch(
                product,
                lot_code=key.lot,
                production_date=date(2019, 10, 1),
                expiry_date=None,
                unit="H87",
                quantity=Decimal(600),
            )
        )
    db.session.commit()
    return {"own": own, "lots": lots}


def test_an_association_is_kept_in_the_chain_and_exported_back(pallet, api, web, db):
    document = json.loads(
        (GS1 / "JSON" / "AssociationEvent" / "AssociationEvent-e.jsonld").read_text(encoding="utf-8")
    )
    given = document["epcisBody"]["eventList"][0]
    user = pallet["own"].staff
    response = _post(api, "/epcis/capture", user, document)
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["captured"] == 1
    stored = db.session.scalars(select(TraceEvent).order_by(TraceEvent.batch_id)).all()
    assert [event.batch_id for event in stored] == sorted(lot.id for lot in pallet["lots"])
    assert {event.type for event in stored} == {"association"}
    assert {event.biz_step for event in stored} == {"assembling"}
    assert stored[0].association["parentID"] == "urn:epc:id:grai:4012345.55555.987"
    assert stored[0].association["action"] == "ADD"

    exported = export_batch_chain(pallet["lots"][0])
    assert list(Draft7Validator(load_schema()).iter_errors(exported)) == []
    associations = [e for e in exported["epcisBody"]["eventList"] if e["type"] == "AssociationEvent"]
    assert len(associations) == 1
    association = associations[0]
    assert association["eventID"] == stored[0].epcis_event_id
    assert association["eventID"].startswith(given["eventID"])
    for name in ("parentID", "childQuantityList", "action", "bizStep", "eventTimeZoneOffset"):
        assert association[name] == given[name]

    # Captured again, as GS1 wrote it or as exported, nothing is written twice.
    for again in (document, exported):
        answer = _post(api, "/epcis/capture", user, again)
        assert answer.status_code == 201 and answer.get_json()["captured"] == 0, answer.get_json()
    assert len(db.session.scalars(select(TraceEvent)).all()) == 2

    # The lot's timeline says what was attached to what.
    web.login(user.email)
    page = web.client.get(f"/manage/batches/{pallet['lots'][0].id}", headers=ENGLISH).get_data(as_text=True)
    assert "Attached to urn:epc:id:grai:4012345.55555.987" in page


def test_an_association_that_names_no_lot_here_is_refused_with_its_reason(pallet, api):
    document = json.loads(
        (GS1 / "JSON" / "AssociationEvent" / "AssociationEvent-a.jsonld").read_text(encoding="utf-8")
    )
    response = _post(api, "/epcis/capture", pallet["own"].staff, document)
    assert response.status_code == 422
    assert "names no lot registered here" in " ".join(_messages(response.get_json()["error"]))


def test_a_bare_event_is_captured_alone_at_the_single_event_resource(pallet, api, db):
    event = json.loads((GS1 / "JSON-Schema" / "test" / "AssociationEvent.json").read_text(encoding="utf-8"))
    event.pop("eventID")
    event["childEPCs"] = []
    event["childQuantityList"] = [{"epcClass": "urn:epc:class:lgtin:4023333.002000.123"}]
    event["readPoint"] = {"id": "urn:epc:id:sgln:4012345.00001.0"}
    user = pallet["own"].staff
    response = _post(api, "/epcis/events", user, event)
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["captured"] == 1
    stored = db.session.scalars(select(TraceEvent)).one()
    assert (stored.batch_id, stored.type) == (pallet["lots"][0].id, "association")
    assert stored.epcis_event_id.startswith("ni:///sha-256;")

    document = json.loads((GS1 / "JSON" / "Example_9.6.1-ObjectEvent.jsonld").read_text(encoding="utf-8"))
    refused = _post(api, "/epcis/events", user, document)
    assert refused.status_code == 400
    assert "/epcis/capture" in refused.get_json()["error"]["message"]
    broken = copy.deepcopy(event)
    broken["action"] = "ATTACH"
    schema = _post(api, "/epcis/events", user, broken)
    assert schema.status_code == 422
    assert "$.epcisBody.eventList[0].action" in " ".join(_messages(schema.get_json()["error"]))
