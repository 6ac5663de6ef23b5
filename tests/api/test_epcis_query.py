"""The EPCIS 2.0 REST binding's queries at /epcis: every parameter, paging, scoping, headers, errors.

The repository is built through the services (lots, events, lineage, a correction, a retraction, a
recall, a captured association), so the query index is the one the app keeps at each commit; each
answer is compared with the lots' own EPCIS export and validated against GS1's schema.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from traceability.batches.epcis import batch_events, project_uris, sourced_batch_events
from traceability.batches.epcis_capture import capture_document
from traceability.batches.lineage import add_inputs
from traceability.batches.recalls import recall_batch
from traceability.batches.service import correct_event, new_public_code, record_event, retract_event
from traceability.core.dates import VIETNAM_OFFSET
from traceability.gs1.epcis import EPCIS_CONTEXT, lgtin_urn, sgln_urn, sgtin_urn, validate_document
from traceability.gs1.identifiers import gtin_check_digit
from traceability.models.batches import Batch, Item

BASE = "https://trace.example.vn"  # TestConfig's PUBLIC_BASE_URL
DAY = date(2026, 3, 2)


def _gtin(digits13: str) -> str:
    return digits13 + str(gtin_check_digit(digits13))


def _at(day: date, hour: int = 8) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=VIETNAM_OFFSET)


class Client:
    """GETs and POSTs under /epcis with a user's API token."""

    def __init__(self, api: Any) -> None:
        self.api = api

    def get(self, path: str, user: Any, **kwargs: Any):
        headers = {"Authorization": f"Bearer {self.api.token(user)}", **kwargs.pop("headers", {})}
        return self.api.client.get(path, headers=headers, **kwargs)

    def post(self, path: str, user: Any, **kwargs: Any):
        headers = {"Authorization": f"Bearer {self.api.token(user)}", **kwargs.pop("headers", {})}
        return self.api.client.post(path, headers=headers, **kwargs)

    def events(self, user: Any, path: str = "/epcis/events", **params: Any) -> list[dict]:
        """Every event of a query, following the Link header page by page."""
        found: list[dict] = []
        url = path + (
            "?" + "&".join(f"{k}={quote(str(v), safe='|')}" for k, v in params.items()) if params else ""
        )
        for _page in range(200):
            response = self.get(url, user)
            assert response.status_code == 200, response.get_json()
            document = response.get_json()
            assert validate_document(document).valid, validate_document(document)
            found += document["epcisBody"]["queryResults"]["resultsBody"]["eventList"]
            link = response.headers.get("Link")
            if not link:
                return found
            assert link.endswith('>; rel="next"')
            next_url = urlsplit(link[1:].split(">")[0])
            url = f"{next_url.path}?{next_url.query}"
        raise AssertionError("more than 200 pages")


@pytest.fixture
def epcis(api):
    return Client(api)


def _ids(events: list[dict]) -> list[str]:
    return [event["eventID"] for event in events]


@pytest.fixture
def repo(make, tenants, db):
    """Coffee of one producer of Đắk Lắk: cherries (GTIN, a GLN farm) and a bought lot (no GTIN)
    roasted into one lot, aggregated into a shipment; an inspection corrected, a storing retracted,
    the roasted lot recalled, a sensor attached by capture. A sibling producer and a producer of
    Nghệ An have lots of their own."""
    own, other = tenants["daklak"], tenants["nghean"]
    staff = own.staff
    farm = make.location(own.producer, name="Vườn Ea Tu", gln=_gtin("893123456789"))
    cherries_product = make.product(own.producer, name="Cà phê quả", gtin=_gtin("0893123450001"))
    roasted_product = make.product(own.producer, name="Cà phê rang", gtin=_gtin("0893123450002"))
    bought_product = make.product(own.producer, name="Cà phê nhân mua ngoài")
    shipment_product = make.product(own.producer, name="Lô hàng cà phê rang")
    cherries = make.batch(cherries_product, lot_code="QUA-01", quantity=Decimal("1000"), production_date=DAY)
    bought = make.batch(bought_product, lot_code="MUA01", quantity=Decimal("300"), production_date=DAY)
    roasted = make.batch(roasted_product, lot_code="RANG-01", quantity=Decimal("900"), production_date=DAY)
    shipment = make.batch(shipment_product, lot_code="GUI-01", quantity=Decimal("400"), production_date=DAY)
    db.session.add(Item(batch_id=roasted.id, serial="R1", public_code=new_public_code()))
    db.session.add(Item(batch_id=cherries.id, serial="Q1", public_code=new_public_code()))
    add_inputs(
        roasted,
        [
            {"batch_id": cherries.id, "quantity": Decimal("1000")},
            {"batch_id": bought.id, "quantity": Decimal("250")},
        ],
        kind="transformation",
        actor=staff,
    )
    add_inputs(
        shipment, [{"batch_id": roasted.id, "quantity": Decimal("400")}], kind="aggregation", actor=staff
    )
    event = {}
    event["harvesting"] = record_event(
        cherries,
        {"type": "harvesting", "time": _at(DAY), "location_id": farm.id, "quantity": Decimal("1000")},
        actor=staff,
    )
    event["receiving"] = record_event(
        bought,
        {
            "type": "receiving",
            "time": _at(DAY, 10),
            "location_id": own.location.id,
            "quantity": Decimal("300"),
            "counterparty": "HTX Ea Kar",
            "reference_type": "delivery_note",
            "reference": "PX-0012",
        },
        actor=staff,
    )
    event["processing"] = record_event(
        roasted,
        {"type": "processing", "time": _at(DAY + timedelta(days=1)), "location_id": own.location.id},
        actor=staff,
    )
    event["inspecting"] = record_event(
        roasted, {"type": "inspecting", "time": _at(DAY + timedelta(days=2)), "note": "Độ ẩm 5%"}, actor=staff
    )
    event["storing"] = record_event(
        roasted,
        {"type": "storing", "time": _at(DAY + timedelta(days=3)), "location_id": farm.id},
        actor=staff,
    )
    event["shipping"] = record_event(
        shipment,
        {
            "type": "shipping",
            "time": _at(DAY + timedelta(days=6)),
            "location_id": farm.id,
            "quantity": Decimal("400"),
            "counterparty": "Công ty TNHH Cà phê Sài Gòn",
            "reference_type": "invoice",
            "reference": "HD-0001",
        },
        actor=staff,
    )
    event["corrected"] = correct_event(
        event["inspecting"],
        {"type": "inspecting", "time": _at(DAY + timedelta(days=2), 9), "note": "Độ ẩm 4,8%"},
        "Sai số đo",
        actor=staff,
    )
    event["retraction"] = retract_event(event["storing"], "Ghi nhầm lô", actor=staff)
    recall = recall_batch(roasted, "Phát hiện nấm mốc", actor=staff)
    sensor = "urn:epc:id:giai:8931234.SENSOR1"
    capture_document(
        {
            "@context": [EPCIS_CONTEXT],
            "type": "EPCISDocument",
            "schemaVersion": "2.0",
            "creationDate": "2026-03-10T08:00:00+07:00",
            "epcisBody": {
                "eventList": [
                    {
                        "type": "AssociationEvent",
                        "eventTime": "2026-03-05T08:00:00+07:00",
                        "eventTimeZoneOffset": "+07:00",
                        "parentID": f"{BASE}/t/{shipment.public_code}",
                        "childEPCs": [sensor],
                        "action": "ADD",
                        "bizStep": "assembling",
                    }
                ]
            },
        },
        actor=staff,
    )
    sibling = make.producer(own.centre)
    sibling_user = make.user("producer", producer=sibling)
    sibling_batch = make.batch(make.product(sibling, gtin=_gtin("0893123450003")), lot_code="KHAC-01")
    record_event(sibling_batch, {"type": "harvesting", "time": _at(DAY)}, actor=staff)
    record_event(other.batch, {"type": "harvesting", "time": _at(DAY)}, actor=other.staff)
    db.session.commit()
    lots = [cherries, bought, roasted, shipment]
    return {
        "own": own,
        "other": other,
        "staff": staff,
        "farm": farm,
        "cherries": cherries,
        "bought": bought,
        "roasted": roasted,
        "shipment": shipment,
        "lots": lots,
        "event": event,
        "recall": recall,
        "sensor": sensor,
        "sibling": sibling_batch,
        "sibling_user": sibling_user,
    }


