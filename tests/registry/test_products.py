"""Registering producers and products: the rules a centre and a producer meet."""

from datetime import date

import pytest
from sqlalchemy import select

from traceability.core.errors import Conflict, Forbidden, InvalidInput
from traceability.gs1 import gtin_check_digit
from traceability.models.audit import AuditEntry
from traceability.models.registry import Producer, Product
from traceability.registry.claims import current_claim
from traceability.registry.producers import create_producer
from traceability.registry.products import create_product


def test_gtin_13_is_stored_as_14_digits(tenants):
    own = tenants["daklak"]
    product = create_product({"name": "Cà phê hạt", "gtin": "8935000000014"}, actor=own.producer_user)
    assert product.gtin == "08935000000014"


def test_gtin_with_a_wrong_check_digit_is_refused_with_the_reason(tenants):
    with pytest.raises(InvalidInput) as caught:
        create_product({"name": "Cà phê hạt", "gtin": "8935000000019"}, actor=tenants["daklak"].producer_user)
    assert "gtin" in caught.value.fields


def test_two_products_cannot_share_a_gtin(tenants):
    create_product({"name": "A", "gtin": "8935000000014"}, actor=tenants["daklak"].producer_user)
    with pytest.raises(Conflict):
        create_product({"name": "B", "gtin": "08935000000014"}, actor=tenants["nghean"].producer_user)


def test_ocop_certificate_is_valid_36_months_unless_given(tenants):
    product = create_product(
        {
            "name": "Nước mắm",
            "ocop": {
                "group": "food",
                "stars": 4,
                "certificate_no": "123/QĐ-UBND",
                "issued_on": date(2025, 3, 15),
            },
        },
        actor=tenants["daklak"].producer_user,
    )
    claim = current_claim(product, "ocop")
    assert claim.valid_to == date(2028, 3, 15) and claim.status == "pending"
    assert product.ocop_expires_on is None  # declared, not yet verified: nothing public


@pytest.mark.parametrize("ocop", [{"group": "food", "stars": 6}, {"group": "cars", "stars": 3}])
def test_invalid_ocop_data_is_refused(tenants, ocop):
    with pytest.raises(InvalidInput):
        create_product({"name": "X", "ocop": ocop}, actor=tenants["daklak"].producer_user)


def test_producer_signing_up_alone_is_pending_and_by_staff_approved(tenants, db):
    data = {"name": "Hộ kinh doanh Mật ong Hạnh", "kind": "household", "province_code": "66"}
    assert create_producer(data, actor=None).status == "pending"
    data = {**data, "name": "Công ty TNHH Cà phê Ban Mê", "kind": "enterprise", "tax_code": "6000123456"}
    assert create_producer(data, actor=tenants["daklak"].staff).status == "approved"


@pytest.mark.parametrize("tax_code", ["123", "60001234567", "6000123456-12", "abcdefghij"])
def test_tax_code_format_is_checked(tenants, tax_code):
    with pytest.raises(InvalidInput) as caught:
        create_producer(
            {"name": "X", "kind": "enterprise", "province_code": "66", "tax_code": tax_code},
            actor=tenants["daklak"].staff,
        )
    assert "tax_code" in caught.value.fields


def test_branch_tax_code_is_accepted(tenants):
    producer = create_producer(
        {"name": "Chi nhánh", "kind": "enterprise", "province_code": "66", "tax_code": "6000123456-001"},
        actor=tenants["daklak"].staff,
    )
    assert producer.tax_code == "6000123456-001"


def test_producer_in_a_province_without_centre_is_refused(tenants):
    with pytest.raises(InvalidInput) as caught:
        create_producer({"name": "X", "kind": "household", "province_code": "96"}, actor=None)
    assert "province_code" in caught.value.fields


def test_producer_users_cannot_register_producers(tenants, db):
    with pytest.raises(Forbidden):
        create_producer(
            {"name": "X", "kind": "household", "province_code": "66"}, actor=tenants["daklak"].producer_user
        )
    assert db.session.scalar(select(Producer).where(Producer.name == "X")) is None


