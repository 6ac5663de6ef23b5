def test_healthz_answers_ok(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "checks": {"database": "ok"}}


def test_login_then_dashboard(web, tenants):
    response = web.login(tenants["daklak"].producer_user.email)
    assert response.status_code == 302
    page = web.client.get("/manage").get_data(as_text=True)
    assert tenants["daklak"].product.name in page
    assert tenants["nghean"].product.name not in page
