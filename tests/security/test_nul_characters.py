"""A NUL character anywhere in a request: 400 saying so, in the user's language, and nothing stored.

PostgreSQL refuses NUL in text with an error where SQLite stores it; the
check at the request boundary (traceability/http/input_guard.py) answers the
same on both.
"""

from __future__ import annotations

from sqlalchemy import func, select

from traceability.models.registry import Product


def _products(db) -> int:
    return db.session.scalar(select(func.count()).select_from(Product))


def test_a_nul_in_an_api_body_is_a_400_and_nothing_is_stored(api, tenants, db):
    before = _products(db)
    response = api.post(
        "/products", tenants["daklak"].producer_user, json={"name": "Cà phê\x00", "shop_links": []}
    )
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert error["code"] == "bad_request" and "NUL" in error["message"]
    assert _products(db) == before


def test_a_nul_in_a_web_form_is_a_400_page_and_nothing_is_stored(web, tenants, db):
    own = tenants["daklak"]
    web.login(own.producer_user.email)
    before = _products(db)
    response = web.post_form(
        "/manage/products/new",
        {"producer_id": own.producer.id, "name": "Mật ong\x00", "category": "Mật ong"},
        headers={"Accept-Language": "en"},
    )
    assert response.status_code == 400
    assert "NUL" in response.get_data(as_text=True)
    assert _products(db) == before


def test_a_nul_in_a_query_string_or_path_is_a_400(client, api, tenants):
    assert client.get("/products?q=ca%00phe").status_code == 400
    assert client.get("/t/ABC%00").status_code == 400
    assert api.get("/products?q=%00", tenants["daklak"].staff).status_code == 400
