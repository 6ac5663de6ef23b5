"""The public URLs as a GS1-conformant resolver: page, linkset, EPCIS, redirects, scans.

Every test opens the URLs as a consumer's phone or an integrator's client
would: signed out, through the real routes, on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import html
import json
import re
from datetime import date, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from flask import current_app
from jsonschema import Draft7Validator
from sqlalchemy import func, select

from traceability.batches.recalls import recall_batch
from traceability.batches.service import new_public_code, record_event
from traceability.core.dates import VIETNAM_OFFSET
from traceability.gs1 import gtin_check_digit
from traceability.gs1.epcis import load_schema
from traceability.models.batches import Item
from traceability.models.public import Scan
from traceability.models.registry import Certification
from traceability.public.scans import device_class

BASE = "https://trace.example.vn"
GTIN13 = "893000000777" + str(gtin_check_digit("893000000777"))
GTIN14 = GTIN13.zfill(14)
LOT = "LO-26/03"  # a slash: the URL percent-encodes it
LOT_PATH = "LO-26%2F03"
SERIAL = "K7Q2M9XW4T"
PRODUCT_NAME = "Mật ong hoa cà phê Đắk Lắk"
PHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148 Safari/604.1"
)
DESKTOP = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/140.0 Safari/537.36"
BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
LINK_TYPES = "https://gs1.org/voc/"

# GS1's own linkset schema (gs1/linkset), the one GS1's resolver test suite validates against.
LINKSET_SCHEMA = json.loads((Path(__file__).parent / "gs1_linkset" / "gs1-linkset-schema.json").read_text())
DESCRIPTION_SCHEMA = {
    "type": "object",
    "required": ["name", "resolverRoot", "supportedPrimaryKeys", "supportedLinkType"],
    "properties": {
        "resolverRoot": {"type": "string", "format": "uri", "pattern": "^https?://"},
        "name": {"type": "string", "minLength": 1},
        "supportedPrimaryKeys": {"type": "array", "items": {"enum": ["all", "01", "414", "00"]}},
        "supportedLinkType": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["namespace", "prefix"],
                "properties": {"prefix": {"pattern": "^[a-zA-Z_][A-Za-z0-9_-]*?:$"}},
            },
        },
        "linkTypeDefaultCanBeLinkset": {"type": "boolean"},
    },
}


def new_item(db, batch, serial: str) -> Item:
    item = Item(batch_id=batch.id, serial=serial, public_code=new_public_code())
    db.session.add(item)
    db.session.flush()
    return item


@pytest.fixture
def honey(make, tenants, db):
    """A lot of a GTIN product with shop links and certifications, one serialised item, and a lot without GTIN."""
    own = tenants["daklak"]
    product = make.product(
        own.producer,
        name=PRODUCT_NAME,
        gtin=GTIN14,
        shop_links=[
            {"name": "Sàn Đắk Lắk", "url": "https://shop.example.vn/mat-ong?id=7"},
            {"name": "Cửa hàng HTX", "url": "https://htx.example.vn/"},
        ],
    )
    batch = make.batch(product, lot_code=LOT)
    today = date.today()
    certificates = {}
    for key, status, valid_to in (
        ("valid", "verified", today + timedelta(days=300)),
        ("expired", "verified", today - timedelta(days=1)),
        ("pending", "pending", today + timedelta(days=300)),
    ):
        certificates[key] = Certification(
            producer_id=own.producer.id,
            scope="product",
            product_id=product.id,
            type="vietgap",
            number=f"VG-{key.upper()}-01",
            issuer="Trung tâm Chứng nhận Phù hợp",
            valid_from=today - timedelta(days=400),
            valid_to=valid_to,
            status=status,
        )
        db.session.add(certificates[key])
    record_event(
        batch,
        {"type": "harvesting", "time": datetime(2026, 3, 1, 7, tzinfo=VIETNAM_OFFSET)},
        actor=own.producer_user,
    )
    item = new_item(db, batch, SERIAL)
    other_item = new_item(db, batch, "OTHER00001")
    plain_product = make.product(own.producer, name="Cà phê bột truyền thống")
    plain_batch = make.batch(plain_product, lot_code="Lô 7 (rang)")
    plain_item = new_item(db, plain_batch, "PLAIN00001")
    db.session.commit()

    class Honey:
        pass

    result = Honey()
    result.producer, result.product, result.batch, result.item, result.other_item = (
        own.producer,
        product,
        batch,
        item,
        other_item,
    )
    result.plain_batch, result.plain_item, result.certificates, result.user = (
        plain_batch,
        plain_item,
        certificates,
        own.producer_user,
    )
    result.batch_path = f"/01/{GTIN14}/10/{LOT_PATH}"
    result.item_path = f"{result.batch_path}/21/{SERIAL}"
    return result


def scans(db, **where) -> list[Scan]:
    current_app.extensions["scan_buffer"].flush()
    query = select(Scan).order_by(Scan.id)
    for name, value in where.items():
        query = query.where(getattr(Scan, name) == value)
    return list(db.session.scalars(query))


def get(app, path: str, **headers: str):
    headers.setdefault("User-Agent", PHONE)
    headers.setdefault("Accept", BROWSER_ACCEPT)
    response = app.test_client().get(path, headers=headers)
    app.extensions["scan_buffer"].flush()  # what the writer thread does within half a second
    return response


def linkset_link(response) -> str:
    match = re.search(r'<([^>]+)>;\s*rel="linkset"', response.headers.get("Link", ""))
    assert match, response.headers.get("Link")
    return match.group(1)


# --- the page ------------------------------------------------------------------------------------


def test_a_lot_url_serves_the_page_and_counts_one_scan(app, db, honey):
    response = get(app, honey.batch_path, **{"Accept-Language": "en"})
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    page = response.get_data(as_text=True)
    assert html.escape(PRODUCT_NAME) in page and html.escape(LOT) in page
    assert linkset_link(response) == f"{BASE}{honey.batch_path}?linkType=linkset"
    assert "Accept" in response.headers["Vary"]
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    [scan] = scans(db)
    assert (scan.batch_id, scan.item_id, scan.language, scan.device_class) == (
        honey.batch.id,
        None,
        "en",
        "mobile",
    )
    get(app, honey.batch_path, **{"User-Agent": DESKTOP})
    assert [(s.language, s.device_class) for s in scans(db)] == [("en", "mobile"), ("vi", "desktop")]


def test_the_page_shows_only_the_valid_verified_certifications(app, honey):
    page = get(app, honey.batch_path).get_data(as_text=True)
    valid = honey.certificates["valid"]
    assert f'id="certification-{valid.id}"' in page and "VG-VALID-01" in page
    assert "VG-EXPIRED-01" not in page and "VG-PENDING-01" not in page
    assert 'id="trace"' in page  # the traceability link's section


def test_an_item_url_shows_the_lot_the_serial_and_the_items_own_scans(app, db, honey):
    english = {"Accept-Language": "en"}
    first = get(app, honey.item_path, **english)
    assert first.status_code == 200
    page = first.get_data(as_text=True)
    assert html.escape(PRODUCT_NAME) in page and html.escape(LOT) in page
    assert f'class="serial">{SERIAL}<' in page
    assert "This is the first scan of this code." in page
    assert linkset_link(first) == f"{BASE}{honey.item_path}?linkType=linkset"

    [scan] = scans(db)
    assert (scan.batch_id, scan.item_id) == (honey.batch.id, honey.item.id)
    shown = scan.scanned_at.astimezone(VIETNAM_OFFSET).strftime("%d/%m/%Y %H:%M")
    second = get(app, honey.item_path, **english).get_data(as_text=True)
    assert f"This code was scanned 1 time before, first on {shown}." in second
    third = get(app, honey.item_path, **english).get_data(as_text=True)
    assert f"This code was scanned 2 times before, first on {shown}." in third
    # In Vietnamese (the default) the count is there too.
    assert re.search(r'class="scan-count">[^<]*3[^<]*<', get(app, honey.item_path).get_data(as_text=True))

    # Another item of the same lot keeps its own history; the lot's page shows none.
    other = get(app, f"{honey.batch_path}/21/OTHER00001", **english).get_data(as_text=True)
    assert "This is the first scan of this code." in other
    assert "scan-count" not in get(app, honey.batch_path, **english).get_data(as_text=True)
    assert len(scans(db, item_id=honey.item.id)) == 4
    assert len(scans(db, batch_id=honey.batch.id)) == 6


def test_short_codes_open_lots_and_items_of_products_without_gtin(app, db, honey):
    response = get(app, f"/t/{honey.plain_batch.public_code}")
    assert response.status_code == 200
    assert html.escape("Lô 7 (rang)") in response.get_data(as_text=True)
    assert linkset_link(response) == f"{BASE}/t/{honey.plain_batch.public_code}?linkType=linkset"
    # A code typed in lower case answers 301 to its one spelling (and cache entry): upper case.
    response = get(app, f"/t/{honey.plain_item.public_code.lower()}", **{"Accept-Language": "en"})
    assert response.status_code == 301
    assert response.headers["Location"] == f"/t/{honey.plain_item.public_code}"
    response = get(app, response.headers["Location"], **{"Accept-Language": "en"})
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert 'class="serial">PLAIN00001<' in page and "This is the first scan of this code." in page
    assert [(s.batch_id, s.item_id) for s in scans(db)] == [
        (honey.plain_batch.id, None),
        (honey.plain_batch.id, honey.plain_item.id),
    ]


@pytest.mark.parametrize(
    "agent",
    [
        "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
        "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
        "curl/8.5.0",
        "",
    ],
)
def test_crawlers_and_previews_are_not_scans(app, db, honey, agent):
    assert get(app, honey.item_path, **{"User-Agent": agent}).status_code == 200
    assert scans(db) == []


def test_head_linkset_and_epcis_requests_are_not_scans(app, db, honey):
    client = app.test_client()
    assert client.head(honey.item_path, headers={"User-Agent": PHONE}).status_code == 200
    assert get(app, honey.item_path, Accept="application/linkset+json").status_code == 200
    assert get(app, f"{honey.item_path}?linkType=gs1:epcis").status_code == 200
    assert scans(db) == []
    get(app, honey.item_path)
    assert len(scans(db)) == 1


def test_a_suspended_producer_and_a_recalled_lot_still_resolve(app, db, honey):
    recall_batch(honey.batch, "Phát hiện tồn dư kháng sinh", actor=honey.user)
    honey.producer.status = "suspended"
    db.session.commit()
    for path in (honey.batch_path, honey.item_path):
        response = get(app, path, **{"Accept-Language": "en"})
        assert response.status_code == 200
        page = response.get_data(as_text=True)
        assert 'id="recall"' in page and "Phát hiện tồn dư kháng sinh" in page
        assert "suspended" in page
    linkset = get(app, f"{honey.item_path}?linkType=linkset").get_json()["linkset"][0]
    [recall] = linkset[LINK_TYPES + "recallStatus"]
    assert recall["href"] == f"{BASE}{honey.item_path}#recall"
    assert "Phát hiện tồn dư kháng sinh" in recall["title"]


# --- the linkset ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "accept"),
    [
        ("", "application/linkset+json"),
        ("", "application/json"),
        ("?linkType=linkset", BROWSER_ACCEPT),
        ("?linkType=all", "application/linkset+json"),
    ],
)
def test_the_linkset_on_request(app, honey, query, accept):
    response = get(app, f"{honey.batch_path}{query}", Accept=accept)
    assert response.status_code == 200
    assert response.mimetype == "application/linkset+json"
    assert linkset_link(response) == f"{BASE}{honey.batch_path}?linkType=linkset"
    assert "Accept" in response.headers["Vary"]
    document = json.loads(response.get_data(as_text=True))
    assert [e.message for e in Draft7Validator(LINKSET_SCHEMA).iter_errors(document)] == []
    [context] = document["linkset"]
    page_url = f"{BASE}{honey.batch_path}"
    assert context["anchor"] == page_url
    assert context[LINK_TYPES + "defaultLink"][0]["href"] == page_url
    assert context[LINK_TYPES + "pip"][0] == {
        "href": page_url,
        "title": context[LINK_TYPES + "pip"][0]["title"],
        "type": "text/html",
        "hreflang": ["vi", "en"],
    }
    assert PRODUCT_NAME in context[LINK_TYPES + "pip"][0]["title"]
    [certificate] = context[LINK_TYPES + "certificationInfo"]
    assert certificate["href"] == f"{page_url}#certification-{honey.certificates['valid'].id}"
    assert "VG-VALID-01" in certificate["title"]
    assert [link["href"] for link in context[LINK_TYPES + "hasRetailers"]] == [
        "https://shop.example.vn/mat-ong?id=7",
        "https://htx.example.vn/",
    ]
    assert context[LINK_TYPES + "hasRetailers"][0]["title"] == "Sàn Đắk Lắk"
    assert context[LINK_TYPES + "epcis"] == [
        {
            "href": f"{page_url}?linkType=gs1:epcis",
            "title": context[LINK_TYPES + "epcis"][0]["title"],
            "type": "application/ld+json",
        }
    ]
    assert context[LINK_TYPES + "traceability"][0]["href"] == f"{page_url}#trace"
    assert LINK_TYPES + "recallStatus" not in context  # not recalled


def test_the_linkset_titles_follow_the_language(app, honey):
    english = get(app, f"{honey.batch_path}?linkType=linkset", **{"Accept-Language": "en"}).get_json()
    assert english["linkset"][0][LINK_TYPES + "pip"][0]["title"].startswith("Product information")


def test_the_page_is_what_a_browser_gets(app, honey):
    for accept in (BROWSER_ACCEPT, "*/*", "text/html", "application/linkset+json;q=0.5,text/html"):
        assert get(app, honey.batch_path, Accept=accept).mimetype == "text/html", accept


def test_an_item_linkset_anchors_on_the_item(app, honey):
    context = get(app, f"{honey.item_path}?linkType=linkset").get_json()["linkset"][0]
    assert context["anchor"] == f"{BASE}{honey.item_path}"
    assert SERIAL in context["itemDescription"]


def test_a_lot_without_gtin_has_its_linkset_too(app, honey):
    path = f"/t/{honey.plain_batch.public_code}"
    document = get(app, path, Accept="application/linkset+json").get_json()
    assert [e.message for e in Draft7Validator(LINKSET_SCHEMA).iter_errors(document)] == []
    context = document["linkset"][0]
    assert context["anchor"] == f"{BASE}{path}"
    assert LINK_TYPES + "certificationInfo" not in context and LINK_TYPES + "hasRetailers" not in context


# --- other link types ---------------------------------------------------------------------------


@pytest.mark.parametrize("link_type", ["gs1:epcis", "https://gs1.org/voc/epcis"])
def test_the_epcis_link_type_answers_the_epcis_document(app, honey, link_type):
    response = get(app, f"{honey.batch_path}?linkType={link_type}")
    assert response.status_code == 200
    assert response.mimetype == "application/ld+json"
    assert linkset_link(response) == f"{BASE}{honey.batch_path}?linkType=linkset"
    document = json.loads(response.get_data(as_text=True))
    assert list(Draft7Validator(load_schema()).iter_errors(document)) == []
    assert document["type"] == "EPCISDocument"
    # The harvest of the lot, named by the lot's GS1 class.
    assert f"https://id.gs1.org/01/{GTIN14}/10/{LOT_PATH}" in json.dumps(document)


def test_has_retailers_redirects_to_the_first_shop(app, honey):
    response = get(app, f"{honey.batch_path}?linkType=gs1:hasRetailers")
    assert response.status_code == 307
    assert response.headers["Location"] == "https://shop.example.vn/mat-ong?id=7"
    assert linkset_link(response) == f"{BASE}{honey.batch_path}?linkType=linkset"
    # The query is passed on, all but the resolver's own linkType.
    response = get(app, f"{honey.batch_path}?linkType=gs1:hasRetailers&utm_source=qr&17=271231")
    assert response.headers["Location"] == "https://shop.example.vn/mat-ong?id=7&utm_source=qr&17=271231"
    # A lot whose product has no shop has no such link: 404 (GS1 resolver standard), a way on to its page.
    path = f"/t/{honey.plain_batch.public_code}"
    response = get(app, f"{path}?linkType=gs1:hasRetailers")
    assert response.status_code == 404 and response.mimetype == "text/html"
    assert f'href="{BASE}{path}"' in response.get_data(as_text=True)
    assert response.headers["Access-Control-Allow-Origin"] == "*"


@pytest.mark.parametrize("link_type", ["gs1:pip", "gs1:defaultLink", "https://gs1.org/voc/pip"])
def test_the_default_link_and_the_pip_answer_the_page(app, db, honey, link_type):
    response = get(app, f"{honey.batch_path}?linkType={link_type}")
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    assert html.escape(PRODUCT_NAME) in response.get_data(as_text=True)
    assert linkset_link(response)
    assert len(scans(db)) == 1  # a consumer on the page


@pytest.mark.parametrize(
    ("link_type", "section"),
    [("gs1:certificationInfo", "#certification-"), ("gs1:traceability", "#trace")],
)
def test_a_section_link_type_redirects_to_its_section_without_the_link_type(
    app, db, honey, link_type, section
):
    response = get(app, f"{honey.batch_path}?linkType={link_type}&foo=bar")
    assert response.status_code == 307
    location = response.headers["Location"]
    assert location.startswith(f"{BASE}{honey.batch_path}?foo=bar{section}")
    assert "linkType" not in location  # else the section would redirect here again
    assert scans(db) == []


@pytest.mark.parametrize(
    "link_type", ["gs1:nutritionalInfo", "https://example.org/x", "x", "gs1:recallStatus"]
)
def test_a_link_type_the_lot_has_no_link_of_answers_404(app, db, honey, link_type):
    response = get(app, f"{honey.batch_path}?linkType={link_type}")
    assert response.status_code == 404
    assert scans(db) == []


# --- non-canonical, unknown and malformed ------------------------------------------------------------


def test_a_gtin_13_item_path_answers_301_to_the_14_digit_form_with_its_query(app, honey):
    response = get(app, f"/01/{GTIN13}/10/{LOT_PATH}/21/{SERIAL}?linkType=linkset")
    assert response.status_code == 301
    location = urlsplit(response.headers["Location"])
    assert (location.path, location.query) == (honey.item_path, "linkType=linkset")
    assert linkset_link(response) == f"{BASE}{honey.item_path}?linkType=linkset"
    followed = get(app, f"{location.path}?{location.query}")
    assert followed.get_json()["linkset"][0]["anchor"] == f"{BASE}{honey.item_path}"


@pytest.mark.parametrize(
    "path",
    [
        f"/01/{GTIN14}/22/V1/10/{LOT_PATH}",  # no variants are registered
        "/01/08930000009999",  # a GTIN no product here has (its check digit is right)
        "/t/AAAAAAAAAAAAAAAA",
    ],
)
def test_unknown_answers_404(app, db, honey, path):
    response = get(app, path)
    assert response.status_code == 404
    assert "Link" not in response.headers
    assert scans(db) == []


@pytest.mark.parametrize(
    "path",
    [
        f"/01/{GTIN14}/10/{LOT_PATH}/21/NOSUCHSERIAL",
        f"/01/{GTIN14}/10/NO-SUCH-LOT/21/{SERIAL}",
        f"/01/{GTIN14}/21/{SERIAL}",  # items are addressed with their lot
        f"/01/{GTIN14}",
    ],
)
def test_a_known_gtin_walks_up_to_the_product_and_counts_no_scan(app, db, honey, path):
    """GS1 resolver rules: an unknown lot or serial of a known GTIN answers the product's level (walk_up)."""
    response = get(app, path)
    assert response.status_code == 200
    assert linkset_link(response) == f"{BASE}/01/{GTIN14}?linkType=linkset"
    assert ('id="unregistered"' in response.get_data(as_text=True)) == (path != f"/01/{GTIN14}")
    assert scans(db) == []


