"""EPCIS 2.0 identifiers, canonical event hash IDs, documents and schema validation (no app, no database)."""

import copy
import json
import random
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from traceability.gs1.epcis import (
    EPCIS_CONTEXT,
    MAX_SCHEMA_ISSUES,
    EpcisIdentifierError,
    EventParts,
    GS1Key,
    QuantityElement,
    aggregation_event,
    canonical_number,
    canonical_time,
    canonical_uri,
    cbv_names,
    context_namespaces,
    declare_error,
    epcis_document,
    event_hash_id,
    gln_uri,
    lgtin_urn,
    lot_class_uri,
    object_event,
    parse_identifier,
    prehash_string,
    sgln_urn,
    sgtin_urn,
    transformation_event,
    validate_document,
    vocabulary_name,
    vocabulary_uri,
)
from traceability.gs1.identifiers import gtin_check_digit

EXAMPLES = Path(__file__).parent.parent / "data" / "epcis"
HANOI = timezone(timedelta(hours=7))
VOC = {"trace": "https://trace.example.vn/voc/"}

# The example of GS1 Germany's reference generator (epcis-event-hash-generator, tests/examples/
# epcisDocWithSingleEvent): the event, and its pre-hash string and ID by the CBV 2.0 rules. The
# generator publishes another ID for it (it writes the transaction's type before its value, which
# rule 13 puts after): tests/gs1/test_event_hash_cross_check.py asserts that difference.
REFERENCE_DOCUMENT = {
    "@context": [EPCIS_CONTEXT, {"gs1": "https://gs1.org/voc/"}],
    "type": "EPCISDocument",
    "schemaVersion": "2.0",
    "creationDate": "2022-02-17T11:30:47.0Z",
    "epcisBody": {
        "eventList": [
            {
                "type": "ObjectEvent",
                "action": "OBSERVE",
                "bizStep": "shipping",
                "disposition": "in_transit",
                "epcList": ["urn:epc:id:sgtin:0614141.107346.2017", "urn:epc:id:sgtin:0614141.107346.2018"],
                "eventTime": "2022-02-16T20:33:31.116000-06:00",
                "eventTimeZoneOffset": "-06:00",
                "readPoint": {"id": "urn:epc:id:sgln:0614141.07346.1234"},
                "bizTransactionList": [
                    {"type": "po", "bizTransaction": "http://transaction.acme.com/po/12345678"}
                ],
            }
        ]
    },
}
REFERENCE_PREHASH = (
    "eventType=ObjectEventeventTime=2022-02-17T02:33:31.116ZeventTimeZoneOffset=-06:00"
    "epcListepc=https://id.gs1.org/01/10614141073464/21/2017epc=https://id.gs1.org/01/10614141073464/21/2018"
    "action=OBSERVEbizStep=https://ref.gs1.org/cbv/BizStep-shipping"
    "disposition=https://ref.gs1.org/cbv/Disp-in_transitreadPointid=https://id.gs1.org/414/0614141073467/254/1234"
    "bizTransactionListbizTransaction=http://transaction.acme.com/po/12345678type=https://ref.gs1.org/cbv/BTT-po"
)
REFERENCE_ID = "ni:///sha-256;3e0f2437f4cb5e8a1b832b769c0eed1bf3e1421f14061132e9800ded03f10182?ver=CBV2.0"


def _example(name: str) -> dict:
    return json.loads((EXAMPLES / f"Example_{name}.jsonld").read_text())


