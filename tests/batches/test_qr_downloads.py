"""QR downloads of batches and items on the management pages and the API, read back by zxing-cpp."""

from __future__ import annotations

import pytest

from tests.qr_decoding import read_png, read_svg
from traceability.batches.service import new_public_code
from traceability.gs1 import gtin_check_digit
from traceability.models.batches import Item

BASE = "https://trace.example.vn"
GTIN14 = ("893000000555" + str(gtin_check_digit("893000000555"))).zfill(14)
LOT = "LO/26?A"  # needs percent-encoding: / and ?
SERIAL = "Z9Y8X7W6V5"


@pytest.fixture
def coded(make, tenants, db):
    """A lot of a GTIN product with one item, and an item of a lot without GTIN."""
    own = tenants["daklak"]
    batch = make.batch(make.product(own.producer, gtin=GTIN14), lot_code=LOT)
    item = Item(batch_id=batch.id, serial=SERIAL, public_code=new_public_code())
    plain_item = Item(batch_id=own.batch.id, serial="PLAIN00002", public_code=new_public_code())
    db.session.add_all([item, plain_item])
    db.session.commit()

    class Coded:
        pass

    result = Coded()
    result.user, result.stranger = own.producer_user, tenants["nghean"].producer_user
    result.batch, result.item, result.plain_item = batch, item, plain_item
    result.batch_url = f"{BASE}/01/{GTIN14}/10/LO%2F26%3FA"
    result.item_url = f"{result.batch_url}/21/{SERIAL}"
    result.plain_item_url = f"{BASE}/t/{plain_item.public_code}"
    return result


def read(response):
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    if response.mimetype == "image/png":
        return read_png(response.data)
    assert response.mimetype == "image/svg+xml"
    return read_svg(response.data)


def test_every_kind_of_code_on_the_web_reads_back_as_its_public_url(web, coded):
    web.login(coded.user.email)
    cases = [
        (f"/manage/batches/{coded.batch.id}/qr", coded.batch_url),
        (f"/manage/items/{coded.item.id}/qr", coded.item_url),
        (f"/manage/items/{coded.plain_item.id}/qr", coded.plain_item_url),
    ]
    for path, url in cases:
        for image_format in ("png", "svg"):
            for query, level in (("", "M"), ("?ec=H", "H")):
                code = read(web.client.get(f"{path}.{image_format}{query}"))
                assert (code.text, code.ec_level) == (url, level), (path, image_format, query)
                assert code.quiet_zone_modules == (4, 4, 4, 4)


def test_every_kind_of_code_through_the_api(api, coded):
    cases = [
        (f"/batches/{coded.batch.id}/qr", coded.batch_url),
        (f"/items/{coded.item.id}/qr", coded.item_url),
        (f"/items/{coded.plain_item.id}/qr", coded.plain_item_url),
    ]
    for path, url in cases:
        for image_format in ("png", "svg"):
            code = read(api.get(f"{path}.{image_format}?ec=H&size=600", coded.user))
            assert (code.text, code.ec_level) == (url, "H")
            assert code.quiet_zone_modules == (4, 4, 4, 4)
    assert api.get(f"/batches/{coded.batch.id}", coded.user).get_json()["public_url"] == coded.batch_url


def test_sizes(web, coded):
    web.login(coded.user.email)
    png = web.client.get(f"/manage/items/{coded.item.id}/qr.png?size=1000")
    code = read(png)
    width = round(code.module_px * (17 + 4 * code.version + 8))
    assert 1000 - (17 + 4 * code.version + 8) < width <= 1000
    svg = web.client.get(f"/manage/items/{coded.item.id}/qr.svg?size=300").get_data(as_text=True)
    assert 'width="300" height="300"' in svg


def test_a_strong_etag_a_long_lifetime_and_304_when_unchanged(web, api, coded):
    web.login(coded.user.email)
    path = f"/manage/items/{coded.item.id}/qr.png?size=500"
    first = web.client.get(path)
    etag = first.headers["ETag"]
    assert etag.startswith('"') and not etag.startswith("W/")
    assert "max-age=31536000" in first.headers["Cache-Control"]
    assert "private" in first.headers["Cache-Control"]  # behind a sign-in: never in a shared cache
    again = web.client.get(path, headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.data == b""
    assert again.headers["ETag"] == etag
    assert web.client.get(path).data == first.data  # the same URL always gives the same image
    other_tags = {
        web.client.get(f"/manage/items/{coded.item.id}/qr.png?size=600").headers["ETag"],
        web.client.get(f"/manage/items/{coded.item.id}/qr.png?size=500&ec=H").headers["ETag"],
        web.client.get(f"/manage/items/{coded.item.id}/qr.svg").headers["ETag"],
        web.client.get(f"/manage/batches/{coded.batch.id}/qr.png?size=500").headers["ETag"],
    }
    assert etag not in other_tags and len(other_tags) == 4
    # The API gives the same image under the same tag, and 304 too.
    response = api.get(f"/items/{coded.item.id}/qr.png?size=500", coded.user)
    assert response.headers["ETag"] == etag and response.data == first.data
    assert (
        api.get(
            f"/items/{coded.item.id}/qr.png?size=500", coded.user, headers={"If-None-Match": etag}
        ).status_code
        == 304
    )


@pytest.mark.parametrize(
    ("query", "words"),
    [
        ("size=5000", "2000"),
        ("size=99", "100"),
        ("size=big", "whole number"),
        ("ec=Q", "M or H"),
    ],
)
def test_bad_options_are_refused_with_a_clear_400(web, coded, query, words):
    web.login(coded.user.email)
    for path in (f"/manage/items/{coded.item.id}/qr.png", f"/manage/batches/{coded.batch.id}/qr.svg"):
        response = web.client.get(f"{path}?{query}", headers={"Accept-Language": "en"})
        assert response.status_code == 400, (path, query)
        assert words in response.get_data(as_text=True)


def test_the_api_refuses_bad_options_naming_the_field(api, coded):
    for query, field in (("size=5000", "size"), ("ec=Q", "ec")):
        response = api.get(f"/items/{coded.item.id}/qr.svg?{query}", coded.user)
        assert response.status_code == 422
        assert field in response.get_json()["error"]["fields"]


def test_codes_stay_within_the_tenant(app, web, api, coded):
    web.login(coded.stranger.email)
    for path in (
        f"/manage/items/{coded.item.id}/qr.png",
        f"/manage/items/{coded.item.id}/qr.svg",
        f"/manage/batches/{coded.batch.id}/qr.svg",
    ):
        assert web.client.get(path).status_code == 404
    for path in (
        f"/items/{coded.item.id}/qr.png",
        f"/items/{coded.item.id}/qr.svg",
        f"/batches/{coded.batch.id}/qr.svg",
    ):
        assert api.get(path, coded.stranger).status_code == 404
    assert app.test_client().get(f"/manage/items/{coded.item.id}/qr.png").status_code == 302  # sign in first


def test_the_batch_page_offers_the_svg(web, coded):
    web.login(coded.user.email)
    page = web.client.get(f"/manage/batches/{coded.batch.id}").get_data(as_text=True)
    assert f'href="/manage/batches/{coded.batch.id}/qr.svg"' in page


def test_openapi_lists_the_qr_operations(client):
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    for path, media_type in (
        ("/batches/{batch_id}/qr.png", "image/png"),
        ("/batches/{batch_id}/qr.svg", "image/svg+xml"),
        ("/items/{item_id}/qr.png", "image/png"),
        ("/items/{item_id}/qr.svg", "image/svg+xml"),
    ):
        assert media_type in paths[path]["get"]["responses"]["200"]["content"]