@pytest.mark.parametrize(
    ("path", "words"),
    [
        (f"/01/{GTIN14}/10/{LOT_PATH}/21/{'X' * 21}", "serial number"),
        (f"/01/{GTIN14}/10/{LOT_PATH}/21/A%20B", "serial number"),
        (f"/01/{GTIN14}/10/{LOT_PATH}/21/S%C3%94", "serial number"),
        (f"/01/{GTIN14[:-1]}{(int(GTIN14[-1]) + 1) % 10}/10/{LOT_PATH}", "check digit"),
        (f"/01/{GTIN14}/21/{SERIAL}/10/{LOT_PATH}", "in that order"),
    ],
)
def test_malformed_answers_400_with_the_reason(app, db, honey, path, words):
    response = get(app, path, **{"Accept-Language": "en"})
    assert response.status_code == 400
    reason = re.search(r'class="reason">([^<]+)<', response.get_data(as_text=True))
    assert reason and words in html.unescape(reason.group(1))
    assert scans(db) == []


def test_the_resolver_description(app, client):
    response = client.get("/.well-known/gs1resolver")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    description = response.get_json()
    assert [e.message for e in Draft7Validator(DESCRIPTION_SCHEMA).iter_errors(description)] == []
    assert description["resolverRoot"] == BASE
    assert description["supportedPrimaryKeys"] == ["01"]
    assert {"namespace": "https://gs1.org/voc/", "prefix": "gs1:"} in description["supportedLinkType"]
    assert description["linkTypeDefaultCanBeLinkset"] is False


