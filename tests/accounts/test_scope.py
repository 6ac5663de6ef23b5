"""Tenant scope: every role tries its own and other tenants' ids, on the web and the API."""

import pytest


def _ids(t):
    return {"product": t.product.id, "batch": t.batch.id, "producer": t.producer.id}


@pytest.mark.parametrize("role", ["producer_user", "staff", "admin", "auditor"])
def test_api_reads_own_tenant_and_not_the_other(api, tenants, role):
    own, other = tenants["daklak"], tenants["nghean"]
    user = getattr(own, role)
    for kind, path in (("product", "/products/{}"), ("batch", "/batches/{}"), ("producer", "/producers/{}")):
        assert api.get(path.format(_ids(own)[kind]), user).status_code == 200, kind
        response = api.get(path.format(_ids(other)[kind]), user)
        assert response.status_code == 404, kind
        assert response.get_json()["error"]["code"] == "not_found"


def test_ministry_reads_every_tenant(api, tenants):
    for key in ("daklak", "nghean"):
        assert api.get(f"/batches/{tenants[key].batch.id}", tenants["ministry"]).status_code == 200


def test_producer_user_sees_only_its_producer_within_its_province(api, make, tenants):
    own = tenants["daklak"]
    neighbour = make.producer(own.centre)
    neighbour_product = make.product(neighbour)
    assert api.get(f"/products/{neighbour_product.id}", own.producer_user).status_code == 404
    assert api.get(f"/products/{neighbour_product.id}", own.staff).status_code == 200


def test_lists_hold_only_the_callers_records(api, tenants):
    own, other = tenants["daklak"], tenants["nghean"]
    products = api.get("/products", own.staff).get_json()
    assert [p["id"] for p in products["items"]] == [own.product.id]
    assert products["total"] == 1
    batches = api.get("/batches", own.producer_user).get_json()
    assert {b["id"] for b in batches["items"]} == {own.batch.id}
    assert other.batch.id not in {b["id"] for b in api.get("/batches", own.auditor).get_json()["items"]}


def test_api_refuses_writes_for_another_tenant(api, tenants):
    own, other = tenants["daklak"], tenants["nghean"]
    response = api.post(
        "/products", own.producer_user, json={"producer_id": other.producer.id, "name": "Hàng giả"}
    )
    assert response.status_code == 403
    response = api.post(
        "/batches",
        own.staff,
        json={
            "product_id": other.product.id,
            "lot_code": "X1",
            "production_date": "2026-10-01",
            "quantity": 5,
            "unit": "KGM",
        },
    )
    assert response.status_code == 403
    response = api.post(
        f"/batches/{other.batch.id}/events",
        own.producer_user,
        json={"type": "packing", "time": "2026-10-02T08:00:00+07:00"},
    )
    assert response.status_code == 404


def test_producer_user_writing_without_producer_id_writes_for_its_own(api, tenants):
    own = tenants["daklak"]
    response = api.post("/products", own.producer_user, json={"name": "Cà phê phin giấy"})
    assert response.status_code == 201
    assert response.get_json()["producer_id"] == own.producer.id


@pytest.mark.parametrize("role", ["auditor", "ministry"])
def test_read_only_roles_cannot_write(api, tenants, role):
    own = tenants["daklak"]
    user = tenants["ministry"] if role == "ministry" else own.auditor
    response = api.post("/products", user, json={"producer_id": own.producer.id, "name": "Mật ong"})
    assert response.status_code == 403
    assert response.get_json()["error"]["code"] == "forbidden"


@pytest.mark.parametrize(
    "path",
    ["/manage/products/{product}", "/manage/batches/{batch}", "/manage/batches/{batch}/qr.png"],
)
@pytest.mark.parametrize("role", ["producer_user", "staff", "auditor"])
def test_web_pages_of_another_tenant_answer_404(web, tenants, path, role):
    own, other = tenants["daklak"], tenants["nghean"]
    web.login(getattr(own, role).email)
    assert web.client.get(path.format(**_ids(own))).status_code == 200
    assert web.client.get(path.format(**_ids(other))).status_code == 404


def test_web_event_form_refuses_another_tenants_batch(web, tenants):
    own, other = tenants["daklak"], tenants["nghean"]
    web.login(own.producer_user.email)
    response = web.post_form(
        f"/manage/batches/{other.batch.id}",
        {"type": "packing", "time": "2026-10-02T08:00"},
        form_url=f"/manage/batches/{own.batch.id}",
    )
    assert response.status_code == 404


def test_web_product_form_ignores_a_forged_producer_id(web, tenants, db):
    from traceability.models.registry import Product

    own, other = tenants["daklak"], tenants["nghean"]
    web.login(own.producer_user.email)
    response = web.post_form(
        "/manage/products/new", {"producer_id": str(other.producer.id), "name": "Nước mắm giả"}
    )
    assert response.status_code == 302
    product = db.session.scalars(db.select(Product).where(Product.name == "Nước mắm giả")).one()
    assert product.producer_id == own.producer.id


def test_auditor_sees_pages_but_no_write_forms(web, tenants):
    own = tenants["daklak"]
    web.login(own.auditor.email)
    assert web.client.get("/manage/products/new").status_code == 403
    page = web.client.get(f"/manage/batches/{own.batch.id}").get_data(as_text=True)
    assert 'name="type"' not in page