# --- identifiers -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("uri", "key"),
    [
        ("urn:epc:id:sgtin:0614141.107346.2017", GS1Key("item", gtin="10614141073464", serial="2017")),
        ("urn:epc:class:lgtin:4012345.012345.998877", GS1Key("lot", gtin="04012345123456", lot="998877")),
        ("urn:epc:idpat:sgtin:4012345.066666.*", GS1Key("product", gtin="04012345666663")),
        ("urn:epc:id:sgln:0614141.07346.1234", GS1Key("location", gln="0614141073467", extension="1234")),
        ("urn:epc:id:sgln:0012345.11111.0", GS1Key("location", gln="0012345111112")),
        ("urn:epc:id:sscc:0614141.1234567890", GS1Key("logistic_unit", sscc="106141412345678908")),
        ("urn:epc:class:lgtin:893123.4500010.A%2FB.1", GS1Key("lot", gtin="48931235000100", lot="A/B.1")),
        (
            "https://id.gs1.org/01/09506000134352/10/ABC%2F1",
            GS1Key("lot", gtin="09506000134352", lot="ABC/1"),
        ),
        (
            "https://trace.example.vn/01/9506000134352/10/L1/21/S9?linkType=all",
            GS1Key("item", gtin="09506000134352", lot="L1", serial="S9"),
        ),
        ("https://brand.example/p/01/09506000134352", GS1Key("product", gtin="09506000134352")),
        (
            "https://id.gs1.org/414/0614141073467/254/1234",
            GS1Key("location", gln="0614141073467", extension="1234"),
        ),
        ("https://id.gs1.org/00/106141412345678908", GS1Key("logistic_unit", sscc="106141412345678908")),
    ],
)
def test_epc_urns_and_digital_links_are_read(uri, key):
    assert parse_identifier(uri) == key


@pytest.mark.parametrize(
    "uri",
    [
        "urn:epc:id:sgtin:0614141.10734.2017",  # 12 digits, not 13
        "urn:epc:class:lgtin:0614141.107346.",  # no lot
        "urn:epc:class:lgtin:0614141.107346.Lô",  # outside set 82
        "urn:epc:idpat:sgtin:0614141.107346.20*",
        "https://id.gs1.org/01/10614141073465/10/A",  # wrong check digit
        "https://id.gs1.org/414/0614141073460",
        "https://id.gs1.org/00/106141412345678900",
    ],
)
def test_malformed_gs1_keys_are_refused_with_a_reason(uri):
    with pytest.raises(EpcisIdentifierError):
        parse_identifier(uri)


@pytest.mark.parametrize(
    "uri",
    ["https://trace.example.vn/t/ABCDEFGH", "urn:uuid:1f0e", "urn:epc:id:grai:0614141.12345.400", "http://x"],
)
def test_other_uris_are_not_gs1_keys(uri):
    assert parse_identifier(uri) is None


def test_urns_encode_the_company_prefix_length_by_the_dot():
    gtin = "08931234500011"
    # The indicator digit (0) leads the item reference; the check digit is left out.
    assert lgtin_urn(gtin, "LO-01", 7) == "urn:epc:class:lgtin:8931234.050001.LO-01"
    assert lgtin_urn(gtin, "LO-01", 9) == "urn:epc:class:lgtin:893123450.0001.LO-01"
    assert lgtin_urn(gtin, "A/B?", 7) == "urn:epc:class:lgtin:8931234.050001.A%2FB%3F"
    assert sgtin_urn("10614141073464", "2017", 7) == "urn:epc:id:sgtin:0614141.107346.2017"
    assert sgln_urn("0614141073467", 7, "1234") == "urn:epc:id:sgln:0614141.07346.1234"
    assert sgln_urn("0012345111112", 7) == "urn:epc:id:sgln:0012345.11111.0"
    with pytest.raises(ValueError):
        lgtin_urn(gtin, "L", 5)


@given(
    data13=st.text(alphabet="0123456789", min_size=13, max_size=13),
    lot=st.from_regex(r'[!"%-?A-Z_a-z]{1,20}', fullmatch=True),
    prefix_length=st.integers(min_value=6, max_value=12),
)
def test_lot_urns_and_digital_links_round_trip(data13, lot, prefix_length):
    gtin = data13 + str(gtin_check_digit(data13))
    expected = GS1Key("lot", gtin=gtin, lot=lot)
    assert parse_identifier(lgtin_urn(gtin, lot, prefix_length)) == expected
    assert parse_identifier(lot_class_uri(gtin, lot)) == expected
    assert expected.digital_link() == lot_class_uri(gtin, lot)


