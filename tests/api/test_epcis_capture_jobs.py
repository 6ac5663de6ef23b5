"""The EPCIS 2.0 REST binding's capture (202 and a job) and GS1's own example queries, at /epcis."""

from __future__ import annotations

import copy
import json
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from sqlalchemy import func, select

from traceability.batches.service import new_public_code, record_event
from traceability.core.dates import VIETNAM_OFFSET
from traceability.gs1.epcis import validate_document
from traceability.models.batches import Item, TraceEvent
from traceability.models.epcis import EpcisCaptureJob

GS1 = Path(__file__).parent.parent / "data" / "epcis" / "gs1" / "JSON"
QUERY_DOCUMENT = GS1 / "EPCISQueryDocument.jsonld"  # the two events of the standard's example 9.6.1
SHIPPING_2005 = "ni:///sha-256;df7bb3c352fef055578554f09f5e2aa41782150ced7bd0b8af24dd3ccb30ba69?ver=CBV2.0"
RECEIVING_2005 = "ni:///sha-256;00e1e6eba3a7cc6125be4793a631f0af50f8322e0ab5f2c0bab994a11cec1d79?ver=CBV2.0"


def _headers(api: Any, user: Any, **more: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {api.token(user)}", **more}


def _capture(api: Any, user: Any, document: Any, **headers: str):
    return api.client.post("/epcis/capture", json=document, headers=_headers(api, user, **headers))


def _get(api: Any, user: Any, url: str, **headers: str):
    return api.client.get(url, headers=_headers(api, user, **headers))


def _events(response: Any) -> list[dict]:
    assert response.status_code == 200, response.get_json()
    document = response.get_json()
    assert validate_document(document).valid, validate_document(document)
    return document["epcisBody"]["queryResults"]["resultsBody"]["eventList"]


def _count(db: Any, model: type) -> int:
    return db.session.scalar(select(func.count()).select_from(model)) or 0


@pytest.fixture
def registry(make, tenants, db):
    """What GS1's example 9.6.1 names, for a producer of Đắk Lắk: the two items of a lot
    (GTIN 10614141073464, serials 2017 and 2018) and the two places; and a shipping of that lot in 2026."""
    own = tenants["daklak"]
    make.location(own.producer, gln="0614141073467")
    make.location(own.producer, gln="0012345111112")
    product = make.product(own.producer, gtin="10614141073464")
    lot = make.batch(
        product, lot_code="L2005", production_date=date(2005, 4, 1), unit="H87", quantity=Decimal(1000)
    )
    for serial in ("2017", "2018"):
        db.session.add(Item(batch_id=lot.id, serial=serial, public_code=new_public_code()))
    record_event(
        lot, {"type": "shipping", "time": datetime(2026, 3, 2, 8, tzinfo=VIETNAM_OFFSET)}, actor=own.staff
    )
    db.session.commit()
    return {"own": own, "lot": lot, "producer": own.producer_user}


# --- capture ---------------------------------------------------------------------------------------


def test_capture_answers_202_with_its_job(registry, api, db):
    document = json.loads(QUERY_DOCUMENT.read_text())  # an EPCISQueryDocument: its events are captured
    user = registry["producer"]
    response = _capture(api, user, document)
    assert response.status_code == 202, response.get_json()
    assert response.headers["GS1-EPCIS-Version"] == "2.0.0" and response.headers["GS1-CBV-Version"] == "2.0.0"
    location = response.headers["Location"]
    assert location.startswith("/epcis/capture/")
    job = response.get_json()
    assert job["captureID"] == location.rsplit("/", 1)[1] and len(job["captureID"]) >= 20
    assert job["running"] is False and job["success"] is True and job["errors"] == []
    assert job["captureErrorBehaviour"] == "rollback"
    assert datetime.fromisoformat(job["createdAt"]) <= datetime.fromisoformat(job["finishedAt"])
    assert datetime.fromisoformat(job["createdAt"]).utcoffset().total_seconds() == 7 * 3600
    assert (job["captured"], job["duplicates"], job["eventIDs"]) == (2, 0, [SHIPPING_2005, RECEIVING_2005])
    assert _get(api, user, location).get_json() == job
    # The captured events answer by the eventIDs they came with.
    answered = _events(_get(api, user, f"/epcis/events/{quote(SHIPPING_2005, safe='')}"))
    assert answered[0]["eventID"] == SHIPPING_2005 and answered[0]["bizStep"] == "shipping"
    again = _capture(api, user, document).get_json()
    assert (again["success"], again["captured"], again["duplicates"]) == (True, 0, 2)


def _unknown_item(document: dict, index: int) -> dict:
    changed = copy.deepcopy(document)
    events = changed["epcisBody"]["queryResults"]["resultsBody"]["eventList"]
    events[index]["epcList"] = ["urn:epc:id:sgtin:0614141.107346.9999"]
    return changed


def test_a_refused_capture_keeps_nothing_and_its_job_says_why(registry, api, db):
    document = _unknown_item(json.loads(QUERY_DOCUMENT.read_text()), 1)
    events_before = _count(db, TraceEvent)
    response = _capture(api, registry["producer"], document)
    assert response.status_code == 202
    job = response.get_json()
    assert job["success"] is False and job["running"] is False and job["captured"] == 0
    [error] = job["errors"]
    assert error["type"] == "epcisException:ValidationException" and error["status"] == 400
    assert error["instance"] == "#/epcisBody/eventList/1"
    assert "urn:epc:id:sgtin:0614141.107346.9999" in error["detail"]
    assert _count(db, TraceEvent) == events_before
    assert _get(api, registry["producer"], response.headers["Location"]).get_json()["success"] is False


def test_proceed_captures_the_events_it_can(registry, api, db):
    document = _unknown_item(json.loads(QUERY_DOCUMENT.read_text()), 1)
    events_before = _count(db, TraceEvent)
    job = _capture(
        api, registry["producer"], document, **{"GS1-Capture-Error-Behaviour": "proceed"}
    ).get_json()
    assert job["captureErrorBehaviour"] == "proceed"
    assert (job["success"], job["captured"], job["eventIDs"]) == (False, 1, [SHIPPING_2005])
    assert [error["instance"] for error in job["errors"]] == ["#/epcisBody/eventList/1"]
    assert _count(db, TraceEvent) == events_before + 1


def test_what_is_no_capture_is_refused_at_once_and_leaves_no_job(registry, api, db, tenants):
    user = registry["producer"]
    document = json.loads(QUERY_DOCUMENT.read_text())
    event = document["epcisBody"]["queryResults"]["resultsBody"]["eventList"][0]
    too_many = {
        "@context": document["@context"],
        "type": "EPCISDocument",
        "schemaVersion": "2.0",
        "creationDate": "2026-03-02T08:00:00+07:00",
        "epcisBody": {"eventList": [event] * 1001},
    }
    refusals = [
        (
            api.client.post(
                "/epcis/capture",
                data="<xml/>",
                headers=_headers(api, user, **{"Content-Type": "application/xml"}),
            ),
            415,
        ),
        (_capture(api, user, [document]), 400),
        (_capture(api, user, event), 400),  # a bare event is not a document
        (_capture(api, user, too_many), 413),
        (_capture(api, user, document, **{"GS1-Capture-Error-Behaviour": "all"}), 400),
        (_capture(api, user, document, **{"GS1-EPCIS-Version": "1.2"}), 406),
        (_capture(api, tenants["daklak"].auditor, document), 403),
        (_capture(api, tenants["ministry"], document), 403),
    ]
    for response, status in refusals:
        assert response.status_code == status, response.get_json()
        assert response.mimetype == "application/problem+json"
        assert response.get_json()["status"] == status
    assert refusals[3][0].headers["GS1-EPCIS-Capture-Limit"] == "1000"
    assert refusals[3][0].get_json()["type"] == "epcisException:CaptureLimitExceededException"
    assert refusals[0][0].get_json()["type"] == "epcisException:UnsupportedMediaTypeException"
    assert refusals[6][0].get_json()["type"] == "epcisException:SecurityException"
    assert _count(db, EpcisCaptureJob) == 0


def test_a_job_is_read_by_its_sender_and_its_centres_staff_only(registry, api, tenants, make, db):
    own, other = tenants["daklak"], tenants["nghean"]
    sibling_user = make.user("producer", producer=make.producer(own.centre))
    db.session.commit()
    response = _capture(api, registry["producer"], json.loads(QUERY_DOCUMENT.read_text()))
    location = response.headers["Location"]
    assert _get(api, registry["producer"], location).status_code == 200
    assert _get(api, own.staff, location).status_code == 200
    assert _get(api, own.admin, location).status_code == 200
    for outsider in (sibling_user, other.staff, own.auditor, tenants["ministry"]):
        refused = _get(api, outsider, location)
        assert refused.status_code == 404, outsider.role
        assert refused.get_json()["type"] == "epcisException:NoSuchResourceException"
    assert _get(api, registry["producer"], "/epcis/capture/nonexistent").status_code == 404
    # GET /capture lists the caller's own jobs.
    assert [job["captureID"] for job in _get(api, registry["producer"], "/epcis/capture").get_json()] == [
        location.rsplit("/", 1)[1]
    ]
    assert _get(api, own.staff, "/epcis/capture").get_json() == []


def test_the_job_list_pages(registry, api):
    user = registry["producer"]
    document = json.loads(QUERY_DOCUMENT.read_text())
    sent = [_capture(api, user, document).get_json()["captureID"] for _ in range(3)]
    first = _get(api, user, "/epcis/capture?perPage=2")
    assert [job["captureID"] for job in first.get_json()] == sent[::-1][:2]
    link = first.headers["Link"]
    assert link.endswith('>; rel="next"')
    second = api.client.get(link[1:].split(">")[0], headers=_headers(api, user))
    assert [job["captureID"] for job in second.get_json()] == [sent[0]] and "Link" not in second.headers


# --- GS1's example queries (openapi.yaml of GS1's EPCIS repository) ------------------------------------


@pytest.fixture
def captured(registry, api):
    response = _capture(api, registry["producer"], json.loads(QUERY_DOCUMENT.read_text()))
    assert response.get_json()["success"] is True
    return registry


def _ours(registry: dict) -> str:
    """The eventID of the 2026 shipping recorded here (not one of GS1's)."""
    from traceability.batches.epcis import batch_events, project_uris

    return next(
        event["eventID"]
        for event in batch_events([registry["lot"]], project_uris())
        if event["eventTime"].startswith("2026")
    )


SINCE_2015 = "GE_eventTime=2015-03-15T00%3A00%3A00.000-04%3A00"


def test_gs1_example_query_of_the_queries_resource(captured, api):
    # {"eventType": ["ObjectEvent"], "EQ_bizStep": ["shipping", "receiving"]} as URL parameters
    events = _events(
        _get(api, captured["producer"], "/epcis/events?eventType=ObjectEvent&EQ_bizStep=shipping%7Creceiving")
    )
    assert sorted(event["eventID"] for event in events) == sorted(
        [SHIPPING_2005, RECEIVING_2005, _ours(captured)]
    )


def test_gs1_example_query_by_event_type(captured, api):
    url = f"/epcis/eventTypes/ObjectEvent/events?EQ_bizStep=shipping%7Cdecommissioning&{SINCE_2015}"
    assert [event["eventID"] for event in _events(_get(api, captured["producer"], url))] == [_ours(captured)]
    earlier = _events(_get(api, captured["producer"], url.replace("GE_eventTime", "LT_eventTime")))
    assert [event["eventID"] for event in earlier] == [SHIPPING_2005]


def test_gs1_example_queries_by_epc(captured, api):
    user = captured["producer"]
    url = f"/epcis/epcs/urn:epc:id:sgtin:0614141.107346.2018/events?EQ_bizStep=shipping%7Cdecommissioning&{SINCE_2015}"
    assert [event["eventID"] for event in _events(_get(api, user, url))] == [_ours(captured)]
    every = _events(_get(api, user, "/epcis/epcs/urn:epc:id:sgtin:0614141.107346.2018/events"))
    assert [event["eventID"] for event in every] == [SHIPPING_2005, RECEIVING_2005, _ours(captured)]
    digital_link = _events(
        _get(api, user, "/epcis/epcs/https:%2f%2fexample.org%2f01%2f10614141073464%2f21%2f2017/events")
    )
    assert [event["eventID"] for event in digital_link] == [SHIPPING_2005, RECEIVING_2005, _ours(captured)]
    # GS1's own second example names a 16-digit GTIN: refused, saying why.
    malformed = _get(api, user, "/epcis/epcs/https:%2f%2fexample.org%2f01%2f1234567089012400")
    assert (
        malformed.status_code == 400
        and malformed.get_json()["type"] == "epcisException:QueryParameterException"
    )
    assert "epc" in malformed.get_json()["error"]["fields"]


def test_gs1_example_queries_by_business_step_and_disposition(captured, api):
    user = captured["producer"]
    assert _events(_get(api, user, f"/epcis/bizSteps/receiving/events?{SINCE_2015}")) == []
    assert [e["eventID"] for e in _events(_get(api, user, "/epcis/bizSteps/receiving/events"))] == [
        RECEIVING_2005
    ]
    assert _events(_get(api, user, f"/epcis/dispositions/in_progress/events?{SINCE_2015}")) == []
    assert [e["eventID"] for e in _events(_get(api, user, "/epcis/dispositions/in_progress/events"))] == [
        RECEIVING_2005
    ]


def test_gs1_example_queries_by_place(captured, api):
    user = captured["producer"]
    # The receiving happened at GLN 0012345111112 (its bizLocation: extension 0, the place itself).
    at_place = _events(_get(api, user, "/epcis/bizLocations/urn:epc:id:sgln:0012345.11111.0/events"))
    assert [event["eventID"] for event in at_place] == [RECEIVING_2005]
    assert (
        _events(_get(api, user, f"/epcis/bizLocations/urn:epc:id:sgln:0012345.11111.0/events?{SINCE_2015}"))
        == []
    )
    # Its read point was sub-location 400 of that GLN: capture records places by GLN, so this
    # repository holds no event at the sub-location itself and says so.
    for resource in ("readPoints", "bizLocations"):
        response = _get(api, user, f"/epcis/{resource}/urn:epc:id:sgln:0012345.11111.400/events?{SINCE_2015}")
        assert response.status_code == 404
        assert response.get_json()["type"] == "epcisException:NoSuchResourceException"
    at_gln = _events(_get(api, user, "/epcis/readPoints/urn:epc:id:sgln:0012345.11111.0/events"))
    assert [event["eventID"] for event in at_gln] == [RECEIVING_2005]