@pytest.mark.parametrize(
    ("agent", "expected"),
    [
        (PHONE, "mobile"),
        (
            "Mozilla/5.0 (Linux; Android 14; SM-A546E) AppleWebKit/537.36 Chrome/140.0 Mobile Safari/537.36",
            "mobile",
        ),
        (
            "Mozilla/5.0 (Linux; Android 13; 2201117TG Build/TKQ1; wv) AppleWebKit/537.36 Chrome/139.0 "
            "Mobile Safari/537.36 ZaloTheme/light ZaloLanguage/vi",
            "mobile",
        ),
        ("Mozilla/5.0 (iPad; CPU OS 17_5 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148", "tablet"),
        ("Mozilla/5.0 (Linux; Android 14; SM-X710) AppleWebKit/537.36 Chrome/140.0 Safari/537.36", "tablet"),
        (DESKTOP, "desktop"),
        ("Mozilla/5.0 (Macintosh; Intel Mac OS X 14_6) AppleWebKit/605.1.15 Safari/605.1.15", "desktop"),
        ("Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)", "bot"),
        ("WhatsApp/2.24 preview", "bot"),
        ("python-requests/2.32", "bot"),
        (None, "bot"),
        ("SomeTV/1.0", "other"),
    ],
)
def test_device_classes(agent, expected):
    assert device_class(agent) == expected


def test_scans_store_no_address(db):
    assert {column.name for column in Scan.__table__.columns} == {
        "id",
        "batch_id",
        "item_id",
        "scanned_at",
        "language",
        "device_class",
    }
    assert db.session.scalar(select(func.count(Scan.id))) == 0
