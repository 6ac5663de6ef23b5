"""The first end-to-end path (issue 2, point 8), in the web interface and through the API.

A producer user registers a product and a batch, downloads the batch's QR code
as a PNG, a real decoder (zxing-cpp) reads it, and the URL it holds opens the
consumer page with the product name, producer, lot code and production date,
without signing in. Runs on SQLite and on PostgreSQL (TEST_DATABASE_URL).
"""

from __future__ import annotations

import html
import io
import re
from datetime import date
from typing import Any
from urllib.parse import urlsplit

import pytest
import zxingcpp
from PIL import Image

from traceability.gs1 import gtin_check_digit

PUBLIC_BASE_URL = "https://trace.example.vn"
GTIN_DATA = "893000000001"  # Vietnam's prefix 893; the check digit is computed, not typed
GTIN13 = GTIN_DATA + str(gtin_check_digit(GTIN_DATA))
GTIN14 = GTIN13.zfill(14)
PRODUCT_NAME = "Cà phê Robusta rang mộc Buôn Ma Thuột"
LOT_CODE = "LO-2026-001"
PRODUCTION_DATE = date(2026, 3, 15)
EXPIRY_DATE = date(2027, 3, 15)
SHOWN_DATE = "15/03/2026"  # what the pages show: dd/mm/yyyy
PUBLIC_URL_LINK = re.compile(r'class="public-url">([^<]+)</a>')
REDIRECT_ID = re.compile(r"/(\d+)$")


# --- helpers ---------------------------------------------------------------


def signed_out_get(app: Any, path: str, **kwargs: Any) -> Any:
    """GET ``path`` from a new client that never signed in."""
    return app.test_client().get(path, **kwargs)


def decode_qr(png: bytes) -> str:
    """The text of the one QR code in ``png``, read by zxing-cpp."""
    image = Image.open(io.BytesIO(png))
    barcodes = zxingcpp.read_barcodes(image)
    assert len(barcodes) == 1, f"expected one QR code, zxing-cpp found {len(barcodes)}"
    assert barcodes[0].format == zxingcpp.BarcodeFormat.QRCode
    return barcodes[0].text


def qr_error_correction(png: bytes) -> str:
    return zxingcpp.read_barcodes(Image.open(io.BytesIO(png)))[0].ec_level


def expected_path(with_gtin: bool) -> re.Pattern[str]:
    if with_gtin:
        return re.compile(rf"/01/{GTIN14}/10/{re.escape(LOT_CODE)}")
    return re.compile(r"/t/[A-Z2-7]{16,}")  # base32, at least 80 random bits from new_public_code


def id_from_redirect(response: Any, prefix: str) -> int:
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    location = urlsplit(response.headers["Location"]).path
    assert location.startswith(prefix), location
    match = REDIRECT_ID.search(location)
    assert match, location
    return int(match.group(1))


def assert_public_page(app: Any, url: str, *, producer_name: str, lot_code: str = LOT_CODE) -> str:
    """Open ``url`` as a consumer (no session) and check what Decree 37 Art. 23.7 asks to show."""
    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}" == PUBLIC_BASE_URL
    response = signed_out_get(app, parts.path)
    assert response.status_code == 200, response.get_data(as_text=True)[:2000]  # no redirect hop
    assert response.mimetype == "text/html"
    page = response.get_data(as_text=True)
    assert html.escape(PRODUCT_NAME) in page
    assert html.escape(producer_name) in page
    assert html.escape(lot_code) in page
    assert SHOWN_DATE in page
    # The same page for every reader (it is cached): no account links, no session's CSRF token.
    assert 'href="/login"' not in page and "csrf_token" not in page
    return page


def create_product_and_batch_on_the_web(web: Any, *, with_gtin: bool) -> tuple[int, str]:
    """Fill in the product and batch forms as a signed-in producer user; the batch id and its page."""
    response = web.post_form(
        "/manage/products/new",
        {
            "name": PRODUCT_NAME,
            "name_en": "Buon Ma Thuot Robusta coffee",
            "category": "Cà phê",
            "brand": "Ea Tu",
            "gtin": GTIN13 if with_gtin else "",
            "standards": "TCVN 4193:2014",
            "ocop_group": "",
            "ocop_stars": "",
        },
    )
    product_id = id_from_redirect(response, "/manage/products/")
    product_page = web.client.get(f"/manage/products/{product_id}")
    assert product_page.status_code == 200
    assert html.escape(PRODUCT_NAME) in product_page.get_data(as_text=True)

    response = web.post_form(
        "/manage/batches/new",
        {
            "product_id": str(product_id),
            "lot_code": LOT_CODE,
            "production_date": PRODUCTION_DATE.isoformat(),
            "expiry_date": EXPIRY_DATE.isoformat(),
            "quantity": "1200.5",
            "unit": "KGM",
            "location_id": "",
        },
        form_url=f"/manage/batches/new?product_id={product_id}",
    )
    batch_id = id_from_redirect(response, "/manage/batches/")
    batch_page = web.client.get(f"/manage/batches/{batch_id}")
    assert batch_page.status_code == 200
    return batch_id, batch_page.get_data(as_text=True)


