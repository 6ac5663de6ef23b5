"""Registering producers and products: the rules a centre and a producer meet."""

from datetime import date

import pytest
from sqlalchemy import select

from traceability.errors import Conflict, Forbidden, InvalidInput
from traceability.registry.models import Producer, Product
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
    assert product.ocop_expires_on == date(2028, 3, 15)


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