def exported(batches: list[Batch]) -> list[dict]:
    """The lots' own EPCIS export, as the chain document gives it."""
    return batch_events(batches, project_uris(BASE))


def _without_record_time(events: list[dict]) -> list[dict]:
    return [{key: value for key, value in event.items() if key != "recordTime"} for event in events]


# --- the answer is the export --------------------------------------------------------------------


def test_events_are_the_lots_export_with_the_same_ids_and_validate(repo, epcis):
    answered = epcis.events(repo["staff"], perPage=4)
    export = exported([*repo["lots"], repo["sibling"]])  # the centre's staff: both producers of Đắk Lắk
    retracted = next(e for e in export if e.get("errorDeclaration", {}).get("reason") == "did_not_occur")
    expected = [event for event in export if event is not retracted]
    by_id = {event["eventID"]: event for event in _without_record_time(answered)}
    assert sorted(by_id) == sorted(_ids(expected))
    assert all(by_id[event["eventID"]] == event for event in expected)
    assert all(
        datetime.fromisoformat(event["recordTime"]).utcoffset() == timedelta(hours=7) for event in answered
    )
    types = {event["type"] for event in answered}
    assert types == {"ObjectEvent", "TransformationEvent", "AggregationEvent", "AssociationEvent"}


def named(repo: dict) -> dict[str, str]:
    """The eventIDs of the repository's own events, by what they are (a recall: by lot)."""
    lots = {batch.id: batch.lot_code for batch in repo["lots"]}
    names = {}
    for source, event in sourced_batch_events(repo["lots"], project_uris(BASE)):
        kind = event["type"]
        if kind != "ObjectEvent":
            names[kind.removesuffix("Event").lower()] = event["eventID"]
            continue
        what = event.get("trace:eventType")
        if "errorDeclaration" in event:
            what += "_retracted" if event["errorDeclaration"]["reason"] == "did_not_occur" else "_voided"
        elif what == "inspecting":
            what = "corrected"
        elif what == "recall":
            what = f"recall_{lots[source.batch_id]}"
        assert what not in names, what
        names[what] = event["eventID"]
    return names


@pytest.fixture
def ids(repo):
    return named(repo)


def _query(
    epcis: Client, repo: dict, user: Any = None, path: str = "/epcis/events", **params: Any
) -> set[str]:
    user = user or repo["own"].producer_user  # the producer: its own events only
    return set(_ids(epcis.events(user, path, **params)))


def _refused(response: Any, parameter: str, status: int = 400) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    body = response.get_json()
    assert body["status"] == status and body["title"] and body["detail"]
    if status == 400:
        assert body["type"] == "epcisException:QueryParameterException"
        assert parameter in body["error"]["fields"], body
        assert parameter in body["detail"] or parameter in str(body["error"]["fields"])
    return body


def _get(epcis: Client, repo: dict, url: str, **kwargs: Any):
    return epcis.get(url, repo["own"].producer_user, **kwargs)


def test_the_producer_sees_its_own_events_without_the_retracted_one(repo, epcis, ids):
    assert _query(epcis, repo) == set(ids.values()) - {ids["storing_retracted"]}
    assert {"harvesting", "receiving", "transformation", "inspecting_voided", "corrected", "shipping"} <= set(
        ids
    )
    assert {"aggregation", "association", "recall_RANG-01", "recall_GUI-01", "storing_retracted"} <= set(ids)