def create_product_and_batch_through_the_api(api: Any, user: Any, *, with_gtin: bool) -> dict[str, Any]:
    body: dict[str, Any] = {"producer_id": user.producer_id, "name": PRODUCT_NAME, "category": "Cà phê"}
    if with_gtin:
        body["gtin"] = GTIN13
    response = api.post("/products", user, json=body)
    assert response.status_code == 201, response.get_json()
    product = response.get_json()
    assert product["gtin"] == (GTIN14 if with_gtin else None)

    response = api.post(
        "/batches",
        user,
        json={
            "product_id": product["id"],
            "lot_code": LOT_CODE,
            "production_date": PRODUCTION_DATE.isoformat(),
            "expiry_date": EXPIRY_DATE.isoformat(),
            "quantity": 1200.5,
            "unit": "KGM",
        },
    )
    assert response.status_code == 201, response.get_json()
    return response.get_json()


# --- the path itself ------------------------------------------------------


@pytest.mark.parametrize("with_gtin", [True, False], ids=["with-gtin", "without-gtin"])
def test_web_product_batch_qr_public_page(app, web, tenants, with_gtin):
    daklak = tenants["daklak"]
    assert web.login(daklak.producer_user.email).status_code == 302

    batch_id, batch_page = create_product_and_batch_on_the_web(web, with_gtin=with_gtin)
    assert html.escape(daklak.producer.name) in batch_page
    assert SHOWN_DATE in batch_page
    shown = PUBLIC_URL_LINK.search(batch_page)
    assert shown, "the batch page shows no public URL"
    public_url = html.unescape(shown.group(1)).strip()
    assert f'src="/manage/batches/{batch_id}/qr.png"' in batch_page

    response = web.client.get(f"/manage/batches/{batch_id}/qr.png")
    assert response.status_code == 200
    assert response.mimetype == "image/png"
    assert response.data.startswith(b"\x89PNG\r\n\x1a\n")
    decoded = decode_qr(response.data)

    assert decoded == public_url
    assert decoded.startswith(PUBLIC_BASE_URL + "/")
    assert expected_path(with_gtin).fullmatch(urlsplit(decoded).path), decoded
    assert_public_page(app, decoded, producer_name=daklak.producer.name)


@pytest.mark.parametrize("with_gtin", [True, False], ids=["with-gtin", "without-gtin"])
def test_api_product_batch_qr_public_page(app, api, tenants, with_gtin):
    daklak = tenants["daklak"]
    user = daklak.producer_user

    created = create_product_and_batch_through_the_api(api, user, with_gtin=with_gtin)
    response = api.get(f"/batches/{created['id']}", user)
    assert response.status_code == 200
    batch = response.get_json()
    assert batch["lot_code"] == LOT_CODE
    assert batch["production_date"] == PRODUCTION_DATE.isoformat()
    assert batch["status"] == "active"
    assert batch["public_url"] == created["public_url"]
    assert batch["public_url"].startswith(PUBLIC_BASE_URL + "/")
    assert expected_path(with_gtin).fullmatch(urlsplit(batch["public_url"]).path), batch["public_url"]

    response = api.get(f"/batches/{batch['id']}/qr.png", user)
    assert response.status_code == 200
    assert response.mimetype == "image/png"
    assert decode_qr(response.data) == batch["public_url"]
    assert_public_page(app, batch["public_url"], producer_name=daklak.producer.name)


# --- what a user would notice -------------------------------------------


@pytest.fixture
def gtin_batch(make, tenants, db):
    """A committed batch LOT_CODE of a product with GTIN14, made by the Đắk Lắk producer."""
    daklak = tenants["daklak"]
    product = make.product(daklak.producer, name=PRODUCT_NAME, gtin=GTIN14)
    batch = make.batch(product, lot_code=LOT_CODE, production_date=PRODUCTION_DATE)
    db.session.commit()
    return batch


def test_gtin13_in_public_path_answers_301_to_gtin14(app, client, gtin_batch, tenants):
    response = client.get(f"/01/{GTIN13}/10/{LOT_CODE}")
    assert response.status_code == 301
    assert urlsplit(response.headers["Location"]).path == f"/01/{GTIN14}/10/{LOT_CODE}"
    followed = client.get(urlsplit(response.headers["Location"]).path)
    assert followed.status_code == 200
    assert html.escape(PRODUCT_NAME) in followed.get_data(as_text=True)


def test_an_unknown_lot_of_a_known_product_walks_up_to_the_product(client, gtin_batch):
    response = client.get(f"/01/{GTIN14}/10/NO-SUCH-LOT", headers={"Accept-Language": "en"})
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert html.escape(PRODUCT_NAME) in page and "not registered" in page