def test_web_form_shows_the_gtin_error_and_stores_nothing(web, tenants, db):
    web.login(tenants["daklak"].producer_user.email)
    response = web.post_form("/manage/products/new", {"name": "Chè Shan tuyết", "gtin": "8935000000019"})
    assert response.status_code == 422
    assert "GTIN" in response.get_data(as_text=True)
    assert db.session.scalar(select(Product).where(Product.name == "Chè Shan tuyết")) is None


# Creating and editing through the web and the API ---------------------------------


@pytest.fixture
def english(client):
    """Pages and API messages in English, so the tests read what a user reads."""
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"


def _gtin(data_digits: str) -> str:
    return data_digits + str(gtin_check_digit(data_digits))


def _patch(api, path, user, **kwargs):
    return api.request("PATCH", path, user, **kwargs)


def _product(db, **where):
    return db.session.scalars(select(Product).filter_by(**where)).first()


@pytest.mark.parametrize(
    "digits", ["9638507", "03600029145", "893500000001", "1893500000001"], ids=["8", "12", "13", "14"]
)
def test_api_accepts_every_gtin_length_and_answers_14_digits(api, tenants, digits):
    gtin = _gtin(digits)
    response = api.post("/products", tenants["daklak"].producer_user, json={"name": "Hạt điều", "gtin": gtin})
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["gtin"] == gtin.zfill(14)


def test_api_refuses_a_wrong_check_digit_and_stores_nothing(api, tenants, db, english):
    response = api.post(
        "/products", tenants["daklak"].producer_user, json={"name": "Hạt điều", "gtin": "8935000000019"}
    )
    assert response.status_code == 422
    assert "check digit" in response.get_json()["error"]["fields"]["gtin"]
    assert _product(db, name="Hạt điều") is None


def test_api_duplicate_gtin_is_a_conflict_naming_the_field(api, tenants):
    api.post("/products", tenants["daklak"].producer_user, json={"name": "A", "gtin": "8935000000014"})
    response = api.post(
        "/products", tenants["nghean"].producer_user, json={"name": "B", "gtin": "08935000000014"}
    )
    assert response.status_code == 409
    assert set(response.get_json()["error"]["fields"]) == {"gtin"}


def test_web_registers_a_product_with_every_field(web, tenants, db, english):
    own = tenants["daklak"]
    web.login(own.producer_user.email)
    response = web.post_form(
        "/manage/products/new",
        {
            "name": "  Cà phê bột Hòa Phú ",
            "name_en": "Hoa Phu ground coffee",
            "description": "Rang mộc, xay mịn.",
            "category": "Cà phê",
            "brand": "Hòa Phú",
            "gtin": "8935000000014",
            "standards": "TCVN 5251:2015;  QCVN 8-2:2011/BYT\nTCVN 5251:2015",
            "shop_links": "Shopee | https://shopee.vn/hoaphu\nhttps://hoaphu.example.vn/ca-phe",
            "is_flagship": "y",
            "ocop-group": "food",
            "ocop-stars": "5",
            "ocop-certificate_no": "  1234/QĐ-BNN ",
            "ocop-issued_on": "2025-03-15",
            "tech_origin": "Chuyển giao quy trình rang bằng khí nóng (2024)",
            "declared_revenue_vnd": "6200000000",
        },
    )
    assert response.status_code == 302
    product = _product(db, gtin="08935000000014")
    assert product.name == "Cà phê bột Hòa Phú" and product.producer_id == own.producer.id
    assert product.standards == "TCVN 5251:2015, QCVN 8-2:2011/BYT"
    assert product.shop_links == [
        {"name": "Shopee", "url": "https://shopee.vn/hoaphu"},
        {"name": "hoaphu.example.vn", "url": "https://hoaphu.example.vn/ca-phe"},
    ]
    claim = current_claim(product, "ocop")
    assert (claim.claim_ocop_stars, claim.number, claim.valid_to) == (5, "1234/QĐ-BNN", date(2028, 3, 15))
    assert current_claim(product, "flagship").status == "pending"
    # Declared by the producer: the public columns stay empty until the centre verifies.
    assert product.ocop_stars is None and not product.is_flagship
    assert product.declared_revenue_vnd == 6_200_000_000
    page = web.client.get(response.location).get_data(as_text=True)
    assert "Central level" in page and "15/03/2028" in page and "https://shopee.vn/hoaphu" in page
    assert "Pending" in page