def test_event_type(repo, epcis, ids):
    assert _query(epcis, repo, eventType="TransformationEvent") == {ids["transformation"]}
    assert _query(epcis, repo, eventType="AggregationEvent|AssociationEvent") == {
        ids["aggregation"],
        ids["association"],
    }
    assert _query(epcis, repo, eventType="TransactionEvent") == set()
    assert _query(epcis, repo, eventType="https://example.org/MyEvent") == set()  # an extension type
    _refused(_get(epcis, repo, "/epcis/events?eventType=Object"), "eventType")


def test_event_time_window(repo, epcis, ids):
    start, end = _at(DAY + timedelta(days=1)), _at(DAY + timedelta(days=3))
    window = _query(epcis, repo, GE_eventTime=start.isoformat(), LT_eventTime=end.isoformat())
    assert window == {ids["transformation"], ids["inspecting_voided"], ids["corrected"]}
    # "+07:00" sent unencoded arrives as " 07:00": still read as the offset.
    response = _get(
        epcis, repo, f"/epcis/events?GE_eventTime={start.isoformat()}&LT_eventTime={end.isoformat()}"
    )
    assert response.status_code == 200
    assert len(response.get_json()["epcisBody"]["queryResults"]["resultsBody"]["eventList"]) == 3
    assert _query(epcis, repo, GE_eventTime="2030-01-01T00:00:00Z") == set()
    _refused(_get(epcis, repo, "/epcis/events?GE_eventTime=2026-03-02T08:00:00"), "GE_eventTime")
    _refused(_get(epcis, repo, "/epcis/events?LT_eventTime=tomorrow"), "LT_eventTime")
    _refused(
        _get(epcis, repo, "/epcis/events?GE_eventTime=2026-01-01Z&GE_eventTime=2026-02-01Z"), "GE_eventTime"
    )


def test_record_time_window(repo, epcis, ids, db):
    before = datetime.now(VIETNAM_OFFSET)
    late = record_event(repo["cherries"], {"type": "storing", "time": _at(DAY, 12)}, actor=repo["staff"])
    db.session.commit()
    newer = _query(epcis, repo, GE_recordTime=before.isoformat())
    assert len(newer) == 1 and newer != set(ids.values())
    assert _ids([e for e in exported([repo["cherries"]]) if e.get("trace:eventType") == "storing"]) == list(
        newer
    )
    assert late.recorded_at >= before
    assert _query(epcis, repo, LT_recordTime=before.isoformat()) == set(ids.values()) - {
        ids["storing_retracted"]
    }
    _refused(_get(epcis, repo, "/epcis/events?GE_recordTime=yesterday"), "GE_recordTime")


def test_action(repo, epcis, ids):
    assert _query(epcis, repo, EQ_action="ADD") == {ids["harvesting"], ids["aggregation"], ids["association"]}
    observed = _query(epcis, repo, EQ_action="OBSERVE")
    assert ids["shipping"] in observed and ids["harvesting"] not in observed
    assert ids["transformation"] not in observed | _query(epcis, repo, EQ_action="ADD")  # it has no action
    assert _query(epcis, repo, EQ_action="DELETE") == set()
    _refused(_get(epcis, repo, "/epcis/events?EQ_action=MOVE"), "EQ_action")


@pytest.mark.parametrize(
    "spelling",
    ["shipping", "urn:epcglobal:cbv:bizstep:shipping", "https://ref.gs1.org/cbv/BizStep-shipping"],
)
def test_biz_step_in_each_spelling(repo, epcis, ids, spelling):
    assert _query(epcis, repo, EQ_bizStep=spelling) == {ids["shipping"]}


def test_biz_step_lists_and_refusals(repo, epcis, ids):
    assert _query(epcis, repo, EQ_bizStep="receiving|inspecting") == {
        ids["receiving"],
        ids["inspecting_voided"],
        ids["corrected"],
    }
    assert _query(epcis, repo, EQ_bizStep="commissioning") == {ids["harvesting"], ids["transformation"]}
    assert _query(epcis, repo, EQ_bizStep="https://example.org/steps/roasting") == set()
    _refused(_get(epcis, repo, "/epcis/events?EQ_bizStep=harvest"), "EQ_bizStep")
    _refused(_get(epcis, repo, "/epcis/events?EQ_bizStep=shipping||receiving"), "EQ_bizStep")


def test_disposition(repo, epcis, ids):
    assert _query(epcis, repo, EQ_disposition="in_transit") == {ids["shipping"]}
    # The recall reaches the shipment made from the roasted lot.
    recalls = {ids["recall_RANG-01"], ids["recall_GUI-01"]}
    assert _query(epcis, repo, EQ_disposition="urn:epcglobal:cbv:disp:recalled") == recalls
    assert _query(epcis, repo, EQ_disposition="active|in_progress") == {ids["harvesting"], ids["receiving"]}
    _refused(_get(epcis, repo, "/epcis/events?EQ_disposition=spoiled"), "EQ_disposition")


def test_read_point_in_urn_and_digital_link_forms(repo, epcis, ids):
    gln = repo["farm"].gln
    at_farm = {ids["harvesting"], ids["shipping"]}  # the retracted storing was there too
    assert _query(epcis, repo, EQ_readPoint=f"https://id.gs1.org/414/{gln}") == at_farm
    assert _query(epcis, repo, EQ_readPoint=sgln_urn(gln, 7)) == at_farm
    assert _query(epcis, repo, EQ_readPoint=f"https://resolver.example.com/414/{gln}") == at_farm
    assert _query(epcis, repo, WD_readPoint=sgln_urn(gln, 9)) == at_farm
    own = f"{BASE}/id/location/{quote(repo['own'].location.internal_code, safe='')}"
    assert _query(epcis, repo, EQ_readPoint=own) == {ids["receiving"], ids["transformation"]}
    _refused(_get(epcis, repo, "/epcis/events?EQ_readPoint=farm"), "EQ_readPoint")
    _refused(_get(epcis, repo, "/epcis/events?EQ_readPoint=urn:epc:id:sgln:893123.45.0"), "EQ_readPoint")
    _refused(
        _get(epcis, repo, "/epcis/events?EQ_readPoint=https://id.gs1.org/414/8931234567891"), "EQ_readPoint"
    )