def test_unknown_codes_answer_404(client, gtin_batch):
    for path in (
        f"/01/{'0' * 13}{gtin_check_digit('0' * 13)}/10/{LOT_CODE}",  # a valid GTIN nobody registered
        "/t/AAAAAAAAAAAAAAAA",
    ):
        response = client.get(path)
        assert response.status_code == 404, path
        assert response.mimetype == "text/html"
        assert html.escape(PRODUCT_NAME) not in response.get_data(as_text=True)


def test_malformed_gtin_answers_400_and_says_why(client, gtin_batch):
    wrong_check_digit = GTIN14[:-1] + str((int(GTIN14[-1]) + 1) % 10)
    response = client.get(f"/01/{wrong_check_digit}/10/{LOT_CODE}", headers={"Accept-Language": "en"})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    reason = re.search(r'class="reason">([^<]+)<', page)
    assert reason, page
    assert "GTIN" in reason.group(1)
    assert "check digit" in reason.group(1)
    # In the default language too the page gives a reason, not an empty error.
    response = client.get(f"/01/{wrong_check_digit}/10/{LOT_CODE}")
    assert response.status_code == 400
    assert re.search(r'class="reason">[^<]*GTIN[^<]*<', response.get_data(as_text=True))


def test_qr_size_out_of_range_is_refused(web, api, tenants, gtin_batch):
    user = tenants["daklak"].producer_user
    web.login(user.email)
    for query in ("size=5000", "size=20", "ec=Q"):
        response = web.client.get(f"/manage/batches/{gtin_batch.id}/qr.png?{query}")
        assert response.status_code == 400, query
        assert response.mimetype == "text/html"
    response = web.client.get(
        f"/manage/batches/{gtin_batch.id}/qr.png?size=5000", headers={"Accept-Language": "en"}
    )
    assert "2000" in response.get_data(as_text=True)
    # The API validates its query with its schema: 422 and a JSON error naming the field.
    response = api.get(f"/batches/{gtin_batch.id}/qr.png?size=5000", user)
    assert response.status_code == 422
    assert "size" in response.get_json()["error"]["fields"]


def test_high_error_correction_is_decodable_too(web, api, tenants, gtin_batch):
    user = tenants["daklak"].producer_user
    expected = f"{PUBLIC_BASE_URL}/01/{GTIN14}/10/{LOT_CODE}"
    web.login(user.email)
    for ec in ("M", "H"):
        response = web.client.get(f"/manage/batches/{gtin_batch.id}/qr.png?ec={ec}&size=1000")
        assert response.status_code == 200
        assert decode_qr(response.data) == expected
        assert qr_error_correction(response.data) == ec
        assert 800 <= Image.open(io.BytesIO(response.data)).width <= 1000
    response = api.get(f"/batches/{gtin_batch.id}/qr.png?ec=H&size=300", user)
    assert response.status_code == 200
    assert decode_qr(response.data) == expected
    assert qr_error_correction(response.data) == "H"


def test_another_producers_user_cannot_download_the_qr(app, web, api, tenants, gtin_batch):
    stranger = tenants["nghean"].producer_user
    web.login(stranger.email)
    assert web.client.get(f"/manage/batches/{gtin_batch.id}/qr.png").status_code == 404
    assert web.client.get(f"/manage/batches/{gtin_batch.id}").status_code == 404
    assert api.get(f"/batches/{gtin_batch.id}/qr.png", stranger).status_code == 404
    assert api.get(f"/batches/{gtin_batch.id}", stranger).status_code == 404
    # Signed out, the QR download asks to sign in; the public page stays public.
    response = signed_out_get(app, f"/manage/batches/{gtin_batch.id}/qr.png")
    assert response.status_code == 302
    assert urlsplit(response.headers["Location"]).path == "/login"
    assert signed_out_get(app, f"/01/{GTIN14}/10/{LOT_CODE}").status_code == 200


@pytest.mark.parametrize(
    "lot_code",
    [
        "L?1",
        "A%B",
        "a&b",
        "26/10",
        "a/b/c",
    ],
)
def test_lot_codes_that_need_percent_encoding_reach_their_page(app, api, tenants, lot_code):
    """Set 82 allows ? % & / in a lot code: the URI percent-encodes them and the page decodes them."""
    daklak = tenants["daklak"]
    user = daklak.producer_user
    product = api.post(
        "/products", user, json={"producer_id": user.producer_id, "name": PRODUCT_NAME, "gtin": GTIN13}
    ).get_json()
    response = api.post(
        "/batches",
        user,
        json={
            "product_id": product["id"],
            "lot_code": lot_code,
            "production_date": PRODUCTION_DATE.isoformat(),
            "quantity": 10,
            "unit": "KGM",
        },
    )
    assert response.status_code == 201, response.get_json()
    batch = response.get_json()
    path = urlsplit(batch["public_url"]).path
    assert path.startswith(f"/01/{GTIN14}/10/") and "%" in path
    qr = api.get(f"/batches/{batch['id']}/qr.png", user)
    assert decode_qr(qr.data) == batch["public_url"]
    assert_public_page(app, batch["public_url"], producer_name=daklak.producer.name, lot_code=lot_code)
