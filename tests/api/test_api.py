"""The API base: tokens, the error shape, validation, pagination and the OpenAPI document."""

from datetime import timedelta

from openapi_spec_validator import validate
from sqlalchemy import select

from traceability.core.dates import utcnow
from traceability.models.accounts import ApiToken


def test_token_is_issued_for_right_password_and_stored_hashed(client, tenants, db):
    user = tenants["daklak"].staff
    response = client.post(
        "/api/v1/tokens", json={"email": user.email.upper(), "password": "correct-horse-42"}
    )
    assert response.status_code == 201
    token = response.get_json()["token"]
    assert len(token) >= 40
    stored = db.session.scalars(select(ApiToken.token_hash)).all()
    assert token not in stored
    assert len(stored) == 1 and len(stored[0]) == 64


def test_wrong_password_gets_401_in_the_error_shape(client, tenants):
    response = client.post(
        "/api/v1/tokens", json={"email": tenants["daklak"].staff.email, "password": "nope"}
    )
    assert response.status_code == 401
    body = response.get_json()
    assert set(body["error"]) == {"code", "message", "fields"}
    assert body["error"]["code"] == "unauthorized"


def test_missing_bad_expired_and_revoked_tokens_are_refused(client, api, tenants, db):
    batch_url = f"/api/v1/batches/{tenants['daklak'].batch.id}"
    assert client.get(batch_url).status_code == 401
    assert client.get(batch_url, headers={"Authorization": "Bearer not-a-token"}).status_code == 401
    assert client.get(batch_url, headers={"Authorization": "Basic abc"}).status_code == 401
    token = api.token(tenants["daklak"].staff)
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get(batch_url, headers=headers).status_code == 200
    api_token = db.session.scalars(select(ApiToken)).one()
    api_token.expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    assert client.get(batch_url, headers=headers).status_code == 401
    api_token.expires_at = utcnow() + timedelta(days=1)
    api_token.revoked_at = utcnow()
    db.session.commit()
    assert client.get(batch_url, headers=headers).status_code == 401


def test_disabled_users_token_stops_working(api, tenants, db):
    user = tenants["daklak"].staff
    assert api.get(f"/batches/{tenants['daklak'].batch.id}", user).status_code == 200
    user.active = False
    db.session.commit()
    assert api.get(f"/batches/{tenants['daklak'].batch.id}", user).status_code == 401


def test_a_browser_session_does_not_authorise_the_api(web, tenants):
    web.login(tenants["daklak"].staff.email)
    assert web.client.get("/manage").status_code == 200
    response = web.client.post(
        "/api/v1/products", json={"producer_id": tenants["daklak"].producer.id, "name": "X"}
    )
    assert response.status_code == 401


def test_invalid_fields_answer_422_naming_each_field(api, tenants):
    response = api.post(
        "/batches",
        tenants["daklak"].staff,
        json={"product_id": tenants["daklak"].product.id, "lot_code": "", "quantity": "lots", "unit": "KGM"},
    )
    assert response.status_code == 422
    fields = response.get_json()["error"]["fields"]
    assert {"lot_code", "quantity", "production_date"} <= set(fields)


def test_unknown_fields_are_refused(api, tenants):
    response = api.post("/products", tenants["daklak"].producer_user, json={"name": "Chè", "colour": "green"})
    assert response.status_code == 422
    assert "colour" in response.get_json()["error"]["fields"]


def test_non_json_body_answers_400(api, tenants):
    response = api.post(
        "/products",
        tenants["daklak"].producer_user,
        data="name=x",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "bad_request"


def test_unknown_api_path_and_wrong_method_answer_json(client, api, tenants):
    response = client.get("/api/v1/nothing-here")
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "not_found"
    response = api.request("DELETE", f"/batches/{tenants['daklak'].batch.id}", tenants["daklak"].staff)
    assert response.status_code == 405
    assert response.get_json()["error"]["code"] == "method_not_allowed"


def test_lists_are_paginated(api, make, tenants):
    own = tenants["daklak"]
    for _ in range(4):
        make.product(own.producer)
    page = api.get("/products?per_page=2&page=2", own.staff).get_json()
    assert page["page"] == 2 and page["per_page"] == 2 and page["total"] == 5
    assert len(page["items"]) == 2
    assert api.get("/products?per_page=1000", own.staff).status_code == 422
    assert api.get("/products?page=0", own.staff).status_code == 422


def test_product_search_filters(api, make, tenants):
    own = tenants["daklak"]
    make.product(own.producer, name="Mật ong hoa cà phê", ocop_group="food", ocop_stars=4)
    result = api.get("/products?q=mật ong", own.staff).get_json()
    assert [p["name"] for p in result["items"]] == ["Mật ong hoa cà phê"]
    result = api.get("/products?ocop_stars=4", tenants["ministry"]).get_json()
    assert result["total"] == 1 and result["items"][0]["ocop"]["stars"] == 4
    result = api.get("/products?province=40", tenants["ministry"]).get_json()
    assert {p["id"] for p in result["items"]} == {tenants["nghean"].product.id}


def test_create_producer_by_centre_staff_is_approved(api, tenants):
    response = api.post(
        "/producers",
        tenants["daklak"].staff,
        json={
            "name": "HTX Mật ong Ea Kar",
            "kind": "cooperative",
            "tax_code": "6001234567",
            "province_code": "66",
            "address": "Thôn 3, xã Ea Kar",
            "website": "https://matongeakar.example.vn",
            # The address before the 2025 merger stays on labels printed with it.
            "previous_province_code": "66",
            "previous_ward": "Thị trấn Ea Kar, huyện Ea Kar",
        },
    )
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["status"] == "approved"
    assert body["address"] == "Thôn 3, xã Ea Kar"
    assert body["website"] == "https://matongeakar.example.vn"
    assert body["previous_ward"] == "Thị trấn Ea Kar, huyện Ea Kar"
    fetched = api.get(f"/producers/{body['id']}", tenants["daklak"].auditor).get_json()
    assert fetched == body


def test_create_producer_in_another_province_is_forbidden(api, tenants):
    response = api.post(
        "/producers",
        tenants["daklak"].staff,
        json={"name": "HTX Chè", "kind": "cooperative", "province_code": "40"},
    )
    assert response.status_code == 403


def test_create_location_with_gln(api, tenants):
    own = tenants["daklak"]
    response = api.post(
        "/locations",
        own.producer_user,
        json={"name": "Xưởng rang", "kind": "facility", "gln": "8930000000010"},
    )
    assert response.status_code == 422
    assert "gln" in response.get_json()["error"]["fields"]
    response = api.post(
        "/locations",
        own.producer_user,
        json={"name": "Xưởng rang", "kind": "facility", "gln": "8935000000014"},
    )
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["trace_code"] == "8935000000014"
    response = api.post("/locations", own.producer_user, json={"name": "Kho", "kind": "warehouse"})
    assert response.get_json()["trace_code"].startswith("L")


def test_openapi_document_is_valid_and_lists_every_api_route(client, app):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    document = response.get_json()
    validate(document)
    documented = {
        (path, method.upper()) for path, operations in document["paths"].items() for method in operations
    }
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1/"):
            continue
        path = "/" + rule.rule.removeprefix("/api/v1/")
        for old, new in (("<int:", "{"), ("<", "{"), (">", "}")):
            path = path.replace(old, new)
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            assert (path, method) in documented, f"{method} {path} is not in the OpenAPI document"
    batch_schema = document["components"]["schemas"]["Batch"]["properties"]
    assert {"public_url", "quantity_remaining", "scan_count", "status"} <= set(batch_schema)