@given(data12=st.text(alphabet="0123456789", min_size=12, max_size=12), prefix_length=st.integers(6, 12))
def test_sgln_urns_round_trip_to_the_gln(data12, prefix_length):
    gln = data12 + str(gtin_check_digit(data12))
    assert parse_identifier(sgln_urn(gln, prefix_length)) == GS1Key("location", gln=gln)
    assert parse_identifier(gln_uri(gln)) == GS1Key("location", gln=gln)


def test_lot_class_uris_use_gs1s_canonical_domain():
    assert lot_class_uri("08931234500011", "LO 1") == "https://id.gs1.org/01/08931234500011/10/LO%201"
    assert gln_uri("8931234567890") == "https://id.gs1.org/414/8931234567890"


# --- canonical form and hash IDs ---------------------------------------------------------------


def test_hash_id_of_the_reference_generators_example_follows_the_rules():
    event = REFERENCE_DOCUMENT["epcisBody"]["eventList"][0]
    namespaces = context_namespaces(REFERENCE_DOCUMENT)
    assert prehash_string(event, namespaces) == REFERENCE_PREHASH
    assert event_hash_id(event, namespaces) == REFERENCE_ID


def test_hash_id_ignores_how_the_event_is_written():
    event = REFERENCE_DOCUMENT["epcisBody"]["eventList"][0]
    rewritten = {key: event[key] for key in reversed(list(event))}  # other key order
    rewritten["epcList"] = list(reversed(event["epcList"]))  # other list order
    rewritten["eventTime"] = "2022-02-17T09:33:31.116+07:00"  # the same instant
    rewritten["bizStep"] = "urn:epcglobal:cbv:bizstep:shipping"  # EPCIS 1.x form
    rewritten["disposition"] = "https://ref.gs1.org/cbv/Disp-in_transit"  # web URI form
    rewritten["readPoint"] = {"id": "https://example.com/414/0614141073467/254/1234"}  # a custom domain
    rewritten["eventID"] = "urn:uuid:6f0c9f1e-1111-4c4b-9f00-000000000000"  # not hashed
    rewritten["recordTime"] = "2024-01-01T00:00:00Z"
    assert event_hash_id(rewritten) == REFERENCE_ID


def test_hash_id_changes_with_any_value_and_stays_with_an_error_declaration():
    event = REFERENCE_DOCUMENT["epcisBody"]["eventList"][0]
    for key, value in [
        ("eventTime", "2022-02-16T20:33:31.117-06:00"),
        ("bizStep", "receiving"),
        ("epcList", ["urn:epc:id:sgtin:0614141.107346.2017"]),
        ("example:extra", "1"),
    ]:
        assert event_hash_id({**event, key: value}) != REFERENCE_ID
    declared = declare_error(
        event, declared_at=datetime(2022, 3, 1, tzinfo=UTC), corrective_event_ids=["urn:x:1"]
    )
    assert event_hash_id(declared) == REFERENCE_ID


def test_quantities_times_and_extensions_are_normalised():
    assert canonical_number(Decimal("452.000")) == "452" == canonical_number(452.0)
    assert canonical_number("200.50") == "200.5"
    assert canonical_time("2005-07-11T11:30:47.0Z") == "2005-07-11T11:30:47.000Z"
    assert canonical_time("2020-01-14T00:00:00.0006+01:00") == "2020-01-13T23:00:00.001Z"
    assert canonical_time(datetime(2026, 1, 1, 7, 0, tzinfo=HANOI)) == "2026-01-01T00:00:00.000Z"
    event = {
        "type": "ObjectEvent",
        "eventTime": "2026-01-01T07:00:00+07:00",
        "eventTimeZoneOffset": "+07:00",
        "quantityList": [
            {"epcClass": "urn:epc:class:lgtin:4012345.012345.998877", "quantity": 200.50, "uom": "KGM"}
        ],
        "action": "OBSERVE",
        "trace:note": " Ghi chú ",
    }
    prehash = prehash_string(event, VOC)
    assert "quantityListquantityElementepcClass=https://id.gs1.org/01/04012345123456/10/998877" in prehash
    assert "quantity=200.5uom=KGM" in prehash
    assert prehash.endswith("{https://trace.example.vn/voc/}note=Ghi chú")