def test_biz_location(repo, epcis, ids):
    gln = repo["farm"].gln
    # In transit the goods are no longer at the place of the shipping: it has no bizLocation.
    assert _query(epcis, repo, EQ_bizLocation=f"https://id.gs1.org/414/{gln}") == {ids["harvesting"]}
    own = f"{BASE}/id/location/{quote(repo['own'].location.internal_code, safe='')}"
    assert _query(epcis, repo, EQ_bizLocation=own) == {ids["receiving"]}
    assert _query(epcis, repo, WD_bizLocation=sgln_urn(gln, 7)) == {ids["harvesting"]}


def _roasted_item(repo: dict) -> str:
    return sgtin_urn(repo["roasted"].product.gtin, "R1", 7)


def test_match_epc(repo, epcis, ids):
    assert _query(epcis, repo, MATCH_epc=repo["sensor"]) == {ids["association"]}
    # A registered item matches the events of its lot (this registry records events per lot).
    roasted = {ids["inspecting_voided"], ids["corrected"], ids["recall_RANG-01"], ids["aggregation"]}
    assert _query(epcis, repo, MATCH_epc=_roasted_item(repo)) == roasted
    digital_link = f"https://id.gs1.org/01/{repo['roasted'].product.gtin}/21/R1"
    assert _query(epcis, repo, MATCH_epc=digital_link) == roasted
    assert _query(epcis, repo, MATCH_epc=sgtin_urn(repo["roasted"].product.gtin, "NONE", 7)) == set()
    shipment = f"{BASE}/t/{repo['shipment'].public_code}"
    assert _query(epcis, repo, MATCH_epc=shipment) == set()  # a parent, not an EPC of the list
    _refused(_get(epcis, repo, "/epcis/events?MATCH_epc=urn:epc:id:sgtin:0614141.107346"), "MATCH_epc")


def test_match_parent_id(repo, epcis, ids):
    shipment = f"{BASE}/t/{repo['shipment'].public_code}"
    assert _query(epcis, repo, MATCH_parentID=shipment) == {ids["aggregation"], ids["association"]}
    assert _query(epcis, repo, MATCH_parentID=repo["sensor"]) == set()


def test_match_input_and_output_epc(repo, epcis, ids):
    cherry = sgtin_urn(repo["cherries"].product.gtin, "Q1", 7)
    assert _query(epcis, repo, MATCH_inputEPC=cherry) == {ids["transformation"]}
    assert _query(epcis, repo, MATCH_outputEPC=cherry) == set()
    assert _query(epcis, repo, MATCH_outputEPC=_roasted_item(repo)) == {ids["transformation"]}
    assert _query(epcis, repo, MATCH_inputEPC=_roasted_item(repo)) == set()


def test_match_epc_class_in_each_form(repo, epcis, ids):
    gtin = repo["cherries"].product.gtin
    for spelling in (
        lgtin_urn(gtin, "QUA-01", 7),
        f"https://id.gs1.org/01/{gtin}/10/QUA-01",
        f"https://other-resolver.example/01/{gtin[1:]}/10/QUA-01",  # GTIN-13 answers as GTIN-14
        f"https://id.gs1.org/01/{gtin}",  # every lot of the GTIN
        f"urn:epc:idpat:sgtin:{gtin[1:8]}.{gtin[0]}{gtin[8:13]}.*",
    ):
        assert _query(epcis, repo, MATCH_epcClass=spelling) == {ids["harvesting"]}, spelling
    bought = f"{BASE}/t/{repo['bought'].public_code}"
    assert _query(epcis, repo, MATCH_epcClass=bought) == {ids["receiving"]}
    roasted = f"https://id.gs1.org/01/{repo['roasted'].product.gtin}/10/RANG-01"
    # quantityList and childQuantityList; not the transformation's output
    assert _query(epcis, repo, MATCH_epcClass=roasted) == {
        ids["inspecting_voided"],
        ids["corrected"],
        ids["recall_RANG-01"],
        ids["aggregation"],
    }


def test_match_input_and_output_epc_class(repo, epcis, ids):
    cherries = lgtin_urn(repo["cherries"].product.gtin, "QUA-01", 7)
    bought = f"{BASE}/t/{repo['bought'].public_code}"
    roasted = f"https://id.gs1.org/01/{repo['roasted'].product.gtin}/10/RANG-01"
    assert _query(epcis, repo, MATCH_inputEPCClass=f"{cherries}|{bought}") == {ids["transformation"]}
    assert _query(epcis, repo, MATCH_inputEPCClass=roasted) == set()
    assert _query(epcis, repo, MATCH_outputEPCClass=roasted) == {ids["transformation"]}


def test_match_any_epc_and_any_epc_class(repo, epcis, ids):
    shipment = f"{BASE}/t/{repo['shipment'].public_code}"
    assert _query(epcis, repo, MATCH_anyEPC=f"{shipment}|{repo['sensor']}") == {
        ids["aggregation"],
        ids["association"],
    }
    roasted = f"https://id.gs1.org/01/{repo['roasted'].product.gtin}/10/RANG-01"
    assert _query(epcis, repo, MATCH_anyEPCClass=roasted) == {
        ids["transformation"],
        ids["inspecting_voided"],
        ids["corrected"],
        ids["recall_RANG-01"],
        ids["aggregation"],
    }


def test_quantities(repo, epcis, ids):
    assert _query(epcis, repo, EQ_quantity="250") == {ids["transformation"]}  # the bought lot taken
    assert _query(epcis, repo, GE_quantity="1000") == {ids["harvesting"], ids["transformation"]}
    assert _query(epcis, repo, GT_quantity="1000") == set()
    assert _query(epcis, repo, LT_quantity="300") == {ids["transformation"]}
    assert _query(epcis, repo, LE_quantity="300") == {ids["transformation"], ids["receiving"]}
    _refused(_get(epcis, repo, "/epcis/events?GE_quantity=much"), "GE_quantity")


