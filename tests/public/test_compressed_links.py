"""Compressed GS1 Digital Links at the resolver: answered as their uncompressed form, with ``owl:sameAs``.

GS1's conformance statements (gs1/GS1DL-resolver-testsuite, ``Conformance1_2.txt``
and ``ConformantResolver1_0.txt``): a resolver "SHALL be able to decompress a
URI to generate a GS1 Digital Link URI", "SHOULD NOT redirect to the
equivalent uncompressed URI on the same resolver", "SHALL expose the
uncompressed URI in the Link response header with a rel value of owl:sameAs",
and "the URI used as the subject of facts presented SHALL be the uncompressed
version". Every request goes through the real app, as a phone or a client
would send it.
"""

from __future__ import annotations

import html
import re

import pytest
from flask import Flask
from jsonschema import Draft7Validator

from tests.public import test_resolver
from tests.public.test_resolver import (
    BASE,
    GTIN14,
    LINKSET_SCHEMA,
    LOT,
    PRODUCT_NAME,
    SERIAL,
    get,
    linkset_link,
    scans,
)
from traceability.gs1 import DigitalLink
from traceability.gs1.compression import compress, encode
from traceability.public.compressed_links import CompressedLinks

honey = test_resolver.honey  # the fixture: an OCOP honey lot with shops, certificates and an item


def same_as(response) -> str | None:
    match = re.search(r'<([^>]+)>;\s*rel="owl:sameAs"', response.headers.get("Link", ""))
    return match.group(1) if match else None


def compressed(**values) -> str:
    return "/" + compress(DigitalLink(gtin=GTIN14, **values))


def test_a_compressed_lot_link_answers_the_lots_page_with_owl_same_as(app, db, honey):
    path = compressed(lot=LOT)
    response = get(app, path, **{"Accept-Language": "en"})
    assert response.status_code == 200  # no redirect to the uncompressed URI
    plain = get(app, honey.batch_path, **{"Accept-Language": "en"})
    assert response.get_data() == plain.get_data()  # the same page
    assert html.escape(PRODUCT_NAME) in response.get_data(as_text=True)
    assert same_as(response) == f"{BASE}{honey.batch_path}"
    assert same_as(plain) is None
    assert linkset_link(response) == f"{BASE}{honey.batch_path}?linkType=linkset"
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert [scan.batch_id for scan in scans(db)] == [honey.batch.id, honey.batch.id]


def test_the_compressed_and_the_uncompressed_link_share_one_cached_page(app, honey):
    assert get(app, honey.batch_path).headers["X-Page-Cache"] == "miss"
    assert get(app, compressed(lot=LOT)).headers["X-Page-Cache"] == "hit"


@pytest.mark.parametrize(
    ("query", "headers"),
    [
        ("?linkType=linkset", {}),
        ("", {"Accept": "application/linkset+json"}),
        ("?linkType=gs1:hasRetailers&utm_source=qr", {}),
        ("?linkType=gs1:traceability&foo=bar", {}),
        ("?linkType=gs1:epcis", {}),
        ("?linkType=gs1:nutritionalInfo", {}),  # no such link: 404
        ("?17=271399", {}),  # a malformed attribute: 400
    ],
)
def test_the_linkset_redirects_and_errors_are_the_uncompressed_ones(app, honey, query, headers):
    response = get(app, compressed(lot=LOT) + query, **headers)
    plain = get(app, honey.batch_path + query, **headers)
    assert response.status_code == plain.status_code
    assert response.headers.get("Location") == plain.headers.get("Location")
    assert response.mimetype == plain.mimetype
    if response.mimetype != "text/html":
        document, plain_document = response.get_json(), plain.get_json()
        for each in (document, plain_document):
            each.pop("creationDate", None)  # the EPCIS document's time of writing
        assert document == plain_document
    if response.status_code < 400:
        assert same_as(response) == f"{BASE}{honey.batch_path}"


def test_the_linkset_of_a_compressed_link_is_about_the_uncompressed_uri(app, honey):
    document = get(app, compressed(lot=LOT, serial=SERIAL) + "?linkType=linkset").get_json()
    assert [e.message for e in Draft7Validator(LINKSET_SCHEMA).iter_errors(document)] == []
    assert document["linkset"][0]["anchor"] == f"{BASE}{honey.item_path}"