def test_gs1s_examples_hash_in_the_canonical_property_order():
    document = _example("9.6.4-TransformationEvent")
    prehash = prehash_string(document["epcisBody"]["eventList"][0], context_namespaces(document))
    order = [
        "eventTime=",
        "inputEPCList",
        "inputQuantityList",
        "outputEPCList",
        "bizStep=",
        "readPointid=",
        "ilmd",
    ]
    positions = [prehash.index(marker) for marker in order]
    assert positions == sorted(positions)
    assert "quantityElementepcClass=https://id.gs1.org/01/04012345666663quantity=220" in prehash


@pytest.mark.parametrize(
    ("written", "canonical"),
    [
        ("urn:epc:id:grai:4012345.55555.987", "https://id.gs1.org/8003/04012345555554987"),
        ("urn:epc:idpat:grai:4012345.66666.*", "https://id.gs1.org/8003/04012345666663"),
        ("urn:epc:id:giai:4000001.12345", "https://id.gs1.org/8004/400000112345"),
        ("urn:epc:id:pgln:4012345.00000", "https://id.gs1.org/417/4012345000009"),
        ("urn:epc:id:gdti:4012345.11111.123", "https://id.gs1.org/253/4012345111118123"),
        ("urn:epc:id:sgcn:4012345.99999.44", "https://id.gs1.org/255/401234599999044"),
        ("urn:epc:id:gsrn:4012345.9876540000", "https://id.gs1.org/8018/401234598765400000"),
        (
            "urn:epc:id:cpi:0614141.11111111111111-A%23%2F.1234",
            "https://id.gs1.org/8010/061414111111111111111-A%23%2F/8011/1234",
        ),
        ("urn:epc:id:itip:4012345.011111.01.02.987", "https://id.gs1.org/8006/040123451111180102/21/987"),
        ("urn:epc:id:upui:1234567.098765.AB12", "https://id.gs1.org/01/01234567987651/235/AB12"),
        (
            "https://brand.example/shop/01/9506000134352/22/V1/10/L%2F1/21/S1?17=270101",
            "https://id.gs1.org/01/09506000134352/21/S1",
        ),
        (
            "https://example.com/gtin/09780345418913/ser/765tz",
            "https://id.gs1.org/01/09780345418913/21/765tz",
        ),
        ("urn:epc:id:grai:4012345.55555", "urn:epc:id:grai:4012345.55555"),  # malformed: as written
        ("https://id.gs1.org/414/0614141073460", "https://id.gs1.org/414/0614141073460"),  # wrong check digit
        ("https://trace.example.vn/t/ABCDEFGH", "https://trace.example.vn/t/ABCDEFGH"),
    ],
)
def test_every_gs1_key_is_hashed_as_its_constrained_canonical_digital_link(written, canonical):
    assert canonical_uri(written) == canonical