def test_event_id(repo, epcis, ids):
    wanted = {ids["harvesting"], ids["shipping"]}
    assert _query(epcis, repo, EQ_eventID="|".join(wanted)) == wanted
    assert _query(epcis, repo, EQ_eventID="urn:uuid:0d3a1c1e-0000-4000-8000-000000000000") == set()
    _refused(_get(epcis, repo, "/epcis/events?EQ_eventID=harvest"), "EQ_eventID")


def test_error_declarations(repo, epcis, ids):
    declared = epcis.events(repo["own"].producer_user, EXISTS_errorDeclaration="true")
    assert set(_ids(declared)) == {ids["inspecting_voided"], ids["storing_retracted"]}
    voided = next(event for event in declared if event["eventID"] == ids["inspecting_voided"])
    assert voided["errorDeclaration"]["reason"] == "incorrect_data"
    assert voided["errorDeclaration"]["correctiveEventIDs"] == [ids["corrected"]]
    assert _query(epcis, repo, EXISTS_errorDeclaration="false") == set(ids.values()) - {
        ids["storing_retracted"]
    }
    assert _query(epcis, repo, EQ_errorReason="did_not_occur") == {ids["storing_retracted"]}
    assert _query(epcis, repo, EQ_errorReason="urn:epcglobal:cbv:er:incorrect_data") == {
        ids["inspecting_voided"]
    }
    assert _query(epcis, repo, EQ_correctiveEventID=ids["corrected"]) == {ids["inspecting_voided"]}
    hour_ago = (datetime.now(VIETNAM_OFFSET) - timedelta(hours=1)).isoformat()
    assert _query(epcis, repo, GE_errorDeclarationTime=hour_ago) == {
        ids["inspecting_voided"],
        ids["storing_retracted"],
    }
    assert _query(epcis, repo, LT_errorDeclarationTime=hour_ago) == set()
    _refused(_get(epcis, repo, "/epcis/events?EXISTS_errorDeclaration=maybe"), "EXISTS_errorDeclaration")
    _refused(_get(epcis, repo, "/epcis/events?EQ_errorReason=typo"), "EQ_errorReason")


def test_business_transactions_sources_and_destinations(repo, epcis, ids):
    producer = f"{BASE}/id/producer/{repo['own'].producer.id}"
    assert _query(epcis, repo, EQ_bizTransaction_inv=f"{producer}/document/HD-0001") == {ids["shipping"]}
    assert _query(epcis, repo, EQ_bizTransaction_desadv=f"{producer}/document/PX-0012") == {ids["receiving"]}
    assert _query(epcis, repo, EQ_bizTransaction_po=f"{producer}/document/HD-0001") == set()
    assert _query(epcis, repo, EQ_source_owning_party=producer) == {ids["shipping"]}
    assert _query(epcis, repo, **{"EQ_destination_urn:epcglobal:cbv:sdt:owning_party": producer}) == {
        ids["receiving"]
    }


def test_fields_these_events_never_carry_match_nothing(repo, epcis):
    for name, value in (
        ("EQ_type", "Temperature"),
        ("EQ_deviceID", "urn:epc:id:giai:4000001.111"),
        ("GE_startTime", "2026-01-01T00:00:00Z"),
        ("EQ_transformationID", "urn:uuid:1"),
        ("EQ_persistentDisposition_set", "completeness_verified"),
        ("EQ_booleanValue", "true"),
    ):
        assert _query(epcis, repo, **{name: value}) == set(), name
    _refused(_get(epcis, repo, "/epcis/events?GE_startTime=soon"), "GE_startTime")


def test_unknown_parameters_are_refused_by_name(repo, epcis):
    for name in ("EQ_colour", "eventtype", "EQ_INNER_ilmd", "MATCH_anyepc"):
        _refused(_get(epcis, repo, f"/epcis/events?{name}=x"), name)


def _times(events: list[dict], key: str = "eventTime") -> list[datetime]:
    return [datetime.fromisoformat(event[key]) for event in events]


def test_order_by_and_direction(repo, epcis):
    user = repo["own"].producer_user
    ascending = epcis.events(user, perPage=3)  # no orderBy: eventTime ascending
    assert _times(ascending) == sorted(_times(ascending))
    descending = epcis.events(user, orderBy="eventTime", perPage=3)  # orderBy alone: descending
    assert _times(descending) == sorted(_times(descending), reverse=True)
    assert _ids(descending) == _ids(
        epcis.events(user, orderBy="eventTime", orderDirection="DESC", perPage=50)
    )
    explicit = epcis.events(user, orderBy="eventTime", orderDirection="ASC", perPage=2)
    assert _times(explicit) == sorted(_times(explicit))
    by_record = epcis.events(user, orderBy="recordTime", orderDirection="ASC", perPage=2)
    assert _times(by_record, "recordTime") == sorted(_times(by_record, "recordTime"))
    assert sorted(_ids(by_record)) == sorted(_ids(ascending))
    _refused(_get(epcis, repo, "/epcis/events?orderBy=quantity"), "orderBy")
    _refused(_get(epcis, repo, "/epcis/events?orderBy=eventTime&orderDirection=UP"), "orderDirection")


def test_event_count_limit_and_max_event_count(repo, epcis, ids):
    user = repo["own"].producer_user
    first = epcis.events(user, orderBy="eventTime", orderDirection="ASC", perPage=500)
    limited = epcis.events(user, orderBy="eventTime", orderDirection="ASC", eventCountLimit=3, perPage=2)
    assert _ids(limited) == _ids(first)[:3]
    latest = epcis.events(user, orderBy="eventTime", eventCountLimit=1)
    assert _ids(latest) == [_ids(first)[-1]]
    _refused(_get(epcis, repo, "/epcis/events?eventCountLimit=3"), "eventCountLimit")
    _refused(
        _get(epcis, repo, "/epcis/events?orderBy=eventTime&eventCountLimit=3&maxEventCount=3"),
        "eventCountLimit",
    )
    _refused(_get(epcis, repo, "/epcis/events?orderBy=eventTime&eventCountLimit=0"), "eventCountLimit")
    body = _refused(_get(epcis, repo, "/epcis/events?maxEventCount=2"), "maxEventCount", status=413)
    assert body["type"] == "epcisException:QueryTooLargeException"
    assert len(epcis.events(user, maxEventCount=len(ids))) == len(ids) - 1