def test_web_edit_changes_the_product_and_audits_before_and_after(web, tenants, db):
    own = tenants["daklak"]
    web.login(own.staff.email)
    url = f"/manage/products/{own.product.id}/edit"
    assert own.product.name in web.client.get(url).get_data(as_text=True)
    response = web.post_form(
        url, {"name": "Cà phê Robusta Ea Tu", "brand": "Ea Tu", "standards": "TCVN 4193:2014"}
    )
    assert response.status_code == 302
    product = db.session.get(Product, own.product.id)
    assert (product.name, product.brand, product.standards) == (
        "Cà phê Robusta Ea Tu",
        "Ea Tu",
        "TCVN 4193:2014",
    )
    entry = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "update")).one()
    assert entry.object_type == "Product" and entry.user_id == own.staff.id and entry.role == "centre_staff"
    assert (
        entry.before["name"].startswith("Cà phê Robusta rang xay")
        and entry.after["name"] == "Cà phê Robusta Ea Tu"
    )


def test_gtin_can_change_before_batches_but_not_after(api, web, make, tenants, db, english):
    own = tenants["daklak"]
    product = make.product(own.producer, gtin="08935000000014")
    assert (
        _patch(api, f"/products/{product.id}", own.producer_user, json={"gtin": "8935000000021"}).status_code
        == 200
    )
    make.batch(db.session.get(Product, product.id))
    response = _patch(api, f"/products/{product.id}", own.producer_user, json={"gtin": "8935000000038"})
    assert response.status_code == 409
    assert (
        "QR codes" in response.get_json()["error"]["message"]
        and "gtin" in response.get_json()["error"]["fields"]
    )
    assert _patch(api, f"/products/{product.id}", own.producer_user, json={"gtin": None}).status_code == 409
    # Sending the same GTIN, in another length, is no change.
    assert (
        _patch(api, f"/products/{product.id}", own.producer_user, json={"gtin": "8935000000021"}).status_code
        == 200
    )
    web.login(own.producer_user.email)
    page = web.post_form(f"/manage/products/{product.id}/edit", {"name": "X", "gtin": "8935000000038"})
    assert page.status_code == 422 and "QR codes" in page.get_data(as_text=True)
    assert db.session.get(Product, product.id).gtin == "08935000000021"


def test_patch_changes_only_the_fields_given(api, make, tenants, db):
    own = tenants["daklak"]
    product = make.product(
        own.producer, gtin="08935000000014", brand="Cũ", ocop_group="food", ocop_stars=4, standards="TCVN 1"
    )
    response = _patch(api, f"/products/{product.id}", own.producer_user, json={"brand": "Mới"})
    assert response.status_code == 200
    body = response.get_json()
    assert body["brand"] == "Mới" and body["gtin"] == "08935000000014" and body["standards"] == "TCVN 1"
    assert body["ocop"]["stars"] == 4 and body["name"] == product.name