def test_sensor_elements_business_documents_and_curies_follow_the_written_rules():
    event = {
        "type": "ObjectEvent",
        "eventTime": "2023-01-11T12:00:00+01:00",
        "eventTimeZoneOffset": "+01:00",
        "certificationInfo": "https://cert.example/ABC",
        "epcList": ["urn:epc:id:sgtin:4012345.099999.XYZ-1234"],
        "action": "OBSERVE",
        "bizTransactionList": [{"bizTransaction": "urn:epc:id:gdti:4012345.11111.123"}],  # no type
        "sourceList": [{"type": "owning_party", "source": "urn:epc:id:pgln:4012345.00000"}],
        "sensorElementList": [
            {
                "sensorReport": [
                    {"value": 26, "uom": "CEL", "type": "Temperature", "booleanValue": False},
                    {"type": "gs1:Dimensionless", "exception": "ALARM_CONDITION", "component": "latitude"},
                ],
                "sensorMetadata": {
                    "bizRules": "https://rules.example/1",
                    "time": "2023-01-11T12:05:00+01:00",
                },
                "ex:note": "x",
            }
        ],
        "ex:kind": "shipping",  # a user extension: never read as a bizStep
        "ex:link": "ex:other",
    }
    prehash = prehash_string(event, {"ex": "https://ex.example/"})
    assert prehash == (
        "eventType=ObjectEventeventTime=2023-01-11T11:00:00.000ZeventTimeZoneOffset=+01:00"
        "certificationInfo=https://cert.example/ABCepcListepc=https://id.gs1.org/01/04012345999990/21/XYZ-1234"
        "action=OBSERVEbizTransactionListbizTransaction=https://id.gs1.org/253/4012345111118123"
        "sourceListsource=https://id.gs1.org/417/4012345000009type=https://ref.gs1.org/cbv/SDT-owning_party"
        "sensorElementListsensorElementsensorMetadatatime=2023-01-11T11:05:00.000ZbizRules=https://rules.example/1"
        "sensorReporttype=https://gs1.org/voc/Dimensionlessexception=https://gs1.org/voc/ALARM_CONDITION"
        "component=https://ref.gs1.org/cbv/Comp-latitude"
        "sensorReporttype=https://gs1.org/voc/Temperaturevalue=26booleanValue=falseuom=CEL"
        "{https://ex.example/}note=x"
        "{https://ex.example/}kind=shipping{https://ex.example/}link=https://ex.example/other"
    )


def test_cbv_values_have_a_web_uri_and_a_bare_name():
    assert vocabulary_uri("shipping", "bizStep") == "https://ref.gs1.org/cbv/BizStep-shipping"
    assert (
        vocabulary_uri("urn:epcglobal:cbv:disp:in_transit", "disposition")
        == "https://ref.gs1.org/cbv/Disp-in_transit"
    )
    for form in (
        "receiving",
        "urn:epcglobal:cbv:bizstep:receiving",
        "cbv:BizStep-receiving",
        "https://gs1.org/voc/BizStep-receiving",
    ):
        assert vocabulary_name(form, "bizStep") == "receiving"
    assert vocabulary_name("https://trace.example.vn/voc/BizStep-transforming", "bizStep") is None
    assert {"commissioning", "shipping", "retail_selling"} <= cbv_names("bizStep")
    assert "transforming" not in cbv_names("bizStep")  # not a CBV 2.0 step
    assert "recalled" in cbv_names("disposition")


# --- documents and validation ------------------------------------------------------------------


def _lot(lot: str, quantity: str | None = None, uom: str | None = "KGM") -> QuantityElement:
    return QuantityElement(lot_class_uri("08931234500011", lot), Decimal(quantity) if quantity else None, uom)


def test_built_events_and_documents_validate_and_carry_their_hash_ids():
    moment = datetime(2026, 3, 2, 9, 15, 30, 123456, tzinfo=HANOI)
    parts = EventParts(
        biz_step="shipping",
        disposition="in_transit",
        read_point=gln_uri("8931234567893"),
        biz_transactions=[("inv", "https://trace.example.vn/id/producer/1/document/HD1")],
        sources=[("owning_party", "https://trace.example.vn/id/producer/1")],
        extensions={"trace:eventType": "shipping"},
    )
    shipped = object_event(event_time=moment, quantities=[_lot("A", "12.5")], parts=parts, namespaces=VOC)
    made = transformation_event(
        event_time=moment, inputs=[_lot("A", "10"), _lot("B", "3")], outputs=[_lot("C", "12")], namespaces=VOC
    )
    packed = aggregation_event(
        event_time=moment,
        parent_id="https://trace.example.vn/t/ABC",
        children=[_lot("C", "12")],
        namespaces=VOC,
    )
    assert shipped["eventTime"] == "2026-03-02T09:15:30.123+07:00"
    assert shipped["eventTimeZoneOffset"] == "+07:00"
    assert shipped["quantityList"] == [
        {"epcClass": "https://id.gs1.org/01/08931234500011/10/A", "quantity": 12.5, "uom": "KGM"}
    ]
    for event in (shipped, made, packed):
        assert event["eventID"] == event_hash_id(event, VOC)
    document = epcis_document([shipped, made, packed], created_at=moment, namespaces=VOC)
    assert document["@context"] == [EPCIS_CONTEXT, VOC]
    assert validate_document(document).valid


