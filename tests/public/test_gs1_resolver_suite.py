"""GS1's resolver test suite (gs1/GS1DL-resolver-testsuite), its SHALL checks run request by request.

Each test is one check of ``GS1DigitalLinkResolverTestSuite.js``, named after
its ``id``, and makes the request the suite makes (through ``tester.php``) to
a lot's Digital Link. Not reproduced: HTTPS, TLS and the HTTP version (the
deployment's, not the app's), and ``defaultTarget`` (a redirect to the
default link): this registry serves the page, its default link, at the
Digital Link itself (README, ``/.well-known/gs1resolver``).
"""

from __future__ import annotations

import re

import pytest
from jsonschema import Draft7Validator

from tests.public import test_resolver
from tests.public.test_resolver import (
    BASE,
    DESCRIPTION_SCHEMA,
    GTIN14,
    LINK_TYPES,
    LINKSET_SCHEMA,
    get,
    linkset_link,
)

honey = test_resolver.honey  # the fixture: an OCOP honey lot with shops, certificates and an item

GS1_NAMESPACES = re.compile(r"https://((ref\.)|(www\.))?gs1\.org/voc/")


def options(app, path: str):
    """The suite's ``getCorsHeaders``: OPTIONS with an Origin, as a browser's preflight."""
    return app.test_client().options(
        path,
        headers={
            "Origin": "https://ref.gs1.org/test-suites/resolver/",
            "Access-Control-Request-Method": "GET,HEAD,OPTIONS",
        },
    )


def the_linkset(app, path: str) -> dict:
    response = get(app, f"{path}?linkType=linkset", Accept="application/linkset+json")
    return response.get_json()


def test_corsCheck(app, honey):  # named after the suite's check
    response = options(app, honey.batch_path)
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert "Link" in response.headers["Access-Control-Expose-Headers"]
    # Simple requests too, and the errors at a Digital Link.
    for path in (honey.batch_path, f"{honey.batch_path}/foo", f"/01/{GTIN14[:-1]}0"):
        assert get(app, path, Origin="https://example.org").headers["Access-Control-Allow-Origin"] == "*"


def test_methodsCheck(app, honey):
    response = options(app, honey.batch_path)
    assert response.status_code in (200, 204)
    for method in ("GET", "HEAD", "OPTIONS"):
        assert method in response.headers["Access-Control-Allow-Methods"]
        assert method in response.headers["Allow"]


def test_linkOnRedirect_and_link_on_options(app, honey):
    for response in (
        options(app, honey.batch_path),
        get(app, f"{honey.batch_path}?linkType=gs1:hasRetailers"),
    ):
        assert linkset_link(response) == f"{BASE}{honey.batch_path}?linkType=linkset"


def test_rdFile(app):
    response = app.test_client().get("/.well-known/gs1resolver", headers={"Accept": "application/json"})
    description = response.get_json()
    assert [e.message for e in Draft7Validator(DESCRIPTION_SCHEMA).iter_errors(description)] == []
    assert description["defaultLinkServedInPlace"] is True  # the stated choice


def test_reportWith400_and_noErrorWith200(app, honey):
    assert get(app, f"{honey.batch_path}/foo").status_code == 400


def test_basicWalkUp(app, honey):
    assert get(app, f"/01/{GTIN14}/10/KL8G").status_code != 404


def test_ltLinksetNoRedirect(app, honey):
    response = get(app, f"{honey.batch_path}?linkType=linkset")
    assert response.status_code == 200 and response.get_json()["linkset"]


def test_ltAcceptHeader(app, honey):
    response = get(app, f"{honey.batch_path}?linkType=all", Accept="application/linkset+json")
    assert response.status_code == 200 and response.get_json()["linkset"]


@pytest.mark.parametrize("level", ["batch_path", "item_path", "product"])
def test_validLinkset(app, honey, level):
    path = f"/01/{GTIN14}" if level == "product" else getattr(honey, level)
    linkset = the_linkset(app, path)
    assert [e.message for e in Draft7Validator(LINKSET_SCHEMA).iter_errors(linkset)] == []