def test_ocop_level_follows_the_stars_and_ocop_data_can_be_removed(api, web, tenants, db):
    own = tenants["daklak"]
    ocop = {"group": "beverage", "stars": 5, "certificate_no": "01/QĐ-TTg", "issued_on": "2026-02-01"}
    created = api.post("/products", own.producer_user, json={"name": "Rượu cần", "ocop": ocop}).get_json()
    assert created["ocop"]["level"] == "central" and created["ocop"]["expires_on"] == "2029-02-01"
    changed = _patch(
        api, f"/products/{created['id']}", own.producer_user, json={"ocop": {**ocop, "stars": 3}}
    )
    assert changed.get_json()["ocop"]["level"] == "province"
    removed = _patch(api, f"/products/{created['id']}", own.producer_user, json={"ocop": None}).get_json()
    assert removed["ocop"] is None
    product = db.session.get(Product, created["id"])
    assert (
        product.ocop_group
        is product.ocop_certificate_no
        is product.ocop_issued_on
        is product.ocop_expires_on
        is None
    )
    # On the web, "Not OCOP" removes it too.
    _patch(api, f"/products/{created['id']}", own.producer_user, json={"ocop": ocop})
    web.login(own.producer_user.email)
    url = f"/manage/products/{created['id']}/edit"
    assert web.post_form(url, {"name": "Rượu cần", "ocop-group": "", "ocop-stars": ""}).status_code == 302
    product = db.session.get(Product, created["id"])
    assert product.ocop_stars is None and product.ocop_level is None and product.ocop_certificate_no is None


def test_ocop_needs_group_and_stars_and_an_expiry_after_the_issue(api, web, tenants, english):
    own = tenants["daklak"]
    response = api.post(
        "/products",
        own.producer_user,
        json={
            "name": "X",
            "ocop": {"group": "food", "stars": 4, "issued_on": "2026-02-01", "expires_on": "2026-01-01"},
        },
    )
    assert response.status_code == 422 and "ocop.expires_on" in response.get_json()["error"]["fields"]
    web.login(own.producer_user.email)
    page = web.post_form("/manage/products/new", {"name": "X", "ocop-stars": "4"})
    assert page.status_code == 422 and "Choose the OCOP group" in page.get_data(as_text=True)


@pytest.mark.parametrize(
    "url", ["javascript:alert(1)", "ftp://shop.vn/x", "shopee.vn/x", "data:text/html,hi", "https://[oops"]
)
def test_shop_links_must_be_web_addresses(api, web, tenants, db, english, url):
    own = tenants["daklak"]
    response = api.post(
        "/products", own.producer_user, json={"name": "Mắm", "shop_links": [{"name": "S", "url": url}]}
    )
    assert response.status_code == 422 and "shop_links" in response.get_json()["error"]["fields"]
    web.login(own.producer_user.email)
    page = web.post_form("/manage/products/new", {"name": "Mắm", "shop_links": f"Shop | {url}"})
    assert page.status_code == 422
    assert "must start with http:// or https://" in page.get_data(as_text=True)
    assert _product(db, name="Mắm") is None


def test_service_refuses_unsafe_shop_links_whoever_calls_it(tenants):
    with pytest.raises(InvalidInput) as caught:
        create_product(
            {
                "name": "X",
                "shop_links": [{"name": "ok", "url": "https://a.vn"}, {"name": "bad", "url": "javascript:x"}],
            },
            actor=tenants["daklak"].producer_user,
        )
    assert "Đường dẫn 2" in str(caught.value.fields["shop_links"])  # "Link 2", in the default language


def test_a_shop_link_can_give_its_price_from_the_form_and_the_api(api, web, tenants, db):
    own = tenants["daklak"]
    web.login(own.producer_user.email)
    lines = "Sàn Đắk Lắk | https://san.example.vn/mat-ong | 185.000 đ\nhttps://htx.example.vn/ | 90000"
    response = web.post_form("/manage/products/new", {"name": "Mật ong", "shop_links": lines})
    assert response.status_code == 302
    product = _product(db, name="Mật ong")
    assert product.shop_links == [
        {"name": "Sàn Đắk Lắk", "url": "https://san.example.vn/mat-ong", "price_vnd": 185000},
        {"name": "htx.example.vn", "url": "https://htx.example.vn/", "price_vnd": 90000},
    ]
    edit = web.client.get(f"/manage/products/{product.id}/edit").get_data(as_text=True)
    assert "Sàn Đắk Lắk | https://san.example.vn/mat-ong | 185.000" in edit  # shown as it was typed

    created = api.post(
        "/products",
        own.producer_user,
        json={"name": "Mắm", "shop_links": [{"url": "https://san.example.vn/mam", "price_vnd": 65000}]},
    )
    assert created.status_code == 201, created.get_json()
    assert created.get_json()["shop_links"][0]["price_vnd"] == 65000