def test_a_given_event_id_is_kept():
    event = object_event(
        event_time=datetime(2026, 1, 1, tzinfo=HANOI), quantities=[_lot("A")], event_id="urn:uuid:1234"
    )
    assert event["eventID"] == "urn:uuid:1234"
    assert event["quantityList"] == [{"epcClass": "https://id.gs1.org/01/08931234500011/10/A"}]


@pytest.mark.parametrize("name", ["9.6.1-ObjectEvent", "9.6.3-AggregationEvent", "9.6.4-TransformationEvent"])
def test_gs1s_examples_are_valid(name):
    assert validate_document(_example(name)).valid


def test_schema_errors_are_reported_against_their_event():
    document = _example("9.6.1-ObjectEvent")
    broken = copy.deepcopy(document)
    del broken["epcisBody"]["eventList"][1]["eventTime"]
    broken["epcisBody"]["eventList"][0]["action"] = "SHIP"
    report = validate_document(broken)
    assert not report.valid and report.document == []
    assert set(report.events) == {0, 1}
    assert any("eventTime" in message for message in report.events[1])
    action = next(issue for issue in report.events[0] if issue.path == "$.epcisBody.eventList[0].action")
    assert action.rule == "enum: ['OBSERVE', 'ADD', 'DELETE']"
    assert action.detail == "'SHIP' is not one of ['OBSERVE', 'ADD', 'DELETE']"
    assert len(report.events[0]) == 1  # not also "the event matches none of the alternatives"

    missing = {key: value for key, value in document.items() if key != "schemaVersion"}
    report = validate_document(missing)
    assert report.events == {} and any("schemaVersion" in message for message in report.document)


def test_timestamps_and_uris_are_checked_whatever_packages_are_installed():
    document = _example("9.6.1-ObjectEvent")
    document["epcisBody"]["eventList"][0]["eventTime"] = "yesterday"
    document["epcisBody"]["eventList"][1]["readPoint"] = {"id": "not a uri"}
    report = validate_document(document)
    assert [(i.path, i.rule) for i in report.events[0]] == [
        ("$.epcisBody.eventList[0].eventTime", "format: 'date-time'")
    ]
    assert [(i.path, i.rule) for i in report.events[1]] == [
        ("$.epcisBody.eventList[1].readPoint.id", "format: 'uri'")
    ]
    blank_node = {**_example("9.6.1-ObjectEvent"), "id": "_:document1"}  # as in GS1's simple-context examples
    assert validate_document(blank_node).valid


def test_at_most_a_few_schema_issues_are_listed():
    document = _example("9.6.1-ObjectEvent")
    event = document["epcisBody"]["eventList"][0]
    document["epcisBody"]["eventList"] = [{**event, "action": f"X{n}"} for n in range(MAX_SCHEMA_ISSUES + 5)]
    report = validate_document(document)
    assert sum(len(issues) for issues in report.events.values()) == MAX_SCHEMA_ISSUES
    assert report.more == 5


def test_long_schema_messages_are_cut():
    document = _example("9.6.1-ObjectEvent")
    document["epcisBody"]["eventList"][0]["epcList"] = "x" * 5000
    messages = validate_document(document).events[0]
    assert messages and all(len(message) < 400 for message in messages)


def test_hash_ids_are_stable_whatever_the_order_of_lists():
    elements = [_lot(lot, str(i + 1)) for i, lot in enumerate("ABCDEF")]
    moment = datetime(2026, 5, 1, tzinfo=HANOI)
    first = transformation_event(event_time=moment, inputs=elements, outputs=[_lot("Z", "1")])
    shuffled = elements[:]
    random.Random(4).shuffle(shuffled)
    second = transformation_event(event_time=moment, inputs=shuffled, outputs=[_lot("Z", "1")])
    assert first["eventID"] == second["eventID"]