def test_per_page_is_bounded_and_checked(repo, epcis, ids, app):
    response = _get(epcis, repo, "/epcis/events?perPage=1000000")
    assert response.status_code == 200 and "Link" not in response.headers
    app.config["EPCIS_MAX_PER_PAGE"] = 2
    try:
        capped = _get(epcis, repo, "/epcis/events?perPage=1000")
        assert len(capped.get_json()["epcisBody"]["queryResults"]["resultsBody"]["eventList"]) == 2
        assert 'rel="next"' in capped.headers["Link"]
    finally:
        app.config["EPCIS_MAX_PER_PAGE"] = 500
    for value in ("0", "-1", "ten", "1.5"):
        _refused(_get(epcis, repo, f"/epcis/events?perPage={value}"), "perPage")


def _page(response: Any) -> tuple[list[str], str | None]:
    """A page's eventIDs and the URL of the next page (path and query), if any."""
    assert response.status_code == 200, response.get_json()
    events = response.get_json()["epcisBody"]["queryResults"]["resultsBody"]["eventList"]
    link = response.headers.get("Link")
    if link is None:
        return _ids(events), None
    target = urlsplit(link[1:].split(">")[0])
    return _ids(events), f"{target.path}?{target.query}"


def test_the_next_link_repeats_the_query(repo, epcis):
    response = _get(epcis, repo, "/epcis/events?perPage=3&EQ_action=ADD|OBSERVE")
    target = urlsplit(response.headers["Link"][1:].split(">")[0])
    assert target.path == "/epcis/events" and response.headers["Link"].endswith('>; rel="next"')
    query = parse_qs(target.query)
    assert query["perPage"] == ["3"] and query["EQ_action"] == ["ADD|OBSERVE"] and query["nextPageToken"]
    assert datetime.fromisoformat(response.headers["GS1-Next-Page-Token-Expires"]) > datetime.now(
        VIETNAM_OFFSET
    )


def test_pages_have_no_duplicates_or_gaps_even_while_events_are_recorded(repo, epcis, db):
    user = repo["own"].producer_user
    whole = _ids(epcis.events(user, perPage=500))
    together, url = _page(_get(epcis, repo, "/epcis/events?perPage=3"))
    # Recorded while the client pages: one before the position reached, one after it.
    for days in (-30, 60):
        record_event(
            repo["cherries"],
            {"type": "inspecting", "time": _at(DAY + timedelta(days=days))},
            actor=repo["staff"],
        )
    db.session.commit()
    while url is not None:
        ids, url = _page(_get(epcis, repo, url))
        together += ids
    assert len(together) == len(set(together))  # no event twice
    assert set(whole) <= set(together)  # none missed
    later = [e["eventID"] for e in exported([repo["cherries"]]) if e["eventTime"].startswith("2026-05-01")]
    assert set(together) - set(whole) == set(later)  # the one behind the position waits for the next query


def test_tampered_or_foreign_tokens_are_refused(repo, epcis):
    response = _get(epcis, repo, "/epcis/events?perPage=2")
    token = parse_qs(urlsplit(response.headers["Link"][1:].split(">")[0]).query)["nextPageToken"][0]
    tampered = token[:-3] + ("AAA" if token[-3:] != "AAA" else "BBB")
    _refused(_get(epcis, repo, f"/epcis/events?perPage=2&nextPageToken={tampered}"), "nextPageToken")
    _refused(
        _get(epcis, repo, f"/epcis/events?perPage=2&EQ_action=ADD&nextPageToken={token}"), "nextPageToken"
    )
    other_user = epcis.get(f"/epcis/events?perPage=2&nextPageToken={token}", repo["staff"])
    _refused(other_user, "nextPageToken")
    assert _get(epcis, repo, f"/epcis/events?perPage=2&nextPageToken={token}").status_code == 200


# --- scope ---------------------------------------------------------------------------------------


def test_each_caller_reads_its_own_tenant_only(repo, epcis, ids, tenants):
    own_ids = set(ids.values()) - {ids["storing_retracted"]}
    sibling = set(_ids(exported([repo["sibling"]])))
    nghean = set(_ids(exported([repo["other"].batch])))
    assert _query(epcis, repo, repo["own"].producer_user) == own_ids
    assert _query(epcis, repo, repo["sibling_user"]) == sibling
    assert _query(epcis, repo, repo["own"].auditor) == own_ids | sibling
    assert _query(epcis, repo, repo["other"].staff) == nghean
    assert _query(epcis, repo, tenants["ministry"]) == own_ids | sibling | nghean
    # Another tenant's eventID, lot or place is unknown, not merely empty.
    harvest = quote(ids["harvesting"], safe="")
    for url in (
        f"/epcis/events/{harvest}",
        f"/epcis/epcs/{quote(lgtin_urn(repo['cherries'].product.gtin, 'QUA-01', 7), safe='')}/events",
        f"/epcis/readPoints/{quote(sgln_urn(repo['farm'].gln, 7), safe='')}/events",
    ):
        response = epcis.get(url, repo["sibling_user"])
        assert response.status_code == 404, url
        assert response.get_json()["type"] == "epcisException:NoSuchResourceException"
        assert epcis.get(url, repo["own"].producer_user).status_code == 200, url
    assert _query(epcis, repo, repo["sibling_user"], EQ_eventID=ids["harvesting"]) == set()


def test_signed_out_callers_get_a_problem_not_a_page(repo, client):
    response = client.get("/epcis/events")
    assert response.status_code == 401 and response.mimetype == "application/problem+json"
    body = response.get_json()
    assert body["type"] == "epcisException:SecurityException" and body["error"]["code"] == "unauthorized"
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert response.headers["GS1-EPCIS-Version"] == "2.0.0"
    bad = client.get("/epcis/events", headers={"Authorization": "Bearer not-a-token"})
    assert bad.status_code == 401