def test_declaredContentType_and_linksetJsonldCheck(app, honey):
    response = get(app, honey.batch_path, Accept="application/linkset+json")
    assert response.headers["Content-Type"].startswith("application/linkset+json")
    link = response.headers["Link"]
    assert 'rel="http://www.w3.org/ns/json-ld#context"' in link and 'type="application/ld+json"' in link


def test_qsPassedOn(app, honey):
    response = get(app, f"{honey.batch_path}?linkType=gs1:hasRetailers&foo=bar")
    assert response.status_code == 307 and "foo=bar" in response.headers["Location"]


@pytest.mark.parametrize("level", ["batch_path", "item_path", "product"])
def test_defaultLinkExists_and_singleDefaulLink(app, honey, level):
    path = f"/01/{GTIN14}" if level == "product" else getattr(honey, level)
    [default] = the_linkset(app, path)["linkset"][0][LINK_TYPES + "defaultLink"]
    # A title and nothing else.
    assert set(default) == {"href", "title"} and default["title"]


def test_loFor_each_single_link_type(app, honey):
    """The suite asks each link type with one link and expects a redirect to its href (linkType stripped)."""
    context = the_linkset(app, honey.batch_path)["linkset"][0]
    checked = 0
    for link_type, targets in context.items():
        if not link_type.startswith(LINK_TYPES) or len(targets) != 1:
            continue
        curie = GS1_NAMESPACES.sub("gs1:", link_type)
        href = targets[0]["href"]
        if (
            curie in ("gs1:defaultLink", "gs1:pip", "gs1:epcis")
            and href.split("#")[0].startswith(f"{BASE}{honey.batch_path}")
            and "#" not in href
        ):
            continue  # served at the Digital Link itself: the stated choice
        response = get(app, f"{honey.batch_path}?linkType={curie}")
        assert response.status_code in (301, 302, 303, 307, 308), curie
        location = response.headers["Location"]
        assert location.split("?linkType=")[0] == href, curie
        checked += 1
    assert checked >= 2  # traceability and certificationInfo at least


def test_specificLinkTypeNotFound(app, honey):
    assert get(app, f"{honey.batch_path}?linkType=gs1:nosuchlt").status_code == 404
    assert get(app, f"/01/{GTIN14}?linkType=gs1:nosuchlt").status_code == 404


# --- GS1 Digital Link URI syntax: malformed answers 400 with the reason ---------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/01/",
        f"/01/{GTIN14}/10/L%G1",  # malformed percent-encoding
        f"/01/{GTIN14}/10/%0A",
        f"/01/{GTIN14}//10/ABC",  # never merged by a redirect
        f"/01/{GTIN14}/10/ABC//",
        f"/01/{GTIN14}/10/ABC?17=2613",
        f"/01/{GTIN14}/10/ABC?17=271399",
        f"/01/{GTIN14}/10/ABC?17=270131&17=270131",
        f"/01/{GTIN14}/10/ABC?21=S1",  # a key qualifier belongs in the path
        f"/01/{GTIN14}/10/ABC?3103=12",
        f"/01/{GTIN14}/235/A/10/B",  # 235 stands alone after the GTIN
    ],
)
def test_malformed_digital_links_answer_400_with_the_reason(app, honey, path):
    response = get(app, path, **{"Accept-Language": "en"})
    assert response.status_code == 400, path
    assert re.search(r'class="reason">[^<]+<', response.get_data(as_text=True))
    assert response.headers["Access-Control-Allow-Origin"] == "*"


def test_valid_query_attributes_pass(app, honey):
    response = get(app, f"{honey.batch_path}?17=271231&11=260301&3103=001250&foo=bar")
    assert response.status_code == 200


def test_a_tpx_of_a_known_gtin_walks_up_to_the_product(app, honey):
    """AI 235 (TPX) is a key qualifier of a GTIN in GS1's syntax dictionary; none is registered here."""
    response = get(app, f"/01/{GTIN14}/235/TPX0001")
    assert response.status_code == 200
    assert linkset_link(response) == f"{BASE}/01/{GTIN14}?linkType=linkset"