@pytest.mark.parametrize("price", ["0", "-5", "mười nghìn", "1.5", "1" + "0" * 13])
def test_a_shop_price_that_is_not_a_whole_positive_amount_is_refused(web, tenants, db, english, price):
    own = tenants["daklak"]
    web.login(own.producer_user.email)
    page = web.post_form(
        "/manage/products/new", {"name": "Mắm", "shop_links": f"S | https://s.vn/x | {price}"}
    )
    assert page.status_code == 422
    assert "the price must be a whole number of đồng" in page.get_data(as_text=True)
    assert _product(db, name="Mắm") is None


@pytest.mark.parametrize("price", [0, -1, 10**13, "185000", 1.5])
def test_the_api_refuses_a_shop_price_it_cannot_take(api, tenants, db, price):
    own = tenants["daklak"]
    response = api.post(
        "/products",
        own.producer_user,
        json={"name": "Mắm", "shop_links": [{"url": "https://s.vn/x", "price_vnd": price}]},
    )
    assert response.status_code == 422 and "shop_links" in response.get_json()["error"]["fields"]
    assert _product(db, name="Mắm") is None


# Who may touch which product ------------------------------------------------------------


@pytest.mark.parametrize("who", ["producer_user", "staff"])
def test_another_tenants_product_answers_404_on_the_web_and_the_api(web, api, tenants, db, who):
    user = getattr(tenants["daklak"], who)
    other = tenants["nghean"].product
    assert api.get(f"/products/{other.id}", user).status_code == 404
    assert _patch(api, f"/products/{other.id}", user, json={"name": "Hijacked"}).status_code == 404
    web.login(user.email)
    for path in (f"/manage/products/{other.id}", f"/manage/products/{other.id}/edit"):
        assert web.client.get(path).status_code == 404
    token_page = f"/manage/products/{tenants['daklak'].product.id}/edit"
    response = web.post_form(f"/manage/products/{other.id}/edit", {"name": "Hijacked"}, form_url=token_page)
    assert response.status_code == 404
    assert db.session.get(Product, other.id).name != "Hijacked"


def test_another_producer_of_the_same_province_is_out_of_reach(api, make, tenants):
    own = tenants["daklak"]
    neighbour = make.producer(own.centre)
    product = make.product(neighbour)
    assert _patch(api, f"/products/{product.id}", own.producer_user, json={"name": "X"}).status_code == 404
    # Its centre's staff may correct it.
    assert _patch(api, f"/products/{product.id}", own.staff, json={"name": "X"}).status_code == 200


@pytest.mark.parametrize("role", ["auditor", "ministry"])
def test_auditors_and_the_ministry_read_but_do_not_change_products(web, api, tenants, db, role):
    user = tenants["ministry"] if role == "ministry" else tenants["daklak"].auditor
    product = tenants["daklak"].product
    assert api.get(f"/products/{product.id}", user).status_code == 200
    assert _patch(api, f"/products/{product.id}", user, json={"name": "X"}).status_code == 403
    web.login(user.email)
    page = web.client.get(f"/manage/products/{product.id}").get_data(as_text=True)
    assert product.name in page and "/edit" not in page
    assert web.client.get(f"/manage/products/{product.id}/edit").status_code == 403
    assert db.session.get(Product, product.id).name == product.name