# --- headers and negotiation -----------------------------------------------------------------------


def test_every_answer_says_its_versions(repo, epcis):
    for url, status in (
        ("/epcis/events", 200),
        ("/epcis/events?EQ_action=MOVE", 400),
        ("/epcis/eventTypes", 200),
        ("/epcis/nothing-here", 404),
        ("/epcis/events/urn:uuid:unknown", 404),
    ):
        response = _get(epcis, repo, url)
        assert response.status_code == status, url
        assert response.headers["GS1-EPCIS-Version"] == "2.0.0", url
        assert response.headers["GS1-CBV-Version"] == "2.0.0", url
        if status >= 400:
            assert response.mimetype == "application/problem+json", url
    wrong_method = epcis.post("/epcis/events", repo["own"].producer_user, json={})
    assert wrong_method.status_code == 405 and wrong_method.mimetype == "application/problem+json"


def test_options_describe_the_resource(repo, epcis):
    user = repo["own"].producer_user
    response = epcis.api.client.options(
        "/epcis/events", headers={"Authorization": f"Bearer {epcis.api.token(user)}"}
    )
    assert response.status_code == 204 and response.get_data() == b""
    assert "GET" in response.headers["Allow"]
    for name in ("GS1-EPCIS-Min", "GS1-EPCIS-Max", "GS1-CBV-Min", "GS1-CBV-Max"):
        assert response.headers[name] == "2.0.0", name
    capture = epcis.api.client.options(
        "/epcis/capture", headers={"Authorization": f"Bearer {epcis.api.token(user)}"}
    )
    assert capture.status_code == 204 and capture.headers["GS1-EPCIS-Capture-Limit"] == "1000"
    assert capture.headers["GS1-Capture-Error-Behaviour"] == "all"


@pytest.mark.parametrize(
    "headers",
    [
        {"GS1-EPC-Format": "Always_EPC_URN"},
        {"GS1-EPCIS-Min": "2.1.0"},
        {"GS1-EPCIS-Max": "1.2"},
        {"GS1-CBV-Min": "3"},
        {"Accept": "application/xml"},
    ],
)
def test_what_the_client_cannot_read_answers_406(repo, epcis, headers):
    response = _get(epcis, repo, "/epcis/events", headers=headers)
    assert response.status_code == 406, headers
    assert response.get_json()["type"] == "epcisException:NotAcceptableException"


def test_the_client_chooses_json_or_json_ld(repo, epcis):
    assert _get(epcis, repo, "/epcis/events", headers={"Accept": "application/ld+json"}).mimetype == (
        "application/ld+json"
    )
    assert (
        _get(epcis, repo, "/epcis/events", headers={"Accept": "application/json"}).mimetype
        == "application/json"
    )
    for accepted in (
        {"GS1-EPC-Format": "Always_GS1_Digital_Link"},
        {"GS1-EPCIS-Min": "1.2", "GS1-EPCIS-Max": "2.0"},
    ):
        assert _get(epcis, repo, "/epcis/events", headers=accepted).status_code == 200


def test_errors_are_in_the_callers_language(repo, client):
    english = client.get("/epcis/events", headers={"Accept-Language": "en"}).get_json()
    vietnamese = client.get("/epcis/events", headers={"Accept-Language": "vi"}).get_json()
    assert english["detail"] == "Send a valid API token: Authorization: Bearer TOKEN."
    # The same words as /api/v1's, in Vietnamese.
    assert (
        vietnamese["detail"]
        == client.get("/api/v1/batches", headers={"Accept-Language": "vi"}).get_json()["error"]["message"]
    )
    assert vietnamese["detail"] != english["detail"]


# --- one event, and the resources beside /events ------------------------------------------------------


def test_one_event_by_its_id(repo, epcis, ids):
    response = _get(epcis, repo, f"/epcis/events/{quote(ids['shipping'], safe='')}")
    assert response.status_code == 200
    document = response.get_json()
    assert validate_document(document).valid
    events = document["epcisBody"]["queryResults"]["resultsBody"]["eventList"]
    assert _ids(events) == [ids["shipping"]] and events[0]["bizStep"] == "shipping"
    # A withdrawn event answers by its ID with the declaration that it did not occur.
    retracted = _get(epcis, repo, f"/epcis/events/{quote(ids['storing_retracted'], safe='')}").get_json()
    event = retracted["epcisBody"]["queryResults"]["resultsBody"]["eventList"][0]
    assert event["errorDeclaration"]["reason"] == "did_not_occur"
    unknown = _get(epcis, repo, "/epcis/events/ni:%2F%2F%2Fsha-256;00?ver=CBV2.0")
    assert (
        unknown.status_code == 404 and unknown.get_json()["type"] == "epcisException:NoSuchResourceException"
    )


def test_event_types(repo, epcis, ids):
    collection = _get(epcis, repo, "/epcis/eventTypes").get_json()
    assert collection["type"] == "Collection" and collection["@context"] == EPCIS_CONTEXT
    assert set(collection["member"]) == {
        "ObjectEvent",
        "AggregationEvent",
        "TransactionEvent",
        "TransformationEvent",
        "AssociationEvent",
    }
    assert _get(epcis, repo, "/epcis/eventTypes/AssociationEvent").get_json()["member"] == ["events"]
    assert _query(epcis, repo, path="/epcis/eventTypes/AggregationEvent/events") == {ids["aggregation"]}
    assert _query(epcis, repo, path="/epcis/eventTypes/TransactionEvent/events") == set()
    assert _get(epcis, repo, "/epcis/eventTypes/PizzaEvent/events").status_code == 404
    _refused(
        _get(epcis, repo, "/epcis/eventTypes/ObjectEvent/events?eventType=AggregationEvent"), "eventType"
    )