def test_what_the_compressed_string_carries_is_read_as_its_query(app, honey):
    """Attributes and other pairs compressed with the link (GS1's ``compressOtherKeyValuePairs``)."""
    link = DigitalLink(gtin=GTIN14, lot=LOT)
    linkset = get(app, "/" + compress(link, extensions={"linkType": "linkset"}))
    assert linkset.mimetype == "application/linkset+json"
    assert same_as(linkset) == f"{BASE}{honey.batch_path}?linkType=linkset"
    dated = get(app, "/" + compress(link, attributes={"17": "271231"}))
    assert dated.status_code == 200 and same_as(dated) == f"{BASE}{honey.batch_path}?17=271231"
    malformed = get(app, "/" + encode([("01", GTIN14), ("10", LOT), ("17", "271399")]))
    assert malformed.status_code == 400  # as /01/.../10/...?17=271399: no 13th month
    assert re.search(r'class="reason">[^<]+<', malformed.get_data(as_text=True))


def test_an_item_and_a_partially_compressed_link(app, db, honey):
    item = get(app, compressed(lot=LOT, serial=SERIAL), **{"Accept-Language": "en"})
    assert item.status_code == 200 and f'class="serial">{SERIAL}<' in item.get_data(as_text=True)
    assert same_as(item) == f"{BASE}{honey.item_path}"
    # The GTIN in clear, its lot compressed (GS1's "uncompressedPrimary").
    partly = get(app, f"/01/{GTIN14}/{encode([('10', LOT)])}")
    assert partly.status_code == 200 and same_as(partly) == f"{BASE}{honey.batch_path}"
    assert scans(db)[0].item_id == honey.item.id


def test_a_preflight_at_a_compressed_link(app, honey):
    response = app.test_client().options(
        compressed(lot=LOT),
        headers={"Origin": "https://ref.gs1.org", "Access-Control-Request-Method": "GET"},
    )
    assert response.status_code == 204
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert "Link" in response.headers["Access-Control-Expose-Headers"]
    assert same_as(response) == f"{BASE}{honey.batch_path}"


def test_a_compressed_link_walks_up_or_is_unknown_like_its_uncompressed_form(app, db, honey):
    walk_up = get(app, compressed(lot="NO-SUCH-LOT"))
    assert walk_up.status_code == 200 and 'id="unregistered"' in walk_up.get_data(as_text=True)
    assert same_as(walk_up) == f"{BASE}/01/{GTIN14}/10/NO-SUCH-LOT"
    unknown = get(app, "/" + compress(DigitalLink(gtin="08930000009999", lot="A")))
    assert unknown.status_code == 404
    assert scans(db) == []


@pytest.mark.parametrize(
    "path",
    [
        "/no-such-page-here",  # base64 characters, but no compressed link
        "/AAAAAAAAAAAA",  # decompresses to an SSCC: a key this registry does not resolve
        "/" + encode([("01", GTIN14[:-1] + str((int(GTIN14[-1]) + 1) % 10)), ("10", LOT)]),  # check digit
        "/" + encode([("01", GTIN14), ("10", LOT)]) + "A",  # bits past GS1's padding
        "/" + "A" * 513,  # longer than any compressed link
    ],
)
def test_other_single_segment_paths_answer_404_as_before(app, honey, path):
    response = get(app, path)
    assert response.status_code == 404
    assert same_as(response) is None


def test_a_route_named_like_a_compressed_link_keeps_its_path():
    """A route answers first, even one whose name would decompress to a Digital Link."""
    name = compress(DigitalLink(gtin=GTIN14, lot=LOT))
    app = Flask(__name__)
    app.add_url_rule(f"/{name}", "route", lambda: "the route")
    app.add_url_rule("/01/<path:rest>", "digital_link", lambda rest: f"the link {rest}")
    app.wsgi_app = CompressedLinks(app, app.wsgi_app)  # type: ignore[method-assign]
    client = app.test_client()
    assert client.get(f"/{name}").get_data(as_text=True) == "the route"
    other = compress(DigitalLink(gtin=GTIN14, lot="OTHER"))
    assert client.get(f"/{other}").get_data(as_text=True) == f"the link {GTIN14}/10/OTHER"


def test_a_pasted_compressed_link_in_the_code_field_opens_its_page(app, honey):
    response = get(app, "/lookup?code=" + f"{BASE}{compressed(lot=LOT)}")
    assert response.status_code == 303 and response.headers["Location"].endswith(honey.batch_path)


def test_the_resolver_description_says_compressed_links_are_answered(client):
    notes = client.get("/.well-known/gs1resolver").get_json()["notes"]
    assert "Compressed Digital Links" in notes and "owl:sameAs" in notes