def test_business_steps(repo, epcis, ids):
    steps = _get(epcis, repo, "/epcis/bizSteps?perPage=500").get_json()["member"]
    assert {"shipping", "receiving", "commissioning", "decommissioning"} <= set(steps)
    assert _get(epcis, repo, "/epcis/bizSteps/shipping").get_json()["member"] == ["events"]
    for spelling in ("shipping", "urn:epcglobal:cbv:bizstep:shipping"):
        assert _query(epcis, repo, path=f"/epcis/bizSteps/{spelling}/events") == {ids["shipping"]}
    assert _query(
        epcis, repo, path="/epcis/bizSteps/receiving/events", GE_eventTime="2026-03-02T10:00:00+07:00"
    ) == {ids["receiving"]}
    assert _query(epcis, repo, path="/epcis/bizSteps/destroying/events") == set()  # a CBV step, none here
    assert _get(epcis, repo, "/epcis/bizSteps/https:%2F%2Fexample.org%2Fstep/events").status_code == 404
    paged = _get(epcis, repo, "/epcis/bizSteps?perPage=10")
    assert len(paged.get_json()["member"]) == 10 and 'rel="next"' in paged.headers["Link"]
    _refused(_get(epcis, repo, "/epcis/bizSteps?colour=red"), "colour")


def test_dispositions_read_points_and_business_locations(repo, epcis, ids):
    assert "in_transit" in _get(epcis, repo, "/epcis/dispositions?perPage=500").get_json()["member"]
    assert _query(epcis, repo, path="/epcis/dispositions/in_transit/events") == {ids["shipping"]}
    farm = f"https://id.gs1.org/414/{repo['farm'].gln}"
    assert farm in _get(epcis, repo, "/epcis/readPoints").get_json()["member"]
    urn = quote(sgln_urn(repo["farm"].gln, 7), safe="")
    assert _query(epcis, repo, path=f"/epcis/readPoints/{urn}/events") == {ids["harvesting"], ids["shipping"]}
    assert _query(epcis, repo, path=f"/epcis/bizLocations/{urn}/events") == {ids["harvesting"]}
    assert _get(epcis, repo, f"/epcis/bizLocations/{quote(farm, safe='')}").get_json()["member"] == ["events"]
    unknown = quote("https://id.gs1.org/414/" + _gtin("893999999999"), safe="")
    assert _get(epcis, repo, f"/epcis/readPoints/{unknown}/events").status_code == 404


def test_epcs(repo, epcis, ids):
    roasted = f"https://id.gs1.org/01/{repo['roasted'].product.gtin}/10/RANG-01"
    members = _get(epcis, repo, "/epcis/epcs?perPage=500").get_json()["member"]
    assert roasted in members and repo["sensor"] in members
    assert f"{BASE}/t/{repo['shipment'].public_code}" in members
    # Any list, parent, input or output: the EPC or EPC class, in either form, slashes encoded or not.
    every = {
        ids["transformation"],
        ids["inspecting_voided"],
        ids["corrected"],
        ids["recall_RANG-01"],
        ids["aggregation"],
    }
    assert _query(epcis, repo, path=f"/epcis/epcs/{quote(roasted, safe='')}/events") == every
    assert _query(epcis, repo, path=f"/epcis/epcs/{roasted}/events") == every
    urn = lgtin_urn(repo["roasted"].product.gtin, "RANG-01", 7)
    assert _query(epcis, repo, path=f"/epcis/epcs/{urn}/events", EQ_bizStep="inspecting") == {
        ids["inspecting_voided"],
        ids["corrected"],
    }
    assert _get(epcis, repo, f"/epcis/epcs/{urn}").get_json()["member"] == ["events"]
    assert _query(epcis, repo, path=f"/epcis/epcs/{repo['sensor']}/events") == {ids["association"]}
    assert _get(epcis, repo, "/epcis/epcs/urn:epc:id:giai:8931234.UNKNOWN/events").status_code == 404
    _refused(_get(epcis, repo, "/epcis/epcs/urn:epc:id:sgtin:12.34.5/events"), "epc")


def test_top_level_resources(repo, epcis):
    body = _get(epcis, repo, "/epcis").get_json()
    assert body["type"] == "Collection"
    assert {"events", "eventTypes", "epcs", "bizSteps", "capture"} <= set(body["member"])


# --- hostile and random input ----------------------------------------------------------------------

PARAMETERS = sorted(
    {
        "eventType",
        "GE_eventTime",
        "LT_recordTime",
        "EQ_action",
        "EQ_bizStep",
        "EQ_disposition",
        "EQ_readPoint",
        "WD_bizLocation",
        "MATCH_epc",
        "MATCH_anyEPCClass",
        "EQ_quantity",
        "EQ_eventID",
        "EXISTS_errorDeclaration",
        "EQ_errorReason",
        "orderBy",
        "orderDirection",
        "eventCountLimit",
        "maxEventCount",
        "perPage",
        "nextPageToken",
        "EQ_bizTransaction_po",
        "GE_startTime",
        "EQ_unknown",
    }
)


def test_hostile_input_answers_problems(repo, epcis):
    for url in ("/epcis/events?EQ_bizStep=ship%00ping", "/epcis/epcs/urn:epc:id:sgtin:%00/events"):
        response = _get(epcis, repo, url)
        assert response.status_code == 400 and response.mimetype == "application/problem+json", url
    deep = "[" * 5000 + "]" * 5000
    response = epcis.post(
        "/epcis/capture", repo["staff"], data=deep, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400 and response.mimetype == "application/problem+json"


@settings(deadline=None, max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    st.lists(
        st.tuples(
            st.sampled_from(PARAMETERS), st.text(max_size=40) | st.sampled_from(["", "|", "2026-01-01Z"])
        ),
        max_size=4,
    )
)
def test_no_query_makes_the_server_fail(tenants, api, params):
    response = api.client.get(
        "/epcis/events",
        query_string=params,
        headers={"Authorization": f"Bearer {api.token(tenants['daklak'].producer_user)}"},
    )
    assert response.status_code in (200, 400, 413), (params, response.get_data(as_text=True)[:300])
    if response.status_code == 200:
        assert validate_document(response.get_json()).valid
